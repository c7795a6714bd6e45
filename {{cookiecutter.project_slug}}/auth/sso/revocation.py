"""RFC 7009 token revocation at sign-out: the provider forgets the refresh and access tokens.

Best effort by design: sign-out must always succeed on our side, so every failure here is
logged and swallowed. The refresh token goes first; most providers end the access tokens of
its grant with it, and the access token is revoked as well for those that do not.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import requests

from .credentials import ClientCredentials
from .vault import Tokens

log = logging.getLogger(__name__)


def revoke_tokens(tokens: Tokens, metadata: Mapping[str, Any], credentials: ClientCredentials) -> list[str]:
    """Revoke ``tokens`` where the discovery document ``metadata`` offers ``revocation_endpoint``.

    Returns the kinds revoked ("refresh_token", "access_token"); never raises.
    """
    endpoint = metadata.get("revocation_endpoint")
    if not isinstance(endpoint, str) or not endpoint:
        return []
    revoked = []
    for kind, token in (("refresh_token", tokens.refresh_token), ("access_token", tokens.access_token)):
        if token and _revoke(endpoint, credentials, token, kind):
            revoked.append(kind)
    return revoked


def _revoke(endpoint: str, credentials: ClientCredentials, token: str, kind: str) -> bool:
    try:
        answer = credentials.post(endpoint, {"token": token, "token_type_hint": kind})
    except requests.RequestException as error:
        log.warning("revoking the %s failed: %s", kind, type(error).__name__)
        return False
    # RFC 7009 2.2: 200 also for a token that was already invalid.
    if answer.status_code != 200:
        log.warning("revoking the %s failed: HTTP %s %s", kind, answer.status_code, answer.text[:200])
        return False
    return True
