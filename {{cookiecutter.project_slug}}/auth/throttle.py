"""Against password guessing: every attempt is counted before it is checked.

Counting first (atomically, in the shared store) means that however many guesses arrive
at once, on however many workers and hosts, no more are checked than the policy allows
(accounts/devices.py): the first free failures side by side, then one attempt per wait,
claimed with a set-if-absent "turn" that expires when the wait is over. An attempt that is
refused is not checked and not counted; a right one clears the count it was checked against.

Unknown clients count on the account (and on their address); a browser that signed in as
the account before (device cookie) counts on its own, so a guesser cannot lock the owner out.

An attempt that cannot be counted (the store down: StoreUnavailable) is not checked
either: the client gets a 503, never an uncounted guess.

One attempt is no guess: a script's ``Authorization: Basic`` with the password that scrypt
accepted before (basic.py remembers it), from a client with no failure counted. It passes
with two reads (``clean``) instead of a count and its undoing; after any failure, it is
counted and waits like everything else.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from . import signals
from .accounts.devices import Device, LockoutPolicy
from .errors import Busy, Locked, Throttled
from .store import Store

# An account's failures are consecutive ones: remembered until a success, an unlock, or this.
FAILURE_MEMORY_SECONDS = 30 * 24 * 3600


class Throttle:
    def __init__(self, store: Store, policy: LockoutPolicy, address_window_seconds: int, per_address: int):
        self.store = store
        self.policy = policy
        self.address_window = address_window_seconds
        self.per_address = per_address

    def attempt(
        self, account: str, address: str | None, check: Callable[[], bool], device: Device | None = None
    ) -> bool:
        """Run ``check`` (a password or code check) unless this client must wait.

        Raises Throttled or Locked (with the seconds to wait) when it must; else returns what
        ``check`` said. ``device``: the client's device cookie, if issued for this account.
        """
        account = account.casefold()
        counters = [] if device else [f"address:{address}"]  # a known browser has its own budget
        if device is None and self.store.count_attempt(counters[0], self.address_window) > self.per_address:
            raise Throttled(retry_after=self.address_window, reason="too many failures per address")
        counter = f"device:{device.nonce}" if device else f"account:{account}"
        counters.append(counter)
        prior = self.store.count_attempt(counter, FAILURE_MEMORY_SECONDS) - 1
        free = self.policy.free_device_failures if device else self.policy.free_account_failures
        turn = None
        try:
            if device is None and prior >= self.policy.lock_after_failures:
                raise Locked(retry_after=self.policy.locked_retry_after_seconds, reason="account locked")
            if prior + 1 >= free:
                turn = self._claim_turn(counter, self.policy.wait_seconds(prior + 1, free))
            right = check()
        except (Throttled, Busy):
            self._forgive(counters, turn)
            raise
        if right:
            self._succeeded(account, counters, device, turn)
        elif device is None and prior + 1 == self.policy.lock_after_failures:
            signals.account_changed.send(None, event="lock-out", user=account)
        return right

    def clean(self, account: str, address: str | None, device: Device | None = None) -> bool:
        """True if no failure is counted for this client (its account or device budget, and
        its address): then a right password known from before needs no count (see identity.py)."""
        counter = f"device:{device.nonce}" if device else f"account:{account.casefold()}"
        if self.store.attempts(counter) > 0:
            return False
        return device is not None or self.store.attempts(f"address:{address}") <= 0

    def unlock(self, account: str) -> None:
        """An admin's unlock: the account's failures are forgotten, its wait is over."""
        counter = f"account:{account.casefold()}"
        self.store.clear_attempts(counter)
        self.store.delete(_turn_key(counter))

    def _claim_turn(self, counter: str, wait: int) -> str:
        """Be the one attempt allowed now; the next one waits ``wait`` seconds from now."""
        key, now = _turn_key(counter), time.time()
        if not self.store.add(key, str(now + wait), wait):
            until = float(self.store.get(key) or now + 1)
            raise Throttled(retry_after=max(1, math.ceil(until - now)), reason=f"waiting ({counter})")
        return key

    def _forgive(self, counters: list[str], turn: str | None) -> None:
        for counter in counters:
            self.store.forgive_attempt(counter, self._memory(counter))
        if turn:
            self.store.delete(turn)

    def _memory(self, counter: str) -> int:
        return self.address_window if counter.startswith("address:") else FAILURE_MEMORY_SECONDS

    def _succeeded(self, account: str, counters: list[str], device: Device | None, turn: str | None) -> None:
        for counter in counters:
            if counter.startswith("address:"):
                self.store.forgive_attempt(counter, self.address_window)
            else:
                self.store.clear_attempts(counter)
        if turn:
            self.store.delete(turn)
        if device is not None:  # the owner's browser: whatever others did to the account is lifted
            self.unlock(account)


def _turn_key(counter: str) -> str:
    return f"failures-turn:{counter}"
