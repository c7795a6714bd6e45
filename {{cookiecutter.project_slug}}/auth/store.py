"""What every worker and host must agree on, behind named operations: revoked sessions,
failed sign-ins, what a session keeps on the server side.

Two backends: SQLite in the instance folder (the workers of one host) and Redis
(``REDIS_URL``, many hosts). Every key starts with the app's namespace, so apps
sharing one Redis database never read or change each other's entries.
"""

from __future__ import annotations

import functools
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Protocol

from .clock import ChangeClock, still_stands
from .errors import ConfigurationError, StoreUnavailable
from .files import locked
from .health import Health, Watched

STORE_TIMEOUT_SECONDS = 2  # every call to Redis; SQLite waits this long for a lock
REMEMBERED_ABSENT_KEYS = 8192  # keys found absent (sessions not revoked, no failures) a worker remembers
HEALTH_CHECK_TTL = 60


class Backend(Protocol):
    """A key-value store whose entries expire on their own. ``clock``: a ChangeClock that
    every process using the store sees (clock.py), or None."""

    clock: ChangeClock | None

    def get(self, key: str) -> str | None: ...

    def put(self, key: str, value: str, ttl: int) -> None: ...

    def add(self, key: str, value: str, ttl: int) -> bool:
        """Set only if absent (locks, one-time use); True if this call set it."""

    def count(self, key: str, ttl: int, by: int = 1) -> int:
        """Add ``by`` to a counter, atomically; it expires ``ttl`` seconds after its first count."""

    def delete(self, *keys: str) -> None: ...

    def put_field(self, key: str, field: str, value: str, ttl: int) -> None:
        """Set one field of a small map; the field expires ``ttl`` seconds from now."""

    def fields(self, key: str) -> dict[str, str]:
        """The map's fields that have not expired."""

    def delete_field(self, key: str, field: str) -> None: ...


def _no_failures(counted: str | None) -> bool:
    return counted is None or int(counted) <= 0  # (a failure forgiven leaves a 0)


class Store:
    """The shared store as the auth package uses it: named operations, one key layout."""

    def __init__(self, backend: Backend, namespace: str):
        self.backend = backend
        self.namespace = namespace
        self._absent_keys: dict[str, tuple[int, float]] = {}  # key -> (backend's clock, when) (clock.py)

    def key(self, kind: str, name: str) -> str:
        return f"{self.namespace}{kind}:{name}"

    # Sessions ended before their time (sign-out, password change, admin) -----------

    def revoke(self, sid: str, ttl: int) -> None:
        self.backend.put(self.key("revoked", sid), "1", ttl)
        self._moved_on()

    def is_revoked(self, sid: str) -> bool:
        """Asked on every signed-in request (with a clock, from memory: see ``_absent``)."""
        return not self._absent(f"{self.namespace}revoked:{sid}")  # self.key, written out

    def _moved_on(self) -> None:
        """After a write that may make an absent key present: see ``_absent``."""
        if self.backend.clock is not None:
            self.backend.clock.tick()

    def _absent(self, key: str, empty: Callable[[str | None], bool] = lambda value: value is None) -> bool:
        """True if ``key`` has no entry (or one that ``empty`` calls so). With a clock (SQLite),
        that stands until the clock moves (every write that could fill such a key moves it on,
        after the write) or CLOCK_TRUST_SECONDS have passed; without one (Redis), the backend
        is asked every time."""
        clock = self.backend.clock
        if clock is None:
            return empty(self.backend.get(key))
        now = clock.mark()
        known = self._absent_keys.get(key)
        if known is not None and still_stands(known, now):
            return True
        if not empty(self.backend.get(key)):
            return False
        if len(self._absent_keys) >= REMEMBERED_ABSENT_KEYS:
            self._absent_keys.clear()  # simple and thread-safe; the next requests look again
        self._absent_keys[key] = now
        return True

    # Failed sign-ins -------------------------------------------------------------------

    def count_attempt(self, counter: str, window: int) -> int:
        """One more attempt on ``counter`` (e.g. ``account:alice``); the count, this one included."""
        count = self.backend.count(self.key("failures", counter), window)
        self._moved_on()
        return count

    def attempts(self, counter: str) -> int:
        """The failures counted on ``counter`` now (0 when none: from memory, see ``_absent``)."""
        key = self.key("failures", counter)
        return 0 if self._absent(key, _no_failures) else int(self.backend.get(key) or 0)

    def forgive_attempt(self, counter: str, window: int) -> None:
        """An attempt that turned out right no longer counts as a failure."""
        self.backend.count(self.key("failures", counter), window, by=-1)

    def clear_attempts(self, counter: str) -> None:
        """A success (or an admin's unlock): the failures so far no longer count."""
        self.backend.delete(self.key("failures", counter))

    # What a session keeps server-side (too big for, or too secret for, the cookie) -----

    def keep(self, sid: str, what: str, value: str, ttl: int) -> None:
        self.backend.put(self.key(what, sid), value, ttl)

    def kept(self, sid: str, what: str) -> str | None:
        return self.backend.get(self.key(what, sid))

    def keep_groups(self, sid: str, groups: Iterable[str], ttl: int) -> None:
        self.keep(sid, "groups", json.dumps(sorted(groups)), ttl)

    def kept_groups(self, sid: str) -> frozenset[str]:
        return frozenset(json.loads(self.kept(sid, "groups") or "[]"))

    def forget(self, sid: str, *what: str) -> None:
        self.backend.delete(*(self.key(kind, sid) for kind in what))

    # Each user's sessions, for "sign out everywhere", /account and admins ---------------

    def list_session(self, user_id: str, sid: str, about: dict, ttl: int) -> None:
        self.backend.put_field(self.key("user-sessions", user_id), sid, json.dumps(about), ttl)

    def sessions_of(self, user_id: str) -> dict[str, dict]:
        listed = self.backend.fields(self.key("user-sessions", user_id))
        return {sid: json.loads(about) for sid, about in listed.items()}

    def unlist_session(self, user_id: str, sid: str) -> None:
        self.backend.delete_field(self.key("user-sessions", user_id), sid)

    # Generic entries, for parts that need their own (locks, one-time tokens) -----------

    def get(self, key: str) -> str | None:
        return self.backend.get(self.namespace + key)

    def put(self, key: str, value: str, ttl: int) -> None:
        self.backend.put(self.namespace + key, value, ttl)

    def add(self, key: str, value: str, ttl: int) -> bool:
        return self.backend.add(self.namespace + key, value, ttl)

    def delete(self, key: str) -> None:
        self.backend.delete(self.namespace + key)

    def put_field(self, key: str, field: str, value: str, ttl: int) -> None:
        self.backend.put_field(self.namespace + key, field, value, ttl)

    def fields(self, key: str) -> dict[str, str]:
        return self.backend.fields(self.namespace + key)

    def check(self) -> None:
        """Raise StoreUnavailable unless the store takes a write now (for /healthz): a read
        alone would miss a read-only or full store."""
        self.put("health", str(int(time.time())), HEALTH_CHECK_TTL)


