"""Page content guarded on the server: a page's layout is built only for those it allows.

Dash sends page content through its pages router callback. Each registered
page's layout is wrapped, at start-up and again before every navigation for
pages registered since, so that the router (and anything else that asks for a
layout) gets the "sign in" or "not allowed" view instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dash
from flask import current_app

from .. import decision
from ..errors import SessionEnded
from ..policy import access_of, public
from ..users import User
from .identity import current_user, needed_user

GUARDED = "_auth_guarded"
ORIGINAL_LAYOUT = "_auth_layout"  # the page's own layout, for `flask access`
NOT_FOUND_MODULE = "not_found_404"
ROUTER_LOCATION = "_pages_location"


class PageGuard:
    def __init__(self, sign_in_view: Callable[[str], Any], not_allowed_view: Callable[[], Any]):
        self.sign_in_view = sign_in_view
        self.not_allowed_view = not_allowed_view

    def protect(self) -> None:
        """Wrap every page not wrapped yet (a dictionary lookup per page when all are)."""
        for page in list(dash.page_registry.values()):
            if page.get(GUARDED):
                continue
            if is_not_found_page(page):
                page.setdefault("access", public)
            page["access"] = access_of(page)  # also rejects a mistyped access= value
            page[ORIGINAL_LAYOUT] = page["layout"]
            page["layout"] = self._guarded(page)
            page[GUARDED] = True

    def _guarded(self, page: dict[str, Any]) -> Callable[..., Any]:
        layout, access, path = page["layout"], page["access"], page["relative_path"]

        def guarded_layout(**kwargs: Any) -> Any:
            user = current_user() if access.public else needed_user()  # the store down: a 503
            verdict = decision.decide(access, user, "page", path, current_app._get_current_object())
            if verdict is decision.Decision.ALLOW:
                try:
                    return layout(**kwargs) if callable(layout) else layout
                except SessionEnded:  # its access_token() could not be had: sign in again
                    return self.sign_in_view(requested_url(path))
            if verdict is decision.Decision.SIGN_IN:
                return self.sign_in_view(requested_url(path))
            return self.not_allowed_view()

        return guarded_layout


def requested_url(default: str) -> str:
    """The path and query the visitor asked the router for (to come back to after
    signing in), else ``default``. Only ever a same-site ?next= (see responses.safe_next)."""
    try:
        inputs = dash.callback_context.inputs
    except dash.exceptions.MissingCallbackContextException:
        return default  # asked outside the router (a test, another callback)
    pathname = inputs.get(f"{ROUTER_LOCATION}.pathname")
    search = inputs.get(f"{ROUTER_LOCATION}.search") or ""
    if not isinstance(pathname, str) or not isinstance(search, str):
        return default
    return pathname + (search if search.startswith("?") or not search else f"?{search}")


def allowed_pages(user: User | None) -> list[dict[str, Any]]:
    """The registered pages this user may open, in their registered order (for menus)."""
    groups = user.groups if user else None
    # Asked on every page load, by the same few group sets. The key names the registered
    # pages themselves (the kept lists hold them, so their ids are not reused).
    key = (groups, tuple(map(id, dash.page_registry.values())))
    if key not in _ALLOWED:
        if len(_ALLOWED) >= ALLOWED_KEPT:
            _ALLOWED.clear()
        _ALLOWED[key] = [
            page
            for page in dash.page_registry.values()
            if not is_not_found_page(page) and access_of(page).allows(groups)
        ]
    return list(_ALLOWED[key])


ALLOWED_KEPT = 1024  # group sets whose menu of pages is kept
_ALLOWED: dict[tuple[frozenset[str] | None, tuple[int, ...]], list[dict[str, Any]]] = {}


def is_not_found_page(page: dict[str, Any]) -> bool:
    """Dash's convention: a module named not_found_404 is shown for unknown paths."""
    return page["module"].split(".")[-1] == NOT_FOUND_MODULE
