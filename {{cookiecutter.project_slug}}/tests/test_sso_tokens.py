"""The user's tokens on the server: encrypted at rest, refreshed once for all workers, given up cleanly.

Tokens come from a real authorization code flow with the fake provider on loopback, and are
refreshed at its token endpoint, which rotates refresh tokens as real providers do.
"""

import multiprocessing
import secrets
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace

import pytest
from oidc_fake_provider import FakeProvider
from sso_helpers import shared_sqlite, sign_in_tokens, token_endpoint, userinfo

from auth.providers import PRESETS, provider_from_env
from auth.sso.credentials import ClientCredentials
from auth.sso.refresh import RefreshUnavailable, SignInAgain, TokenEndpoint, valid_access_token
from auth.sso.shared_store import store_key
from auth.sso.vault import Tokens, TokenVault

KEY = secrets.token_urlsafe(48)
DAY = 24 * 3600


@pytest.fixture
def idp():
    with FakeProvider(user={"sub": "alice-1", "email": "alice@example.com", "name": "Alice"}) as provider:
        yield provider


@pytest.fixture
def store(tmp_path):
    return shared_sqlite(tmp_path / "store.sqlite3")


@pytest.fixture
def vault(store):
    return TokenVault(store, KEY)


def signed_in(idp, vault, sid="session-1", **changes) -> Tokens:
    tokens = replace(Tokens.from_response(sign_in_tokens(idp)), **changes)
    vault.save(sid, tokens, DAY)
    return tokens


# Encrypted at rest -------------------------------------------------------------------------------


def test_the_vault_gives_back_what_sign_in_saved(idp, vault):
    tokens = signed_in(idp, vault)
    assert vault.load("session-1") == tokens
    assert tokens.refresh_token and tokens.id_token and "offline_access" in tokens.scope
    assert vault.load("another-session") is None


def test_no_token_bytes_anywhere_on_disk(idp, vault, tmp_path):
    tokens = signed_in(idp, vault, sid="session-secret-id")
    on_disk = b"".join(path.read_bytes() for path in tmp_path.rglob("*") if path.is_file())
    assert on_disk  # the store did write: the entry is there, but unreadable
    for secret in (tokens.access_token, tokens.refresh_token, tokens.id_token, "session-secret-id"):
        assert secret.encode() not in on_disk
    assert tokens.id_token.split(".")[1].encode() not in on_disk  # not even the claims


def test_an_entry_copied_to_another_session_does_not_open(idp, vault, store):
    signed_in(idp, vault, sid="victim")
    signed_in(idp, vault, sid="attacker")
    store.put(store_key("tokens", "attacker"), store.get(store_key("tokens", "victim")), DAY)
    assert vault.load("attacker") is None
    assert vault.load("victim") is not None


def test_a_tampered_entry_does_not_open(idp, vault, store):
    signed_in(idp, vault)
    blob = store.get(store_key("tokens", "session-1"))
    flipped = blob[:40] + ("A" if blob[40] != "A" else "B") + blob[41:]
    store.put(store_key("tokens", "session-1"), flipped, DAY)
    assert vault.load("session-1") is None


def test_tokens_stay_readable_after_key_rotation(idp, vault, store):
    tokens = signed_in(idp, vault)
    new_key = secrets.token_urlsafe(48)
    assert TokenVault(store, new_key).load("session-1") is None  # the old key is what opens it
    assert TokenVault(store, new_key, fallbacks=[KEY]).load("session-1") == tokens
    # Read once through the fallback, the entry was written again under the new key:
    assert TokenVault(store, new_key).load("session-1") == tokens


def test_deleted_with_the_session(idp, vault):
    signed_in(idp, vault)
    vault.delete("session-1")
    assert vault.load("session-1") is None


# Refresh -----------------------------------------------------------------------------------------


def test_a_fresh_token_is_used_as_it_is(idp, vault, store):
    tokens = signed_in(idp, vault)
    assert valid_access_token("session-1", vault, store, token_endpoint(idp.issuer)) == tokens.access_token
    assert idp.refreshes == 0


def test_no_tokens_for_a_session_without_single_sign_on(idp, vault, store):
    assert valid_access_token("password-user-session", vault, store, token_endpoint(idp.issuer)) is None