# Store failures (faults issue) -----------------------------------------------------------


def store_call(method):
    """A failure of the backend (its ``FAILURES``) is tried once more on a fresh connection
    (``_after_failure`` drops the old one: closed by a Redis restart, or opened read-only by
    SQLite while the file was), then becomes StoreUnavailable."""

    @functools.wraps(method)
    def call(self, *args, **kwargs):
        for _ in range(2):
            try:
                return method(self, *args, **kwargs)
            except self.FAILURES as error:
                self._after_failure()
                failure = error
        raise StoreUnavailable(reason=f"{type(self).__name__}: {failure}")

    return call


class SQLiteBackend:
    FAILURES = (sqlite3.DatabaseError,)  # locked past the busy timeout, read-only, disk full, I/O

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.clock = ChangeClock(path.with_name(path.name + "-clock"))  # moved on by revocations, failures
        self._local = threading.local()
        # Workers starting together set a new file up one at a time: switching it to WAL takes a
        # lock that SQLite does not wait for, so a second worker would be refused and stop.
        with locked(path.with_name(path.name + ".lock")), self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS entries"
                " (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires REAL NOT NULL)"
            )
            db.execute(
                "CREATE TABLE IF NOT EXISTS fields (key TEXT NOT NULL, field TEXT NOT NULL,"
                " value TEXT NOT NULL, expires REAL NOT NULL, PRIMARY KEY (key, field))"
            )

    def _connect(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=STORE_TIMEOUT_SECONDS, isolation_level=None)
            self._local.db = db
        return db

    def _after_failure(self) -> None:
        # A connection that failed (a replaced or remounted file) is not kept: the next call reconnects.
        db, self._local.db = getattr(self._local, "db", None), None
        if db is not None:
            db.close()

    @store_call
    def get(self, key: str) -> str | None:
        db = getattr(self._local, "db", None) or self._connect()  # (written out: every request)
        query = "SELECT value FROM entries WHERE key = ? AND expires > ?"
        row = db.execute(query, (key, time.time())).fetchone()
        return row[0] if row else None

    @store_call
    def put(self, key: str, value: str, ttl: int) -> None:
        self._connect().execute(
            "INSERT OR REPLACE INTO entries VALUES (?, ?, ?)", (key, value, time.time() + ttl)
        )

    @store_call
    def add(self, key: str, value: str, ttl: int) -> bool:
        now = time.time()
        with self._transaction() as db:
            db.execute("DELETE FROM entries WHERE key = ? AND expires <= ?", (key, now))
            added = db.execute("INSERT OR IGNORE INTO entries VALUES (?, ?, ?)", (key, value, now + ttl))
            return added.rowcount == 1

    @store_call
    def count(self, key: str, ttl: int, by: int = 1) -> int:
        now = time.time()
        with self._transaction() as db:
            db.execute("DELETE FROM entries WHERE key = ? AND expires <= ?", (key, now))
            db.execute(
                "INSERT INTO entries VALUES (?, ?, ?) ON CONFLICT(key)"
                " DO UPDATE SET value = CAST(value AS INTEGER) + ?",
                (key, str(by), now + ttl, by),
            )
            (value,) = db.execute("SELECT value FROM entries WHERE key = ?", (key,)).fetchone()
            if int(value) % 100 == 1:  # now and then, sweep what has expired
                db.execute("DELETE FROM entries WHERE expires <= ?", (now,))
        return int(value)

    @store_call
    def delete(self, *keys: str) -> None:
        if keys:
            self._connect().execute(
                f"DELETE FROM entries WHERE key IN ({', '.join('?' * len(keys))})",  # noqa: S608 placeholders only
                keys,
            )

    @store_call
    def put_field(self, key: str, field: str, value: str, ttl: int) -> None:
        self._connect().execute(
            "INSERT OR REPLACE INTO fields VALUES (?, ?, ?, ?)", (key, field, value, time.time() + ttl)
        )

    @store_call
    def fields(self, key: str) -> dict[str, str]:
        rows = self._connect().execute(
            "SELECT field, value FROM fields WHERE key = ? AND expires > ?", (key, time.time())
        )
        return dict(rows.fetchall())

    @store_call
    def delete_field(self, key: str, field: str) -> None:
        self._connect().execute("DELETE FROM fields WHERE key = ? AND field = ?", (key, field))

    def _transaction(self) -> _Transaction:
        return _Transaction(self._connect())


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT: one writer at a time, so read-modify-write is atomic."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, kind, error, traceback) -> None:
        self.db.execute("ROLLBACK" if kind else "COMMIT")


