"""Against password guessing: every attempt is counted before it is checked.

Counting first (atomically, in the shared store) means that however many guesses
arrive at once, on however many workers and hosts, at most the limit are checked
in a window; a right password is then forgiven its count. Every attempt from a
client is counted, however fast the check behind it. An attempt that cannot be
counted (the store down: StoreUnavailable) is not checked either: the client gets a
503, never an uncounted guess.
"""

from __future__ import annotations

from collections.abc import Callable

from .errors import Throttled
from .store import Store


class Throttle:
    def __init__(self, store: Store, window_seconds: int, per_account: int, per_address: int):
        self.store = store
        self.window = window_seconds
        self.limits = {"account": per_account, "address": per_address}

    def attempt(self, account: str, address: str | None, check: Callable[[], bool]) -> bool:
        """Run ``check`` (the password check) unless this account or address is over its limit.

        Raises Throttled (with the seconds to wait) when over; else returns what ``check`` said.
        """
        counters = {"account": f"account:{account.casefold()}", "address": f"address:{address}"}
        over = [
            kind
            for kind, counter in counters.items()
            if self.store.count_attempt(counter, self.window) > self.limits[kind]
        ]
        if over:
            raise Throttled(retry_after=self.window, reason=f"too many failures per {' and '.join(over)}")
        if not check():
            return False
        for counter in counters.values():
            self.store.forgive_attempt(counter, self.window)
        return True
