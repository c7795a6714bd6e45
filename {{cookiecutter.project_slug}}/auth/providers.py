"""The identity providers this app knows, and each one's settings from the environment.

One place lists them: the generator's prompt, .env.example and the guides in
docs/providers/ are checked against ``PRESETS`` by the tests.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_SCOPES = ("openid", "email", "profile")
OFFLINE_ACCESS = ("offline_access",)  # OpenID Connect Core 11: "issue a refresh token"


@dataclass(frozen=True)
class Preset:
    label: str
    issuer: str = ""
    groups_claim: str = ""
    extra_scopes: tuple[str, ...] = ()
    multi_tenant: bool = False  # offers an issuer for many tenants; OIDC_<NAME>_TENANTS limits them
    # How to be given a refresh token (no refresh token, no refresh): scopes and authorization
    # request parameters always sent, whatever OIDC_<NAME>_SCOPES adds.
    offline_scopes: tuple[str, ...] = OFFLINE_ACCESS
    authorize_params: tuple[tuple[str, str], ...] = ()
    # Entra ID sends no groups claim past 200 groups ("overage"): fetch them from Microsoft Graph.
    groups_from_graph: bool = False


PRESETS: dict[str, Preset] = {
    # Google wants access_type=offline, and prompt=consent, or it sends a refresh token only at
    # a user's very first consent.
    "google": Preset(
        "Google",
        issuer="https://accounts.google.com",
        offline_scopes=(),
        authorize_params=(("access_type", "offline"), ("prompt", "consent")),
    ),
    "microsoft": Preset("Microsoft", groups_claim="groups", multi_tenant=True, groups_from_graph=True),
    "okta": Preset("Okta", groups_claim="groups", extra_scopes=("groups",)),
    "auth0": Preset("Auth0"),
    # Keycloak issues refresh tokens anyway; its offline_access asks for an "offline token" that
    # outlives the user's Keycloak session, which is not what a sign-in wants.
    "keycloak": Preset("Keycloak", groups_claim="realm_access.roles", offline_scopes=()),
    "generic": Preset("Single sign-on", groups_claim="groups"),
}


@dataclass(frozen=True)
class Provider:
    """One provider as configured in .env (``OIDC_<NAME>_...``)."""

    name: str
    label: str
    client_id: str
    client_secret: str
    issuer: str
    discovery_url: str
    groups_claim: str
    scopes: tuple[str, ...]
    tenants: tuple[str, ...] = ()
    # Whether this provider's verified e-mail addresses may match groups.toml's plain
    # e-mail entries (entries that name a provider, "google:ada@example.com", always may).
    trust_email: bool = False
    authorize_params: tuple[tuple[str, str], ...] = ()  # added to every authorization request
    groups_from_graph: bool = False

    @property
    def configured(self) -> bool:
        return bool(self.client_id and self.client_secret and self.issuer)

    @property
    def hint(self) -> str:
        prefix = f"OIDC_{self.name.upper()}_"
        missing = [
            prefix + key
            for key, value in (
                ("CLIENT_ID", self.client_id),
                ("CLIENT_SECRET", self.client_secret),
                ("ISSUER", self.issuer),
            )
            if not value
        ]
        return f"Set {', '.join(missing)} in .env (see docs/providers/{self.name}.md)."


def _words(value: str) -> tuple[str, ...]:
    return tuple(word for word in re.split(r"[\s,]+", value) if word)


YES = {"1", "true", "yes", "on"}
NO = {"0", "false", "no", "off"}


def provider_from_env(name: str, env: Mapping[str, str], trust_email_default: bool = False) -> Provider:
    """The provider ``name`` as .env sets it up; ValueError names a bad setting."""
    preset = PRESETS[name]
    prefix = f"OIDC_{name.upper()}_"

    def value(key: str, default: str = "") -> str:
        return str(env.get(prefix + key) or "").strip() or default

    trust = value("TRUST_EMAIL").lower()
    if trust and trust not in YES | NO:
        raise ValueError(f"{prefix}TRUST_EMAIL must be true or false, not {trust!r}")

    issuer = value("ISSUER", preset.issuer)
    extra = _words(value("SCOPES")) or preset.extra_scopes
    return Provider(
        name=name,
        label=preset.label,
        client_id=value("CLIENT_ID"),
        client_secret=value("CLIENT_SECRET"),
        issuer=issuer,
        discovery_url=value("DISCOVERY_URL", issuer.rstrip("/") + "/.well-known/openid-configuration"),
        groups_claim=value("GROUPS_CLAIM", preset.groups_claim),
        scopes=tuple(dict.fromkeys(DEFAULT_SCOPES + preset.offline_scopes + extra)),
        tenants=_words(value("TENANTS")) if preset.multi_tenant else (),
        trust_email=trust in YES if trust else trust_email_default,
        authorize_params=preset.authorize_params,
        groups_from_graph=preset.groups_from_graph,
    )


def claim_at(claims: Mapping[str, object], path: str) -> object:
    """A claim by name, or by dotted path into nested objects (``realm_access.roles``).

    The whole name is tried first, so names with dots or colons
    (``https://example.com/roles``, ``cognito:groups``) work as they are.
    """
    if not path:
        return None
    if path in claims:
        return claims[path]
    value: object = claims
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def groups_in(claims: Mapping[str, object], path: str) -> frozenset[str]:
    """The groups a claim names: a list of strings, or one string."""
    value = claim_at(claims, path)
    if isinstance(value, str):
        return frozenset({value})
    if isinstance(value, list):
        return frozenset(item for item in value if isinstance(item, str))
    return frozenset()
