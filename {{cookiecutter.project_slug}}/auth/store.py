"""A small shared store for what every worker must agree on: revoked sessions, failed sign-ins.

SQLite in the instance folder is shared by all workers of one host; set
``REDIS_URL`` to share it across hosts. Each entry expires on its own.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Protocol

from .settings import ConfigurationError


class Store(Protocol):
    def get(self, key: str) -> str | None: ...

    def put(self, key: str, value: str, ttl: int) -> None: ...

    def incr(self, key: str, ttl: int) -> int:
        """Add one to a counter that expires ``ttl`` seconds after its first count."""

    def delete(self, key: str) -> None: ...


class SQLiteStore:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._local = threading.local()
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS entries"
                " (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires REAL NOT NULL)"
            )

    def _connect(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=5, isolation_level=None)
            db.execute("PRAGMA busy_timeout=5000")
            self._local.db = db
        return db

    def get(self, key: str) -> str | None:
        row = (
            self._connect()
            .execute("SELECT value FROM entries WHERE key = ? AND expires > ?", (key, time.time()))
            .fetchone()
        )
        return row[0] if row else None

    def put(self, key: str, value: str, ttl: int) -> None:
        self._connect().execute(
            "INSERT OR REPLACE INTO entries VALUES (?, ?, ?)", (key, value, time.time() + ttl)
        )

    def incr(self, key: str, ttl: int) -> int:
        now = time.time()
        db = self._connect()
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("DELETE FROM entries WHERE key = ? AND expires <= ?", (key, now))
            db.execute(
                "INSERT INTO entries VALUES (?, '1', ?) ON CONFLICT(key)"
                " DO UPDATE SET value = CAST(value AS INTEGER) + 1",
                (key, now + ttl),
            )
            (value,) = db.execute("SELECT value FROM entries WHERE key = ?", (key,)).fetchone()
            if int(value) % 100 == 1:  # now and then, sweep what has expired
                db.execute("DELETE FROM entries WHERE expires <= ?", (now,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return int(value)

    def delete(self, key: str) -> None:
        self._connect().execute("DELETE FROM entries WHERE key = ?", (key,))


class RedisStore:
    def __init__(self, url: str):
        try:
            import redis  # only for deployments that set REDIS_URL
        except ImportError:
            raise ConfigurationError(
                "REDIS_URL is set but the redis package is not installed: pip install -r requirements.txt"
            ) from None
        self._redis = redis.Redis.from_url(url, decode_responses=True, socket_timeout=2)

    def get(self, key: str) -> str | None:
        return self._redis.get(key)

    def put(self, key: str, value: str, ttl: int) -> None:
        self._redis.set(key, value, ex=ttl)

    def incr(self, key: str, ttl: int) -> int:
        with self._redis.pipeline() as pipe:
            pipe.incr(key)
            pipe.expire(key, ttl, nx=True)
            count, _ = pipe.execute()
        return int(count)

    def delete(self, key: str) -> None:
        self._redis.delete(key)


def open_store(redis_url: str, instance: Path) -> Store:
    return RedisStore(redis_url) if redis_url else SQLiteStore(instance / "auth-store.sqlite3")
