"""A small OpenID provider on loopback that speaks the real protocol, and can misbehave on request.

Discovery, authorization (signs in a preset user at once), token (checks the
code, PKCE verifier and client secret; refresh tokens, rotated at each use),
RFC 7009 revocation, JWKS, userinfo and end-session, with RS256-signed ID
tokens; signed back-channel logout tokens on request; and a small Microsoft
Graph (``/v1.0/me/transitiveMemberOf``, paged). ``misbehave`` names one fault
for the tests to provoke.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

CLIENT_ID = "dash-app"
CLIENT_SECRET = "fake-provider-client-secret"

FAULTS = {
    "none",  # behave
    "wrong_issuer",  # ID token iss is another issuer
    "wrong_audience",  # aud is another client
    "other_audience_with_azp",  # aud=["other"], azp=us: Authlib alone accepts it
    "alg_none",  # unsigned ID token, and discovery lists "none"
    "no_id_token",  # token response without id_token
    "userinfo_other_sub",  # /userinfo speaks of someone else
    "expired",  # ID token expired an hour ago
    "wrong_nonce",  # nonce does not match the one sent
    "bad_signature",  # signed with a key not in the JWKS
    "discovery_other_issuer",  # discovery document names another issuer
    "slow",  # token endpoint answers after the app's timeout
    "token_error",  # token endpoint answers 400 invalid_grant
    "other_tenant_issuer",  # multi-tenant: iss names another tenant than the token's tid
    "graph_next_link_elsewhere",  # Graph's next link points to another host
    "graph_error",  # Graph answers 503
}
LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"


@dataclass
class FakeProvider:
    user: dict[str, Any] = field(default_factory=dict)
    claims_in_id_token: bool = True
    misbehave: str = "none"
    slow_seconds: float = 3.0
    tenant: str | None = None  # set: behave like Microsoft's multi-tenant endpoint for this tenant
    access_token_seconds: int = 600
    refresh_seconds: float = 0.0  # how long a refresh takes (to make concurrent refreshes overlap)
    offers_revocation: bool = True  # revocation_endpoint in the discovery document
    groups_overage: bool = False  # ID token points to Graph (_claim_names/_claim_sources), no groups
    graph_groups: list[dict[str, Any]] = field(default_factory=list)  # Graph directory objects
    graph_page_size: int = 2

    def __post_init__(self):
        self.key = RSAKey.generate_key(2048, parameters={"kid": "fake-1", "use": "sig", "alg": "RS256"})
        self.codes: dict[str, dict[str, Any]] = {}
        self.access_tokens: dict[str, dict[str, Any]] = {}  # token -> {"user", "expires"}
        self.refresh_tokens: dict[str, dict[str, Any]] = {}  # token -> user; gone once used
        self.revoked: list[tuple[str, str]] = []  # (token, token_type_hint) as received
        self.refreshes = 0  # refresh grants answered with new tokens
        self.sid = secrets.token_urlsafe(12)  # the provider's session, as in ID and logout tokens
        self._lock = threading.Lock()
        self.server = make_server("127.0.0.1", 0, self.wsgi, threaded=True)
        self.issuer = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeProvider:
        self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.server.shutdown()
        self.thread.join(5)

    # Protocol --------------------------------------------------------------

    @Request.application
    def wsgi(self, request: Request) -> Response:
        routes = {
            "/.well-known/openid-configuration": self.discovery,
            "/authorize": self.authorize,
            "/token": self.token,
            "/jwks": self.jwks,
            "/userinfo": self.userinfo,
            "/revoke": self.revoke,
            "/v1.0/me/transitiveMemberOf": self.graph_memberships,
        }
        handler = routes.get(request.path)
        return handler(request) if handler else Response("not found", status=404)

    def discovery(self, _request: Request) -> Response:
        issuer = self.issuer + "/{tenantid}/v2.0" if self.tenant else self.issuer
        if self.misbehave == "discovery_other_issuer":
            issuer = "https://elsewhere.example"
        algorithms = ["RS256", "none"] if self.misbehave == "alg_none" else ["RS256"]
        revocation = {"revocation_endpoint": f"{self.issuer}/revoke"} if self.offers_revocation else {}
        return _json(
            {
                **revocation,
                "issuer": issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "userinfo_endpoint": f"{self.issuer}/userinfo",
                "end_session_endpoint": f"{self.issuer}/logout",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": algorithms,
                "code_challenge_methods_supported": ["S256"],
            }
        )

    def authorize(self, request: Request) -> Response:
        args = request.args
        if args.get("client_id") != CLIENT_ID or args.get("code_challenge_method") != "S256":
            return Response("bad authorization request", status=400)
        code = secrets.token_urlsafe(16)
        self.codes[code] = {
            "redirect_uri": args["redirect_uri"],
            "challenge": args["code_challenge"],
            "nonce": args.get("nonce"),
        }
        answer = {"code": code, "state": args["state"]}
        if not self.tenant:
            answer["iss"] = self.issuer  # RFC 9207
        query = urlencode(answer)
        return Response(status=302, headers={"Location": f"{args['redirect_uri']}?{query}"})

    def token(self, request: Request) -> Response:
        if self.misbehave == "slow":
            time.sleep(self.slow_seconds)
        if self.misbehave == "token_error":
            return _json({"error": "invalid_grant"}, status=400)
        if not _client_authenticated(request):
            return _json({"error": "invalid_client"}, status=401)
        if request.form.get("grant_type") == "refresh_token":
            return self.refresh(request)
        grant = self.codes.pop(request.form.get("code", ""), None)
        verifier = request.form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if (
            grant is None
            or grant["challenge"] != challenge
            or grant["redirect_uri"] != request.form.get("redirect_uri")
        ):
            return _json({"error": "invalid_grant"}, status=400)
        response = self.new_tokens(self.user)
        if self.misbehave != "no_id_token":
            response["id_token"] = self.id_token(grant["nonce"])
        return _json(response)

    def refresh(self, request: Request) -> Response:
        time.sleep(self.refresh_seconds)
        with self._lock:  # rotation: each refresh token works once
            user = self.refresh_tokens.pop(request.form.get("refresh_token", ""), None)
            if user is None:
                return _json({"error": "invalid_grant"}, status=400)
            self.refreshes += 1
            return _json(self.new_tokens(user))

    def new_tokens(self, user: dict[str, Any]) -> dict[str, Any]:
        access_token, refresh_token = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        self.access_tokens[access_token] = {"user": user, "expires": time.time() + self.access_token_seconds}
        self.refresh_tokens[refresh_token] = user
        return {
            "access_token": access_token,
            "refresh_token": refresh_token,
            "token_type": "Bearer",
            "expires_in": self.access_token_seconds,
            "scope": "openid email profile offline_access",
        }

    def revoke(self, request: Request) -> Response:
        if not _client_authenticated(request):
            return _json({"error": "invalid_client"}, status=401)
        token = request.form.get("token", "")
        self.revoked.append((token, request.form.get("token_type_hint", "")))
        user = self.refresh_tokens.pop(token, None)
        self.access_tokens.pop(token, None)
        if user is not None:  # as most providers do: the grant's access tokens end with it
            for access_token in [t for t, entry in self.access_tokens.items() if entry["user"] is user]:
                del self.access_tokens[access_token]
        return Response(status=200)

    def token_is_active(self, token: str) -> bool:
        entry = self.access_tokens.get(token)
        return token in self.refresh_tokens or (entry is not None and entry["expires"] > time.time())

    def id_token(self, nonce: str | None) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": self.user["sub"],
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 600,
            "nonce": nonce,
            "sid": self.sid,
        }
        if self.claims_in_id_token:
            claims.update({k: v for k, v in self.user.items() if k != "sub"})
        if self.groups_overage:
            claims.pop("groups", None)
            claims["_claim_names"] = {"groups": "src1"}
            claims["_claim_sources"] = {
                "src1": {"endpoint": f"{self.issuer}/v1.0/users/{self.user['sub']}/getMemberObjects"}
            }
        if self.tenant:
            issuing = "another-tenant" if self.misbehave == "other_tenant_issuer" else self.tenant
            claims.update(iss=f"{self.issuer}/{issuing}/v2.0", tid=self.tenant)
        fault = self.misbehave
        if fault == "wrong_issuer":
            claims["iss"] = "https://impostor.example"
        elif fault == "wrong_audience":
            claims["aud"] = "another-client"
        elif fault == "other_audience_with_azp":
            claims.update(aud=["other"], azp=CLIENT_ID)
        elif fault == "expired":
            claims.update(iat=now - 7200, exp=now - 3600)
        elif fault == "wrong_nonce":
            claims["nonce"] = "not-the-nonce"
        if fault == "alg_none":
            header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
            body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
            return f"{header}.{body}."
        key = RSAKey.generate_key(2048) if fault == "bad_signature" else self.key
        return jwt.encode({"alg": "RS256", "kid": "fake-1"}, claims, key)

    def jwks(self, _request: Request) -> Response:
        return _json({"keys": [self.key.as_dict(private=False)]})

    def logout_token(self, key: RSAKey | None = None, drop: tuple[str, ...] = (), **claims: Any) -> str:
        """A back-channel logout token for the signed-in user: ``claims`` change it, ``drop`` removes."""
        now = int(time.time())
        body = {
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 120,
            "jti": secrets.token_urlsafe(12),
            "sub": self.user["sub"],
            "sid": self.sid,
            "events": {LOGOUT_EVENT: {}},
            **claims,
        }
        for name in drop:
            body.pop(name, None)
        header = {"alg": "RS256", "kid": self.key.kid, "typ": "logout+jwt"}
        return jwt.encode(header, body, key or self.key)

    def user_of(self, request: Request) -> dict[str, Any] | None:
        """Whose access token the request carries, if it is one we issued and it is still valid."""
        entry = self.access_tokens.get((request.headers.get("Authorization") or "").removeprefix("Bearer "))
        return entry["user"] if entry is not None and entry["expires"] > time.time() else None

    def graph_memberships(self, request: Request) -> Response:
        if self.user_of(request) is None:
            return _json({"error": {"code": "InvalidAuthenticationToken"}}, status=401)
        if self.misbehave == "graph_error":
            return _json({"error": {"code": "ServiceUnavailable"}}, status=503)
        start = int(request.args.get("$skiptoken", "0"))
        page = {"value": self.graph_groups[start : start + self.graph_page_size]}
        if start + self.graph_page_size < len(self.graph_groups):
            elsewhere = self.misbehave == "graph_next_link_elsewhere"
            host = "http://elsewhere.invalid" if elsewhere else self.issuer
            page["@odata.nextLink"] = f"{host}{request.path}?$skiptoken={start + self.graph_page_size}"
        return _json(page)

    def userinfo(self, request: Request) -> Response:
        user = self.user_of(request)
        if user is None:
            return _json({"error": "invalid_token"}, status=401)
        info = dict(user)
        if self.misbehave == "userinfo_other_sub":
            info["sub"] = "someone-else"
        return _json(info)


def _client_authenticated(request: Request) -> bool:
    auth = request.authorization
    return auth is not None and (auth.username, auth.password) == (CLIENT_ID, CLIENT_SECRET)


def _json(value: Any, status: int = 200) -> Response:
    return Response(json.dumps(value), status=status, mimetype="application/json")
