"""Files edited while the app runs: re-read when they change, never on every request."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Generic, TypeVar

from .clock import ChangeClock

try:
    import fcntl
except ImportError:  # Windows, where the generation hook may run: one process at a time there
    fcntl = None

T = TypeVar("T")
log = logging.getLogger(__name__)


@contextlib.contextmanager
def locked(lock_path: Path) -> Iterator[None]:
    """One process of this host at a time (the lock file is made if missing)."""
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if fcntl:
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def change_clock(path: Path) -> ChangeClock | None:
    """The change clock (clock.py) that the app's own writers of ``path`` move on: in the lock
    file beside it. None where it cannot be opened (a read-only folder: nothing writes there)."""
    try:
        return ChangeClock(path.with_name(path.name + ".lock"))
    except OSError:
        return None


class WatchedFile(Generic[T]):
    """A parsed file, parsed again when its size, time or inode changes.

    A stat is all the cost, made at most once per ``check_every`` seconds (0: on every
    ``get()``), and at once after ``clock`` (``change_clock``) has moved, as every change
    made by the app itself or its ``flask`` commands moves it. So such a change applies from
    the next request on, an edit by hand within ``check_every`` seconds. If an edit leaves
    the file unreadable, the last good version stays in force and the error is logged, so a
    typo does not lock everyone out; a missing file counts as empty.

    Why the last good version rather than a 503 for what needs the file: it is what was
    in force a moment ago (the broken edit grants nothing new), and refusing everyone
    for a typo would turn a slip into an outage. ``problem`` says what is wrong, so that
    /healthz reports the instance degraded (and the audit log says so once) until the
    file reads again: the operator learns that the edit did not take.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        parse: Callable[[Path], T],
        empty: T,
        check_every: float = 0,
        clock: ChangeClock | None = None,
    ):
        self.path = Path(path)
        self.check_every = check_every
        self._clock = clock
        self._checked: tuple[int, float] | None = None  # (the clock, when) at the last stat
        self._fspath = os.fspath(path)  # os.stat of a str: a third of pathlib's cost, on every request
        self._parse = parse
        self._empty = empty
        self._lock = threading.Lock()
        self._stamp: tuple[int, ...] | None = None
        self._value = empty
        self.generation = 0  # one more each time the file is read again: what was derived from it is stale
        self.problem: str | None = None  # why the file on disk is not the version in force

    def load(self) -> T:
        """Parse now, raising on a malformed file (used at start-up)."""
        with self._lock:
            self._stamp = _stamp_of(self._fspath)
            self._value = self._empty if self._stamp is None else self._parse(self.path)
            self.generation += 1
            return self._value

    def get(self) -> T:
        checked = self._checked
        if (
            checked is not None
            and time.monotonic() - checked[1] < self.check_every
            and (self._clock is None or self._clock.now() == checked[0])
        ):
            return self._value  # looked at less than check_every seconds ago, and the clock has not moved
        # The clock and the time are read before the stat, never after: a change written
        # meanwhile moves the clock past the value kept.
        checked = (self._clock.now() if self._clock else 0, time.monotonic())
        stamp = _stamp_of(self._fspath)
        if stamp == self._stamp:
            self._checked = checked
            return self._value
        with self._lock:
            if stamp != self._stamp:
                try:
                    self._value = self._empty if stamp is None else self._parse(self.path)
                    self.problem = None
                except (OSError, ValueError) as error:
                    log.error("%s is unreadable, keeping the previous version: %s", self.path, error)
                    self.problem = str(error)
                self._stamp = stamp
                self.generation += 1
            self._checked = checked  # only now: until then, others look at the file too
            return self._value

    def current_generation(self) -> int:
        """``generation`` after checking the file (a stat, when one is due)."""
        self.get()
        return self.generation


def _stamp_of(path: str) -> tuple[int, ...] | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino, st.st_ctime_ns)  # ctime: a chmod too
