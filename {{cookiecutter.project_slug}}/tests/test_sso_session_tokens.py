"""Single sign-on that acts as the user, wired into the app: ``access_token()`` in callbacks and
routes, refresh (once), a refused refresh, sign-out revocation, back-channel logout, groups overage.

Against the fake provider on loopback (tests/oidc_fake_provider.py), which rotates refresh tokens,
revokes, signs logout tokens and serves a small Microsoft Graph.
"""

import logging
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
from conftest import HTML, run_callback, sign_in
from joserfc.jwk import RSAKey
from oidc_fake_provider import FakeProvider
from test_oidc import ALICE, app, at_provider, idp, oidc_app, path_of, session_of, sign_in_via_provider

from app import create_app
from auth.session import SessionRecord
from auth.sso.tokens import grant_ends
from auth.web.identity import EXTENSION

__all__ = ["app", "idp"]  # test_oidc's fixtures: the fake provider, an app signed in through it

PROFILE = [("profile-claims", "children")]
FETCH = [("fetch-profile", "n_clicks", 1)]
LOGOUT = "/oidc/generic/backchannel-logout"


def parts_of(app):
    return app.server.extensions[EXTENSION]


def profile(client):
    """The profile page's callback, which calls the provider's /userinfo with access_token()."""
    return run_callback(client, PROFILE, FETCH)


def claims_shown(response) -> str:
    assert response.status_code == 200, response.text
    return response.text


@pytest.fixture
def signed_in(app):
    client = app.server.test_client()
    assert sign_in_via_provider(client).status_code == 302
    return client


def test_a_callback_calls_the_provider_as_the_signed_in_user(files, idp):
    bob = {"sub": "bob-2", "email": "bob@example.com", "email_verified": True, "name": "Bob"}
    app = oidc_app(files, idp.issuer)
    shown = {}
    for user in (ALICE, bob):
        idp.user = dict(user)
        client = app.server.test_client()
        sign_in_via_provider(client)
        shown[user["sub"]] = claims_shown(profile(client))
    assert "alice-1" in shown["alice-1"] and "bob-2" not in shown["alice-1"]
    assert "bob-2" in shown["bob-2"] and "alice-1" not in shown["bob-2"]


def test_password_users_and_visitors_get_no_token(app):
    alice = app.server.test_client()
    sign_in(alice, "alice")
    assert "there is no provider to ask" in claims_shown(profile(alice))
    assert profile(app.server.test_client()).status_code == 401


def test_a_token_about_to_expire_is_refreshed_first(idp, signed_in):
    idp.access_token_seconds = 30  # within the minute before expiry: refreshed at each call
    assert "alice-1" in claims_shown(profile(signed_in))  # the first token: 10 minutes
    signed_in.post("/logout")  # sign in again with short-lived tokens
    sign_in_via_provider(signed_in)
    assert "alice-1" in claims_shown(profile(signed_in))
    assert "alice-1" in claims_shown(profile(signed_in))
    assert idp.refreshes == 2


def test_concurrent_calls_refresh_once(files):
    with FakeProvider(user=dict(ALICE), access_token_seconds=30, refresh_seconds=0.5) as idp:
        app = oidc_app(files, idp.issuer)
        first = app.server.test_client()
        sign_in_via_provider(first)
        cookie = first.get_cookie("session").value
        idp.access_token_seconds = 600  # the refreshed token lasts: one refresh serves every call

        def call(_):
            client = app.server.test_client()
            client.set_cookie("session", cookie)
            return claims_shown(profile(client))

        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(call, range(4)))
        assert all("alice-1" in answer for answer in answers)
        assert idp.refreshes == 1


