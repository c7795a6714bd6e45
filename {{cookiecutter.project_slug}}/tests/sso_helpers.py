"""What the single sign-on tests share: a store with ``add``, and tokens got the way a browser would.

``shared_sqlite(path)`` is the app's own store on SQLite, so locks and replay protection are
tested on a real database, shared by every process that opens the same file.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
from oidc_fake_provider import CLIENT_ID, CLIENT_SECRET, FakeProvider

from auth.sso.credentials import ClientCredentials
from auth.sso.refresh import TokenEndpoint
from auth.store import SQLiteBackend, Store

CREDENTIALS = ClientCredentials(CLIENT_ID, CLIENT_SECRET, timeout=2)


def shared_sqlite(path) -> Store:
    return Store(SQLiteBackend(path), namespace="test:")


def token_endpoint(issuer: str) -> TokenEndpoint:
    return TokenEndpoint(f"{issuer}/token", CREDENTIALS)


def sign_in_tokens(idp: FakeProvider) -> dict:
    """The token response of an authorization code flow with PKCE, as the app gets it at sign-in."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    redirect_uri = "http://localhost/oidc/generic/callback"
    query = {
        "client_id": CLIENT_ID,
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "scope": "openid email profile offline_access",
        "state": "s",
        "nonce": "n",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    answer = requests.get(f"{idp.issuer}/authorize?{urlencode(query)}", allow_redirects=False, timeout=5)
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    answer = CREDENTIALS.post(f"{idp.issuer}/token", {**form, "code_verifier": verifier})
    assert answer.status_code == 200, answer.text
    return answer.json()


def userinfo(idp: FakeProvider, access_token: str) -> requests.Response:
    """The provider's /userinfo called as the user, as app code would with ``access_token()``."""
    headers = {"Authorization": f"Bearer {access_token}"}
    return requests.get(f"{idp.issuer}/userinfo", headers=headers, timeout=5)
