"""``Auth(app)``: builds the parts of sign-in from the settings and wires them to Flask and Dash.

    settings -> store, directory, passwords + throttle, single sign-on, sessions
             -> web: session cookies, request guard, page guard, routes, error pages, CLI

The parts know nothing of each other's insides; this is the one place that
connects them (as Flask-Login's LoginManager does).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import dash
from werkzeug.middleware.proxy_fix import ProxyFix

from . import audit, compat
from .accounts.devices import LOCKOUT, LockoutPolicy
from .accounts.records import Accounts
from .basic import Passwords
from .errors import StoreUnavailable
from .health import Health
from .kept import KeptAnswers, SharedState
from .pending import PendingRevocations
from .sessions import Sessions
from .settings import Settings
from .store import open_store
from .throttle import Throttle
from .users import Directory, FileDirectory, PasswordUsers, version_of
from .web import account_cli, account_views, cookies, views  # noqa: F401 (account_cli adds commands)
from .web.cli import access_cli, keys_cli, users_cli
from .web.guard import RequestGuard
from .web.identity import EXTENSION
from .web.pages import PageGuard
from .web.prefix import UnderPrefix, stripped_prefix
from .web.responses import install_error_pages

KNOWN_SCRIPTS = 4096  # Basic headers (with client address and cookies) a worker keeps the user of


class Auth:
    """Sign-in for a Dash app: passwords and/or single sign-on, groups, and the guard.

    ``sign_in_view`` and ``not_allowed_view`` build the Dash components shown in
    place of a page that the visitor may not see. ``directory``: where users and
    groups come from (default: users.json and groups.toml). ``on_sign_in``: extra
    groups at a single sign-on (see sign_in.py).
    """

    def __init__(
        self,
        app: dash.Dash | None = None,
        *,
        sign_in_view: Callable[[str], Any],
        not_allowed_view: Callable[[], Any],
        settings: Settings | None = None,
        directory: Directory | None = None,
        on_sign_in: Callable[..., Any] | None = None,
    ):
        self.pages = PageGuard(sign_in_view, not_allowed_view)
        self.settings = settings
        self.directory = directory
        self.on_sign_in = on_sign_in
        if app is not None:
            self.init_app(app)

    def init_app(self, app: dash.Dash) -> None:
        """Build the parts (raises ConfigurationError with the reason) and install them."""
        server = app.server
        compat.check_dash(app)
        settings = self.settings = self.settings or Settings.from_config(
            server.config, Path(server.root_path)
        )
        self.app = app
        self.health = Health()
        self.store = open_store(settings.redis_url, settings.instance, settings.namespace, self.health)
        self.directory = self.directory or FileDirectory(
            settings.users_file,
            settings.groups_file,
            load_users=settings.basic,
            check_every=settings.file_check_seconds,
        )
        self.passwords = (
            Passwords(self.directory, settings.secret_key, settings.password_checks_at_once)
            if settings.basic
            else None
        )
        self.accounts = (
            Accounts(settings.users_file, self.store, app.title, settings.file_check_seconds)
            if settings.basic
            else None
        )
        self.password_users = PasswordUsers(self.directory)
        self.throttle = Throttle(
            self.store,
            LockoutPolicy(
                free_account_failures=settings.failures_per_account,
                first_wait_seconds=settings.failure_window_seconds,
                max_wait_seconds=max(LOCKOUT.max_wait_seconds, settings.failure_window_seconds),
            ),
            settings.failure_window_seconds,
            settings.failures_per_address,
        )
        self.sso = None
        if settings.oidc:
            from .sso.client import SingleSignOn

            compat.check_authlib_version()
            self.sso = SingleSignOn(settings, self.store, self.on_sign_in)
            self.sso.init_app(server)
        pending = PendingRevocations(settings.instance / "pending-revocations.jsonl")
        self.sessions = Sessions(
            settings,
            self.store,
            self.directory,
            self.passwords,
            self.sso.providers if self.sso else (),
            pending=pending,
        )
        # A script's Basic header: its user, while no failure, no sign-out and no change of
        # the users (a new password, two-step sign-in turned on) can have come (web/identity.py).
        versions = (version_of(self.directory), self.accounts.version) if settings.basic else ()
        self.scripts = KeptAnswers(SharedState(self.store, pending, versions), KNOWN_SCRIPTS)
        self._install(app)

    def check_health(self) -> dict[str, str]:
        """Each dependency that does not answer now, with its state (for /healthz); on the way,
        the sign-outs that waited for the store are written to it."""
        try:
            self.store.check()
            self.sessions.replay_pending()
        except StoreUnavailable:
            pass  # the store has reported itself down (health.Watched)
        problems = getattr(self.directory, "problems", dict)()
        for name, problem in problems.items():
            self.health.report(name, problem, "unreadable")
        return self.health.failures()

    def _install(self, app: dash.Dash) -> None:
        server, settings = app.server, self.settings
        server.extensions[EXTENSION] = self
        server.secret_key = settings.secret_key
        server.session_interface = cookies.session_interface(settings, server)
        server.config.update(
            SECRET_KEY_FALLBACKS=list(settings.secret_key_fallbacks),
            SESSION_COOKIE_HTTPONLY=True,
            SESSION_COOKIE_SAMESITE="Lax",
            SESSION_COOKIE_SECURE=settings.secure_cookies,
            PERMANENT_SESSION_LIFETIME=timedelta(seconds=settings.absolute_timeout_seconds),
            # The cookie is written when the session changes (sign-in, and "last seen" once a
            # minute for the idle timeout), not re-signed on every response.
            SESSION_REFRESH_EACH_REQUEST=False,
        )
        # Without this, Dash puts every page's layout (restricted ones too) into
        # the index page's config, as a "validation layout", for everyone to read.
        app.config.suppress_callback_exceptions = True
        realm = app.title.replace('"', "'")
        challenge = f'Basic realm="{realm}", charset="UTF-8"' if settings.basic else None
        self.pages.protect()
        # Before the proxy middleware wraps the app: the guard's headers see the request as fixed.
        RequestGuard(app, self.pages, challenge).install()
        public_prefix = stripped_prefix(app)
        if public_prefix:
            server.wsgi_app = UnderPrefix(server.wsgi_app, public_prefix)
        if settings.proxy_hops:
            # No X-Forwarded-Prefix: the public prefix is configured (see prefix.py).
            hops = settings.proxy_hops
            server.wsgi_app = ProxyFix(server.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
        # Under the app's url_base_pathname, like Dash's own routes: /login becomes /<prefix>/login.
        url_prefix = app.config.routes_pathname_prefix.rstrip("/") or None
        server.register_blueprint(views.bp, url_prefix=url_prefix)
        server.register_blueprint(account_views.bp, url_prefix=url_prefix)
        if self.sso:
            from .web import sso_views  # single sign-on only: joserfc and Authlib are its dependencies

            server.register_blueprint(sso_views.blueprint(settings.callback_route, url_prefix))
        install_error_pages(server)
        server.context_processor(
            lambda: {
                "auth_app_name": app.title,
                "auth_stylesheet": app.get_asset_url("style.css"),
                "auth_home": app.get_relative_path("/"),
            }
        )
        for command in (users_cli, keys_cli, access_cli):
            server.cli.add_command(command)
        audit.subscribe()
