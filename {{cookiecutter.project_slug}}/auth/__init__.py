"""Sign-in, groups and access rules for this Dash app.

    from auth import public, requires, current_user

    dash.register_page(__name__, access=requires(one_of=["admin"]))   # a page

    @callback(Output("out", "children"), Input("go", "n_clicks"))
    @requires(one_of=["admin"])                                      # a callback
    def refresh(n): ...

Everything not declared ``public`` needs a signed-in user. See README.md.
"""

from . import signals
from .errors import AuthError, ConfigurationError
from .extension import Auth
from .policy import Access, public, requires, signed_in
from .settings import Settings
from .users import Directory, FileDirectory, User
from .web.identity import check_groups, current_user, group_members, user_groups
from .web.pages import allowed_pages
from .web.tokens import access_token, provider_metadata

__all__ = [
    "Access",
    "Auth",
    "AuthError",
    "ConfigurationError",
    "Directory",
    "FileDirectory",
    "Settings",
    "User",
    "access_token",
    "allowed_pages",
    "check_groups",
    "current_user",
    "group_members",
    "provider_metadata",
    "public",
    "requires",
    "signals",
    "signed_in",
    "user_groups",
]
