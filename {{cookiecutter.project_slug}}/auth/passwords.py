"""Password users: slow salted hashes and each account's second factors in a git-ignored JSON file.

Standard library only, so that the post-generation hook can create the first
user before the project's dependencies are installed. The full new-password
policy (common and guessable passwords) is in accounts/strength.py.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import re
import secrets
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .files import change_clock, locked

# scrypt at the OWASP Password Storage Cheat Sheet's parameters: N=2^17, r=8, p=1
# (128 MiB and about half a second per check on a small server).
SCRYPT_N = 2**17
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
HASH_BYTES = 32
PREFIX = "scrypt"

MIN_PASSWORD_LENGTH = 15  # NIST SP 800-63B-4, for a password that is the only factor
MAX_PASSWORD_LENGTH = 1024
USERNAME_PATTERN = re.compile(r"[A-Za-z0-9._@+-]{1,64}")


class UserError(ValueError):
    """A username or password that cannot be accepted, with a message for people."""


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=n,
        r=r,
        p=p,
        maxmem=2 * 128 * n * r * p,
        dklen=HASH_BYTES,
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str) -> str:
    """A self-describing hash: ``scrypt$N$r$p$salt$hash`` (base64 parts)."""
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"{PREFIX}${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Constant-time check of a password against a stored hash; False if malformed."""
    try:
        prefix, n, r, p, salt, digest = stored.split("$")
        if prefix != PREFIX:
            return False
        expected = base64.b64decode(digest, validate=True)
        actual = _scrypt(password, base64.b64decode(salt, validate=True), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


# Checked against when a username is unknown, so that unknown users and wrong
# passwords cost the same time and cannot be told apart.
DUMMY_HASH = f"{PREFIX}${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(bytes(SALT_BYTES))}${_b64(bytes(HASH_BYTES))}"


def check_username(name: str) -> str:
    if not USERNAME_PATTERN.fullmatch(name):
        raise UserError("a username is 1 to 64 letters, digits or . _ @ + - (no spaces or colons)")
    return name


def check_new_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise UserError(f"a password has at most {MAX_PASSWORD_LENGTH} characters")
    return password


def new_password() -> str:
    """A random password for a new account (about 120 bits)."""
    return secrets.token_urlsafe(15)


def _step(value: Any) -> int | None:
    """A stored time (a TOTP step or Unix time), or None for never."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise ValueError(f"{value!r} is not a whole number")
    return value


@dataclass(frozen=True)
class TotpState:
    """Two-step sign-in: the shared secret (base32) and the last time step accepted (no replay)."""

    secret: str
    last_step: int | None = None


@dataclass(frozen=True)
class TokenRecord:
    """A personal access token as stored: its SHA-256 only, and when it was made and last used."""

    hash: str
    created: int
    last_used: int | None = None


@dataclass(frozen=True)
class UserRecord:
    """Everything the users file knows of one account."""

    password: str
    totp: TotpState | None = None
    recovery: tuple[str, ...] = ()  # hashes of the unused recovery codes
    tokens: dict[str, TokenRecord] = field(default_factory=dict)  # label -> token

    @classmethod
    def from_json(cls, value: Any) -> UserRecord:
        if isinstance(value, str):  # the first format: username -> hash
            return cls(password=value)
        if not isinstance(value, dict) or not isinstance(value.get("password"), str):
            raise ValueError("a user is a password hash or an object with a password")
        totp, recovery, tokens = value.get("totp"), value.get("recovery", []), value.get("tokens", {})
        if not (isinstance(recovery, list) and isinstance(tokens, dict)):
            raise ValueError("recovery is a list and tokens an object")
        return cls(
            password=value["password"],
            totp=TotpState(str(totp["secret"]), _step(totp.get("last_step"))) if totp else None,
            recovery=tuple(str(code) for code in recovery),
            tokens={
                str(label): TokenRecord(
                    str(token["hash"]), int(token["created"]), _step(token.get("last_used"))
                )
                for label, token in tokens.items()
            },
        )

    def to_json(self) -> dict[str, Any]:
        value: dict[str, Any] = {"password": self.password}
        if self.totp:
            value["totp"] = {"secret": self.totp.secret, "last_step": self.totp.last_step}
        if self.recovery:
            value["recovery"] = list(self.recovery)
        if self.tokens:
            value["tokens"] = {
                label: {"hash": token.hash, "created": token.created, "last_used": token.last_used}
                for label, token in sorted(self.tokens.items())
            }
        return value


class UsersFile:
    """The users file: a JSON object of username -> record (see UserRecord).

    It still reads the first format (username -> hash) and writes the new one.
    Every change is a read-modify-write under an exclusive lock on a lock file
    beside it, so two workers changing it at once both keep their change.
    """

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")

    def read(self) -> dict[str, str]:
        """Username -> password hash."""
        return {name: record.password for name, record in self.records().items()}

    def records(self) -> dict[str, UserRecord]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        users = json.loads(text) if text.strip() else {}
        if not isinstance(users, dict):
            raise UserError(f"{self.path} must hold a JSON object of username -> user")
        try:
            return {str(name): UserRecord.from_json(value) for name, value in users.items()}
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            raise UserError(f"{self.path} holds a malformed user: {error}") from None

    def record(self, name: str) -> UserRecord | None:
        return self.records().get(name)

    def add(self, name: str, password: str) -> None:
        """Add a user or set a new password for an existing one (keeping its second factors)."""
        name, digest = check_username(name), hash_password(check_new_password(password))
        with self._locked():
            users = self.records()
            record = users.get(name)
            self._write({**users, name: replace(record, password=digest) if record else UserRecord(digest)})

    def remove(self, name: str) -> bool:
        return self._change(name, lambda r: None)

    # Two-step sign-in ------------------------------------------------------

    def set_totp(self, name: str, secret: str, recovery_hashes: list[str]) -> bool:
        """Turn two-step sign-in on (or renew it): a new secret and a new set of recovery codes."""
        return self._change(
            name, lambda r: replace(r, totp=TotpState(secret), recovery=tuple(recovery_hashes))
        )

    def clear_totp(self, name: str) -> bool:
        return self._change(name, lambda r: replace(r, totp=None, recovery=()))

    def accept_totp_step(self, name: str, step: int) -> bool:
        """Record a code's time step as used; False if it (or a later one) was used already."""
        return self._change(
            name,
            lambda r: replace(r, totp=replace(r.totp, last_step=step)),
            when=lambda r: r.totp is not None and (r.totp.last_step is None or step > r.totp.last_step),
        )

    def spend_recovery_code(self, name: str, code_hash: str) -> bool:
        """Strike a recovery code off; False if it was not there (used already, or never)."""
        return self._change(
            name,
            lambda r: replace(r, recovery=tuple(h for h in r.recovery if h != code_hash)),
            when=lambda r: code_hash in r.recovery,
        )

    # Personal access tokens ----------------------------------------------

    def add_token(self, name: str, label: str, token: TokenRecord) -> bool:
        """Store a new token under a label; False if the user is unknown or already has that label."""
        return self._change(
            name,
            lambda r: replace(r, tokens={**r.tokens, label: token}),
            when=lambda r: label not in r.tokens,
        )

    def revoke_token(self, name: str, label: str) -> bool:
        return self._change(
            name,
            lambda r: replace(r, tokens={k: v for k, v in r.tokens.items() if k != label}),
            when=lambda r: label in r.tokens,
        )

    def touch_token(self, name: str, label: str, when: int) -> bool:
        """Note that a token was used at ``when`` (Unix time)."""
        return self._change(
            name,
            lambda r: replace(r, tokens={**r.tokens, label: replace(r.tokens[label], last_used=when)}),
            when=lambda r: label in r.tokens,
        )

    # ---------------------------------------------------------------------

    def _change(
        self,
        name: str,
        change: Callable[[UserRecord], UserRecord | None],
        when: Callable[[UserRecord], bool] = lambda record: True,
    ) -> bool:
        """Replace an existing user's record by ``change(record)`` (None removes the user) if
        ``when(record)`` holds, reading and writing under the lock; True if it was changed."""
        with self._locked():
            users = self.records()
            record = users.get(name)
            if record is None or not when(record):
                return False
            self._write({**users, name: change(record)})
            return True

    def _locked(self) -> contextlib.AbstractContextManager[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return locked(self.lock_path)

    def _write(self, users: dict[str, UserRecord | None]) -> None:
        # Written to a private temporary file and renamed, so that a reader
        # never sees half a file and the hashes are never world-readable.
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".users-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                records = {name: users[name].to_json() for name in sorted(users) if users[name]}
                json.dump(records, out, indent=2)
                out.write("\n")
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        clock = change_clock(self.path)
        if clock is not None:
            clock.tick()  # after the write: the app's workers on this host look again at once
