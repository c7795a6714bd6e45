"""Change clocks: a "not revoked" or "no failure counted" (SQLite store), or a "no sign-out
waits here" (pending.py), is remembered, and never past a change another process made."""

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import HTML, PASSWORDS, basic

from auth import clock as clock_module
from auth.pending import PendingRevocations
from auth.session import SessionRecord
from auth.store import SQLiteBackend, Store

HERE = Path(__file__).resolve().parent.parent
TTL = 3600
# Another process signing a session out, as `flask users sign-out` does.
REVOKE = """
import sys
from pathlib import Path
from auth.store import SQLiteBackend, Store
Store(SQLiteBackend(Path(sys.argv[1])), "app:").revoke(sys.argv[2], 3600)
"""
# Another process counting a failed sign-in, as any worker does.
FAIL = """
import sys
from pathlib import Path
from auth.store import SQLiteBackend, Store
Store(SQLiteBackend(Path(sys.argv[1])), "app:").count_attempt(sys.argv[2], 900)
"""
# Another process keeping a sign-out for later, as a worker does while the store is down.
KEEP_FOR_LATER = """
import sys
from pathlib import Path
from auth.pending import PendingRevocations
PendingRevocations(Path(sys.argv[1])).add_session("alice", sys.argv[2], "sign-out")
"""
# Other processes changing alice's account, as `flask users` and /account do.
NEW_PASSWORD = """
import sys
from pathlib import Path
from auth.passwords import UsersFile
UsersFile(Path(sys.argv[1])).add("alice", "a-new-password-for-alice-5678")
"""
TWO_STEP_ON = """
import sys
from pathlib import Path
from auth.passwords import UsersFile
UsersFile(Path(sys.argv[1])).set_totp("alice", "JBSWY3DPEHPK3PXP", [])
"""


@pytest.fixture
def path(tmp_path):
    return tmp_path / "auth-store.sqlite3"


def test_a_revocation_from_another_process_is_seen_at_the_next_lookup(path):
    worker = Store(SQLiteBackend(path), "app:")
    assert not worker.is_revoked("s1") and not worker.is_revoked("s1"), "remembered"
    subprocess.run([sys.executable, "-c", REVOKE, str(path), "s1"], cwd=HERE, check=True)
    assert worker.is_revoked("s1")
    assert not worker.is_revoked("s2")


def test_a_revocation_written_behind_the_apps_back_holds_once_remembering_expires(path, monkeypatch):
    worker = Store(SQLiteBackend(path), "app:")
    assert not worker.is_revoked("s1")
    with sqlite3.connect(path) as db:  # no tick of the clock
        db.execute("INSERT INTO entries VALUES ('app:revoked:s1', '1', ?)", (time.time() + TTL,))
    assert not worker.is_revoked("s1"), "the clock did not move: the remembered answer stands"
    later = time.monotonic() + clock_module.CLOCK_TRUST_SECONDS + 1
    monkeypatch.setattr(clock_module.time, "monotonic", lambda: later)
    assert worker.is_revoked("s1")


def test_a_failure_counted_by_another_process_is_seen_at_the_next_lookup(path):
    worker = Store(SQLiteBackend(path), "app:")
    assert worker.attempts("account:alice") == 0 and worker.attempts("account:alice") == 0, "remembered"
    subprocess.run([sys.executable, "-c", FAIL, str(path), "account:alice"], cwd=HERE, check=True)
    assert worker.attempts("account:alice") == 1


def test_without_a_clock_every_lookup_asks_the_backend(path):
    backend = SQLiteBackend(path)
    backend.clock = None  # as with Redis
    worker = Store(backend, "app:")
    assert not worker.is_revoked("s1")
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO entries VALUES ('app:revoked:s1', '1', ?)", (time.time() + TTL,))
    assert worker.is_revoked("s1")


def test_a_sign_out_kept_for_later_by_another_process_is_refused_at_the_next_request(tmp_path):
    path = tmp_path / "pending-revocations.jsonl"
    worker = PendingRevocations(path)
    record = SessionRecord(user_id="alice", name="alice", provider="basic", sid="s1")
    assert not worker.waiting() and not worker.waiting(), "remembered"
    subprocess.run([sys.executable, "-c", KEEP_FOR_LATER, str(path), "s1"], cwd=HERE, check=True)
    assert worker.waiting() and worker.refuses(record)
    worker.replay(lambda *_: None, lambda *_: None)
    assert not worker.waiting() and not path.exists()


def test_a_file_of_sign_outs_removed_behind_the_apps_back_is_noticed_once_remembering_expires(
    tmp_path, monkeypatch
):
    path = tmp_path / "pending-revocations.jsonl"
    worker = PendingRevocations(path)
    worker.add_session("alice", "s1", "sign-out")
    assert worker.waiting()
    path.unlink()  # no tick of the clock
    assert worker.waiting(), "the clock did not move: the remembered answer stands"
    later = time.monotonic() + clock_module.CLOCK_TRUST_SECONDS + 1
    monkeypatch.setattr(clock_module.time, "monotonic", lambda: later)
    assert not worker.waiting()


@pytest.mark.parametrize("how", [REVOKE, KEEP_FOR_LATER], ids=["in the store", "kept for later"])
def test_a_signed_in_users_kept_answer_never_outlives_a_sign_out_from_another_process(
    app, alice, settings, how
):
    """Each worker keeps a session's user with the values of the clocks it was worked out by
    (sessions.py): a sign-out by another process, in the store or kept for later, holds at the
    very next request all the same."""
    (sid,) = app.server.extensions["dash_auth"].store.sessions_of("alice")
    for _ in range(2):  # worked out, then the kept answer
        assert alice.get("/dashboard", headers=HTML).status_code == 200
    target = "auth-store.sqlite3" if how is REVOKE else "pending-revocations.jsonl"
    script = how.replace('"app:"', repr(settings.namespace))
    subprocess.run([sys.executable, "-c", script, str(settings.instance / target), sid], cwd=HERE, check=True)
    assert alice.get("/dashboard", headers=HTML).status_code == 302, "signed out: to the sign-in page"


@pytest.mark.parametrize(
    "how, refused",
    [(FAIL, False), (NEW_PASSWORD, True), (TWO_STEP_ON, True)],
    ids=["a failure counted", "a new password", "two-step sign-in on"],
)
def test_a_scripts_kept_basic_answer_never_outlives_a_change_from_another_process(
    client, settings, monkeypatch, how, refused
):
    """Each worker keeps a Basic header's user with the values of the clocks and the versions
    it was worked out by (kept.py): a failure counted, a new password or two-step sign-in
    turned on by another process holds at the very next request all the same."""
    attempts = []
    store = client.application.extensions["dash_auth"].store
    count = store.count_attempt
    monkeypatch.setattr(store, "count_attempt", lambda *args: attempts.append(args) or count(*args))
    script = basic(b"alice:" + PASSWORDS["alice"].encode())
    for _ in range(2):  # worked out by scrypt, then the kept answer
        assert client.get("/dashboard", headers=script).status_code == 200
    attempts.clear()
    if how is FAIL:
        how = how.replace('"app:"', repr(settings.namespace))
        arguments = [str(settings.instance / "auth-store.sqlite3"), "account:alice"]
    else:
        arguments = [str(settings.users_file)]
    subprocess.run([sys.executable, "-c", how, *arguments], cwd=HERE, check=True)
    answer = client.get("/dashboard", headers=script)
    if refused:
        assert answer.status_code == 401, "the old password, or a password alone, no longer signs in"
    else:
        assert answer.status_code == 200 and attempts, "after a failure, the right password is counted"
