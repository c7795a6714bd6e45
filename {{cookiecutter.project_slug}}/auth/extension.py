"""``Auth(app)``: puts sign-in, sessions and the request guard on a Dash app."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import dash
from flask import g, request, session
from werkzeug.middleware.proxy_fix import ProxyFix

from . import views
from .audit import audit
from .basic import PasswordUsers, parse_basic_header
from .cli import keys_cli, users_cli
from .groups import GroupsFile
from .guard import RequestGuard
from .identity import EXTENSION, SESSION_KEY, User
from .pages import protect_pages
from .prefix import UnderPrefix, stripped_prefix
from .responses import install_error_pages
from .sessions import session_interface
from .settings import ConfigurationError, Settings
from .sso import SingleSignOn
from .store import open_store

# A session's "last seen" time is written back at most this often (seconds), so
# that an idle timeout does not cost a new cookie on every request.
SEEN_RESOLUTION = 60

# Failed password checks allowed per account and per client address in a window
# (FAILED_SIGN_IN_WINDOW): after that, refused until the window has passed.
FAILURES_PER_ACCOUNT = 10
FAILURES_PER_ADDRESS = 50


@dataclass(frozen=True)
class Refusal:
    status: int
    message: str
    retry_after: int | None = None


class Auth:
    """Sign-in for a Dash app: Basic (users file) and OpenID Connect, groups, guard.

    ``sign_in_view`` and ``not_allowed_view`` build the Dash components shown in
    place of a page that the visitor may not see.
    """

    def __init__(
        self,
        app: dash.Dash,
        *,
        sign_in_view: Callable[[str], Any],
        not_allowed_view: Callable[[], Any],
        settings: Settings | None = None,
        on_sign_in: Callable[..., Any] | None = None,
    ):
        server = app.server
        try:
            self.settings = settings or Settings.from_env(root=Path(server.root_path))
            self._load_files()
            self.store = open_store(self.settings.redis_url, self.settings.instance)
            server.session_interface = session_interface(self.settings, server)
            public_prefix = stripped_prefix(app)
        except ConfigurationError as error:
            print(f"Cannot start: {error}", file=sys.stderr)
            raise
        self.app = app
        self.oidc = None
        if self.settings.oidc:
            self.oidc = SingleSignOn(self.settings, self.store, on_sign_in)

        server.secret_key = self.settings.secret_key
        server.config.update(
            SECRET_KEY_FALLBACKS=list(self.settings.secret_key_fallbacks),
            SESSION_COOKIE_HTTPONLY=True,
            SESSION_COOKIE_SAMESITE="Lax",
            SESSION_COOKIE_SECURE=self.settings.secure_cookies,
            PERMANENT_SESSION_LIFETIME=timedelta(minutes=self.settings.absolute_timeout),
            # The cookie is written when the session changes (sign-in, and "last seen" once a
            # minute for the idle timeout), not re-signed on every response.
            SESSION_REFRESH_EACH_REQUEST=False,
        )
        # Without this, Dash puts every page's layout (restricted ones too) into
        # the index page's config, as a "validation layout", for everyone to read.
        app.config.suppress_callback_exceptions = True

        if public_prefix:
            server.wsgi_app = UnderPrefix(server.wsgi_app, public_prefix)
        if self.settings.proxy_hops:
            # No X-Forwarded-Prefix: the public prefix is configured (see prefix.py).
            server.wsgi_app = ProxyFix(
                server.wsgi_app,
                x_for=self.settings.proxy_hops,
                x_proto=self.settings.proxy_hops,
                x_host=self.settings.proxy_hops,
            )
        server.extensions[EXTENSION] = self
        # Under the app's url_base_pathname, like Dash's own routes: /login becomes /<prefix>/login.
        url_prefix = app.config.routes_pathname_prefix.rstrip("/") or None
        server.register_blueprint(views.bp, url_prefix=url_prefix)
        if self.oidc:
            self.oidc.register(server, url_prefix)
        install_error_pages(server)
        server.context_processor(
            lambda: {
                "auth_app_name": app.title,
                "auth_stylesheet": app.get_asset_url("style.css"),
                "auth_home": app.get_relative_path("/"),
            }
        )
        realm = app.title.replace('"', "'")
        challenge = f'Basic realm="{realm}", charset="UTF-8"' if self.settings.basic else None
        RequestGuard(app, challenge).install()
        protect_pages(sign_in_view, not_allowed_view)
        server.cli.add_command(users_cli)
        server.cli.add_command(keys_cli)

    def _load_files(self) -> None:
        self.groups = GroupsFile(self.settings.groups_file)
        self.users = PasswordUsers(self.settings.users_file, self.settings.secret_key)
        try:
            self.groups.load()
            if self.settings.basic:
                self.users.load()
        except (OSError, ValueError) as error:
            raise ConfigurationError(str(error)) from None

    # Who is asking -------------------------------------------------------

    def resolve_user(self) -> User | None:
        header = request.headers.get("Authorization")
        if header is not None and self.settings.basic:
            return self._user_from_header(header)
        data = session.get(SESSION_KEY)
        if data is None:
            return None
        user = self._user_from_session(data)
        if user is None:
            session.clear()
        return user

    def _user_from_header(self, header: str) -> User | None:
        credentials = parse_basic_header(header)
        if credentials is None:
            return None
        name, password = credentials
        refusal = self.check_password(name, password)
        if refusal:
            g.auth_retry_after = refusal.retry_after
            return None
        return User(id=name.casefold(), name=name, provider="basic", groups=self.groups.groups_of(name))

    def _user_from_session(self, data: Any) -> User | None:
        try:
            user_id, provider, started, seen = data["id"], data["provider"], data["at"], data["seen"]
            claimed_groups = frozenset(data.get("groups", ()))
        except (TypeError, KeyError):
            return None  # a cookie of another shape: signed out
        if data.get("groups_in_store"):
            claimed_groups = frozenset(json.loads(self.store.get(f"groups:{data.get('sid')}") or "[]"))
        now = int(time.time())
        if now - started > self.settings.absolute_timeout * 60:
            return None
        if now - seen > self.settings.idle_timeout * 60:
            return None
        if self.store.get(f"revoked:{data.get('sid')}"):
            return None
        if provider == "basic":
            if not self.settings.basic or data.get("password") != self.users.fingerprint(user_id):
                return None
            member = user_id
        elif self.oidc and self.oidc.knows(provider):
            member = data.get("email") if data.get("email_verified") else None
        else:
            return None
        if now - seen > SEEN_RESOLUTION:
            data["seen"] = now
            session.modified = True
        return User(
            id=user_id,
            name=data.get("name") or user_id,
            provider=provider,
            email=data.get("email"),
            groups=claimed_groups | self.groups.groups_of(member),
            signed_in_at=started,
        )

    # Passwords -----------------------------------------------------------

    def check_password(self, name: str, password: str) -> Refusal | None:
        """None if right; else why not. Failures are counted against guessing."""
        if self.users.remembered(name, password):
            # Proven right before: no guess, so no throttle. Someone guessing at an
            # account does not lock out its owner's scripts.
            return None
        counters = (
            (f"failures:account:{name.casefold()}", FAILURES_PER_ACCOUNT),
            (f"failures:address:{request.remote_addr}", FAILURES_PER_ADDRESS),
        )
        window = self.settings.failure_window
        if any(int(self.store.get(key) or 0) >= limit for key, limit in counters):
            audit("sign-in-throttled", user=name)
            return Refusal(401, "Too many failed sign-ins. Try again in a few minutes.", window)
        if self.users.check(name, password):
            return None
        for key, _ in counters:
            self.store.incr(key, window)
        audit("sign-in-failed", user=name, via="basic")
        return Refusal(401, "Wrong username or password.")

    # Sessions ------------------------------------------------------------

    def revoke(self, data: dict[str, Any]) -> None:
        """Refuse this session from now on, on every worker, even from a copied cookie."""
        sid = data.get("sid")
        if sid:
            self.store.put(f"revoked:{sid}", "1", self.settings.absolute_timeout * 60)

    # OpenID Connect (see oidc.py) ------------------------------------------

    def provider_choices(self) -> list[dict[str, Any]]:
        return self.oidc.choices() if self.oidc else []

    def single_sign_in_route(self, next_path: str) -> str | None:
        """With one way to sign in (one provider, no passwords), go straight there."""
        if self.settings.basic or not self.oidc:
            return None
        return self.oidc.only_login_url(next_path)

    def provider_logout_url(self, data: dict[str, Any]) -> str | None:
        return self.oidc.logout_url(data) if self.oidc else None
