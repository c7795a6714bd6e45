"""Single sign-on against a provider on loopback that speaks the real protocol: each check fails closed."""

import secrets
import socket
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from conftest import HTML, make_settings
from oidc_fake_provider import CLIENT_ID, CLIENT_SECRET, FakeProvider

from app import create_app
from auth import Settings
from auth.providers import provider_from_env
from auth.settings import providers_from_env

ALICE = {
    "sub": "alice-1",
    "email": "alice@example.com",
    "email_verified": True,
    "name": "Alice Doe",
    "groups": ["sales"],
}


def provider_env(name: str, issuer: str) -> dict:
    prefix = f"OIDC_{name.upper()}_"
    return {
        prefix + "CLIENT_ID": CLIENT_ID,
        prefix + "CLIENT_SECRET": CLIENT_SECRET,
        prefix + "ISSUER": issuer,
        prefix + "GROUPS_CLAIM": "groups",
    }


def oidc_app(files, issuer, names=("generic",), methods=("basic", "oidc"), **changes):
    env = {}
    for name in names:
        env.update(provider_env(name, issuer))
    providers = providers_from_env({**env, "OIDC_PROVIDERS": ",".join(names)})
    settings = make_settings(files, methods=methods, providers=providers, oidc_timeout_seconds=1, **changes)
    return create_app(settings)


@pytest.fixture
def idp():
    with FakeProvider(user=dict(ALICE)) as provider:
        yield provider


@pytest.fixture
def app(files, idp):
    return oidc_app(files, idp.issuer)


def start(client, idp_name="generic", next_path="/dashboard"):
    response = client.get(f"/oidc/{idp_name}/login?next={next_path}")
    assert response.status_code == 302, response.text
    return response.headers["Location"]


def at_provider(authorize_url: str) -> str:
    """The browser's visit to the provider: it signs the user in and sends back a callback URL."""
    answer = requests.get(authorize_url, allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def sign_in_via_provider(client, next_path="/dashboard"):
    return client.get(path_of(at_provider(start(client, next_path=next_path))))


def session_of(app, client) -> dict:
    cookie = client.get_cookie("session")
    if cookie is None:
        return {}
    return app.server.session_interface.get_signing_serializer(app.server).loads(cookie.value)


def test_sign_in_returns_to_deep_link_with_groups_from_claim(app, idp):
    client = app.server.test_client()
    authorize = start(client)
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]
    assert query["redirect_uri"] == ["http://localhost/oidc/generic/callback"]
    response = client.get(path_of(at_provider(authorize)))
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard"
    layout = client.get("/_dash-layout").text
    assert "Alice Doe" in layout and "sales" in layout
    assert client.get("/dashboard", headers=HTML).status_code == 200


def test_claims_only_in_userinfo_are_read(files):
    with FakeProvider(user=dict(ALICE), claims_in_id_token=False) as idp:
        app = oidc_app(files, idp.issuer)
        client = app.server.test_client()
        assert sign_in_via_provider(client).status_code == 302
        data = session_of(app, client)["auth"]
        assert data["email"] == "alice@example.com" and data["groups"] == ["sales"]


@pytest.mark.parametrize("verified, expected", [(True, 200), (False, 403)])
def test_groups_file_matches_email_only_when_verified(files, verified, expected):
    (files / "groups.toml").write_text('admin = ["Alice@Example.com"]\n')
    with FakeProvider(user={**ALICE, "email_verified": verified}) as idp:
        app = oidc_app(files, idp.issuer)
        client = app.server.test_client()
        sign_in_via_provider(client)
        assert client.get("/admin", headers=HTML).status_code == expected


def test_unknown_user_of_an_open_provider_gets_no_groups(files):
    with FakeProvider(
        user={"sub": "x", "email": "stranger@gmail.example", "email_verified": True, "name": "Stranger"}
    ) as idp:
        app = oidc_app(files, idp.issuer)
        client = app.server.test_client()
        sign_in_via_provider(client)
        assert session_of(app, client)["auth"]["groups"] == []
        assert client.get("/admin", headers=HTML).status_code == 403
        assert client.get("/dashboard", headers=HTML).status_code == 200


@pytest.mark.parametrize(
    "fault, status",
    [
        ("wrong_issuer", 401),
        ("wrong_audience", 401),
        ("other_audience_with_azp", 401),
        ("alg_none", 401),
        ("no_id_token", 401),
        ("expired", 401),
        ("wrong_nonce", 401),
        ("bad_signature", 401),
        ("token_error", 401),
        ("slow", 504),
    ],
)
def test_every_bad_answer_fails_closed(app, idp, fault, status):
    idp.misbehave = fault
    client = app.server.test_client()
    response = sign_in_via_provider(client)
    assert response.status_code == status
    assert "Traceback" not in response.text
    assert "auth" not in session_of(app, client)
    assert client.get("/dashboard", headers=HTML).status_code == 302


def test_userinfo_about_someone_else_is_refused(files):
    with FakeProvider(user=dict(ALICE), claims_in_id_token=False, misbehave="userinfo_other_sub") as idp:
        app = oidc_app(files, idp.issuer)
        client = app.server.test_client()
        assert sign_in_via_provider(client).status_code == 401
        assert "auth" not in session_of(app, client)


