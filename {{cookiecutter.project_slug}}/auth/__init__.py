"""Sign-in, groups and access rules for this Dash app.

    from auth import public, requires, current_user

    dash.register_page(__name__, access=requires(one_of=["admin"]))   # a page

    @callback(Output("out", "children"), Input("go", "n_clicks"))
    @requires(one_of=["admin"])                                      # a callback
    def refresh(n): ...

Everything not declared ``public`` needs a signed-in user. See README.md.
"""

from .extension import Auth
from .identity import User, check_groups, current_user, group_members, user_groups
from .pages import allowed_pages
from .policy import Access, public, requires, signed_in
from .settings import ConfigurationError, Settings

__all__ = [
    "Access",
    "Auth",
    "ConfigurationError",
    "Settings",
    "User",
    "allowed_pages",
    "check_groups",
    "current_user",
    "group_members",
    "public",
    "requires",
    "signed_in",
    "user_groups",
]
