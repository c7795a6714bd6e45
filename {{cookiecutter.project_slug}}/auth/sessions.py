"""The session cookie: Flask's signed cookie, marked Secure (and named __Host-) over HTTPS.

Whether a request came over HTTPS is known per request (directly, or from a
trusted proxy's X-Forwarded-Proto), not when the app is configured, so the
flag and the name are decided here rather than in Flask's static config.
"""

from __future__ import annotations

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface

SECURE_NAME = "__Host-session"


class AuthSessionInterface(SecureCookieSessionInterface):
    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure

    def get_cookie_name(self, app: Flask) -> str:
        # The __Host- prefix makes browsers refuse the cookie unless it is Secure,
        # host-only and for path "/": no other subdomain or path can plant one.
        return SECURE_NAME if self.get_cookie_secure(app) else app.config["SESSION_COOKIE_NAME"]
