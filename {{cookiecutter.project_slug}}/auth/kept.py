"""Answers a worker works out from shared state, kept until that state may have changed.

Who a session is, or whether a script's Basic header is a right password that nothing
holds back, follows from the store (revocations, failed sign-ins), the sign-outs kept for
later (pending.py) and the directory's version. Each moves a value when it changes: the
store and the pending file a change clock (clock.py), the directory its ``version()``.
An answer is kept with those values, read before it was worked out, and stands while
they read the same: a few memory reads instead of asking each part on every request.
"""

from __future__ import annotations

import operator
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from .clock import still_stands
from .pending import PendingRevocations
from .store import Store

V = TypeVar("V")
Mark = tuple[tuple, float]  # (the values the answer rests on, when they were read)


class SharedState:
    """The values an answer rests on: the store's and the pending file's clocks, and versions."""

    def __init__(
        self,
        store: Store,
        pending: PendingRevocations | None,
        versions: tuple[Callable[[], object | None], ...] = (),
    ):
        self.store = store
        self.pending_clock = pending.clock if pending is not None else None
        self.versions = versions

    def mark(self) -> Mark | None:
        """None when one of them cannot be told without asking: the store keeps no clock
        (Redis, which other hosts write to) or is down, or a version is unknown."""
        clock = self.store.backend.clock
        if clock is None:
            return None
        pending = self.pending_clock.now() if self.pending_clock is not None else 0
        values = (clock.now(), pending, *map(operator.call, self.versions))
        if None in values:
            return None
        return values, time.monotonic()


class KeptAnswers(Generic[V]):
    """Up to ``size`` answers, each with the mark it was worked out at (``state.mark()``)."""

    def __init__(self, state: SharedState, size: int):
        self.mark = state.mark
        self._size = size
        self._answers: dict[Hashable, tuple[Mark, V]] = {}

    def get(self, key: Hashable) -> V | None:
        """The answer kept for ``key``, if the state it rests on has not changed since."""
        kept = self._answers.get(key)
        if kept is None:
            return None
        mark = self.mark()
        return kept[1] if mark is not None and still_stands(kept[0], mark) else None

    def keep(self, key: Hashable, mark: Mark | None, answer: V) -> None:
        """Keep ``answer``, worked out after reading ``mark`` (never after: a change written
        meanwhile then shows as a moved value)."""
        if mark is None:
            return
        if len(self._answers) >= self._size:
            self._answers.clear()  # simple and thread-safe; the next requests work them out again
        self._answers[key] = (mark, answer)