def test_a_token_about_to_expire_is_refreshed_and_the_rotated_refresh_token_kept(idp, vault, store):
    idp.access_token_seconds = 30  # within the minute before expiry
    old = signed_in(idp, vault)
    idp.access_token_seconds = 600
    token = valid_access_token("session-1", vault, store, token_endpoint(idp.issuer))
    assert token != old.access_token and idp.refreshes == 1
    assert userinfo(idp, token).json()["sub"] == "alice-1"
    kept = vault.load("session-1")
    assert kept.access_token == token and kept.expires_at > time.time() + 500
    assert kept.refresh_token in idp.refresh_tokens and old.refresh_token not in idp.refresh_tokens
    assert kept.id_token == old.id_token  # the one sent as id_token_hint at sign-out
    # The next call uses the new token, and the one after a later expiry the rotated refresh token:
    assert valid_access_token("session-1", vault, store, token_endpoint(idp.issuer)) == token
    vault.replace("session-1", replace(kept, expires_at=time.time() + 5))
    assert valid_access_token("session-1", vault, store, token_endpoint(idp.issuer)) not in (token, None)
    assert idp.refreshes == 2


def test_a_refresh_refused_by_the_provider_asks_to_sign_in_again(idp, vault, store):
    signed_in(idp, vault, expires_at=time.time() - 1)
    idp.refresh_tokens.clear()  # revoked at the provider, or expired there
    with pytest.raises(SignInAgain, match="invalid_grant"):
        valid_access_token("session-1", vault, store, token_endpoint(idp.issuer))
    assert vault.load("session-1") is None  # dead tokens are not kept
    idp.misbehave = "token_error"  # any further refresh would be refused as loudly
    assert valid_access_token("session-1", vault, store, token_endpoint(idp.issuer), wait=0) is None


def test_an_expired_token_without_refresh_token_asks_to_sign_in_again(idp, vault, store):
    signed_in(idp, vault, expires_at=time.time() - 1, refresh_token=None)
    with pytest.raises(SignInAgain, match="no refresh token"):
        valid_access_token("session-1", vault, store, token_endpoint(idp.issuer))


def test_a_provider_that_does_not_answer(idp, vault, store):
    still_valid = signed_in(idp, vault, sid="a", expires_at=time.time() + 30)
    signed_in(idp, vault, sid="b", expires_at=time.time() - 1)
    idp.misbehave, idp.slow_seconds = "slow", 2
    slow = TokenEndpoint(f"{idp.issuer}/token", ClientCredentials("dash-app", "x", timeout=0.3))
    assert valid_access_token("a", vault, store, slow) == still_valid.access_token
    with pytest.raises(RefreshUnavailable, match="Timeout"):
        valid_access_token("b", vault, store, slow)
    assert vault.load("b") is not None  # a later try may succeed: nothing is thrown away


def worker_asks_for_a_token(store_path, issuer, secret_key) -> str:
    """One worker process of the app, with its own connection to the shared store."""
    store = shared_sqlite(store_path)
    return valid_access_token("session-1", TokenVault(store, secret_key), store, token_endpoint(issuer))


def test_concurrent_refresh_runs_once_for_all_workers(idp, vault, tmp_path):
    old = signed_in(idp, vault, expires_at=time.time() + 10)
    idp.refresh_seconds = 0.5  # every worker asks while the first refresh is under way
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(4, mp_context=context) as workers:
        for _ in workers.map(int, range(4)):  # started and ready before they all ask at once
            pass
        asks = [(tmp_path / "store.sqlite3", idp.issuer, KEY)] * 6
        answers = list(workers.map(worker_asks_for_a_token, *zip(*asks, strict=True)))
    assert idp.refreshes == 1
    assert len(set(answers)) == 1 and answers[0] != old.access_token
    assert userinfo(idp, answers[0]).status_code == 200


# Asking for a refresh token ----------------------------------------------------------------------


def test_every_provider_is_asked_for_a_refresh_token_its_own_way():
    for name in PRESETS:
        asked = provider_from_env(name, {f"OIDC_{name.upper()}_SCOPES": "extra.read"})
        assert "extra.read" in asked.scopes  # OIDC_<IDP>_SCOPES adds to them, never replaces them
        if name == "google":
            assert dict(asked.authorize_params) == {"access_type": "offline", "prompt": "consent"}
            assert "offline_access" not in asked.scopes
        elif name == "keycloak":
            assert "offline_access" not in asked.scopes and not asked.authorize_params  # issues them anyway
        else:
            assert "offline_access" in asked.scopes and not asked.authorize_params