def test_a_refused_refresh_ends_the_session_and_asks_to_sign_in_again(idp, files, caplog):
    idp.access_token_seconds = 30
    app = oidc_app(files, idp.issuer)
    client = app.server.test_client()
    sign_in_via_provider(client)
    idp.refresh_tokens.clear()  # revoked at the provider
    with caplog.at_level(logging.INFO, logger="auth.audit"):
        response = profile(client)
    assert response.status_code == 401 and "sign in again" in response.json["error"]
    assert '"event": "session-revoked"' in caplog.text and "invalid_grant" in caplog.text
    assert client.get("/dashboard", headers=HTML).status_code == 302  # signed out


def test_a_page_or_route_asking_for_a_token_in_vain_goes_to_the_sign_in_page(idp, files):
    from auth import access_token

    idp.access_token_seconds = 30
    app = oidc_app(files, idp.issuer)
    app.server.add_url_rule("/api-call", "api_call", lambda: access_token() or "none")
    client = app.server.test_client()
    sign_in_via_provider(client)
    assert client.get("/api-call").status_code == 200
    idp.refresh_tokens.clear()
    response = client.get("/api-call", headers=HTML)
    assert response.status_code == 302 and response.headers["Location"] == "/login?next=%2Fapi-call"


def test_a_provider_that_cannot_be_reached_answers_503(files):
    with FakeProvider(user=dict(ALICE), access_token_seconds=1, slow_seconds=2) as idp:
        app = oidc_app(files, idp.issuer)
        client = app.server.test_client()
        sign_in_via_provider(client)
        time.sleep(1.1)  # the access token has expired
        idp.misbehave = "slow"  # the refresh times out (the app waits 1 s)
        assert profile(client).status_code == 503
        idp.misbehave = "none"
        assert "alice-1" in claims_shown(profile(client))  # still signed in: it works again


def test_no_token_bytes_on_disk_or_in_the_cookie(app, idp, files, signed_in):
    claims_shown(profile(signed_in))
    tokens = [*idp.access_tokens, *idp.refresh_tokens]
    cookie = signed_in.get_cookie("session").value
    assert tokens and all(token not in cookie for token in tokens)
    assert all(token not in str(session_of(app, signed_in)) for token in tokens)
    stored = b"".join(path.read_bytes() for path in (files / "instance").rglob("*") if path.is_file())
    assert stored and all(token.encode() not in stored for token in tokens)


def test_tokens_stay_readable_after_key_rotation(idp, files, signed_in, app):
    old_key = app.server.secret_key
    settings = parts_of(app).settings  # as `flask keys rotate` does: new key, old one kept, prefix pinned
    rotated = replace(
        settings,
        secret_key=secrets.token_urlsafe(48),
        secret_key_fallbacks=(old_key,),
        redis_prefix=settings.namespace,
    )
    after = create_app(rotated).server.test_client()
    after.set_cookie("session", signed_in.get_cookie("session").value)
    assert "alice-1" in claims_shown(profile(after))
    assert idp.refreshes == 0  # read through the fallback, not thrown away


def test_sign_out_revokes_the_tokens_at_the_provider(idp, signed_in):
    access_token, refresh_token = next(iter(idp.access_tokens)), next(iter(idp.refresh_tokens))
    response = signed_in.post("/logout")
    assert response.headers["Location"].startswith(f"{idp.issuer}/logout")  # RP-initiated logout next
    assert [hint for _, hint in idp.revoked] == ["refresh_token", "access_token"]
    assert not idp.token_is_active(access_token) and not idp.token_is_active(refresh_token)


def test_a_back_channel_logout_ends_the_session(idp, app, signed_in):
    other = app.server.test_client()
    sign_in_via_provider(other)  # the same provider session: both end
    headers = {"Origin": idp.issuer}  # posted by the provider's server, from its origin
    response = app.server.test_client().post(
        LOGOUT, data={"logout_token": idp.logout_token()}, headers=headers
    )
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    for client in (signed_in, other):
        assert client.get("/dashboard", headers=HTML).status_code == 302


def test_a_logout_token_with_only_sub_ends_that_users_sessions(idp, app, signed_in):
    response = app.server.test_client().post(LOGOUT, data={"logout_token": idp.logout_token(drop=("sid",))})
    assert response.status_code == 200
    assert signed_in.get("/dashboard", headers=HTML).status_code == 302


