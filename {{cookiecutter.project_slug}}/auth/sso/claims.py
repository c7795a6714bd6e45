"""Checks on what a provider sends, beyond Authlib's defaults: plain functions over claims."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import SignInFailed
from ..providers import Provider, claim_at

ALLOWED_ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)
MULTI_TENANT = ("common", "organizations", "consumers")
NOT_VERIFIED = "The sign-in could not be verified."


def issuer_matches(configured: str, discovered: str) -> bool:
    """Equal but for a trailing slash; or Microsoft's multi-tenant issuer template."""
    if configured.rstrip("/") == discovered.rstrip("/"):
        return True
    if "{tenantid}" in discovered:
        for tenant in MULTI_TENANT:
            if configured.rstrip("/") == discovered.replace("{tenantid}", tenant).rstrip("/"):
                return True
    return False


def check_id_token_claims(claims: Mapping[str, Any], provider: Provider, metadata: Mapping[str, Any]) -> None:
    """What Authlib's defaults let through: issuer and audience must be exact."""
    expected_issuer = metadata["issuer"]
    if "{tenantid}" in expected_issuer:
        tenant = claims.get("tid")
        if not isinstance(tenant, str) or (provider.tenants and tenant not in provider.tenants):
            raise SignInFailed(403, "Your organisation may not sign in here.", f"tenant {tenant!r}")
        expected_issuer = expected_issuer.replace("{tenantid}", tenant)
    if claims.get("iss") != expected_issuer:
        raise SignInFailed(401, NOT_VERIFIED, f"iss {claims.get('iss')!r}")
    if claims.get("aud") not in (provider.client_id, [provider.client_id]):
        raise SignInFailed(401, NOT_VERIFIED, f"aud {claims.get('aud')!r}")
    if claims.get("azp", provider.client_id) != provider.client_id:
        raise SignInFailed(401, NOT_VERIFIED, f"azp {claims.get('azp')!r}")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise SignInFailed(401, NOT_VERIFIED, "no sub")


def lacks_claims(claims: Mapping[str, Any], provider: Provider) -> bool:
    """True when /userinfo should be asked for what the ID token left out."""
    wanted_groups = bool(provider.groups_claim) and claim_at(claims, provider.groups_claim) is None
    return "email" not in claims or "name" not in claims or wanted_groups


def display_name(claims: Mapping[str, Any]) -> str:
    for key in ("name", "preferred_username", "email", "sub"):
        if isinstance(claims.get(key), str) and claims[key]:
            return claims[key]
    return str(claims["sub"])
