"""Password accounts as the running app uses them: two-step sign-in and personal tokens,
kept in users.json (UsersFile), with the shared store as the referee between hosts for what
may happen once only (a code's time step, a recovery code).

No Flask: the web layer and the CLI call these and announce what happened.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from .. import signals
from ..files import WatchedFile, change_clock
from ..passwords import TokenRecord, UserError, UserRecord, UsersFile
from ..store import Store
from . import mfa, tokens

# A used time step is remembered across hosts while a code of it could still be accepted.
USED_STEP_SECONDS = mfa.TOTP_STEP_SECONDS * (2 * mfa.CLOCK_DRIFT_STEPS + 2)
USED_RECOVERY_CODE_SECONDS = 400 * 24 * 3600  # "used" outlives any copy of the users file
TWO_STEP_SETUP_SECONDS = 600  # a secret shown on /account waits this long for its first code
KNOWN_TOKENS = 4096  # tokens whose owner a worker remembers (per version of users.json)


@dataclass(frozen=True)
class TwoStep:
    """What to give the user when two-step sign-in is turned on: shown once."""

    uri: str
    recovery_codes: list[str]


class _View:
    """users.json parsed once per change: the records, and every token by its hash."""

    def __init__(self, path: Path):
        self.records = UsersFile(path).records()
        self.tokens = tokens.TokenIndex(self.records)


class Accounts:
    def __init__(self, users_file: Path, store: Store, issuer: str, check_every: float = 0):
        self.file = UsersFile(users_file)
        self.store = store
        self.issuer = issuer
        self._view = WatchedFile(
            users_file, _View, empty=None, check_every=check_every, clock=change_clock(users_file)
        )
        # The view the remembered owners were found in; token -> (owner, until when)
        self._owners: tuple[_View | None, dict[str, tuple[str, float]]] = (None, {})

    def version(self) -> int:
        """Moves on with every change of the users file (a stat, when one is due: files.py)."""
        return self._view.current_generation()

    def record(self, user_id: str) -> UserRecord | None:
        view = self._view.get()
        return view.records.get(user_id) if view else None

    def two_step_on(self, user_id: str) -> bool:
        record = self.record(user_id)
        return record is not None and record.totp is not None

    # Two-step sign-in -------------------------------------------------------------

    def turn_on_two_step(self, user_id: str, secret: str | None = None) -> TwoStep:
        """A new secret (or the one just confirmed) and ten new recovery codes, stored as hashes."""
        secret = secret or mfa.new_totp_secret()
        codes = mfa.new_recovery_codes()
        if not self.file.set_totp(user_id, secret, [mfa.recovery_code_hash(c) for c in codes]):
            raise UserError(f"there is no password user named {user_id!r}")
        return TwoStep(mfa.provisioning_uri(secret, username=user_id, issuer=self.issuer), codes)

    def turn_off_two_step(self, user_id: str) -> bool:
        return self.file.clear_totp(user_id)

    def second_factor(self, user_id: str, code: str) -> str | None:
        """ "code" or "recovery-code" if this is a right one not used before, else None.

        Read from the file itself, not the cached view: the last step must be the latest.
        """
        record = self.file.record(user_id)
        if record is None or record.totp is None:
            return None
        step = mfa.accepted_step(record.totp.secret, code, last_step=record.totp.last_step)
        if step is not None:
            first_here = self.store.add(f"totp-step:{user_id}:{step}", "1", USED_STEP_SECONDS)
            return "code" if first_here and self.file.accept_totp_step(user_id, step) else None
        used = mfa.matching_recovery_hash(code, record.recovery)
        if used is None:
            return None
        first_here = self.store.add(f"recovery-used:{user_id}:{used}", "1", USED_RECOVERY_CODE_SECONDS)
        if first_here and self.file.spend_recovery_code(user_id, used):
            signals.account_changed.send(
                None, event="recovery-code-used", user=user_id, left=len(record.recovery) - 1
            )
            return "recovery-code"
        return None

    def start_two_step_setup(self, user_id: str) -> str:
        """A new secret for /account to show; kept server-side until the first code confirms it."""
        secret = mfa.new_totp_secret()
        self.store.put(f"totp-setup:{user_id}", secret, TWO_STEP_SETUP_SECONDS)
        return secret

    def pending_setup(self, user_id: str) -> str | None:
        return self.store.get(f"totp-setup:{user_id}")

    def confirm_two_step_setup(self, user_id: str, code: str) -> TwoStep | None:
        """Turn it on if ``code`` is right for the pending secret; the recovery codes to show."""
        secret = self.pending_setup(user_id)
        step = mfa.accepted_step(secret, code, last_step=None) if secret else None
        if step is None:
            return None
        self.store.delete(f"totp-setup:{user_id}")
        two_step = self.turn_on_two_step(user_id, secret)
        self.store.add(f"totp-step:{user_id}:{step}", "1", USED_STEP_SECONDS)
        self.file.accept_totp_step(user_id, step)
        return two_step

    # Personal access tokens -------------------------------------------------------

    def new_token(self, user_id: str, label: str | None = None) -> tuple[str, str]:
        """(label, token): the token is shown once and only its hash is kept."""
        record = self.file.record(user_id)
        if record is None:
            raise UserError(f"there is no password user named {user_id!r}")
        label = tokens.check_label(label) if label else tokens.next_label(record.tokens)
        token, stored = tokens.new_token(int(time.time()))
        if not self.file.add_token(user_id, label, stored):
            raise UserError(f"{user_id} already has a token labelled {label!r}")
        return label, token

    def tokens_of(self, user_id: str) -> dict[str, TokenRecord]:
        record = self.file.record(user_id)
        return dict(sorted(record.tokens.items())) if record else {}

    def revoke_token(self, user_id: str, label: str) -> bool:
        return self.file.revoke_token(user_id, label)

    def token_owner(self, token: str) -> str | None:
        """The user a presented token acts for, or None; its use is written down hourly.

        A script sends the same token on every request: its owner is remembered until
        users.json changes (a revocation, say) or the next write-down is due.
        """
        view, now, owners = self._view.get(), time.time(), self._owners
        if owners[0] is not view:
            owners = self._owners = (view, {})  # what this view says, kept with it
        known = owners[1].get(token)
        if known is not None and now < known[1]:
            return known[0]
        owner = view.tokens.find(token) if view else None
        if owner is None:
            return None
        first_use = owner.record.last_used is None
        touched = tokens.needs_touch(owner.record, int(now)) and self.file.touch_token(
            owner.user, owner.label, int(now)
        )
        if touched and first_use:
            signals.account_changed.send(None, event="token-first-used", user=owner.user, label=owner.label)
        last_used = owner.record.last_used
        if not touched and last_used is not None and len(owners[1]) < KNOWN_TOKENS:
            # (after a touch, the file has changed: the next request reads it again)
            owners[1][token] = (owner.user, last_used + tokens.LAST_USED_RESOLUTION_SECONDS)
        return owner.user
