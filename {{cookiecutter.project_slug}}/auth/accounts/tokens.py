"""Personal access tokens for scripts (``Authorization: Bearer dat_...``): made, recognised,
found. 256 random bits each, so a fast hash is all the storage needs and guessing is hopeless;
the token itself is shown once and never stored.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..passwords import TokenRecord, UserError, UserRecord

# "dash auth token": recognisable in logs and by secret scanners
TOKEN_PREFIX = "dat_"  # noqa: S105 (a prefix, not a secret)
TOKEN_BYTES = 32  # 256 bits
TOKEN_PATTERN = re.compile(re.escape(TOKEN_PREFIX) + "[A-Za-z0-9_-]{43}")
LABEL_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,64}")
# "Last used" is written to the users file at most this often per token.
LAST_USED_RESOLUTION_SECONDS = 3600


def new_token(now: int) -> tuple[str, TokenRecord]:
    """A new token to show once, and the record to store for it."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    return token, TokenRecord(hash=token_hash(token), created=now)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_token(value: str) -> bool:
    """True for something shaped like one of our tokens (cheap, before any lookup)."""
    return TOKEN_PATTERN.fullmatch(value) is not None


def check_label(label: str) -> str:
    if not LABEL_PATTERN.fullmatch(label):
        raise UserError("a token's label is 1 to 64 letters, digits or . _ -")
    return label


def next_label(taken: Iterable[str]) -> str:
    """``token-1``, ``token-2``, ...: the first one not taken."""
    taken = set(taken)
    number = 1
    while f"token-{number}" in taken:
        number += 1
    return f"token-{number}"


def needs_touch(record: TokenRecord, now: int) -> bool:
    """Whether to write down this use; the first use always (worth an audit line too)."""
    return record.last_used is None or now - record.last_used >= LAST_USED_RESOLUTION_SECONDS


@dataclass(frozen=True)
class TokenOwner:
    user: str
    label: str
    record: TokenRecord


class TokenIndex:
    """Every stored token by its hash, to find a presented token's owner in one lookup.

    The lookup is keyed by the SHA-256 of what was presented, which a guesser cannot
    steer, so its timing tells nothing about the stored hashes; the match is then
    confirmed with a constant-time comparison.
    """

    def __init__(self, users: Mapping[str, UserRecord]):
        self._by_hash = {
            record.hash: TokenOwner(user, label, record)
            for user, user_record in users.items()
            for label, record in user_record.tokens.items()
        }

    def find(self, token: str) -> TokenOwner | None:
        if not looks_like_token(token):
            return None
        digest = token_hash(token)
        owner = self._by_hash.get(digest)
        if owner is None or not hmac.compare_digest(owner.record.hash, digest):
            return None
        return owner
