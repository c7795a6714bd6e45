"""A valid access token for a session: refreshed shortly before it expires, once for all workers.

Several workers (and hosts) may ask at the same moment; only the one that takes the lock in the
shared store calls the provider, the others wait for the vault to hold the new tokens. Providers
rotate refresh tokens (the old one dies when used), so a second refresh with the old one would
fail and sign the user out: the lock is what prevents that.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass, replace

import requests

from .credentials import ClientCredentials
from .shared_store import SharedStore, store_key
from .vault import Tokens, TokenVault

log = logging.getLogger(__name__)

REFRESH_AHEAD_SECONDS = 60  # refresh a token that expires within this
LOCK_SECONDS = 30  # a refresh that takes longer (a dead worker) frees the lock for another
WAIT_SECONDS = 10.0  # how long a worker waits for another's refresh before giving up
POLL_SECONDS = 0.05


class TokenError(Exception):
    """No access token can be had for this session right now."""


class SignInAgain(TokenError):
    """The tokens are gone for good (refresh refused: revoked or expired): the user must sign in again."""


class RefreshUnavailable(TokenError):
    """The provider could not be asked (network, timeout, its own error): try again later."""


@dataclass(frozen=True)
class TokenEndpoint:
    url: str
    credentials: ClientCredentials


def valid_access_token(
    sid: str,
    vault: TokenVault,
    store: SharedStore,
    endpoint: TokenEndpoint,
    *,
    ahead: float = REFRESH_AHEAD_SECONDS,
    wait: float = WAIT_SECONDS,
) -> str | None:
    """The session's access token, refreshed first if it expires within ``ahead`` seconds.

    None when the session has no tokens: a password user, signed out, or tokens dropped after a
    refused refresh (so for a single sign-on session, None means "sign in again"). Raises ``SignInAgain``
    when the token has expired and cannot be refreshed, ``RefreshUnavailable`` when the provider
    did not answer (a token that has not yet quite expired is returned instead).
    """
    lock = store_key("refresh-lock", sid)
    deadline = time.monotonic() + wait
    seen = False
    while True:
        tokens = vault.load(sid)
        if tokens is None:
            if seen:  # another worker's refresh was refused and dropped them
                raise SignInAgain("the provider refused to refresh the tokens")
            return None
        seen = True
        if not tokens.expires_within(ahead):
            return tokens.access_token
        if not tokens.refresh_token:
            if tokens.expires_within(0):
                raise SignInAgain("the access token has expired and there is no refresh token")
            return tokens.access_token
        if store.add(lock, secrets.token_hex(8), LOCK_SECONDS):
            try:
                return _refresh_holding_lock(sid, vault, endpoint, ahead)
            finally:
                store.delete(lock)
        if time.monotonic() > deadline:
            return _still_valid(tokens, "another worker's refresh did not finish in time")
        time.sleep(POLL_SECONDS)


def _refresh_holding_lock(sid: str, vault: TokenVault, endpoint: TokenEndpoint, ahead: float) -> str:
    tokens = vault.load(sid)  # again: another worker may have refreshed since we last looked
    if tokens is None:
        raise SignInAgain("signed out during the refresh")
    if not tokens.expires_within(ahead):
        return tokens.access_token
    try:
        answer = endpoint.credentials.post(
            endpoint.url, {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token}
        )
    except requests.RequestException as error:
        log.warning("token refresh failed: %s", type(error).__name__)
        return _still_valid(tokens, f"the provider could not be reached ({type(error).__name__})")
    body = _json(answer)
    if answer.status_code in (400, 401) and "error" in body:
        # RFC 6749 5.2: invalid_grant is a revoked or expired refresh token; any other error
        # (invalid_client after a secret rotation, unauthorized_client) will not mend by retrying.
        log.warning("token refresh refused: %s", body.get("error"))
        vault.delete(sid)
        raise SignInAgain(f"the provider refused the refresh: {body.get('error')}")
    if answer.status_code != 200 or not isinstance(body.get("access_token"), str):
        log.warning("token refresh failed: HTTP %s", answer.status_code)
        return _still_valid(tokens, f"the provider answered HTTP {answer.status_code}")
    fresh = Tokens.from_response(body)
    # Kept unless replaced: a provider that does not rotate sends no new refresh token, and the
    # ID token from sign-in (checked there) stays the one sent as id_token_hint at sign-out.
    vault.replace(
        sid,
        replace(
            fresh,
            refresh_token=fresh.refresh_token or tokens.refresh_token,
            id_token=tokens.id_token,
            scope=fresh.scope or tokens.scope,
        ),
    )
    return fresh.access_token


def _still_valid(tokens: Tokens, reason: str) -> str:
    if tokens.expires_within(0):
        raise RefreshUnavailable(reason)
    return tokens.access_token


def _json(answer: requests.Response) -> dict:
    try:
        body = answer.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
