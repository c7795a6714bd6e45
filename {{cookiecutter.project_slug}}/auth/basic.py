"""Password sign-in: the users file, the Authorization header, and a check that stays fast.

A password check runs scrypt (about half a second). A browser pays it once, at
sign-in; after that the session cookie carries the identity. Scripts that send
``Authorization: Basic`` on every request would pay it every time, so a success
is remembered as an HMAC of (user, password, stored hash) under the app's key:
the same password against the same hash is recognised without scrypt, while a
wrong password, or a password changed in the users file, misses and is checked
in full. Only successes are remembered and no password is kept. Remembering
makes a check fast, never unthrottled: every attempt is counted (throttle.py).

A flood of guesses must not take the workers from signed-in people: a worker runs at
most ``checks_at_once`` scrypt checks side by side, and answers more with a quick 503.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import json
import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import Busy
from .files import WatchedFile, change_clock
from .passwords import DUMMY_HASH, UserError, UsersFile, verify_password

if TYPE_CHECKING:
    from .users import Directory

MAX_HEADER_LENGTH = 4096
REMEMBERED_SUCCESSES = 4096
BUSY_RETRY_AFTER_SECONDS = 2


def parse_basic_header(value: str | None) -> tuple[str, str] | None:
    """(username, password) from an ``Authorization: Basic`` header, or None if malformed.

    The scheme is matched without regard to case, as RFC 9110 says.
    """
    if not value or len(value) > MAX_HEADER_LENGTH:
        return None
    scheme, _, encoded = value.strip().partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    name, colon, password = decoded.partition(":")
    if not colon or not name:
        return None
    return name, password


def _read_users(path: Path) -> dict[str, str]:
    try:
        return {name.casefold(): digest for name, digest in UsersFile(path).read().items()}
    except (UserError, json.JSONDecodeError) as error:
        raise ValueError(str(error)) from None


class PasswordFile:
    """users.json as the running app sees it: re-read when it changes."""

    def __init__(self, path: Path, check_every: float = 0):
        self.file = WatchedFile(
            path, _read_users, empty={}, check_every=check_every, clock=change_clock(path)
        )

    def load(self) -> None:
        self.file.load()

    def problem(self) -> str | None:
        """Why the file on disk is unreadable (the last good version is in force), or None."""
        self.file.get()
        return self.file.problem

    def hash_of(self, name: str) -> str | None:
        return self.file.get().get(name.casefold())


@functools.lru_cache(maxsize=4096)
def _fingerprint(stored_hash: str) -> str:
    return hashlib.sha256(stored_hash.encode()).hexdigest()[:16]


class Passwords:
    """Checks passwords against the directory's hashes, remembering successes."""

    def __init__(self, directory: Directory, secret_key: str, checks_at_once: int = 2):
        self.directory = directory
        self._checks = threading.BoundedSemaphore(checks_at_once)
        self._key = hashlib.sha256(b"password-check:" + secret_key.encode()).digest()
        self._remembered: OrderedDict[bytes, None] = OrderedDict()
        self._lock = threading.Lock()

    def fingerprint(self, name: str) -> str | None:
        """A short digest of the user's stored hash: it changes with the password.

        Kept in the session, so that a new password (or a removed user) ends the
        sessions signed in with the old one, on their next request.
        """
        stored = self.directory.password_hash(name.casefold())
        return _fingerprint(stored) if stored else None

    def remembered(self, name: str, password: str) -> bool:
        """True if this password checked out against the user's stored hash before (no scrypt)."""
        stored = self.directory.password_hash(name.casefold())
        if not stored:
            return False
        token = self._token(name, password, stored)
        with self._lock:
            return token in self._remembered

    def check(self, name: str, password: str) -> bool:
        """True if right; unknown users take as long as wrong passwords."""
        stored = self.directory.password_hash(name.casefold())
        token = self._token(name, password, stored or DUMMY_HASH)
        with self._lock:
            if stored and token in self._remembered:
                self._remembered.move_to_end(token)
                return True
        if not self._checks.acquire(blocking=False):
            raise Busy(retry_after=BUSY_RETRY_AFTER_SECONDS, reason="password checks at their limit")
        try:
            right = verify_password(password, stored or DUMMY_HASH)
        finally:
            self._checks.release()
        if not right or not stored:
            return False
        with self._lock:
            self._remembered[token] = None
            if len(self._remembered) > REMEMBERED_SUCCESSES:
                self._remembered.popitem(last=False)
        return True

    def digest(self, header: str) -> bytes:
        """A header that holds a password, as a worker may keep it: under the app's key.

        Keyed BLAKE2 (a MAC by design), asked on every request with a Basic header: a quarter
        of the cost of OpenSSL 3's one-shot HMAC, which looks its algorithm up on each call."""
        return hashlib.blake2s(header.encode(), key=self._key).digest()

    def _token(self, name: str, password: str, stored: str) -> bytes:
        return hmac.new(self._key, "\0".join((name.casefold(), password, stored)).encode(), "sha256").digest()