PUT_FIELD = """
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if redis.call('TTL', KEYS[1]) < tonumber(ARGV[3]) then redis.call('EXPIRE', KEYS[1], ARGV[3]) end
"""


class RedisBackend:
    clock = None  # hosts share no memory: every revocation or failure lookup asks Redis

    def __init__(self, url: str):
        try:
            import redis  # only for deployments that set REDIS_URL
        except ImportError:
            raise ConfigurationError(
                "REDIS_URL is set but the redis package is not installed: pip install -r requirements.txt"
            ) from None
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        self.FAILURES = (redis.RedisError,)
        # No retry of its own (store_call tries once more): a Redis that hangs costs two
        # timeouts per call, far under gunicorn's 30 s worker timeout.
        self._redis = redis.Redis.from_url(
            url,
            decode_responses=True,
            socket_timeout=STORE_TIMEOUT_SECONDS,
            socket_connect_timeout=STORE_TIMEOUT_SECONDS,
            retry=Retry(NoBackoff(), 0),
        )
        self._put_field = self._redis.register_script(PUT_FIELD)

    def _after_failure(self) -> None:
        pass  # redis-py has dropped the broken connection from its pool

    @store_call
    def get(self, key: str) -> str | None:
        return self._redis.get(key)

    @store_call
    def put(self, key: str, value: str, ttl: int) -> None:
        self._redis.set(key, value, ex=ttl)

    @store_call
    def add(self, key: str, value: str, ttl: int) -> bool:
        return bool(self._redis.set(key, value, ex=ttl, nx=True))

    @store_call
    def count(self, key: str, ttl: int, by: int = 1) -> int:
        # One transaction: create with its expiry if absent, then add. Redis 6 and 7 alike
        # (EXPIRE ... NX is Redis 7 only).
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(key, 0, ex=ttl, nx=True)
            pipe.incrby(key, by)
            _, value = pipe.execute()
        return int(value)

    @store_call
    def delete(self, *keys: str) -> None:
        if keys:
            self._redis.delete(*keys)

    # A map is a hash; each field carries its own expiry time (Redis 6 has no per-field TTL),
    # and the hash lives as long as its longest-lived field (one script: atomic, Redis 6 and 7).

    @store_call
    def put_field(self, key: str, field: str, value: str, ttl: int) -> None:
        self._put_field(keys=[key], args=[field, json.dumps([time.time() + ttl, value]), ttl])

    @store_call
    def fields(self, key: str) -> dict[str, str]:
        now, alive = time.time(), {}
        for field, stored in self._redis.hgetall(key).items():
            expires, value = json.loads(stored)
            if expires > now:
                alive[field] = value
        return alive

    @store_call
    def delete_field(self, key: str, field: str) -> None:
        self._redis.hdel(key, field)


def open_store(redis_url: str, instance: Path, namespace: str, health: Health | None = None) -> Store:
    if redis_url:
        backend = RedisBackend(redis_url)  # connects at its first use: an outage then is a 503
    else:
        path = instance / "auth-store.sqlite3"
        try:
            backend = SQLiteBackend(path)
        except (OSError, sqlite3.Error) as error:
            raise ConfigurationError(
                f"the store {path} cannot be opened ({error}): the instance folder must be writable"
            ) from None
    return Store(Watched(backend, health) if health else backend, namespace)
