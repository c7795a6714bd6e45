"""Personal access tokens: long, recognisable, stored only as a hash, found by their owner."""

import base64
import hashlib
import json

import pytest

from auth.accounts import tokens
from auth.passwords import UserError, UsersFile

NOW = 1_800_000_000


@pytest.fixture
def users(tmp_path) -> UsersFile:
    users = UsersFile(tmp_path / "users.json")
    # The first format, as the hook or an older app wrote it (the hashes are not checked here).
    users.path.write_text(json.dumps({"alice": "scrypt$alice", "bob": "scrypt$bob"}))
    return users


def test_a_token_has_a_prefix_and_256_random_bits():
    token, _ = tokens.new_token(NOW)
    assert token.startswith("dat_")
    assert len(base64.urlsafe_b64decode(token[4:] + "=")) == 32
    assert tokens.looks_like_token(token)
    assert token != tokens.new_token(NOW)[0]


def test_only_the_tokens_sha256_is_stored(users):
    token, record = tokens.new_token(NOW)
    assert users.add_token("alice", "backup-job", record)
    text = users.path.read_text()
    assert token not in text and token[4:] not in text
    assert hashlib.sha256(token.encode()).hexdigest() in text
    stored = users.record("alice").tokens["backup-job"]
    assert (stored.created, stored.last_used) == (NOW, None)


def test_a_token_is_found_as_its_owner_and_nothing_else_is(users):
    alice_token, alice_record = tokens.new_token(NOW)
    bob_token, bob_record = tokens.new_token(NOW)
    users.add_token("alice", "report", alice_record)
    users.add_token("bob", "report", bob_record)
    index = tokens.TokenIndex(users.records())
    found = index.find(alice_token)
    assert (found.user, found.label) == ("alice", "report")
    assert index.find(bob_token).user == "bob"
    assert index.find(tokens.new_token(NOW)[0]) is None  # well formed, never issued
    assert index.find(alice_token[:-1]) is None
    assert index.find("Basic YWxpY2U6eA==") is None


def test_a_revoked_token_is_found_no_more(users):
    token, record = tokens.new_token(NOW)
    users.add_token("alice", "laptop", record)
    assert users.revoke_token("alice", "laptop")
    assert not users.revoke_token("alice", "laptop")
    assert tokens.TokenIndex(users.records()).find(token) is None


def test_labels_are_unique_per_user_and_simple(users):
    _, record = tokens.new_token(NOW)
    assert users.add_token("alice", "token-1", record)
    assert not users.add_token("alice", "token-1", tokens.new_token(NOW)[1])
    assert not users.add_token("nobody", "token-1", record)
    assert tokens.next_label(users.record("alice").tokens) == "token-2"
    assert tokens.check_label("nightly.export_2") == "nightly.export_2"
    for bad in ("", "has space", "x" * 65, "semi;colon"):
        with pytest.raises(UserError):
            tokens.check_label(bad)


def test_last_use_is_written_on_first_use_then_at_most_hourly(users):
    _, record = tokens.new_token(NOW)
    users.add_token("alice", "cron", record)
    assert tokens.needs_touch(record, NOW)
    assert users.touch_token("alice", "cron", NOW + 5)
    used = users.record("alice").tokens["cron"]
    assert used.last_used == NOW + 5
    assert not tokens.needs_touch(used, NOW + 60)
    assert tokens.needs_touch(used, NOW + 5 + 3600)
