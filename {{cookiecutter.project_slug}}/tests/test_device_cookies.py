"""Device cookies and the lock-out policy: guessing slows down, then locks unknown clients
out, but never the browser the owner signed in with before."""

import base64
import secrets

import pytest

from auth.accounts.devices import LOCKOUT, issue_device_cookie, trusted_device, verify_device_cookie

KEY = secrets.token_urlsafe(48)
NOW = 1_800_000_000.0


def test_a_device_cookie_is_trusted_for_its_user_only():
    cookie = issue_device_cookie("Alice", KEY)
    device = trusted_device(cookie, "alice", [KEY])
    assert device.user == "alice" and device.nonce
    assert trusted_device(cookie, "ALICE", [KEY]) == device
    assert trusted_device(cookie, "bob", [KEY]) is None


def test_every_sign_in_gets_a_new_nonce():
    first, second = (verify_device_cookie(issue_device_cookie("alice", KEY), [KEY]) for _ in range(2))
    assert first.nonce != second.nonce


def test_a_changed_or_foreign_cookie_is_not_trusted():
    user, nonce, mac = issue_device_cookie("alice", KEY).split(".")
    bob = base64.urlsafe_b64encode(b"bob").rstrip(b"=").decode()
    flipped = ("A" if mac[0] != "A" else "B") + mac[1:]
    for forged in (
        f"{bob}.{nonce}.{mac}",
        f"{user}.{secrets.token_urlsafe(16)}.{mac}",
        f"{user}.{nonce}.{flipped}",
        f"{user}.{nonce}",
        issue_device_cookie("alice", secrets.token_urlsafe(48)),  # another app's key
        "x" * 300,
        "",
        None,
    ):
        assert verify_device_cookie(forged, [KEY]) is None, forged


def test_a_rotated_key_keeps_known_browsers_known_until_it_is_dropped():
    old, new = KEY, secrets.token_urlsafe(48)
    cookie = issue_device_cookie("alice", old)
    assert trusted_device(cookie, "alice", [new, old]) is not None
    assert trusted_device(cookie, "alice", [new]) is None


def test_ten_failures_are_free_then_unknown_clients_wait_at_most_a_minute_at_first():
    for failures in range(10):
        assert LOCKOUT.for_unknown_client(failures, NOW, NOW).allowed
    verdict = LOCKOUT.for_unknown_client(10, NOW, NOW)
    assert not verdict.allowed and not verdict.locked
    assert 0 < verdict.retry_after <= 60
    assert not LOCKOUT.for_unknown_client(10, NOW, NOW + verdict.retry_after - 1).allowed
    assert LOCKOUT.for_unknown_client(10, NOW, NOW + verdict.retry_after).allowed


def test_the_wait_grows_with_more_failures_up_to_a_bound():
    waits = [LOCKOUT.for_unknown_client(n, NOW, NOW).retry_after for n in range(10, 99)]
    assert waits[:4] == sorted(set(waits[:4]))  # grows at first
    assert waits == sorted(waits)  # never shrinks
    assert waits[-1] == LOCKOUT.max_wait_seconds <= 3600


@pytest.mark.parametrize("later", [0, 3600, 365 * 86400])
def test_a_hundred_consecutive_failures_lock_the_account_for_unknown_clients(later):
    verdict = LOCKOUT.for_unknown_client(100, NOW, NOW + later)
    assert verdict.locked and not verdict.allowed and verdict.retry_after > 0


def test_a_trusted_device_has_its_own_small_budget():
    for failures in range(5):
        assert LOCKOUT.for_trusted_device(failures, NOW, NOW).allowed
    verdict = LOCKOUT.for_trusted_device(5, NOW, NOW)
    assert not verdict.allowed and not verdict.locked and verdict.retry_after > 0
    assert LOCKOUT.for_trusted_device(5, NOW, NOW + verdict.retry_after).allowed


def test_a_trusted_device_is_not_locked_by_others_guessing():
    # A guesser has run the account into the lock: the owner's browser still signs in.
    assert LOCKOUT.for_unknown_client(150, NOW, NOW).locked
    assert LOCKOUT.for_trusted_device(0, None, NOW).allowed
