"""A counter that every process of this host sees move at once, for the price of a memory read.

The SQLite store moves it on after each revocation or failed sign-in is written (and
pending.py its own after each change to the file of sign-outs waiting for the store). A
worker that has found a session not revoked (or no failure counted for a client) remembers
the counter's value; until the counter moves, nothing of the kind has been written since,
so the answer stands without asking SQLite again (whose read, with its file locks, is the
dearest part of a signed-in request). A sign-out therefore still holds from the very next
request on every worker, and a failure is counted against the next request too. The
counter lives in a small file beside the database, mapped into memory by every process
that opens the store (workers, the ``flask`` commands).

Redis has no such counter (its hosts share no memory): there the lookup is made every time.
"""

from __future__ import annotations

import mmap
import os
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

SIZE = 8  # bytes: one unsigned 64-bit counter
# How long an answer may stand on an unmoved clock: the safety net for a writer that died
# between its write and its tick, or a change written behind the app's back.
CLOCK_TRUST_SECONDS = 10.0


def still_stands(answered: tuple[object, float], now: tuple[object, float]) -> bool:
    """Whether an answer found at mark ``answered`` still holds at mark ``now``: the clock (or
    clocks) have not moved since, and CLOCK_TRUST_SECONDS have not passed."""
    return answered[0] == now[0] and now[1] - answered[1] < CLOCK_TRUST_SECONDS


class ChangeClock:
    def __init__(self, path: Path):
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(descriptor).st_size < SIZE:
                os.ftruncate(descriptor, SIZE)  # a new file reads as zeros
            self._map = mmap.mmap(descriptor, SIZE)
        finally:
            os.close(descriptor)  # the mapping keeps the file
        # The counter as one unsigned 64-bit number in the mapped memory (this host's byte order:
        # only this host's processes share it), read by a C-level call, with no Python frame:
        # a request reads a clock or three.
        self._counter = memoryview(self._map).cast("Q")
        self.now: Callable[[], int] = partial(self._counter.__getitem__, 0)

    def mark(self) -> tuple[int, float]:
        """The clock and the time: read before looking at what the clock guards, never after."""
        return self.now(), time.monotonic()

    def tick(self) -> None:
        """Move on, after a change is written. Two ticks at once may move it by one only:
        either way it has moved past every value read before the changes were written."""
        self._counter[0] = (self._counter[0] + 1) % 2**64
