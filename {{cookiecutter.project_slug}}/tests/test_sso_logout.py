"""Ending single sign-on sessions from both sides: revocation at sign-out, back-channel logout tokens.

The fake provider revokes what it is sent (RFC 7009) and signs logout tokens with the key its
JWKS publishes; each forgery below is refused, and a good token is believed once.
"""

import base64
import json
import logging
import re
import time

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey
from oidc_fake_provider import CLIENT_ID, CLIENT_SECRET, LOGOUT_EVENT, FakeProvider
from sso_helpers import CREDENTIALS, shared_sqlite, sign_in_tokens, userinfo

from auth.sso.backchannel import LogoutRequest, LogoutTokenInvalid, validate_logout_token
from auth.sso.credentials import ClientCredentials
from auth.sso.revocation import revoke_tokens
from auth.sso.vault import Tokens


@pytest.fixture
def idp():
    with FakeProvider(user={"sub": "alice-1", "email": "alice@example.com"}) as provider:
        yield provider


@pytest.fixture
def store(tmp_path):
    return shared_sqlite(tmp_path / "store.sqlite3")


def discovery(idp) -> dict:
    return requests.get(f"{idp.issuer}/.well-known/openid-configuration", timeout=5).json()


# Revocation at sign-out --------------------------------------------------------------------------


def test_sign_out_revokes_the_refresh_and_the_access_token(idp):
    tokens = Tokens.from_response(sign_in_tokens(idp))
    assert userinfo(idp, tokens.access_token).status_code == 200
    assert revoke_tokens(tokens, discovery(idp), CREDENTIALS) == ["refresh_token", "access_token"]
    assert idp.revoked == [(tokens.refresh_token, "refresh_token"), (tokens.access_token, "access_token")]
    assert userinfo(idp, tokens.access_token).status_code == 401
    refresh = CREDENTIALS.post(
        f"{idp.issuer}/token", {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token}
    )
    assert refresh.json() == {"error": "invalid_grant"}


def test_no_revocation_where_the_provider_offers_none(idp):
    idp.offers_revocation = False
    tokens = Tokens.from_response(sign_in_tokens(idp))
    assert revoke_tokens(tokens, discovery(idp), CREDENTIALS) == []
    assert idp.revoked == []


def test_revocation_failures_are_logged_never_raised(idp, caplog):
    tokens = Tokens.from_response(sign_in_tokens(idp))
    wrong_secret = ClientCredentials(CLIENT_ID, "not-the-secret")
    with caplog.at_level(logging.WARNING, "auth.sso.revocation"):
        assert revoke_tokens(tokens, discovery(idp), wrong_secret) == []
        idp.__exit__()  # the provider goes away
        assert revoke_tokens(tokens, discovery_of_stopped(idp), CREDENTIALS) == []
    assert "HTTP 401" in caplog.text and "ConnectionError" in caplog.text
    assert tokens.refresh_token not in caplog.text and tokens.access_token not in caplog.text


def discovery_of_stopped(idp) -> dict:
    return {"revocation_endpoint": f"{idp.issuer}/revoke"}


# Back-channel logout -----------------------------------------------------------------------------


def validate(idp, store, token, **changes):
    options = {
        "issuer": idp.issuer,
        "client_id": CLIENT_ID,
        "load_jwks": lambda _force: requests.get(f"{idp.issuer}/jwks", timeout=5).json(),
        "store": store,
        **changes,
    }
    return validate_logout_token(token, **options)


def test_a_logout_token_from_the_provider_names_the_session_to_end(idp, store):
    assert validate(idp, store, idp.logout_token()) == LogoutRequest(sub="alice-1", sid=idp.sid)
    assert validate(idp, store, idp.logout_token(drop=("sub",))) == LogoutRequest(sub=None, sid=idp.sid)
    assert validate(idp, store, idp.logout_token(drop=("sid",))) == LogoutRequest(sub="alice-1", sid=None)


def test_a_replayed_logout_token_is_refused(idp, tmp_path):
    token = idp.logout_token()
    assert validate(idp, shared_sqlite(tmp_path / "store.sqlite3"), token).sid == idp.sid
    another_worker = shared_sqlite(tmp_path / "store.sqlite3")
    with pytest.raises(LogoutTokenInvalid, match="replay"):
        validate(idp, another_worker, token)


