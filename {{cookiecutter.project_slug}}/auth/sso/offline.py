"""How each provider is asked for a refresh token at sign-in (no refresh token, no refresh).

Providers differ: Google wants ``access_type=offline`` (and ``prompt=consent``, or it sends a
refresh token only at a user's first consent); Microsoft Entra ID, Okta and Auth0 want the
``offline_access`` scope; Keycloak issues refresh tokens anyway (its ``offline_access`` scope asks
for an "offline token" that outlives the user's Keycloak session, which is not what we want).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class OfflineAccess:
    scopes: tuple[str, ...] = ()  # added to the authorization request's scope
    authorize_params: dict[str, str] = field(default_factory=dict)  # added to its query


OFFLINE_ACCESS: dict[str, OfflineAccess] = {
    "google": OfflineAccess(authorize_params={"access_type": "offline", "prompt": "consent"}),
    "microsoft": OfflineAccess(scopes=("offline_access",)),
    "okta": OfflineAccess(scopes=("offline_access",)),
    "auth0": OfflineAccess(scopes=("offline_access",)),
    "keycloak": OfflineAccess(),
    # OpenID Connect Core 11: offline_access; a strict provider grants it only with prompt=consent.
    "generic": OfflineAccess(scopes=("offline_access",)),
}


def offline_access(provider: str) -> OfflineAccess:
    return OFFLINE_ACCESS.get(provider, OFFLINE_ACCESS["generic"])
