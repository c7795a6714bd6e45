"""Page content guarded on the server: a page's layout is built only for those it allows.

Dash sends page content through its pages router callback. Each registered
page's layout is wrapped once, at start-up, so that the router (and anything
else that asks for a layout) gets the "sign in" or "not allowed" view instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dash

from .audit import audit
from .identity import User, current_user
from .policy import access_of, public

GUARDED = "_auth_guarded"
NOT_FOUND_MODULE = "not_found_404"


def protect_pages(sign_in_view: Callable[[str], Any], not_allowed_view: Callable[[], Any]) -> None:
    for page in dash.page_registry.values():
        if page.get(GUARDED):
            continue
        if is_not_found_page(page):
            page.setdefault("access", public)
        access = access_of(page)  # also rejects a mistyped access= value at start-up
        page["access"] = access
        page["layout"] = _guarded(page, sign_in_view, not_allowed_view)
        page[GUARDED] = True


def _guarded(page: dict[str, Any], sign_in_view, not_allowed_view) -> Callable[..., Any]:
    layout, access, path = page["layout"], page["access"], page["relative_path"]

    def guarded_layout(**kwargs: Any) -> Any:
        user = current_user()
        if access.allows(user.groups if user else None):
            return layout(**kwargs) if callable(layout) else layout
        if user is None:
            return sign_in_view(path)
        audit("access-denied", user=user.id, page=path)
        return not_allowed_view()

    return guarded_layout


def allowed_pages(user: User | None) -> list[dict[str, Any]]:
    """The registered pages this user may open, in their registered order (for menus)."""
    groups = user.groups if user else None
    return [
        page
        for page in dash.page_registry.values()
        if not is_not_found_page(page) and access_of(page).allows(groups)
    ]


def is_not_found_page(page: dict[str, Any]) -> bool:
    """Dash's convention: a module named not_found_404 is shown for unknown paths."""
    return page["module"].split(".")[-1] == NOT_FOUND_MODULE