def unsigned(idp) -> str:
    header, body, _signature = idp.logout_token().split(".")
    return f"{header}.{body}."


@pytest.mark.parametrize(
    "forge",
    [
        lambda idp: idp.logout_token(key=RSAKey.generate_key(2048, parameters={"kid": "fake-1"})),
        unsigned,
        lambda idp: idp.logout_token(nonce="n"),
        lambda idp: idp.logout_token(aud="another-client"),
        lambda idp: "",
    ],
    ids=["forged", "unsigned", "id-token", "other-audience", "missing"],
)
def test_bad_logout_tokens_get_400_and_end_nothing(idp, app, signed_in, forge):
    response = app.server.test_client().post(LOGOUT, data={"logout_token": forge(idp)})
    assert response.status_code == 400 and response.headers["Cache-Control"] == "no-store"
    assert signed_in.get("/dashboard", headers=HTML).status_code == 200


def test_a_replayed_logout_token_gets_400(idp, app):
    token = idp.logout_token()
    poster = app.server.test_client()
    assert poster.post(LOGOUT, data={"logout_token": token}).status_code == 200
    client = app.server.test_client()
    sign_in_via_provider(client)
    assert poster.post(LOGOUT, data={"logout_token": token}).status_code == 400
    assert client.get("/dashboard", headers=HTML).status_code == 200


GRAPH_GROUPS = [
    {"@odata.type": "#microsoft.graph.group", "id": "g-sales", "displayName": "Sales"},
    {"@odata.type": "#microsoft.graph.directoryRole", "id": "r-admin", "displayName": "Global Admin"},
    {"@odata.type": "#microsoft.graph.group", "id": "g-admin", "displayName": "Admins"},
    {"@odata.type": "#microsoft.graph.group", "id": "g-ops", "displayName": "Ops"},
]


def overage_app(files, idp):
    return oidc_app(files, idp.issuer, names=("microsoft",), graph_url=idp.issuer)


def test_groups_overage_is_read_from_graph_and_kept_in_the_store(files):
    (files / "groups.toml").write_text('admin = ["microsoft:g-admin"]\n')
    with FakeProvider(user=dict(ALICE), groups_overage=True, graph_groups=GRAPH_GROUPS) as idp:
        app = overage_app(files, idp)
        client = app.server.test_client()
        response = client.get("/oidc/microsoft/login?next=/admin")
        assert client.get(path_of(at_provider(response.headers["Location"]))).status_code == 302
        record = session_of(app, client)["auth"]
        assert record["groups_in_store"] is True and record["groups"] == []
        layout = client.get("/_dash-layout").text
        assert "g-sales" in layout and "g-ops" in layout and "r-admin" not in layout


def test_graph_failing_stops_the_sign_in(files):
    with FakeProvider(user=dict(ALICE), groups_overage=True, misbehave="graph_error") as idp:
        app = overage_app(files, idp)
        client = app.server.test_client()
        response = client.get(path_of(at_provider(client.get("/oidc/microsoft/login").headers["Location"])))
        assert response.status_code == 502 and "groups" in response.text
        assert client.get("/dashboard", headers=HTML).status_code == 302


def test_a_session_can_be_held_to_the_grant(files, idp):
    assert (
        grant_ends({"access_token": "a", "refresh_token": "r", "refresh_expires_in": 1800}, now=1000) == 2800
    )
    assert grant_ends({"access_token": "a", "expires_in": 300}, now=1000) == 1300  # no refresh token
    assert grant_ends({"access_token": "a", "refresh_token": "r"}, now=1000) == 0  # unknown: not held
    app = oidc_app(files, idp.issuer)
    record = SessionRecord(user_id="x", name="x", provider="generic", ends=int(time.time()) - 1)
    assert parts_of(app).sessions.user_of(record)[0] is None
