"""OpenID Connect Back-Channel Logout 1.0: is this logout token really from our provider?

The provider POSTs a ``logout_token`` (a signed JWT) when a user's session there ends; every
session of ours with that ``sid`` (or that ``sub``) must then end. This module only decides
whether to believe it, following the spec's section 2.6: signature by a key of the provider's
JWKS with a pinned asymmetric algorithm, exact ``iss`` and ``aud``, a recent ``iat``, the
back-channel logout event, ``sid`` or ``sub``, no ``nonce``, ``typ`` ``logout+jwt`` where given,
and each ``jti`` accepted once (on every worker, through the shared store).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from .shared_store import SharedStore, store_key

LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
ASYMMETRIC_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
ALGORITHMS = (*ASYMMETRIC_ALGORITHMS, "EdDSA")
LEEWAY_SECONDS = 60  # clock difference allowed between the provider and us
MAX_AGE_SECONDS = 300  # a logout token is sent at once; an older one is a replay
MAX_TOKEN_BYTES = 16_384

# load_jwks(force) -> the provider's JWKS document; force=True: fetch it again (key rotation).
JwksLoader = Callable[[bool], Mapping[str, Any]]


class LogoutTokenInvalid(Exception):
    """The logout token must not be believed; the endpoint answers 400 (the reason is for the log)."""


@dataclass(frozen=True)
class LogoutRequest:
    sub: str | None
    sid: str | None


def validate_logout_token(
    token: str,
    *,
    issuer: str,
    client_id: str,
    load_jwks: JwksLoader,
    store: SharedStore,
    now: float | None = None,
) -> LogoutRequest:
    """Check ``token`` as the spec says; the (sub, sid) whose sessions end, or ``LogoutTokenInvalid``."""
    now = time.time() if now is None else now
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_BYTES:
        raise LogoutTokenInvalid("no logout token")
    header = _header(token)
    claims = _verified_claims(token, header, load_jwks)
    _check_claims(claims, issuer=issuer, client_id=client_id, now=now)
    jti = claims["jti"]
    # Last, so that a token refused for another reason does not use its jti up.
    if not store.add(store_key("logout-jti", f"{issuer}\0{jti}"), "1", MAX_AGE_SECONDS + 2 * LEEWAY_SECONDS):
        raise LogoutTokenInvalid("jti already used (replay)")
    return LogoutRequest(sub=claims.get("sub"), sid=claims.get("sid"))


def _header(token: str) -> dict[str, Any]:
    try:
        header = jws.extract_compact(token.encode("ascii")).headers()
    except (JoseError, ValueError, UnicodeError) as error:
        raise LogoutTokenInvalid(f"not a signed JWT: {type(error).__name__}") from None
    if header.get("alg") not in ALGORITHMS:
        raise LogoutTokenInvalid(f"algorithm {header.get('alg')!r} not allowed")
    typ = header.get("typ")
    # "JWT" too: several providers send it; an ID token still cannot pass (events, no nonce).
    if typ is not None and str(typ).lower() not in ("logout+jwt", "application/logout+jwt", "jwt"):
        raise LogoutTokenInvalid(f"typ {typ!r}")
    return header


def _verified_claims(token: str, header: Mapping[str, Any], load_jwks: JwksLoader) -> dict[str, Any]:
    keys = KeySet.import_key_set(load_jwks(False))
    kid = header.get("kid")
    if kid is not None and kid not in {key.kid for key in keys}:
        keys = KeySet.import_key_set(load_jwks(True))  # the provider may have rotated its keys
    try:
        return jwt.decode(token, keys, algorithms=list(ALGORITHMS)).claims
    except (JoseError, ValueError) as error:
        raise LogoutTokenInvalid(f"signature: {type(error).__name__}") from None


def _check_claims(claims: Mapping[str, Any], *, issuer: str, client_id: str, now: float) -> None:
    if claims.get("iss") != issuer:
        raise LogoutTokenInvalid(f"iss {claims.get('iss')!r}")
    audience = claims.get("aud")
    if audience != client_id and not (isinstance(audience, list) and client_id in audience):
        raise LogoutTokenInvalid(f"aud {audience!r}")
    iat = claims.get("iat")
    if not isinstance(iat, int | float) or isinstance(iat, bool):
        raise LogoutTokenInvalid("no iat")
    if iat > now + LEEWAY_SECONDS or iat < now - MAX_AGE_SECONDS - LEEWAY_SECONDS:
        raise LogoutTokenInvalid(f"iat {iat} too far from now")
    exp = claims.get("exp")
    if exp is not None and (not isinstance(exp, int | float) or exp < now - LEEWAY_SECONDS):
        raise LogoutTokenInvalid("expired")
    events = claims.get("events")
    if not isinstance(events, Mapping) or not isinstance(events.get(LOGOUT_EVENT), Mapping):
        raise LogoutTokenInvalid("no back-channel logout event")
    if "nonce" in claims:
        raise LogoutTokenInvalid("nonce present (an ID token, not a logout token)")
    sub, sid = claims.get("sub"), claims.get("sid")
    if not (isinstance(sub, str) and sub) and not (isinstance(sid, str) and sid):
        raise LogoutTokenInvalid("neither sub nor sid")
    for name in ("sub", "sid"):
        if name in claims and not isinstance(claims[name], str):
            raise LogoutTokenInvalid(f"{name} is not a string")
    if not isinstance(claims.get("jti"), str) or not claims["jti"]:
        raise LogoutTokenInvalid("no jti")
