"""Single sign-on with OpenID Connect, through Authlib's Flask client.

Authlib runs the authorization code flow with PKCE (S256), state and nonce, and
validates the ID token's signature, expiry and nonce. On top of its defaults
this module checks what it leaves open: the discovery document names the
configured issuer; ID tokens carry exactly that issuer and exactly our client
as audience, signed with a pinned asymmetric algorithm (never "none"); a token
response without an ID token is refused; /userinfo must speak of the same
subject. Every failure ends on a plain error page, signed out.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.common.urls import add_params_to_uri
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Flask, redirect, request, session, url_for
from joserfc.errors import JoseError

from .audit import audit
from .identity import sign_in
from .providers import Provider, claim_at, groups_in
from .responses import error_response, external_url, home_url, safe_next
from .settings import Settings
from .store import Store

log = logging.getLogger(__name__)

SignInHook = Callable[..., Iterable[str]]

ALLOWED_ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)
CLOCK_LEEWAY = 60  # seconds of clock difference allowed on token times
METADATA_MAX_AGE = 24 * 3600  # discovery documents are fetched again after a day
KEPT_SIGN_INS = 3  # unfinished sign-ins remembered in the cookie (several tabs)
GROUPS_IN_COOKIE = 1500  # bytes of group names kept in the cookie; a longer list goes to the store
NEXT_KEY = "auth_next"
STATE_PREFIX = "_state_"
MULTI_TENANT = ("common", "organizations", "consumers")


@dataclass
class SignInFailed(Exception):
    status: int
    message: str
    reason: str = ""


class OpenIDProviders:
    """The authorization code flow for every configured provider (see sso.py for the routes)."""

    def __init__(self, settings: Settings, store: Store, on_sign_in: SignInHook | None, server: Flask):
        self.settings = settings
        self.providers = {provider.name: provider for provider in settings.providers}
        self.store = store
        self.on_sign_in = on_sign_in
        self.oauth = OAuth(server)
        for provider in self.providers.values():
            if provider.configured:
                self.oauth.register(
                    provider.name,
                    client_id=provider.client_id,
                    client_secret=provider.client_secret,
                    server_metadata_url=provider.discovery_url,
                    client_kwargs={
                        "scope": " ".join(provider.scopes),
                        "code_challenge_method": "S256",
                        "default_timeout": settings.oidc_timeout,
                    },
                )

    def logout_url(self, data: Mapping[str, Any]) -> str | None:
        provider = self.providers.get(data.get("provider", ""))
        if provider is None or not provider.configured:
            return None
        client = self.oauth.create_client(provider.name)
        try:
            endpoint = self._metadata(provider, client).get("end_session_endpoint")
        except (SignInFailed, requests.RequestException):
            return None
        if not endpoint:
            return None
        id_token = self.store.get(f"id_token:{data.get('sid')}")
        self.store.delete(f"id_token:{data.get('sid')}")
        params = {
            "client_id": provider.client_id,
            "post_logout_redirect_uri": external_url(self.settings, home_url()),
        }
        if id_token:
            params["id_token_hint"] = id_token
        return add_params_to_uri(endpoint, params)

    # Routes -------------------------------------------------------------------

    def login(self, idp: str):
        try:
            provider = self._provider(idp)
            client = self.oauth.create_client(provider.name)
            self._metadata(provider, client)
            extra = {}
            if request.args.get("login_hint"):
                extra["login_hint"] = request.args["login_hint"][:256]
            redirect_uri = external_url(self.settings, url_for("oidc.callback", idp=idp))
            started = client.create_authorization_url(redirect_uri, **extra)
            _forget_old_sign_ins()
            client.save_authorize_data(redirect_uri=redirect_uri, **started)
            # Where to go afterwards, per sign-in: tabs signing in at once each get their own.
            targets = {**session.get(NEXT_KEY, {}), started["state"]: safe_next(request.args.get("next"))}
            session[NEXT_KEY] = dict(list(targets.items())[-KEPT_SIGN_INS:])
            return redirect(started["url"])
        except requests.RequestException as error:
            return self._failed(idp, _network_failure(error))
        except SignInFailed as failure:
            return self._failed(idp, failure)

    def callback(self, idp: str):
        targets = session.get(NEXT_KEY)
        next_path = safe_next(
            targets.get(request.args.get("state", "")) if isinstance(targets, dict) else None
        )
        try:
            identity = self._complete_sign_in(self._provider(idp))
        except requests.RequestException as error:
            return self._failed(idp, _network_failure(error))
        except SignInFailed as failure:
            return self._failed(idp, failure)
        self._start_session(idp, identity)
        return redirect(next_path)

    # The sign-in ----------------------------------------------------------------

    def _provider(self, idp: str) -> Provider:
        provider = self.providers.get(idp)
        if provider is None:
            raise SignInFailed(404, "There is no such sign-in provider.", "unknown provider")
        if not provider.configured:
            raise SignInFailed(
                503, f"{provider.label} sign-in is not set up yet. {provider.hint}", "not configured"
            )
        return provider

    def _metadata(self, provider: Provider, client) -> dict[str, Any]:
        """The discovery document, fetched once (and daily), checked before anyone is sent there."""
        metadata = client.server_metadata
        if metadata.get("_loaded_at", 0) < time.time() - METADATA_MAX_AGE:
            metadata.clear()
        metadata = client.load_server_metadata()
        if not metadata.get("_checked"):
            issuer = metadata.get("issuer")
            if not isinstance(issuer, str) or not issuer_matches(provider.issuer, issuer):
                raise SignInFailed(
                    502,
                    f"{provider.label} sign-in is misconfigured: the provider's "
                    "discovery document names another issuer.",
                    f"discovery issuer {issuer!r}",
                )
            offered = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
            metadata["id_token_signing_alg_values_supported"] = [
                alg for alg in offered if alg in ALLOWED_ALGORITHMS
            ] or ["RS256"]
            metadata["_checked"] = True
        return metadata

    def _complete_sign_in(self, provider: Provider) -> dict[str, Any]:
        error = request.args.get("error")
        if error:
            description = request.args.get("error_description", "")
            raise SignInFailed(
                401,
                f"{provider.label} did not sign you in: {error}"
                + (f" ({description[:200]})" if description else ""),
                f"provider: {error}",
            )
        client = self.oauth.create_client(provider.name)
        metadata = self._metadata(provider, client)
        returned_issuer = request.args.get("iss")  # RFC 9207: which provider answered
        multi_tenant = "{tenantid}" in metadata["issuer"]
        if returned_issuer is not None and not multi_tenant and returned_issuer != metadata["issuer"]:
            raise SignInFailed(400, "This answer came from another sign-in provider.", "iss parameter")
        try:
            token = client.authorize_access_token(
                claims_options={
                    "iss": {"essential": True},
                    "aud": {"essential": True},
                    "sub": {"essential": True},
                },
                leeway=CLOCK_LEEWAY,
            )
        except MismatchingStateError:
            raise SignInFailed(
                400,
                "This sign-in has expired or was started in another browser. Please sign in again.",
                "state",
            ) from None
        except OAuthError as failure:
            raise SignInFailed(
                401, f"{provider.label} refused the sign-in.", f"token: {failure.error}"
            ) from None
        except (AuthlibBaseError, JoseError, ValueError, KeyError, TypeError) as failure:
            raise SignInFailed(401, "The sign-in could not be verified.", f"id token: {failure!r}") from None
        if not isinstance(token, dict) or "id_token" not in token or not token.get("userinfo"):
            raise SignInFailed(401, "The sign-in could not be verified.", "no id_token in token response")
        claims = dict(token["userinfo"])
        check_id_token_claims(claims, provider, metadata)
        if _lacks_claims(claims, provider) and metadata.get("userinfo_endpoint"):
            claims = self._with_userinfo(client, token, claims)
        groups = set(groups_in(claims, provider.groups_claim))
        if self.on_sign_in is not None:
            groups |= set(self.on_sign_in(provider=provider.name, claims=claims, token=token))
        return {"claims": claims, "groups": sorted(groups), "id_token": token["id_token"]}

    def _with_userinfo(self, client, token: dict[str, Any], claims: dict[str, Any]) -> dict[str, Any]:
        try:
            info = client.userinfo(token=token)
        except (AuthlibBaseError, ValueError) as failure:
            raise SignInFailed(401, "The sign-in could not be verified.", f"userinfo: {failure!r}") from None
        if info.get("sub") != claims["sub"]:
            raise SignInFailed(401, "The sign-in could not be verified.", "userinfo sub differs")
        return {**info, **claims}

    def _start_session(self, idp: str, identity: dict[str, Any]) -> None:
        claims, groups = identity["claims"], identity["groups"]
        email = claims.get("email") if isinstance(claims.get("email"), str) else None
        verified = claims.get("email_verified") in (True, "true")
        name = next(
            (
                claims[key]
                for key in ("name", "preferred_username", "email", "sub")
                if isinstance(claims.get(key), str) and claims[key]
            ),
            claims["sub"],
        )
        overflow = len(json.dumps(groups)) > GROUPS_IN_COOKIE
        sid = sign_in(
            f"{claims['iss']}#{claims['sub']}",
            name=name,
            provider=idp,
            email=email,
            groups=() if overflow else groups,
            email_verified=verified,
            groups_in_store=overflow,
        )
        ttl = self.settings.absolute_timeout * 60
        if overflow:
            self.store.put(f"groups:{sid}", json.dumps(groups), ttl)
        self.store.put(f"id_token:{sid}", identity["id_token"], ttl)
        audit("sign-in", user=email or name, via="oidc", provider=idp)

    def _failed(self, idp: str, failure: SignInFailed):
        session.clear()
        log.warning("sign-in with %s failed: %s", idp, failure.reason)
        audit("sign-in-failed", via="oidc", provider=idp, reason=failure.reason[:200])
        return error_response(failure.status, failure.message)


def issuer_matches(configured: str, discovered: str) -> bool:
    """Equal but for a trailing slash; or Microsoft's multi-tenant issuer template."""
    if configured.rstrip("/") == discovered.rstrip("/"):
        return True
    if "{tenantid}" in discovered:
        for tenant in MULTI_TENANT:
            if configured.rstrip("/") == discovered.replace("{tenantid}", tenant).rstrip("/"):
                return True
    return False


