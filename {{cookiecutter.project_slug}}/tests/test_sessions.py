"""Session cookies: flags, timeouts, tampering, key rotation, proxies."""

import time

import pytest
from conftest import HTML, make_settings, sign_in
from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from app import create_app


def cookie_signed_with(app, key: str, data: dict) -> str:
    """A session cookie as an attacker (or an older deployment) holding ``key`` would make it."""
    other = Flask("forger")
    other.secret_key = key
    return SecureCookieSessionInterface().get_signing_serializer(other).dumps(data)


def session_data(app, client) -> dict:
    serializer = app.server.session_interface.get_signing_serializer(app.server)
    return serializer.loads(client.get_cookie("session").value)


@pytest.mark.parametrize("key", ["secret", "dev", "", "another-projects-key-0123456789-abcdefghij"])
def test_cookie_forged_with_another_key_counts_as_signed_out(app, alice, key):
    data = session_data(app, alice)
    data["auth"]["groups"] = ["admin"]
    forger = app.server.test_client()
    forger.set_cookie("session", cookie_signed_with(app, key or "x", data) if key else "e30.AAAA.BBBB")
    assert forger.get("/dashboard", headers=HTML).status_code == 302
    assert forger.get("/admin", headers=HTML).status_code == 302


def test_tampered_or_truncated_cookie_counts_as_signed_out(app, alice):
    value = alice.get_cookie("session").value
    for broken in (value[:-5], value.replace(".", "!", 1), value[:20], "garbage"):
        client = app.server.test_client()
        client.set_cookie("session", broken)
        assert client.get("/dashboard", headers=HTML).status_code == 302


def test_session_is_renewed_at_sign_in(app, client):
    client.get("/login")
    client.set_cookie("session", cookie_signed_with(app, app.server.secret_key, {"planted": "by attacker"}))
    sign_in(client, "alice")
    assert "planted" not in session_data(app, client)


@pytest.mark.parametrize("field, age_minutes", [("seen", 481), ("at", 1441)])
def test_idle_and_absolute_timeouts(app, alice, field, age_minutes):
    data = session_data(app, alice)
    data["auth"][field] = int(time.time()) - age_minutes * 60
    alice.set_cookie("session", cookie_signed_with(app, app.server.secret_key, data))
    assert alice.get("/dashboard", headers=HTML).status_code == 302


def test_key_rotation_keeps_old_sessions_and_signs_new_ones_with_the_new_key(files, app, alice):
    old_key = app.server.secret_key
    old_cookie = alice.get_cookie("session").value
    rotated = create_app(
        make_settings(files, secret_key="n" * 40 + "Ew4Key", secret_key_fallbacks=(old_key,))
    )
    client = rotated.server.test_client()
    client.set_cookie("session", old_cookie)
    assert client.get("/dashboard", headers=HTML).status_code == 200
    fresh = rotated.server.test_client()
    sign_in(fresh, "alice")
    new_cookie = fresh.get_cookie("session").value
    old_only = create_app(make_settings(files, secret_key=old_key))
    check = old_only.server.test_client()
    check.set_cookie("session", new_cookie)
    assert check.get("/dashboard", headers=HTML).status_code == 302, "new cookies use the new key only"


def test_changed_key_gives_sign_in_again_not_an_error(files, alice):
    cookie = alice.get_cookie("session").value
    changed = create_app(make_settings(files)).server.test_client()
    changed.set_cookie("session", cookie)
    response = changed.get("/dashboard", headers=HTML)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


SPOOFED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example", "X-Forwarded-For": "6.6.6.6"}


def session_cookie(response) -> str:
    """The session's Set-Cookie (a password sign-in also sets the device cookie)."""
    return next(c for c in response.headers.getlist("Set-Cookie") if "session=" in c)


def test_spoofed_forwarded_headers_change_nothing_without_a_trusted_proxy(client):
    response = client.post(
        "/login", data={"username": "alice", "password": "alice-password-1234"}, headers=SPOOFED
    )
    cookie = session_cookie(response)
    assert cookie.startswith("session=") and "Secure" not in cookie
    response = client.get("/dashboard", headers={**HTML, **SPOOFED})
    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response.headers


def test_behind_a_trusted_https_proxy_cookies_are_secure_and_host_only(files):
    app = create_app(make_settings(files, proxy_hops=1))
    client = app.server.test_client()
    proxy = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "dash.example.com"}
    response = client.post(
        "/login",
        data={"username": "alice", "password": "alice-password-1234"},
        headers=proxy,
        base_url="https://dash.example.com",
    )
    cookie = session_cookie(response)
    assert cookie.startswith("__Host-session=") and "Secure" in cookie and "Path=/" in cookie
    device = next(c for c in response.headers.getlist("Set-Cookie") if "device=" in c)
    assert device.startswith("__Host-device=") and "Secure" in device and "HttpOnly" in device
    assert "Domain" not in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_public_url_makes_cookies_secure(files):
    app = create_app(make_settings(files, public_url="https://dash.example.com"))
    response = sign_in(app.server.test_client(), "alice")
    assert "Secure" in response.headers["Set-Cookie"]


def test_content_security_policy_allows_dash_and_forbids_framing(client):
    policy = client.get("/").headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "'sha256-" in policy
    assert "unsafe-eval" not in policy and "script-src 'self'" in policy


@pytest.mark.parametrize("store", ["filesystem"])
def test_server_side_sessions_keep_only_an_id_in_the_cookie_and_sign_out_deletes(files, store):
    app = create_app(make_settings(files, session_store=store))
    client = app.server.test_client()
    client.get("/login")
    sign_in(client, "alice")
    cookie = client.get_cookie("session").value
    assert "." not in cookie and len(cookie) < 64, "an opaque id, not signed data"
    stored = list((files / "instance" / "sessions").iterdir())
    assert stored
    assert client.get("/dashboard", headers=HTML).status_code == 200
    client.post("/logout")
    thief = app.server.test_client()
    thief.set_cookie("session", cookie)
    assert thief.get("/dashboard", headers=HTML).status_code == 302
    assert not any(path.exists() for path in stored), "sign-out deleted the session"


def test_server_side_session_gets_a_new_id_at_sign_in(files):
    app = create_app(make_settings(files, session_store="filesystem"))
    client = app.server.test_client()
    sign_in(client, "alice")
    first = client.get_cookie("session").value
    sign_in(client, "admin")
    assert client.get_cookie("session").value != first
