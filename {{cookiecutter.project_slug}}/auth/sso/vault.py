"""The signed-in user's tokens, kept on the server, encrypted at rest, one entry per session.

Nothing readable reaches the store: each entry is a Fernet token (AES-128-CBC + HMAC-SHA256, from
``cryptography``) under a key derived with HKDF from SECRET_KEY *and the session id*, so an entry
copied to another session's key does not decrypt. Entries written under an older key stay readable
through SECRET_KEY_FALLBACKS (``flask keys rotate``) and are written again under the current key.
The store key is a hash of the session id, so the store does not reveal session ids either.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .shared_store import SharedStore, store_key

log = logging.getLogger(__name__)

KEY_PURPOSE = b"dash-auth sso token vault v1"  # HKDF "info": these keys serve nothing else


@dataclass(frozen=True)
class Tokens:
    """What the provider's token endpoint gave for one session."""

    access_token: str
    expires_at: float | None = None  # seconds since the epoch; None: the provider did not say
    refresh_token: str | None = None
    id_token: str | None = None
    scope: str | None = None
    token_type: str = "Bearer"  # noqa: S105 (a token type, not a secret)

    @classmethod
    def from_response(cls, response: Mapping[str, Any], now: float | None = None) -> Tokens:
        """From a token endpoint answer (``expires_in`` relative) or Authlib's token (``expires_at``)."""
        now = time.time() if now is None else now
        expires_at = response.get("expires_at")
        if expires_at is None and response.get("expires_in") is not None:
            expires_at = now + float(response["expires_in"])
        return cls(
            access_token=str(response["access_token"]),
            expires_at=None if expires_at is None else float(expires_at),
            refresh_token=response.get("refresh_token") or None,
            id_token=response.get("id_token") or None,
            scope=response.get("scope") or None,
            token_type=response.get("token_type") or "Bearer",
        )

    def expires_within(self, seconds: float, now: float | None = None) -> bool:
        if self.expires_at is None:
            return False
        return self.expires_at - seconds <= (time.time() if now is None else now)


class TokenVault:
    def __init__(self, store: SharedStore, secret_key: str, fallbacks: Iterable[str] = ()):
        self.store = store
        self.secret_keys = [key for key in (secret_key, *fallbacks) if key]
        if not self.secret_keys:
            raise ValueError("the token vault needs SECRET_KEY")

    def save(self, sid: str, tokens: Tokens, ttl: int) -> None:
        """Keep ``tokens`` for session ``sid`` for ``ttl`` seconds (the session's own lifetime)."""
        record = {"tokens": asdict(tokens), "until": time.time() + ttl}
        self._write(sid, record, ttl)

    def replace(self, sid: str, tokens: Tokens) -> None:
        """New tokens for a session (after a refresh), kept as long as the session's first ones."""
        record = self._read(sid)
        if record is None:
            return  # signed out meanwhile: nothing to keep the tokens for
        ttl = int(record["until"] - time.time())
        if ttl > 0:
            self._write(sid, {"tokens": asdict(tokens), "until": record["until"]}, ttl)

    def load(self, sid: str) -> Tokens | None:
        """The session's tokens; None when there are none, or none that this app's keys can open."""
        record = self._read(sid)
        return None if record is None else Tokens(**record["tokens"])

    def delete(self, sid: str) -> None:
        self.store.delete(store_key("tokens", sid))

    def _fernets(self, sid: str) -> list[Fernet]:
        """The current key first, then the fallbacks: each derived for this session alone."""
        return [Fernet(_derive_key(secret, sid)) for secret in self.secret_keys]

    def _write(self, sid: str, record: dict[str, Any], ttl: int) -> None:
        blob = self._fernets(sid)[0].encrypt(json.dumps(record).encode())
        self.store.put(store_key("tokens", sid), blob.decode("ascii"), ttl)

    def _read(self, sid: str) -> dict[str, Any] | None:
        blob = self.store.get(store_key("tokens", sid))
        if blob is None:
            return None
        for age, fernet in enumerate(self._fernets(sid)):
            try:
                record = json.loads(fernet.decrypt(blob.encode("ascii")))
            except (InvalidToken, UnicodeError, ValueError):
                continue
            ttl = int(record["until"] - time.time())
            if age and ttl > 0:
                self._write(sid, record, ttl)  # under the current key from now on
            return record
        # Made for another session, or under a key no longer listed: as good as absent.
        log.warning("stored tokens of a session could not be decrypted; ignored")
        return None


def _derive_key(secret: str, sid: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=KEY_PURPOSE + b"\0" + sid.encode())
    return base64.urlsafe_b64encode(hkdf.derive(secret.encode()))
