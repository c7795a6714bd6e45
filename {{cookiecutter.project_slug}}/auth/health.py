"""Which of the app's dependencies answer, as this worker sees them.

The state that /healthz reports, and the one place an outage and its end are
announced (signals.dependency_failed / dependency_recovered): once per worker
when a dependency stops answering and once when it answers again, however many
requests meet the failure in between.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from . import signals
from .errors import StoreUnavailable


class Health:
    def __init__(self) -> None:
        self.down: dict[str, tuple[str, float]] = {}  # name -> (state, down since)
        self._lock = threading.Lock()

    def failed(self, name: str, state: str, reason: str = "") -> None:
        """``name`` does not answer; ``state`` is the word /healthz shows ("unreachable")."""
        with self._lock:
            if name in self.down:
                return
            self.down[name] = (state, time.monotonic())
        signals.dependency_failed.send(self, dependency=name, reason=reason or state)

    def answered(self, name: str) -> None:
        if name not in self.down:  # the common case, without taking the lock
            return
        with self._lock:
            down = self.down.pop(name, None)
        if down is not None:
            seconds = round(time.monotonic() - down[1], 1)
            signals.dependency_recovered.send(self, dependency=name, seconds=seconds)

    def report(self, name: str, problem: str | None, state: str) -> None:
        """A check's outcome: ``problem`` (why it failed) or None when it answered."""
        if problem is None:
            self.answered(name)
        else:
            self.failed(name, state, problem)

    def failures(self) -> dict[str, str]:
        """Each dependency down, with its state: {"store": "unreachable"}."""
        return {name: state for name, (state, _) in self.down.items()}


class Watched:
    """A store backend whose every call tells ``health`` whether the store answered.

    The backends raise StoreUnavailable for any failure of theirs; it goes on to the
    request (a 503), and the first one marks the store down until a call succeeds.
    """

    def __init__(self, backend: Any, health: Health, name: str = "store"):
        self.backend = backend
        self._clock = getattr(backend, "clock", None)
        self._health = health
        self._name = name

    @property
    def clock(self) -> Any:
        """The backend's change clock (clock.py); None while the store is down, so that every
        lookup asks it, and the first that gets an answer ends the outage."""
        return None if self._health.down and self._name in self._health.down else self._clock

    def __getattr__(self, operation: str) -> Any:
        call = getattr(self.backend, operation)
        if not callable(call):
            return call

        health, name = self._health, self._name

        def reported(*args: Any, **kwargs: Any) -> Any:
            try:
                result = call(*args, **kwargs)
            except StoreUnavailable as error:
                health.failed(name, "unreachable", error.reason)
                raise
            if health.down:  # an outage ends: the common case is one test of an empty dict
                health.answered(name)
            return result

        setattr(self, operation, reported)  # found without __getattr__ from now on
        return reported
