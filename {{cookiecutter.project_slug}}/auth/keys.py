"""The secret key that signs sessions: made, checked, written to .env, rotated.

Standard library only, so that the post-generation hook can write .env before
the project's dependencies are installed.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import tempfile
from pathlib import Path

KEY_BYTES = 48  # 384 bits, above the 256 that HMAC-SHA256 can use
MIN_KEY_LENGTH = 32
PLACEHOLDERS = {
    "",
    "secret",
    "dev",
    "development",
    "changeme",
    "change-me",
    "secret-key",
    "your-secret-key",
    "your_secret_key",
    "replace-me",
    "test",
    "key",
    "none",
}

FIX = "run `flask keys new` (or `python -m auth.keys`) and put the result in .env"


def new_secret_key() -> str:
    return secrets.token_urlsafe(KEY_BYTES)


def key_problem(key: str | None) -> str | None:
    """Why this key must not sign sessions, or None if it is fit."""
    if key is None or not key.strip():
        return "SECRET_KEY is not set"
    if key.strip().lower() in PLACEHOLDERS or "change" in key.lower():
        return "SECRET_KEY is a placeholder"
    if len(key) < MIN_KEY_LENGTH:
        return f"SECRET_KEY is shorter than {MIN_KEY_LENGTH} characters"
    return None


def store_namespace(secret_key: str) -> str:
    """A prefix for the shared store's keys, unique to the app that holds this key.

    Not the key itself (the store can be read by others), and pinned in .env as
    REDIS_PREFIX before the key is rotated, so that it never changes under a running app.
    """
    return "auth:" + hashlib.sha256(b"store-namespace:" + secret_key.encode()).hexdigest()[:16] + ":"


def _set_line(lines: list[str], name: str, value: str) -> list[str]:
    """Replace ``NAME=...`` in .env lines, or append it."""
    pattern = re.compile(rf"^\s*(export\s+)?{re.escape(name)}\s*=")
    out, found = [], False
    for line in lines:
        if pattern.match(line) and not found:
            out.append(f"{name}={value}")
            found = True
        elif not pattern.match(line):
            out.append(line)
    if not found:
        out.append(f"{name}={value}")
    return out


def _get_value(lines: list[str], name: str) -> str:
    pattern = re.compile(rf"^\s*(export\s+)?{re.escape(name)}\s*=(.*)$")
    for line in lines:
        match = pattern.match(line)
        if match:
            return match.group(2).strip().strip("'\"")
    return ""


def _write_private(path: Path, lines: list[str]) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".env-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def create_env_file(env: Path, example: Path) -> bool:
    """Write .env from .env.example with a new key; never touch an existing .env."""
    if env.exists():
        return False
    lines = example.read_text(encoding="utf-8").splitlines()
    _write_private(env, _set_line(lines, "SECRET_KEY", new_secret_key()))
    return True


def rotate_key(env: Path) -> None:
    """Sign new sessions with a new key; keep the old one as a fallback for old sessions."""
    lines = env.read_text(encoding="utf-8").splitlines()
    old = _get_value(lines, "SECRET_KEY")
    if old and not _get_value(lines, "REDIS_PREFIX"):
        lines = _set_line(lines, "REDIS_PREFIX", store_namespace(old))  # keep what is revoked
    fallbacks = [k for k in _get_value(lines, "SECRET_KEY_FALLBACKS").split(",") if k]
    if old and not key_problem(old):
        fallbacks.insert(0, old)
    lines = _set_line(lines, "SECRET_KEY_FALLBACKS", ",".join(fallbacks))
    _write_private(env, _set_line(lines, "SECRET_KEY", new_secret_key()))


if __name__ == "__main__":
    print(new_secret_key())
