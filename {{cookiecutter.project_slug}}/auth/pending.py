"""Sign-outs the shared store could not take (it was down): kept on this host, replayed later.

A sign-out, "sign out everywhere" or an admin's sign-out must never look done while
the session still works. When the store does not answer, the revocation goes to a
small file in the instance folder that every worker of this host reads: until it has
been replayed into the store, this host refuses those sessions by itself. The first
request or health check that finds the store answering again replays the file and
removes it. Other hosts (with Redis) refuse the sessions from that replay on.

The file is JSON lines, written under a lock file, so workers never lose each
other's entries; it exists only while something waits. Whether it exists is asked on
every request, and looked up again only when this host's change clock for it (clock.py)
has moved: each write and each removal moves it on.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

from .clock import ChangeClock, still_stands
from .files import locked
from .session import SessionRecord


class PendingRevocations:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._fspath = os.fspath(path)
        self._lock_path = path.with_suffix(".lock")
        self.clock = ChangeClock(path.with_name(path.name + "-clock"))
        self._seen = ((-1, 0.0), False)  # (the clock's mark, whether the file was there then)

    def add_session(self, user_id: str, sid: str, reason: str) -> None:
        """End this one session once the store is back."""
        self._append({"user_id": user_id, "sid": sid, "reason": reason})

    def add_user(self, user_id: str, before: int, keep: str | None, reason: str) -> None:
        """End every session of this user started up to ``before`` (but ``keep``) once the store is back."""
        self._append({"user_id": user_id, "before": before, "keep": keep, "reason": reason})

    def waiting(self) -> bool:
        """Asked on every request: the file is looked for again once the clock has moved
        (read before looking, never after) or CLOCK_TRUST_SECONDS have passed."""
        now = self.clock.mark()
        seen, there = self._seen
        if not still_stands(seen, now):
            self._seen = (now, there := os.access(self._fspath, os.F_OK))
        return there

    def refuses(self, record: SessionRecord) -> bool:
        """True if a revocation waiting here covers this session."""
        return self.waiting() and any(_covers(entry, record) for entry in self._entries())

    def replay(
        self,
        end_session: Callable[[str, str, str], None],
        end_all: Callable[[str, int, str | None, str], None],
    ) -> None:
        """Apply every waiting revocation (``end_session(user_id, sid, reason)``,
        ``end_all(user_id, before, keep, reason)``), then forget them. A store failure
        on the way leaves the file as it is, for the next try (each step can be repeated)."""
        with self._locked():
            for entry in self._entries():
                if "sid" in entry:
                    end_session(entry["user_id"], entry["sid"], entry["reason"])
                else:
                    end_all(entry["user_id"], entry["before"], entry["keep"], entry["reason"])
            self.path.unlink(missing_ok=True)
            self.clock.tick()

    def _append(self, entry: dict) -> None:
        with self._locked(), self.path.open("a") as file:
            file.write(json.dumps(entry) + "\n")
            file.flush()
            os.fsync(file.fileno())  # a revocation the user was told about survives a crash
        self.clock.tick()  # after the write: see waiting

    def _entries(self) -> list[dict]:
        try:
            lines = self.path.read_text().splitlines()
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in lines if line.strip()]

    def _locked(self) -> AbstractContextManager[None]:
        return locked(self._lock_path)  # a lock file of its own: the entries' file is removed after a replay


def _covers(entry: dict, record: SessionRecord) -> bool:
    if entry["user_id"] != record.user_id:
        return False
    if "sid" in entry:
        return entry["sid"] == record.sid
    return record.started <= entry["before"] and record.sid != entry["keep"]
