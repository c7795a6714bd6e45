"""Files edited by hand while the app runs: re-read when they change, never on every request."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)


class WatchedFile(Generic[T]):
    """A parsed file, parsed again when its size, time or inode changes.

    One stat per ``get()`` is all the cost. If an edit leaves the file unreadable,
    the last good version stays in force and the error is logged, so a typo
    does not lock everyone out; a missing file counts as empty.

    Why the last good version rather than a 503 for what needs the file: it is what was
    in force a moment ago (the broken edit grants nothing new), and refusing everyone
    for a typo would turn a slip into an outage. ``problem`` says what is wrong, so that
    /healthz reports the instance degraded (and the audit log says so once) until the
    file reads again: the operator learns that the edit did not take.
    """

    def __init__(self, path: str | os.PathLike[str], parse: Callable[[Path], T], empty: T):
        self.path = Path(path)
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
        stamp = _stamp_of(self._fspath)
        if stamp == self._stamp:
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
            return self._value

    def current_generation(self) -> int:
        """``generation`` after checking the file (one stat)."""
        if _stamp_of(self._fspath) != self._stamp:
            self.get()
        return self.generation


def _stamp_of(path: str) -> tuple[int, ...] | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino, st.st_ctime_ns)  # ctime: a chmod too
