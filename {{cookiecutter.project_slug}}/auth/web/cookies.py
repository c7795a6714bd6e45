"""Where sessions live: Flask's signed cookie (default), or a server-side store.

SESSION_STORE=cookie keeps everything in a signed cookie: nothing to run, and a
sign-out is enforced by the revocation list in the shared store. SESSION_STORE=
filesystem (one host) or redis (many hosts, REDIS_URL) keeps only a random id in
the cookie and the session on the server, through Flask-Session: a sign-out
deletes it there.

Whether a request came over HTTPS is known per request (directly, or from a
trusted proxy's X-Forwarded-Proto), so the Secure flag is decided here rather
than in Flask's static config.
"""

from __future__ import annotations

import time

from flask import Flask, Request, Response, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionInterface
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.datastructures import ImmutableMultiDict

from ..errors import ConfigurationError, StoreUnavailable
from ..settings import Settings
from ..store import STORE_TIMEOUT_SECONDS
from .headers import SESSION_READ

SECURE_NAME = "__Host-session"
UNREADABLE = "dash_auth.session_unreadable"  # environ: why the server-side session could not be read
DECODED_COOKIES = 4096  # cookie values whose signature a worker has checked, kept decoded


class SecureOverHttps:
    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


class CookieSession(SecureCookieSession):
    """A session read from a signed cookie. ``memo`` is shared by every request that
    carries the same cookie value, for what follows from that value alone (identity.py
    keeps the parsed session record there); it says nothing about a session that this
    request has changed (``modified``). ``environ``: its request's, for save_session (which
    is given no request, and would otherwise look it up through Flask's proxy)."""

    def __init__(self, data: dict | None = None, environ: dict | None = None, memo: dict | None = None):
        super().__init__(data)
        self.environ = {} if environ is None else environ
        self.memo = memo


class SignedCookieSessions(SecureOverHttps, SecureCookieSessionInterface):
    """Flask's signed cookie, with each cookie value's signature checked once per worker.

    A browser sends the same value until the session changes, so the decoded value is kept
    (by the exact Cookie header, so any change to it is checked afresh); its age is checked
    on every request, and what the session holds (revoked? timed out?) is decided anew each time.
    """

    session_class = CookieSession

    def __init__(self):
        self._serializers: dict[tuple, URLSafeTimedSerializer | None] = {}
        # (over https?, Cookie header) -> (session data, signed at, memo, the parsed cookies)
        self._decoded: dict[tuple[bool, str], tuple[dict, float, dict, ImmutableMultiDict]] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        # Flask builds a new serializer (and its key derivation) twice per request: keep one per key set.
        keys = (app.config["SECRET_KEY"], *app.config["SECRET_KEY_FALLBACKS"])
        if keys not in self._serializers:
            self._serializers = {keys: super().get_signing_serializer(app)}
            self._decoded = {}
        return self._serializers[keys]

    def open_session(self, app: Flask, request: Request) -> CookieSession | None:
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        # Keyed by the whole Cookie header, which a browser repeats as it is: a request
        # neither parses the header nor checks the signature of a value seen before.
        environ = request.environ
        header = environ.get("HTTP_COOKIE")
        if not header:
            return CookieSession(environ=environ)
        # (From the environ: Werkzeug's is_secure reads the same, through two calls of its own.)
        secure = app.config["SESSION_COOKIE_SECURE"] or environ["wsgi.url_scheme"] == "https"
        max_age = app.permanent_session_lifetime.total_seconds()
        decoded = self._decoded.get((secure, header))
        if decoded is not None and time.time() - decoded[1] <= max_age:
            request.cookies = decoded[3]  # parsed once too (Dash reads them for every callback)
        else:
            name = SECURE_NAME if secure else app.config["SESSION_COOKIE_NAME"]
            value = request.cookies.get(name)
            if not value:
                return CookieSession(environ=environ)
            try:
                data, signed_at = serializer.loads(value, max_age=int(max_age), return_timestamp=True)
            except BadSignature:
                return CookieSession(environ=environ)
            if len(self._decoded) >= DECODED_COOKIES:
                self._decoded.clear()  # simple and thread-safe; the next requests decode again
            decoded = (data, signed_at.timestamp(), {}, request.cookies)
            self._decoded[(secure, header)] = decoded
        # A copy per request, one level deep: what a request changes stays in its own session.
        data = {k: dict(v) if isinstance(v, dict) else v for k, v in decoded[0].items()}
        return CookieSession(data, environ=environ, memo=decoded[2])

    def save_session(self, app: Flask, session: SecureCookieSession, response: Response) -> None:
        # Unchanged (the usual request): nothing to write, so skip Flask's cookie settings.
        if session.modified or (app.config["SESSION_REFRESH_EACH_REQUEST"] and session.permanent):
            return super().save_session(app, session, response)
        if session.accessed:
            session.environ[SESSION_READ] = True  # Vary: Cookie (headers.py)

    def get_cookie_name(self, app: Flask) -> str:
        # The __Host- prefix makes browsers refuse the cookie unless it is Secure,
        # host-only and for path "/": no other subdomain or path can plant one.
        return SECURE_NAME if self.get_cookie_secure(app) else app.config["SESSION_COOKIE_NAME"]


def session_interface(settings: Settings, server: Flask) -> SessionInterface:
    if settings.session_store == "cookie":
        return SignedCookieSessions()
    try:
        if settings.session_store == "redis":
            import redis
            from flask_session.redis import RedisSessionInterface as Base

            client = redis.Redis.from_url(
                settings.redis_url,
                socket_timeout=STORE_TIMEOUT_SECONDS,
                socket_connect_timeout=STORE_TIMEOUT_SECONDS,
            )
            failures: tuple[type[Exception], ...] = (redis.RedisError,)
        else:
            from cachelib import FileSystemCache
            from flask_session.cachelib import CacheLibSessionInterface as Base

            client = FileSystemCache(str(settings.instance / "sessions"), threshold=0, mode=0o600)
            failures = (OSError,)
    except ImportError:
        raise ConfigurationError(
            f"SESSION_STORE={settings.session_store} needs Flask-Session: pip install -r requirements.txt"
        ) from None

    class ServerSideSessions(SecureOverHttps, Base):
        # The session store down: public pages go on without a session; what needs the user
        # gets a 503 (identity.resolve_user), as when the shared store is down; never a 500.
        def open_session(self, app, request):
            try:
                return super().open_session(app, request)
            except failures as error:
                request.environ[UNREADABLE] = f"session store: {error}"
                return self.make_null_session(app)

        def save_session(self, app, session, response):
            try:
                return super().save_session(app, session, response)
            except failures as error:
                raise StoreUnavailable(reason=f"session store: {error}") from None

    return ServerSideSessions(
        app=server, client=client, key_prefix=settings.namespace + "session:", permanent=True
    )
