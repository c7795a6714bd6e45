"""The e2e provider's side of "single sign-on that acts as the user", proven before the app uses it.

panva's oidc-provider (tests/idp) issues refresh tokens and rotates them, ends tokens at
revocation (introspection says so), expires short-lived access tokens, and sends back-channel
logout tokens that the generated project's validator believes, and believes once.
"""

from __future__ import annotations

import base64
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
import requests
from idp_server import IdentityProvider


@pytest.fixture(scope="module")
def logouts():
    """A back-channel logout endpoint on loopback that keeps what it is sent."""
    received: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            received.extend(parse_qs(body).get("logout_token", []))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *_args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/oidc/generic/backchannel-logout", received
    server.shutdown()
    thread.join(5)


@pytest.fixture(scope="module")
def idp(logouts, tmp_path_factory):
    url, _received = logouts
    with IdentityProvider(
        redirect_uris=["http://localhost:1/oidc/generic/callback"],
        skip_consent=True,
        access_token_seconds=2,
        backchannel_logout_uri=url,
        log_path=tmp_path_factory.mktemp("idp") / "idp.log",
    ) as provider:
        yield provider


def test_refresh_tokens_are_issued_and_rotated(idp):
    tokens = idp.sign_in_without_browser("ada")
    assert tokens["refresh_token"] and tokens["expires_in"] <= 2
    refreshed = idp.refresh(tokens["refresh_token"])
    assert refreshed.status_code == 200, refreshed.text
    new = refreshed.json()
    assert new["refresh_token"] != tokens["refresh_token"] and new["access_token"] != tokens["access_token"]
    assert idp.introspect(new["access_token"])["sub"] == "ada"
    # Rotation: the used refresh token is dead (reusing it revokes the whole grant, as it should).
    assert idp.refresh(tokens["refresh_token"]).json()["error"] == "invalid_grant"


def test_a_short_lived_access_token_expires_at_the_provider(idp):
    tokens = idp.sign_in_without_browser("bob")
    assert idp.introspect(tokens["access_token"])["active"] is True
    time.sleep(3)
    assert idp.introspect(tokens["access_token"]) == {"active": False}
    assert idp.introspect(tokens["refresh_token"])["active"] is True


def test_revoking_the_refresh_token_ends_the_grant(idp):
    tokens = idp.sign_in_without_browser("carl")
    discovery = requests.get(idp.discovery_url, timeout=5).json()
    assert discovery["revocation_endpoint"] == f"{idp.issuer}/token/revocation"
    assert discovery["introspection_endpoint"] == f"{idp.issuer}/token/introspection"
    assert discovery["backchannel_logout_supported"] and discovery["backchannel_logout_session_supported"]
    revoked = requests.post(
        discovery["revocation_endpoint"],
        data={"token": tokens["refresh_token"], "token_type_hint": "refresh_token"},
        auth=(idp.client_id, idp.client_secret),
        timeout=5,
    )
    assert revoked.status_code == 200
    assert idp.introspect(tokens["refresh_token"]) == {"active": False}
    assert idp.refresh(tokens["refresh_token"]).json()["error"] == "invalid_grant"


def generated_validator(project):
    """The generated project's validator, imported from a bake without leaving its ``auth`` behind."""
    sys.path.insert(0, str(project))
    try:
        from auth.sso import backchannel
    finally:
        sys.path.pop(0)
        for name in [name for name in sys.modules if name == "auth" or name.startswith("auth.")]:
            del sys.modules[name]
    return backchannel


class ReplayStore:
    """Just enough of the shared store for the validator's replay protection."""

    def __init__(self):
        self.keys: set[str] = set()

    def add(self, key: str, _value: str, _ttl: int) -> bool:
        fresh = key not in self.keys
        self.keys.add(key)
        return fresh


def test_back_channel_logout_tokens_pass_the_generated_projects_validator(idp, logouts, baked):
    _url, received = logouts
    backchannel = generated_validator(baked("oidc").project_path)
    tokens = idp.sign_in_without_browser("dora")
    received.clear()
    assert idp.backchannel_logout("dora") == {"sent": 1, "failed": []}
    assert len(received) == 1

    store = ReplayStore()

    def validate(token):
        return backchannel.validate_logout_token(
            token,
            issuer=idp.issuer,
            client_id=idp.client_id,
            load_jwks=lambda _force: requests.get(f"{idp.issuer}/jwks", timeout=5).json(),
            store=store,
        )

    ended = validate(received[0])
    assert ended.sub == "dora" and ended.sid == claims_of(tokens["id_token"])["sid"]
    with pytest.raises(backchannel.LogoutTokenInvalid, match="replay"):
        validate(received[0])
    assert idp.backchannel_logout("dora") == {"sent": 0, "failed": []}  # nothing left to end


def claims_of(jwt: str) -> dict:
    """A JWT's claims, unverified (the provider just issued it to us)."""
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