def test_discovery_naming_another_issuer_stops_before_redirect(app, idp):
    idp.misbehave = "discovery_other_issuer"
    response = app.server.test_client().get("/oidc/generic/login", headers=HTML)
    assert response.status_code == 502
    assert "misconfigured" in response.text


def test_provider_down_gives_a_friendly_page(files):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    app = oidc_app(files, f"http://127.0.0.1:{port}")
    response = app.server.test_client().get("/oidc/generic/login", headers=HTML)
    assert response.status_code == 502
    assert "could not be reached" in response.text


def test_provider_error_is_shown_escaped(app):
    client = app.server.test_client()
    response = client.get(
        "/oidc/generic/callback?error=<script>alert(1)</script>"
        "&error_description=<img src=x onerror=alert(2)>",
        headers=HTML,
    )
    assert response.status_code == 401
    assert "<script>" not in response.text and "<img" not in response.text
    assert "&lt;script&gt;" in response.text


def test_callback_for_one_provider_at_anothers_route_is_refused(files, idp):
    app = oidc_app(files, idp.issuer, names=("generic", "keycloak"))
    client = app.server.test_client()
    callback = at_provider(start(client, "generic"))
    response = client.get(path_of(callback).replace("/oidc/generic/", "/oidc/keycloak/"), headers=HTML)
    assert response.status_code == 400
    assert "auth" not in session_of(app, client)


def test_callback_cannot_be_replayed(app, idp):
    client = app.server.test_client()
    callback = path_of(at_provider(start(client)))
    assert client.get(callback).status_code == 302
    client.post("/logout")
    assert client.get(callback, headers=HTML).status_code == 400


def test_iss_parameter_from_another_provider_is_refused(app, idp):
    client = app.server.test_client()
    callback = path_of(at_provider(start(client))).replace("iss=", "iss=https%3A%2F%2Fmixup.example&x=")
    assert client.get(callback, headers=HTML).status_code == 400


def test_provider_without_settings_is_shown_with_a_hint(files, idp):
    env = provider_env("generic", idp.issuer)
    providers = (provider_from_env("generic", env), provider_from_env("okta", {}))
    app = create_app(make_settings(files, methods=("basic", "oidc"), providers=providers))
    client = app.server.test_client()
    page = client.get("/login").text
    assert "Okta: not configured" in page and "OIDC_OKTA_CLIENT_ID" in page
    response = client.get("/oidc/okta/login", headers=HTML)
    assert response.status_code == 503 and "OIDC_OKTA_CLIENT_ID" in response.text
    assert client.get("/oidc/nosuch/login", headers=HTML).status_code == 404
    assert sign_in_via_provider(client).status_code == 302  # the other one still works


def test_single_provider_without_passwords_goes_straight_there(files, idp):
    app = oidc_app(files, idp.issuer, methods=("oidc",))
    response = app.server.test_client().get("/login?next=/admin")
    assert response.status_code == 302
    assert response.headers["Location"] == "/oidc/generic/login?next=/admin"


def test_each_tab_signing_in_returns_to_its_own_page(app, idp):
    client = app.server.test_client()
    first_tab = at_provider(start(client, next_path="/admin"))
    at_provider(start(client, next_path="/dashboard"))  # a second tab starts later
    assert client.get(path_of(first_tab)).headers["Location"] == "/admin"


def test_cookie_stays_small_after_abandoned_sign_ins(app, idp):
    client = app.server.test_client()
    for _ in range(40):
        start(client)
    assert len(client.get_cookie("session").value) < 4096
    assert sign_in_via_provider(client).status_code == 302  # the latest one still finishes


def test_user_in_200_groups_fits_and_keeps_every_group(files):
    groups = [f"00000000-0000-0000-0000-{n:012d}" for n in range(200)]  # Entra-style group ids
    with FakeProvider(user={**ALICE, "groups": groups}) as idp:
        app = oidc_app(files, idp.issuer)
        client = app.server.test_client()
        sign_in_via_provider(client)
        assert len(client.get_cookie("session").value) < 4096
        layout = client.get("/_dash-layout").text
        assert groups[0] in layout and groups[-1] in layout


def test_no_tokens_in_the_cookie(app, idp):
    client = app.server.test_client()
    sign_in_via_provider(client)
    data = session_of(app, client)
    text = str(data)
    assert "eyJ" not in text  # no JWT
    assert set(data["auth"]) <= {
        "v",
        "sub",
        "id",
        "name",
        "provider",
        "email",
        "email_verified",
        "groups",
        "sid",
        "at",
        "seen",
        "groups_in_store",
    }


def test_sign_out_ends_the_provider_session_too(app, idp):
    client = app.server.test_client()
    sign_in_via_provider(client)
    response = client.post("/logout")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{idp.issuer}/logout"
    query = parse_qs(location.query)
    assert query["post_logout_redirect_uri"] == ["http://localhost/"]
    assert "state" not in query  # the provider sends the browser back to exactly the home page
    assert query["client_id"] == [CLIENT_ID] and query["id_token_hint"][0].startswith("eyJ")
    assert client.get("/dashboard", headers=HTML).status_code == 302


