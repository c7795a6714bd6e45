"""Password sign-in: the form, the Authorization header, sign-out, and changes to the files."""

import base64
import json

import pytest
from conftest import HTML, PASSWORDS, basic, make_settings, sign_in

from app import create_app
from auth.passwords import UsersFile


def test_sign_in_form_is_a_styled_page(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert 'name="username"' in response.text and 'type="password"' in response.text
    assert "style.css" in response.text


def test_sign_in_returns_to_the_deep_link(client):
    response = sign_in(client, "alice", next_path="/dashboard?metric=revenue")
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard?metric=revenue"
    assert client.get("/dashboard", headers=HTML).status_code == 200


@pytest.mark.parametrize("name, password", [("alice", "wrong-password-1234"), ("nobody", "whatever-123456")])
def test_wrong_password_and_unknown_user_get_the_same_answer(client, name, password):
    response = sign_in(client, name, password)
    assert response.status_code == 401
    assert "Wrong username or password." in response.text
    assert f'value="{name}"' in response.text  # what was typed is kept
    assert client.get("/dashboard", headers=HTML).status_code == 302


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "/\\evil.example",
        "https://evil.example",
        "javascript:alert(1)",
        "/%2F/evil.example",
        "%2F%2Fevil.example",
        "/%5Cevil.example",
        "/%252F%252Fevil.example",
        "http:/evil.example",
        "\t//evil.example",
        "/ok\r\nSet-Cookie: x=y",
    ],
)
def test_sign_in_never_redirects_off_site(client, target):
    response = sign_in(client, "alice", next_path=target)
    assert response.headers["Location"] == "/"


def test_session_cookie_flags(client):
    response = sign_in(client, "alice")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_script_with_authorization_header(client):
    response = client.get("/_dash-layout", headers=basic(b"alice:" + PASSWORDS["alice"].encode()))
    assert response.status_code == 200
    assert "alice" in response.text


def test_wrong_header_credentials_get_a_challenge(client):
    response = client.get("/dashboard", headers=basic(b"alice:nope"))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic realm=")


def test_browser_fetch_gets_401_without_a_challenge(client):
    """No WWW-Authenticate for fetch(): it would pop up the browser's own dialog."""
    response = client.post(
        "/_dash-update-component",
        json={"output": "..chart.figure...summary.children.."},
        headers={"Sec-Fetch-Mode": "cors", "Sec-Fetch-Site": "same-origin"},
    )
    assert response.status_code == 401
    assert "WWW-Authenticate" not in response.headers


@pytest.mark.parametrize(
    "header",
    [
        "Bearer abc.def.ghi",
        "Basic",
        "Basic !!!not-base64!!!",
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode(),
        "Basic " + base64.b64encode(b":password-only").decode(),
        "Basic " + "A" * 10000,
        "Digest username=alice",
        "basic " + base64.b64encode(b"alice:wrong").decode(),
    ],
)
def test_malformed_authorization_headers_get_401_not_500(client, header):
    response = client.get("/dashboard", headers={"Authorization": header})
    assert response.status_code == 401
    assert "Traceback" not in response.text


def test_scheme_is_case_insensitive_as_rfc_9110_says(client):
    token = base64.b64encode(b"alice:" + PASSWORDS["alice"].encode()).decode()
    assert client.get("/dashboard", headers={"Authorization": f"basic {token}"}).status_code == 200


def test_changed_password_is_refused_at_once(client, settings):
    headers = basic(b"alice:" + PASSWORDS["alice"].encode())
    assert client.get("/dashboard", headers=headers).status_code == 200
    UsersFile(settings.users_file).add("alice", "a-brand-new-password")
    assert client.get("/dashboard", headers=headers).status_code == 401


def test_a_scripts_known_password_is_counted_again_after_any_failure(app, client, monkeypatch):
    store = app.server.extensions["dash_auth"].store
    counted = []
    count = store.count_attempt
    monkeypatch.setattr(
        store, "count_attempt", lambda counter, window: counted.append(counter) or count(counter, window)
    )
    right, wrong = basic(b"alice:" + PASSWORDS["alice"].encode()), basic(b"alice:nope")
    assert client.get("/dashboard", headers=right).status_code == 200
    assert counted, "the first time, scrypt checks it: counted like any attempt"
    counted.clear()
    for _ in range(3):
        assert client.get("/dashboard", headers=right).status_code == 200
    assert counted == [], "known right, no failure counted: nothing to count"
    assert client.get("/dashboard", headers=wrong).status_code == 401
    counted.clear()
    assert client.get("/dashboard", headers=right).status_code == 200
    assert counted, "after a failure, the known password is counted again"


def test_sign_out_really_signs_out(alice):
    assert alice.get("/dashboard", headers=HTML).status_code == 200
    response = alice.post("/logout")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert alice.get("/dashboard", headers=HTML).status_code == 302


def test_cookie_copied_before_sign_out_is_refused_after(app, alice):
    stolen = alice.get_cookie("session").value
    alice.post("/logout")
    thief = app.server.test_client()
    thief.set_cookie("session", stolen)
    assert thief.get("/dashboard", headers=HTML).status_code == 302


