"""The signed-in user: kept in the signed session cookie, resolved once per request."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, g, has_request_context, session
from werkzeug.exceptions import Forbidden, Unauthorized

from .audit import audit
from .policy import Access, groups_match

SESSION_KEY = "auth"
EXTENSION = "dash_auth"


@dataclass(frozen=True)
class User:
    """Who is signed in, and the groups that decide what they may see.

    ``groups`` joins the groups the identity provider sent at sign-in with those
    that groups.toml gives the user now (read on every request).
    """

    id: str
    name: str
    provider: str
    email: str | None = None
    groups: frozenset[str] = field(default_factory=frozenset)
    signed_in_at: int = 0

    def in_groups(
        self, one_of: Iterable[str] = (), all_of: Iterable[str] = (), none_of: Iterable[str] = ()
    ) -> bool:
        return groups_match(self.groups, one_of, all_of, none_of)


def current_user() -> User | None:
    """The user of this request, or None when nobody is signed in (or outside a request)."""
    if not has_request_context():
        return None
    if "auth_user" not in g:
        g.auth_user = current_app.extensions[EXTENSION].resolve_user()
    return g.auth_user


def user_groups() -> frozenset[str]:
    """The current user's groups (empty when signed out)."""
    user = current_user()
    return user.groups if user else frozenset()


def check_groups(one_of: Iterable[str] = (), all_of: Iterable[str] = (), none_of: Iterable[str] = ()) -> bool:
    """True if a user is signed in and meets the group condition."""
    user = current_user()
    return user is not None and user.in_groups(one_of, all_of, none_of)


def group_members() -> dict[str, tuple[str, ...]]:
    """Every group in groups.toml with its members, as the file says now."""
    return current_app.extensions[EXTENSION].groups.members()


def require(access: Access) -> User | None:
    """Stop the request with 401 (signed out) or 403 (not allowed) unless ``access`` allows it."""
    user = current_user()
    if access.allows(user.groups if user else None):
        return user
    if user is None:
        raise Unauthorized("Please sign in.")
    audit("access-denied", user=user.id)
    raise Forbidden("You are not allowed to see this.")


def sign_in(
    user_id: str, name: str, provider: str, email: str | None = None, groups: Iterable[str] = (), **extra: Any
) -> str:
    """Start a fresh session for this identity: nothing from before survives. Returns its id."""
    now = int(time.time())
    sid = secrets.token_urlsafe(16)
    regenerate = getattr(current_app.session_interface, "regenerate", None)
    if regenerate is not None:  # a server-side session: a new id, so none from before survives
        regenerate(session)
    session.clear()
    session[SESSION_KEY] = {
        "id": user_id,
        "name": name,
        "provider": provider,
        "email": email,
        "groups": sorted(set(groups)),
        "sid": sid,
        "at": now,
        "seen": now,
        **extra,
    }
    session.permanent = True
    g.pop("auth_user", None)
    return sid


def sign_out() -> dict[str, Any] | None:
    """End the session; returns what it held, for the sign-out follow-ups."""
    data = session.get(SESSION_KEY)
    session.clear()
    g.auth_user = None
    return data