def check_id_token_claims(claims: Mapping[str, Any], provider: Provider, metadata: Mapping[str, Any]) -> None:
    """What Authlib's defaults let through: issuer and audience must be exact."""
    expected_issuer = metadata["issuer"]
    if "{tenantid}" in expected_issuer:
        tenant = claims.get("tid")
        if not isinstance(tenant, str) or (provider.tenants and tenant not in provider.tenants):
            raise SignInFailed(403, "Your organisation may not sign in here.", f"tenant {tenant!r}")
        expected_issuer = expected_issuer.replace("{tenantid}", tenant)
    if claims.get("iss") != expected_issuer:
        raise SignInFailed(401, "The sign-in could not be verified.", f"iss {claims.get('iss')!r}")
    if claims.get("aud") not in (provider.client_id, [provider.client_id]):
        raise SignInFailed(401, "The sign-in could not be verified.", f"aud {claims.get('aud')!r}")
    if claims.get("azp", provider.client_id) != provider.client_id:
        raise SignInFailed(401, "The sign-in could not be verified.", f"azp {claims.get('azp')!r}")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise SignInFailed(401, "The sign-in could not be verified.", "no sub")


def _lacks_claims(claims: Mapping[str, Any], provider: Provider) -> bool:
    wanted_groups = bool(provider.groups_claim) and claim_at(claims, provider.groups_claim) is None
    return "email" not in claims or "name" not in claims or wanted_groups


def _network_failure(error: requests.RequestException) -> SignInFailed:
    if isinstance(error, requests.Timeout):
        return SignInFailed(504, "The sign-in provider did not answer in time. Please try again.", "timeout")
    return SignInFailed(
        502,
        "The sign-in provider could not be reached. Please try again later.",
        f"network: {type(error).__name__}",
    )


def _forget_old_sign_ins() -> None:
    """Keep the cookie small: Authlib adds an entry per sign-in started and never finished."""
    started = sorted(
        (key for key in session if key.startswith(STATE_PREFIX)),
        key=lambda key: session[key].get("exp", 0) if isinstance(session[key], dict) else 0,
    )
    for key in started[: max(0, len(started) - (KEPT_SIGN_INS - 1))]:
        session.pop(key, None)
