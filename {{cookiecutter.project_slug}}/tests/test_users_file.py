"""The users file: reads the first format, writes records, stays private, and loses no
change when two workers write at once."""

import json
import multiprocessing
import stat

import pytest

from auth.passwords import TokenRecord, UserError, UsersFile, verify_password

OLD_FORMAT = {"alice": "scrypt$alice-hash", "bob": "scrypt$bob-hash"}


@pytest.fixture
def users(tmp_path) -> UsersFile:
    users = UsersFile(tmp_path / "users.json")
    users.path.write_text(json.dumps(OLD_FORMAT))
    return users


def test_the_first_format_is_still_read(users):
    assert users.read() == OLD_FORMAT
    alice = users.record("alice")
    assert alice.password == "scrypt$alice-hash"
    assert (alice.totp, alice.recovery, alice.tokens) == (None, (), {})


def test_a_change_writes_records_and_keeps_every_user(users):
    assert users.set_totp("alice", "JBSWY3DPEHPK3PXP", ["hash-1", "hash-2"])
    users.add_token("alice", "cron", TokenRecord(hash="ab" * 32, created=1_800_000_000))
    assert json.loads(users.path.read_text()) == {
        "alice": {
            "password": "scrypt$alice-hash",
            "totp": {"secret": "JBSWY3DPEHPK3PXP", "last_step": None},
            "recovery": ["hash-1", "hash-2"],
            "tokens": {"cron": {"hash": "ab" * 32, "created": 1_800_000_000, "last_used": None}},
        },
        "bob": {"password": "scrypt$bob-hash"},
    }
    assert users.read() == OLD_FORMAT


def test_a_new_password_keeps_the_second_factors(users):
    users.set_totp("alice", "JBSWY3DPEHPK3PXP", ["hash-1"])
    users.add("alice", "a-brand-new-password")
    alice = users.record("alice")
    assert verify_password("a-brand-new-password", alice.password)
    assert alice.totp.secret == "JBSWY3DPEHPK3PXP" and alice.recovery == ("hash-1",)


def test_the_file_and_its_lock_are_private(users):
    users.clear_totp("bob")
    assert stat.S_IMODE(users.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(users.lock_path.stat().st_mode) == 0o600


def test_a_totp_step_is_accepted_once_and_only_moving_forward(users):
    assert not users.accept_totp_step("alice", 100)  # two-step sign-in is off
    users.set_totp("alice", "JBSWY3DPEHPK3PXP", [])
    assert users.accept_totp_step("alice", 100)
    assert not users.accept_totp_step("alice", 100)
    assert not users.accept_totp_step("alice", 99)
    assert users.accept_totp_step("alice", 101)
    assert users.record("alice").totp.last_step == 101


def test_a_recovery_code_is_spent_once(users):
    users.set_totp("alice", "JBSWY3DPEHPK3PXP", ["hash-1", "hash-2"])
    assert users.spend_recovery_code("alice", "hash-1")
    assert not users.spend_recovery_code("alice", "hash-1")
    assert users.record("alice").recovery == ("hash-2",)


def test_turning_two_step_off_forgets_the_secret_and_the_codes(users):
    users.set_totp("alice", "JBSWY3DPEHPK3PXP", ["hash-1"])
    assert users.clear_totp("alice")
    assert "JBSWY3DPEHPK3PXP" not in users.path.read_text()
    assert users.record("alice").recovery == ()


def test_changes_to_an_unknown_user_change_nothing(users):
    before = users.path.read_text()
    assert not users.set_totp("carol", "JBSWY3DPEHPK3PXP", [])
    assert not users.remove("carol")
    assert users.path.read_text() == before


@pytest.mark.parametrize(
    "content",
    [
        '{"alice": 5}',
        '{"alice": {"totp": {}}}',
        '{"alice": {"password": "x", "totp": {"secret": "S", "last_step": "1"}}}',
        '["alice"]',
    ],
)
def test_a_malformed_file_is_refused_with_its_name(users, content):
    users.path.write_text(content)
    with pytest.raises(UserError, match=r"users\.json"):
        users.records()


def _add_tokens(path: str, worker: str, count: int, start) -> None:
    users = UsersFile(path)
    start.wait()  # both workers write at the same moment
    for n in range(count):
        users.add_token("alice", f"{worker}-{n}", TokenRecord(hash=f"{worker}{n}", created=n))


def test_two_workers_writing_at_once_lose_no_change(users):
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(2)
    workers = [context.Process(target=_add_tokens, args=(str(users.path), name, 60, start)) for name in "ab"]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    assert len(users.record("alice").tokens) == 120
