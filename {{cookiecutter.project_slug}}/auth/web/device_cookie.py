"""The device cookie in Flask: read on every password attempt, set at each password sign-in.

A cookie of its own beside the session: HttpOnly, a year long, ``__Host-`` over HTTPS
(this host only, path /), and untouched by signing out, so the browser stays known.
"""

from __future__ import annotations

from flask import Response, current_app, request

from ..accounts.devices import DEVICE_COOKIE_DAYS, Device, issue_device_cookie, trusted_device


def _secure() -> bool:
    """As for the session cookie: PUBLIC_URL is https, or this request came over HTTPS."""
    return bool(current_app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure


def cookie_name() -> str:
    return "__Host-device" if _secure() else "device"


def _keys() -> list[str]:
    return [current_app.secret_key, *current_app.config.get("SECRET_KEY_FALLBACKS", [])]


def this_device(user_id: str) -> Device | None:
    """This browser, if it signed in as ``user_id`` before."""
    return trusted_device(request.cookies.get(cookie_name()), user_id, _keys())


def remember_device(response: Response, user_id: str) -> Response:
    """Make (or keep) this browser known for ``user_id``."""
    if this_device(user_id) is None:
        response.set_cookie(
            cookie_name(),
            issue_device_cookie(user_id, current_app.secret_key),
            max_age=DEVICE_COOKIE_DAYS * 24 * 3600,
            path="/",
            secure=_secure(),
            httponly=True,
            samesite="Lax",
        )
    return response
