"""What the single sign-on tests share: a store with ``add``, and tokens got the way a browser would.

``SharedSQLite`` is the app's SQLite store plus the one operation the token parts need beyond it
(set-if-absent, atomic in SQLite), so locks and replay protection are tested on a real database.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
from oidc_fake_provider import CLIENT_ID, CLIENT_SECRET, FakeProvider

from auth.sso.credentials import ClientCredentials
from auth.sso.refresh import TokenEndpoint
from auth.store import SQLiteStore

CREDENTIALS = ClientCredentials(CLIENT_ID, CLIENT_SECRET, timeout=2)


class SharedSQLite(SQLiteStore):
    def add(self, key: str, value: str, ttl: int) -> bool:
        now = time.time()
        cursor = self._connect().execute(
            "INSERT INTO entries VALUES (?, ?, ?) ON CONFLICT(key)"
            " DO UPDATE SET value = excluded.value, expires = excluded.expires WHERE expires <= ?",
            (key, value, now + ttl, now),
        )
        return cursor.rowcount == 1


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