def test_sign_out_from_another_site_is_refused(alice):
    response = alice.post("/logout", headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 403
    assert alice.get("/dashboard", headers=HTML).status_code == 200
    response = alice.post("/logout", headers={"Origin": "https://evil.example"})
    assert response.status_code == 403


def test_get_logout_asks_before_signing_out(alice):
    response = alice.get("/logout")
    assert response.status_code == 200 and 'method="post"' in response.text
    assert alice.get("/dashboard", headers=HTML).status_code == 200


def test_removed_user_loses_access_on_next_request(alice, settings):
    UsersFile(settings.users_file).remove("alice")
    assert alice.get("/dashboard", headers=HTML).status_code == 302


def test_new_password_ends_sessions_signed_in_with_the_old_one(alice, settings):
    UsersFile(settings.users_file).add("alice", "a-brand-new-password")
    assert alice.get("/dashboard", headers=HTML).status_code == 302


def test_groups_file_edits_apply_at_the_next_request_without_restart(alice, settings):
    assert alice.get("/admin", headers=HTML).status_code == 403
    settings.groups_file.write_text('admin = ["admin", "alice"]\n')
    assert alice.get("/admin", headers=HTML).status_code == 200
    assert alice.get("/admin", headers=HTML).status_code == 200  # the answer kept for the new version
    settings.groups_file.write_text('admin = ["admin"]\n')
    assert alice.get("/admin", headers=HTML).status_code == 403


def test_with_file_check_seconds_0_a_users_file_edit_applies_at_the_next_request(files):
    client = create_app(make_settings(files, file_check_seconds=0)).server.test_client()
    sign_in(client, "alice")
    records = json.loads((files / "users.json").read_text())
    del records["alice"]
    (files / "users.json").write_text(json.dumps(records))  # by hand: no tick of its clock
    assert client.get("/dashboard", headers=HTML).status_code == 302


def test_users_removed_by_hand_are_signed_out_within_a_second(alice, settings, a_second_later):
    records = json.loads(settings.users_file.read_text())
    del records["alice"]
    settings.users_file.write_text(json.dumps(records))  # by hand: no tick of its clock
    a_second_later()
    assert alice.get("/dashboard", headers=HTML).status_code == 302


def test_broken_groups_file_keeps_the_last_good_version(alice, settings):
    settings.groups_file.write_text('admin = ["admin", "alice"]\n')
    assert alice.get("/admin", headers=HTML).status_code == 200
    settings.groups_file.write_text('admin = ["admin", \n')  # a typo mid-edit
    assert alice.get("/admin", headers=HTML).status_code == 200


def test_guessing_is_throttled_with_retry_after(client):
    for _ in range(10):
        assert sign_in(client, "alice", "wrong-password-1234").status_code == 401
    response = sign_in(client, "alice")  # even the right password waits now
    assert response.status_code == 401
    assert int(response.headers["Retry-After"]) > 0
    assert "Too many failed sign-ins" in response.text


def test_audit_log_has_one_line_per_event_and_no_secret(client, caplog):
    import json
    import logging

    caplog.set_level(logging.INFO, logger="auth.audit")
    sign_in(client, "alice", "wrong-password-1234")
    sign_in(client, "alice")
    client.get("/admin", headers=HTML)
    client.post("/logout")
    records = [json.loads(record.getMessage()) for record in caplog.records if record.name == "auth.audit"]
    assert [r["event"] for r in records] == ["sign-in-failed", "sign-in", "access-denied", "sign-out"]
    assert all(r["user"] == "alice" and r["address"] and r["time"] for r in records)
    text = caplog.text
    assert PASSWORDS["alice"] not in text and "wrong-password-1234" not in text
    assert client.get_cookie("session") is None or client.get_cookie("session").value not in text


def guess_ten_times(client, name: str) -> None:
    for n in range(10):
        assert sign_in(client, name, f"wrong-password-{n:04}").status_code == 401


def test_right_password_that_checked_out_before_is_throttled_on_the_form_after_ten_failures(app):
    """A password remembered as right on this worker is no way around the throttle."""
    owner, attacker = app.server.test_client(), app.server.test_client()
    assert sign_in(owner, "alice").status_code == 302
    assert owner.get("/dashboard", headers=basic(b"alice:" + PASSWORDS["alice"].encode())).status_code == 200
    guess_ten_times(attacker, "alice")
    response = sign_in(app.server.test_client(), "alice")
    assert response.status_code == 401 and int(response.headers["Retry-After"]) > 0
    assert "Too many failed sign-ins" in response.text


def test_right_password_that_checked_out_before_is_throttled_in_the_header_after_ten_failures(client):
    owner = basic(b"alice:" + PASSWORDS["alice"].encode())
    assert client.get("/dashboard", headers=owner).status_code == 200
    guess_ten_times(client, "alice")
    response = client.get("/dashboard", headers=owner)
    assert response.status_code == 401 and int(response.headers["Retry-After"]) > 0
    assert client.get("/dashboard", headers=basic(b"alice:another-guess-12")).status_code == 401
