"""Single sign-on as the app shows it: the providers, their routes, the sign-in page's choices.

The protocol itself (oidc.py, through Authlib) costs about 0.1 s of imports, so it is
loaded at the first sign-in with a provider, not when the app starts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Flask, url_for

from .policy import public
from .settings import Settings
from .store import Store

if TYPE_CHECKING:
    from .oidc import OpenIDProviders


class SingleSignOn:
    def __init__(self, settings: Settings, store: Store, on_sign_in: Callable[..., Iterable[str]] | None):
        self.settings = settings
        self.store = store
        self.on_sign_in = on_sign_in
        self.providers = {provider.name: provider for provider in settings.providers}
        self.server: Flask | None = None

    @cached_property
    def flow(self) -> OpenIDProviders:
        from .oidc import OpenIDProviders

        return OpenIDProviders(self.settings, self.store, self.on_sign_in, self.server)

    def register(self, server: Flask, url_prefix: str | None) -> None:
        self.server = server
        bp = Blueprint("oidc", __name__, url_prefix=url_prefix)

        @public
        def login(idp: str):
            return self.flow.login(idp)

        @public
        def callback(idp: str):
            return self.flow.callback(idp)

        bp.add_url_rule("/oidc/<idp>/login", "login", login)
        bp.add_url_rule(self.settings.callback_route, "callback", callback)
        server.register_blueprint(bp)

    def knows(self, name: str) -> bool:
        return name in self.providers

    def choices(self) -> list[dict[str, Any]]:
        """The providers for the sign-in page, set up or not (then with a hint)."""
        return [
            {
                "name": p.name,
                "label": p.label,
                "configured": p.configured,
                "hint": p.hint,
                "login_url": url_for("oidc.login", idp=p.name),
            }
            for p in self.providers.values()
        ]

    def only_login_url(self, next_path: str) -> str | None:
        """With a single provider, set up, the sign-in page can send people straight there."""
        configured = [p for p in self.providers.values() if p.configured]
        if len(configured) != 1 or len(self.providers) != 1:
            return None
        return url_for("oidc.login", idp=configured[0].name, next=next_path)

    def logout_url(self, data: Mapping[str, Any]) -> str | None:
        """The provider's end-session URL (RP-initiated logout), if it has one."""
        if not self.knows(data.get("provider", "")):
            return None
        return self.flow.logout_url(data)
