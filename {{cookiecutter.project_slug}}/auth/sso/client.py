"""Single sign-on with OpenID Connect, through Authlib's Flask client: one class for every provider.

Authlib runs the authorization code flow with PKCE (S256), state and nonce, and
validates the ID token's signature, expiry and nonce. On top of its defaults
(claims.py) this checks what it leaves open: the discovery document names the
configured issuer; ID tokens carry exactly that issuer and exactly our client
as audience, signed with a pinned asymmetric algorithm (never "none"); a token
response without an ID token is refused; /userinfo must speak of the same
subject. Authlib (about 0.1 s of imports) is loaded at the first sign-in.

The token response is kept in the vault for app code (tokens.py), each session is listed
under the provider's session id for back-channel logout (logout.py), and Entra ID's "groups
overage" is read from Microsoft Graph.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from functools import cached_property
from typing import Any

from flask import Flask, request, session, url_for

from .. import compat
from ..errors import SignInFailed
from ..providers import Provider, groups_in
from ..session import SessionRecord
from ..settings import Settings
from ..store import Store
from ..web.responses import external_url, home_url, safe_next
from .backchannel import validate_logout_token
from .claims import ALLOWED_ALGORITHMS, NOT_VERIFIED, check_id_token_claims, display_name, lacks_claims
from .graph import ApiError, has_group_overage, transitive_groups
from .logout import ProviderSessions, user_id_of
from .tokens import SessionTokens, grant_ends

SignInHook = Callable[..., Iterable[str]]

CLOCK_LEEWAY = 60  # seconds of clock difference allowed on token times
METADATA_MAX_AGE = 24 * 3600  # discovery documents are fetched again after a day
KEPT_SIGN_INS = 3  # unfinished sign-ins remembered in the cookie (several tabs)
NEXT_KEY = "auth_next"


class SingleSignOn:
    def __init__(self, settings: Settings, store: Store, on_sign_in: SignInHook | None):
        self.settings = settings
        self.store = store
        self.on_sign_in = on_sign_in
        self.providers = {provider.name: provider for provider in settings.providers}
        self.server: Flask | None = None
        self.tokens = SessionTokens(settings, store, self.providers, self.metadata_of)
        self.provider_sessions = ProviderSessions(store)

    def init_app(self, server: Flask) -> None:
        self.server = server

    @cached_property
    def oauth(self):
        from authlib.integrations.flask_client import OAuth

        oauth = OAuth(self.server)
        for provider in self.providers.values():
            if provider.configured:
                oauth.register(
                    provider.name,
                    client_id=provider.client_id,
                    client_secret=provider.client_secret,
                    server_metadata_url=provider.discovery_url,
                    client_kwargs={
                        "scope": " ".join(provider.scopes),
                        "code_challenge_method": "S256",
                        "default_timeout": self.settings.oidc_timeout_seconds,
                    },
                )
        return oauth

    # What the sign-in page offers ---------------------------------------------------

    def knows(self, name: str) -> bool:
        return name in self.providers

    def choices(self) -> list[dict[str, Any]]:
        """The providers for the sign-in page, set up or not (then with a hint)."""
        return [
            {
                "name": p.name,
                "label": p.label,
                "configured": p.configured,
                "hint": p.hint,
                "login_url": url_for("oidc.login", idp=p.name),
            }
            for p in self.providers.values()
        ]

    def only_login_url(self, next_path: str) -> str | None:
        """With a single provider, set up, the sign-in page can send people straight there."""
        configured = [p for p in self.providers.values() if p.configured]
        if len(configured) != 1 or len(self.providers) != 1:
            return None
        return url_for("oidc.login", idp=configured[0].name, next=next_path)

    # The flow --------------------------------------------------------------------------

    def start(self, idp: str) -> str:
        """The provider's authorization URL for a new sign-in (raises SignInFailed)."""
        provider = self._provider(idp)
        client = self._client(provider)
        self._metadata(provider, client)
        extra = dict(provider.authorize_params)  # e.g. Google's access_type=offline
        if request.args.get("login_hint"):
            extra["login_hint"] = request.args["login_hint"][:256]
        redirect_uri = external_url(self.settings, url_for("oidc.callback", idp=idp))
        started = client.create_authorization_url(redirect_uri, **extra)
        _forget_old_sign_ins()
        client.save_authorize_data(redirect_uri=redirect_uri, **started)
        # Where to go afterwards, per sign-in: tabs signing in at once each get their own.
        targets = {**session.get(NEXT_KEY, {}), started["state"]: safe_next(request.args.get("next"))}
        session[NEXT_KEY] = dict(list(targets.items())[-KEPT_SIGN_INS:])
        return started["url"]

    def finish(self, idp: str) -> tuple[SessionRecord, str]:
        """The provider's answer checked: (the session to start, where to go next)."""
        targets = session.get(NEXT_KEY)
        next_path = safe_next(
            targets.get(request.args.get("state", "")) if isinstance(targets, dict) else None
        )
        provider = self._provider(idp)
        claims, groups, token = self._verified_identity(provider)
        email = claims.get("email") if isinstance(claims.get("email"), str) else None
        record = SessionRecord(
            user_id=user_id_of(claims["iss"], claims["sub"]),
            name=display_name(claims),
            provider=idp,
            email=email,
            email_verified=claims.get("email_verified") in (True, "true"),
            subject=claims["sub"],
            object_id=claims.get("oid") if isinstance(claims.get("oid"), str) else None,
            groups=tuple(sorted(groups)),
            groups_in_store=has_group_overage(claims),  # hundreds of them: not for the cookie
            ends=grant_ends(token) if self.settings.session_within_refresh_token else 0,
        )
        self.tokens.keep(record.sid, token)
        if isinstance(claims.get("sid"), str):
            ttl = self.settings.absolute_timeout_seconds
            self.provider_sessions.remember(idp, claims["sid"], record.sid, record.user_id, ttl)
        return record, next_path

    def metadata_of(self, idp: str) -> dict[str, Any]:
        """The provider's checked discovery document (raises SignInFailed, requests' errors)."""
        provider = self._provider(idp)
        return self._metadata(provider, self._client(provider))

    def sessions_to_end(self, idp: str, logout_token: str) -> list[tuple[str, str]]:
        """(user_id, sid) of the sessions a back-channel logout ends; raises LogoutTokenInvalid."""
        provider = self._provider(idp)
        client = self._client(provider)
        issuer = self._metadata(provider, client)["issuer"]
        logout = validate_logout_token(
            logout_token,
            issuer=issuer,
            client_id=provider.client_id,
            load_jwks=lambda force: client.fetch_jwk_set(force=force),
            store=self.store,
        )
        return self.provider_sessions.to_end(idp, issuer, logout)

    def logout_url(self, record: SessionRecord) -> str | None:
        """The provider's end-session URL (RP-initiated logout), if it has one."""
        provider = self.providers.get(record.provider)
        if provider is None or not provider.configured:
            return None
        import requests
        from authlib.common.urls import add_params_to_uri

        try:
            endpoint = self._metadata(provider, self._client(provider)).get("end_session_endpoint")
        except (SignInFailed, requests.RequestException):
            return None
        if not endpoint:
            return None
        params = {
            "client_id": provider.client_id,
            "post_logout_redirect_uri": external_url(self.settings, home_url()),
        }
        id_token = self.tokens.id_token(record.sid)
        if id_token:
            params["id_token_hint"] = id_token
        return add_params_to_uri(endpoint, params)

    # Steps ------------------------------------------------------------------------------

    def _provider(self, idp: str) -> Provider:
        provider = self.providers.get(idp)
        if provider is None:
            raise SignInFailed(404, "There is no such sign-in provider.", "unknown provider")
        if not provider.configured:
            raise SignInFailed(
                503, f"{provider.label} sign-in is not set up yet. {provider.hint}", "not configured"
            )
        return provider

    def _client(self, provider: Provider):
        client = self.oauth.create_client(provider.name)
        compat.check_authlib_client(client)
        return client

    def _metadata(self, provider: Provider, client) -> dict[str, Any]:
        """The discovery document, fetched once (and daily), checked before anyone is sent there."""
        metadata = client.server_metadata
        if metadata.get(compat.AUTHLIB_LOADED_AT, 0) < time.time() - METADATA_MAX_AGE:
            metadata.clear()
        metadata = client.load_server_metadata()
        if not metadata.get("_checked"):
            from .claims import issuer_matches

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

    def _verified_identity(self, provider: Provider) -> tuple[dict[str, Any], set[str], dict[str, Any]]:
        from authlib.common.errors import AuthlibBaseError
        from authlib.integrations.base_client import MismatchingStateError, OAuthError
        from joserfc.errors import JoseError

        error = request.args.get("error")
        if error:
            description = request.args.get("error_description", "")
            raise SignInFailed(
                401,
                f"{provider.label} did not sign you in: {error}"
                + (f" ({description[:200]})" if description else ""),
                f"provider: {error}",
            )
        client = self._client(provider)
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
            raise SignInFailed(401, NOT_VERIFIED, f"id token: {failure!r}") from None
        if not isinstance(token, dict) or "id_token" not in token or not token.get("userinfo"):
            raise SignInFailed(401, NOT_VERIFIED, "no id_token in token response")
        claims = dict(token["userinfo"])
        check_id_token_claims(claims, provider, metadata)
        if lacks_claims(claims, provider) and metadata.get("userinfo_endpoint"):
            try:
                # The access token alone: given an expiry and a refresh token, Authlib would refresh
                # a short-lived one by itself and the provider would rotate the one kept in the vault.
                info = client.userinfo(token={"access_token": token["access_token"], "token_type": "Bearer"})
            except (AuthlibBaseError, ValueError) as failure:
                raise SignInFailed(401, NOT_VERIFIED, f"userinfo: {failure!r}") from None
            if info.get("sub") != claims["sub"]:
                raise SignInFailed(401, NOT_VERIFIED, "userinfo sub differs")
            claims = {**info, **claims}
        groups = set(groups_in(claims, provider.groups_claim))
        if provider.groups_from_graph and has_group_overage(claims):
            groups |= self._groups_from_graph(provider, token)
        if self.on_sign_in is not None:
            groups |= set(self.on_sign_in(provider=provider.name, claims=claims, token=token))
        return claims, groups, token

    def _groups_from_graph(self, provider: Provider, token: dict[str, Any]) -> set[str]:
        """Entra ID's groups overage: the ids the groups claim would have held, from Graph."""
        try:
            found = transitive_groups(
                token["access_token"],
                graph_url=self.settings.graph_url,
                timeout=self.settings.oidc_timeout_seconds,
            )
        except ApiError as error:  # fail closed: a sign-in without its groups is not given
            raise SignInFailed(
                502, f"{provider.label} sign-in could not read your groups. Please try again.", str(error)
            ) from None
        return {group.id for group in found}


def _forget_old_sign_ins() -> None:
    """Keep the cookie small: Authlib adds an entry per sign-in started and never finished."""
    started = sorted(
        (key for key in session if key.startswith(compat.AUTHLIB_STATE_PREFIX)),
        key=lambda key: session[key].get("exp", 0) if isinstance(session[key], dict) else 0,
    )
    for key in started[: max(0, len(started) - (KEPT_SIGN_INS - 1))]:
        session.pop(key, None)
