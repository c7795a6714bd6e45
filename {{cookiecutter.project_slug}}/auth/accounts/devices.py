"""Device cookies (OWASP "Slow Down Online Guessing Attacks with Device Cookies") and the
lock-out policy they make fair: someone guessing at an account slows down and finally locks
it for unknown clients, while the owner's browser, which signed in before, keeps its own
small budget and is never locked out by the guesser.

Pure functions over counts and times: the throttle keeps the counts in the store.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

NONCE_BYTES = 16
MAX_COOKIE_LENGTH = 256
DEVICE_COOKIE_DAYS = 365  # how long a browser stays known; signing out does not forget it


@dataclass(frozen=True)
class Device:
    """A verified device cookie: whose browser it is, and its nonce (the device's own id)."""

    user: str
    nonce: str


def issue_device_cookie(user: str, secret_key: str) -> str:
    """The value to set after a successful sign-in: ``user.nonce.HMAC(key, user|nonce)``."""
    encoded_user = _b64(user.casefold().encode())
    nonce = secrets.token_urlsafe(NONCE_BYTES)
    return f"{encoded_user}.{nonce}.{_mac(secret_key, encoded_user, nonce)}"


def verify_device_cookie(value: str | None, keys: Sequence[str]) -> Device | None:
    """The device a cookie stands for, or None if it is not one we made.

    ``keys`` is SECRET_KEY then SECRET_KEY_FALLBACKS, so that rotating the key keeps
    known browsers known until the old key is dropped.
    """
    if not value or len(value) > MAX_COOKIE_LENGTH or value.count(".") != 2:
        return None
    encoded_user, nonce, mac = value.split(".")
    if not any(hmac.compare_digest(mac, _mac(key, encoded_user, nonce)) for key in keys):
        return None
    try:
        user = base64.urlsafe_b64decode(encoded_user + "=" * (-len(encoded_user) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    return Device(user=user, nonce=nonce)


def trusted_device(value: str | None, user: str, keys: Sequence[str]) -> Device | None:
    """The device, if the cookie is valid and was issued to this user (names without case)."""
    device = verify_device_cookie(value, keys)
    return device if device and device.user == user.casefold() else None


def _mac(secret_key: str, encoded_user: str, nonce: str) -> str:
    # A key of its own, derived from SECRET_KEY, so a device cookie's MAC can never stand
    # in for any other signature the app makes with SECRET_KEY.
    key = hmac.new(secret_key.encode(), b"device-cookie", hashlib.sha256).digest()
    return _b64(hmac.new(key, f"{encoded_user}|{nonce}".encode(), hashlib.sha256).digest())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True)
class Verdict:
    """May this client try a password now? If not, for how long it should wait."""

    allowed: bool
    retry_after: int = 0  # seconds (for Retry-After)
    locked: bool = False  # until an admin unlocks it or a trusted device signs in


ALLOWED = Verdict(allowed=True)


@dataclass(frozen=True)
class LockoutPolicy:
    """How many failures are free, and what happens after.

    Count a failure from an unknown client on the account, one from a trusted device on
    that device (by its nonce) only. A success clears the count it was checked against;
    a success from a trusted device also clears the account's, which lifts a lock. The
    account's count is of consecutive failures: keep it until a success or an unlock.
    """

    free_account_failures: int = 10
    free_device_failures: int = 5
    first_wait_seconds: int = 30  # after the free failures; doubles with each further one
    max_wait_seconds: int = 15 * 60
    lock_after_failures: int = 100  # consecutive, NIST SP 800-63B-4's limit
    locked_retry_after_seconds: int = 3600  # what a locked account's Retry-After says

    def wait_seconds(self, failures: int, free: int) -> int:
        """Seconds to wait after the last failure, once ``failures`` have been counted."""
        if failures < free:
            return 0
        doublings = min(failures - free, 32)  # past the cap anyway; keeps the number small
        return min(self.first_wait_seconds * 2**doublings, self.max_wait_seconds)

    def for_unknown_client(self, account_failures: int, last_failure_at: float | None, now: float) -> Verdict:
        if account_failures >= self.lock_after_failures:
            return Verdict(allowed=False, retry_after=self.locked_retry_after_seconds, locked=True)
        return self._wait(
            self.wait_seconds(account_failures, self.free_account_failures), last_failure_at, now
        )

    def for_trusted_device(self, device_failures: int, last_failure_at: float | None, now: float) -> Verdict:
        """The account's count does not matter here: others' guessing cannot lock the owner out."""
        return self._wait(self.wait_seconds(device_failures, self.free_device_failures), last_failure_at, now)

    @staticmethod
    def _wait(wait: int, last_failure_at: float | None, now: float) -> Verdict:
        if wait == 0 or last_failure_at is None:
            return ALLOWED
        remaining = last_failure_at + wait - now
        if remaining <= 0:
            return ALLOWED
        return Verdict(allowed=False, retry_after=math.ceil(remaining))


LOCKOUT = LockoutPolicy()