def test_a_refused_token_does_not_use_its_jti_up(idp, store):
    with pytest.raises(LogoutTokenInvalid, match="aud"):
        validate(idp, store, idp.logout_token(jti="j-1", aud="another-client"))
    assert validate(idp, store, idp.logout_token(jti="j-1")).sub == "alice-1"


def unsigned(claims: dict) -> str:
    part = lambda value: base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()  # noqa: E731
    return f"{part({'alg': 'none', 'typ': 'logout+jwt'})}.{part(claims)}."


def claims_of(idp, **changes) -> dict:
    return jwt.decode(idp.logout_token(**changes), idp.key).claims


FORGERIES = {
    "signed by another key": lambda idp: idp.logout_token(key=RSAKey.generate_key(2048)),
    "unsigned": lambda idp: unsigned(claims_of(idp)),
    "signed with the client secret": lambda idp: jwt.encode(
        {"alg": "HS256", "typ": "logout+jwt"}, claims_of(idp), OctKey.import_key(CLIENT_SECRET.encode())
    ),
    "another issuer": lambda idp: idp.logout_token(iss="https://impostor.example"),
    "another audience": lambda idp: idp.logout_token(aud="another-client"),
    "issued long ago": lambda idp: idp.logout_token(iat=int(time.time()) - 3600),
    "issued in the future": lambda idp: idp.logout_token(iat=int(time.time()) + 3600),
    "without iat": lambda idp: idp.logout_token(drop=("iat",)),
    "expired": lambda idp: idp.logout_token(exp=int(time.time()) - 600),
    "without the event": lambda idp: idp.logout_token(drop=("events",)),
    "with another event": lambda idp: idp.logout_token(events={"https://example.com/other": {}}),
    "event not an object": lambda idp: idp.logout_token(events={LOGOUT_EVENT: "yes"}),
    "an ID token (nonce)": lambda idp: idp.logout_token(nonce="n"),
    "neither sub nor sid": lambda idp: idp.logout_token(drop=("sub", "sid")),
    "without jti": lambda idp: idp.logout_token(drop=("jti",)),
    "typed as an access token": lambda idp: jwt.encode(
        {"alg": "RS256", "kid": idp.key.kid, "typ": "at+jwt"}, claims_of(idp), idp.key
    ),
    "not a JWT": lambda _idp: "not-a-token",
    "empty": lambda _idp: "",
}


# What the validator must say, so that each forgery is caught by the check meant for it.
REFUSED_FOR = {
    "signed by another key": "signature",
    "unsigned": "'none' not allowed",
    "signed with the client secret": "'HS256' not allowed",
    "another issuer": "iss",
    "another audience": "aud",
    "issued long ago": "too far from now",
    "issued in the future": "too far from now",
    "without iat": "no iat",
    "expired": "expired",
    "without the event": "no back-channel logout event",
    "with another event": "no back-channel logout event",
    "event not an object": "no back-channel logout event",
    "an ID token (nonce)": "nonce present",
    "neither sub nor sid": "neither sub nor sid",
    "without jti": "no jti",
    "typed as an access token": "typ 'at+jwt'",
    "not a JWT": "not a signed JWT",
    "empty": "no logout token",
}


@pytest.mark.parametrize("forgery", FORGERIES)
def test_a_forged_logout_token_is_refused(idp, store, forgery):
    with pytest.raises(LogoutTokenInvalid, match=re.escape(REFUSED_FOR[forgery])):
        validate(idp, store, FORGERIES[forgery](idp))


class CachedJwks:
    """The provider's keys as the app keeps them: fetched once, again only when asked to."""

    def __init__(self, idp):
        self.url, self.keys, self.fetches = f"{idp.issuer}/jwks", None, 0

    def __call__(self, force: bool) -> dict:
        if self.keys is None or force:
            self.keys = requests.get(self.url, timeout=5).json()
            self.fetches += 1
        return self.keys


def test_keys_are_fetched_again_when_the_provider_rotates_them(idp, store):
    jwks = CachedJwks(idp)
    assert validate(idp, store, idp.logout_token(), load_jwks=jwks).sub == "alice-1"
    idp.key = RSAKey.generate_key(2048, parameters={"kid": "fake-2", "use": "sig", "alg": "RS256"})
    assert validate(idp, store, idp.logout_token(), load_jwks=jwks).sub == "alice-1"
    assert jwks.fetches == 2
    assert validate(idp, store, idp.logout_token(), load_jwks=jwks).sub == "alice-1"
    assert jwks.fetches == 2  # a known key: not fetched again