def test_sign_in_hook_adds_groups(files, idp):
    seen = {}

    def extra_groups(provider, claims, token):
        seen.update(provider=provider, email=claims["email"], has_access_token="access_token" in token)
        return ["from-hook"]

    env = {**provider_env("generic", idp.issuer), "OIDC_PROVIDERS": "generic"}
    settings = make_settings(files, methods=("basic", "oidc"), providers=providers_from_env(env))
    app = create_app(settings, on_sign_in=extra_groups)
    client = app.server.test_client()
    sign_in_via_provider(client)
    assert seen == {"provider": "generic", "email": "alice@example.com", "has_access_token": True}
    assert "from-hook" in session_of(app, client)["auth"]["groups"]


@pytest.mark.parametrize(
    "tenants, fault, status",
    [
        ("", "none", 302),
        ("tenant-a", "none", 302),
        ("tenant-b", "none", 403),
        ("", "other_tenant_issuer", 401),
    ],
)
def test_microsoft_multi_tenant_issuer_is_checked_against_the_tokens_tenant(files, tenants, fault, status):
    with FakeProvider(user=dict(ALICE), tenant="tenant-a", misbehave=fault) as idp:
        env = {
            **provider_env("microsoft", f"{idp.issuer}/organizations/v2.0"),
            "OIDC_MICROSOFT_DISCOVERY_URL": f"{idp.issuer}/.well-known/openid-configuration",
            "OIDC_MICROSOFT_TENANTS": tenants,
        }
        settings = make_settings(
            files, methods=("basic", "oidc"), providers=(provider_from_env("microsoft", env),)
        )
        client = create_app(settings).server.test_client()
        callback = at_provider(start(client, "microsoft"))
        assert client.get(path_of(callback), headers=HTML).status_code == status


# Served at /reports/ itself, or behind a proxy that strips /reports before passing the request on.
@pytest.mark.parametrize(
    ("setting", "served_at"), [("DASH_URL_BASE_PATHNAME", "/reports"), ("DASH_REQUESTS_PATHNAME_PREFIX", "")]
)
def test_single_sign_on_under_a_path_prefix(monkeypatch, files, idp, setting, served_at):
    monkeypatch.setenv(setting, "/reports/")
    client = oidc_app(files, idp.issuer).server.test_client()
    authorize = client.get(f"{served_at}/oidc/generic/login?next=/reports/dashboard").headers["Location"]
    query = parse_qs(urlsplit(authorize).query)
    assert query["redirect_uri"] == ["http://localhost/reports/oidc/generic/callback"]
    callback = served_at + path_of(at_provider(authorize)).removeprefix("/reports")
    assert client.get(callback).headers["Location"] == "/reports/dashboard"
    logout = parse_qs(urlsplit(client.post(f"{served_at}/logout").headers["Location"]).query)
    assert logout["post_logout_redirect_uri"] == ["http://localhost/reports/"]


GRACE = {"sub": "grace-1", "email": "grace@example.com", "email_verified": True, "name": "Grace"}


@pytest.fixture
def two_providers(files):
    """generic and google, each a provider of its own that signs in the same Grace (same sub and e-mail)."""
    with FakeProvider(user=dict(GRACE)) as generic, FakeProvider(user=dict(GRACE)) as google:

        def build(groups_toml: str, **trust: str):
            (files / "groups.toml").write_text(groups_toml)
            env = {
                "SECRET_KEY": secrets.token_urlsafe(48),
                "AUTH_METHODS": "both",
                "OIDC_PROVIDERS": "generic,google",
                **provider_env("generic", generic.issuer),
                **provider_env("google", google.issuer),
                **{f"OIDC_{name.upper()}_TRUST_EMAIL": value for name, value in trust.items()},
            }
            return create_app(Settings.from_env(env, root=files))

        yield build


def admin_page_through(app, provider: str) -> int:
    """Sign Grace in through this provider; the status of /admin for her then."""
    client = app.server.test_client()
    assert client.get(path_of(at_provider(start(client, provider)))).status_code == 302
    return client.get("/admin", headers=HTML).status_code


def test_plain_email_entry_gives_groups_only_through_providers_trusted_for_email(two_providers):
    app = two_providers('admin = ["grace@example.com"]\n', generic="false", google="true")
    assert admin_page_through(app, "generic") == 403, "a provider not trusted for e-mail lends no groups"
    assert admin_page_through(app, "google") == 200


def test_entry_naming_provider_and_subject_matches_only_that_provider(two_providers):
    app = two_providers('admin = ["generic:sub:grace-1"]\n', generic="true", google="true")
    assert admin_page_through(app, "generic") == 200
    assert admin_page_through(app, "google") == 403, "the same subject at another provider is someone else"


def test_entry_naming_provider_and_email_matches_only_that_provider(two_providers):
    app = two_providers('admin = ["google:grace@example.com"]\n', generic="true", google="true")
    assert admin_page_through(app, "google") == 200
    assert admin_page_through(app, "generic") == 403
