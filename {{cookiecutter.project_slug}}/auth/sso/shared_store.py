"""What the single sign-on parts need from the store every worker and host shares.

The app's store (SQLite on one host, Redis across hosts) provides it, namespaced per app.
"""

from __future__ import annotations

import hashlib
from typing import Protocol


class SharedStore(Protocol):
    def get(self, key: str) -> str | None: ...

    def put(self, key: str, value: str, ttl: int) -> None: ...

    def add(self, key: str, value: str, ttl: int) -> bool:
        """Set ``key`` only if it is absent (or expired); True when this call set it."""

    def delete(self, key: str) -> None: ...


def store_key(kind: str, name: str) -> str:
    """A store key that does not reveal ``name`` (a session id, a token id) to whoever reads the store."""
    return f"sso:{kind}:{hashlib.sha256(name.encode()).hexdigest()}"
