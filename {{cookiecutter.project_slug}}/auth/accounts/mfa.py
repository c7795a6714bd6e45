"""Two-step sign-in: TOTP codes (RFC 6238, through pyotp), one-time recovery codes, and the
QR code an authenticator app scans (drawn by segno, so no outside service sees the secret).

Pure functions: where the secret, the last accepted step and the recovery hashes are kept
is the caller's business (see UsersFile in passwords.py).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

import pyotp
import segno

TOTP_DIGITS = 6
TOTP_STEP_SECONDS = 30
CLOCK_DRIFT_STEPS = 1  # a code from the step before or after is accepted too

RECOVERY_CODE_COUNT = 10
# Four groups of four from 31 letters and digits that cannot be mistaken for one
# another (no 0/o, 1/l/i): about 79 bits each, far beyond guessing.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_GROUPS = 4
RECOVERY_GROUP_LENGTH = 4


def new_totp_secret() -> str:
    """A new shared secret: 160 random bits in base32, as RFC 4226 recommends."""
    return pyotp.random_base32()


def provisioning_uri(secret: str, *, username: str, issuer: str) -> str:
    """The ``otpauth://totp/...`` URI an authenticator app takes (by QR code or pasted)."""
    return _totp(secret).provisioning_uri(name=username, issuer_name=issuer)


def accepted_step(secret: str, code: str, *, last_step: int | None, now: float | None = None) -> int | None:
    """The time step of a right code, or None if it is wrong or was used already.

    Store the step returned as the user's last (``UsersFile.accept_totp_step`` does it
    atomically): a code of that step or an earlier one is refused from then on, so a
    code seen over someone's shoulder cannot be used again within its window.
    """
    digits = re.sub(r"[\s-]", "", code)
    if not (len(digits) == TOTP_DIGITS and digits.isascii() and digits.isdigit()):
        return None
    try:
        step = _totp(secret).verify_and_get_timecode(digits, for_time=now, valid_window=CLOCK_DRIFT_STEPS)
    except pyotp.OTPVerificationError:
        return None
    if last_step is not None and step <= last_step:
        return None
    return step


def new_recovery_codes() -> list[str]:
    """Ten one-time codes to print for the user, such as ``k7fq-2mxd-9hwe-pa3r``."""
    return [
        "-".join(
            "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_GROUP_LENGTH))
            for _ in range(RECOVERY_GROUPS)
        )
        for _ in range(RECOVERY_CODE_COUNT)
    ]


def recovery_code_hash(code: str) -> str:
    """What is stored of a recovery code. A fast hash is enough for 79 random bits, and an
    unkeyed one keeps the codes working when SECRET_KEY is rotated."""
    typed = re.sub(r"[\s-]", "", code).lower()
    return hashlib.sha256(b"recovery-code:" + typed.encode()).hexdigest()


def matching_recovery_hash(code: str, stored_hashes: list[str] | tuple[str, ...]) -> str | None:
    """The stored hash this code matches, or None; compared in constant time with each.

    Spend it with ``UsersFile.spend_recovery_code`` and accept the code only if that
    returns True, so that two requests cannot both use it.
    """
    digest = recovery_code_hash(code)
    found = None
    for stored in stored_hashes:
        if hmac.compare_digest(digest, stored):
            found = stored
    return found


def qr_code_svg(uri: str) -> str:
    """The URI as an inline ``<svg>`` element, for a page template."""
    return segno.make(uri, error="m").svg_inline(scale=4, border=4)


def qr_code_data_uri(uri: str) -> str:
    """The URI as a ``data:image/svg+xml`` URI, for an ``<img src>``; allowed by a
    Content-Security-Policy of ``img-src 'self' data:``."""
    return segno.make(uri, error="m").svg_data_uri(scale=4, border=4)


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_STEP_SECONDS)
