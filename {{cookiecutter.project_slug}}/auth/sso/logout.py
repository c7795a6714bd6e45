"""Which of our sessions a provider's back-channel logout ends.

A logout token names the provider's session (``sid``) or its user (``sub``), not ours. At sign-in
each of our sessions is listed under the provider's ``sid`` it came from, in the shared store,
so that any worker or host can find them; a ``sub`` alone ends all of that user's sessions
begun with this provider.
"""

from __future__ import annotations

from typing import Protocol

from .backchannel import LogoutRequest
from .shared_store import store_key


class SessionMap(Protocol):
    """The store's small maps with per-field expiry (store.Store has them)."""

    def put_field(self, key: str, field: str, value: str, ttl: int) -> None: ...

    def fields(self, key: str) -> dict[str, str]: ...

    def sessions_of(self, user_id: str) -> dict[str, dict]: ...


def user_id_of(issuer: str, subject: str) -> str:
    """How the app names a single sign-on user (client.py): the ID token's issuer and subject."""
    return f"{issuer}#{subject}"


class ProviderSessions:
    def __init__(self, store: SessionMap):
        self.store = store

    def remember(self, idp: str, provider_sid: str, sid: str, user_id: str, ttl: int) -> None:
        """Our session ``sid`` of ``user_id`` began in the provider's session ``provider_sid``."""
        self.store.put_field(_key(idp, provider_sid), sid, user_id, ttl)

    def to_end(self, idp: str, issuer: str, logout: LogoutRequest) -> list[tuple[str, str]]:
        """(user_id, sid) of every session of ours the logout ends."""
        if logout.sid:
            listed = self.store.fields(_key(idp, logout.sid)).items()
            user = user_id_of(issuer, logout.sub) if logout.sub else None
            return [(user_id, sid) for sid, user_id in listed if user in (None, user_id)]
        user_id = user_id_of(issuer, logout.sub)
        sessions = self.store.sessions_of(user_id)
        return [(user_id, sid) for sid, about in sessions.items() if about.get("provider") == idp]


def _key(idp: str, provider_sid: str) -> str:
    return store_key("provider-session", f"{idp}\0{provider_sid}")
