"""Each single sign-on session's tokens at work: kept at sign-in, fresh for app code, revoked at sign-out.

The parts (vault, refresh, revocation) know no provider; this binds them to the configured
ones: which token endpoint refreshes, which revocation endpoint forgets, as which client.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from ..providers import Provider
from ..session import SessionRecord
from ..settings import Settings
from .credentials import ClientCredentials
from .refresh import RefreshUnavailable, valid_access_token
from .revocation import revoke_tokens
from .shared_store import SharedStore
from .vault import Tokens, TokenVault

log = logging.getLogger(__name__)

# idp -> that provider's discovery document (checked); raises when it cannot be had.
MetadataOf = Callable[[str], Mapping[str, Any]]


# Where providers say how long a refresh token lives (Keycloak; Entra ID).
REFRESH_LIFETIME_FIELDS = ("refresh_expires_in", "refresh_token_expires_in")


def grant_ends(token: Mapping[str, Any], now: float | None = None) -> int:
    """When a sign-in's tokens can no longer be renewed: the refresh token's end where the
    provider says it, the access token's without a refresh token; 0 when unknown."""
    now = time.time() if now is None else now
    if token.get("refresh_token"):
        for name in REFRESH_LIFETIME_FIELDS:
            seconds = token.get(name)
            if isinstance(seconds, int | float) and not isinstance(seconds, bool) and seconds > 0:
                return int(now + seconds)
        return 0
    expires_at = Tokens.from_response(token, now).expires_at
    return int(expires_at) if expires_at else 0


class SessionTokens:
    def __init__(
        self, settings: Settings, store: SharedStore, providers: Mapping[str, Provider], metadata: MetadataOf
    ):
        self.vault = TokenVault(store, settings.secret_key, settings.secret_key_fallbacks)
        self.store = store
        self.providers = providers
        self.metadata = metadata
        self.timeout = settings.oidc_timeout_seconds
        self.ttl = settings.absolute_timeout_seconds

    def keep(self, sid: str, token: Mapping[str, Any]) -> None:
        """The sign-in's token response, kept for the session's lifetime at most."""
        self.vault.save(sid, Tokens.from_response(token), self.ttl)

    def id_token(self, sid: str) -> str | None:
        tokens = self.vault.load(sid)
        return tokens.id_token if tokens else None

    def access_token(self, record: SessionRecord) -> str | None:
        """A valid access token for this session (refreshed if need be), None without tokens.

        Raises refresh.SignInAgain (tokens gone for good) or RefreshUnavailable (try later).
        """
        provider = self.providers.get(record.provider)
        if provider is None:
            return None
        return valid_access_token(record.sid, self.vault, self.store, _LazyEndpoint(self, provider))

    def revoke(self, record: SessionRecord) -> list[str]:
        """Ask the provider to forget this session's tokens (RFC 7009), where it offers that.

        Best effort: sign-out goes on whatever happens here; failures are logged.
        """
        provider = self.providers.get(record.provider)
        tokens = self.vault.load(record.sid)
        if provider is None or tokens is None:
            return []
        try:
            metadata = self.metadata(provider.name)
        except Exception as error:  # sign-out must not fail on the provider
            log.warning("revoking tokens at %s skipped: %s", provider.name, type(error).__name__)
            return []
        return revoke_tokens(tokens, metadata, self.credentials(provider))

    def credentials(self, provider: Provider) -> ClientCredentials:
        return ClientCredentials(provider.client_id, provider.client_secret, timeout=self.timeout)


class _LazyEndpoint:
    """The token endpoint, looked up only when a refresh is due (a fresh token needs no discovery)."""

    def __init__(self, tokens: SessionTokens, provider: Provider):
        self._tokens = tokens
        self._provider = provider

    @property
    def credentials(self) -> ClientCredentials:
        return self._tokens.credentials(self._provider)

    @property
    def url(self) -> str:
        try:
            url = self._tokens.metadata(self._provider.name).get("token_endpoint")
        except Exception as error:  # any failure to reach discovery: try later
            raise RefreshUnavailable(f"discovery failed: {type(error).__name__}") from None
        if not isinstance(url, str) or not url:
            raise RefreshUnavailable("the provider names no token endpoint")
        return url
