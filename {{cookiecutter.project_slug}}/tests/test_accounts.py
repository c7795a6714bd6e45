"""Password accounts end to end: /account, sign out everywhere, two-step sign-in, tokens,
lock-outs that cannot be aimed at the owner, and the admin commands."""

import json
import logging
import re
import threading
import time

import pyotp
import pytest
from conftest import HTML, PASSWORDS, basic, sign_in

from auth.accounts.devices import LockoutPolicy
from auth.errors import Throttled
from auth.store import SQLiteBackend, Store
from auth.throttle import Throttle
from auth.web.identity import EXTENSION

NEW_PASSWORD = "copper kettle whistles at dawn"


def parts(app):
    return app.server.extensions[EXTENSION]


def audit_events(caplog) -> list[dict]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "auth.audit"]


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def two_step_for(app, name: str) -> tuple[str, list[str]]:
    """Turn it on as `flask users mfa` does: (the secret, the recovery codes)."""
    two_step = parts(app).accounts.turn_on_two_step(name)
    return pyotp.parse_uri(two_step.uri).secret, two_step.recovery_codes


def code(secret: str, later: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + later)


# /account -----------------------------------------------------------------------------


def test_header_user_box_links_to_the_account_page(alice):
    layout = alice.get("/_dash-layout").get_json()
    assert '"href": "/account"' in json.dumps(layout)


def test_account_page_says_who_you_are_and_lists_this_session(alice):
    page = alice.get("/account", headers={**HTML, "User-Agent": "Firefox/140"})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'id="account-name">alice<' in text and 'id="account-method">password<' in text
    assert "(this one)" in text and "Change your password" in text and "Sign out everywhere" in text


def test_account_page_needs_sign_in(client):
    assert client.get("/account", headers=HTML).status_code == 302


def test_password_change_needs_the_current_password(alice):
    response = alice.post("/account/password", data={"current": "not-my-password-1", "new": NEW_PASSWORD})
    assert response.status_code == 401 and "Current password" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("new", "reason"),
    [
        ("short-one", "at least 15 characters"),
        ("password12345678", "common password"),
        ("alice12345678901", "your username"),
    ],
)
def test_weak_new_password_is_refused_with_the_reason(alice, new, reason):
    response = alice.post("/account/password", data={"current": PASSWORDS["alice"], "new": new})
    assert response.status_code == 400
    assert reason in response.get_data(as_text=True)
    assert 'class="alert"' in response.get_data(as_text=True)


def test_password_change_keeps_this_session_and_ends_every_other(app, alice, caplog):
    caplog.set_level(logging.INFO, logger="auth.audit")
    laptop = app.server.test_client()
    assert sign_in(laptop, "alice").status_code == 302
    response = alice.post("/account/password", data={"current": PASSWORDS["alice"], "new": NEW_PASSWORD})
    assert response.status_code == 302 and "done=password" in response.headers["Location"]
    assert alice.get("/dashboard", headers=HTML).status_code == 200
    assert laptop.get("/dashboard", headers=HTML).status_code == 302
    assert sign_in(app.server.test_client(), "alice", NEW_PASSWORD).status_code == 302
    assert "password-changed" in [e["event"] for e in audit_events(caplog)]
    assert NEW_PASSWORD not in caplog.text


def test_one_session_is_ended_from_the_account_page(app, alice):
    laptop = app.server.test_client()
    assert sign_in(laptop, "alice").status_code == 302
    text = alice.get("/account", headers=HTML).get_data(as_text=True)
    rows = re.findall(r'<tr>\s*<td>([^<]*)(<strong>)?.*?name="sid" value="([0-9a-f]+)"', text, re.S)
    other = next(handle for _agent, this_one, handle in rows if not this_one)
    assert alice.post("/account/sessions/end", data={"sid": other}).status_code == 302
    assert laptop.get("/dashboard", headers=HTML).status_code == 302
    assert alice.get("/dashboard", headers=HTML).status_code == 200


def test_sign_out_everywhere_ends_this_session_too(app, alice, caplog):
    caplog.set_level(logging.INFO, logger="auth.audit")
    laptop = app.server.test_client()
    assert sign_in(laptop, "alice").status_code == 302
    assert alice.post("/account/sign-out-everywhere").status_code == 302
    assert alice.get("/dashboard", headers=HTML).status_code == 302
    assert laptop.get("/dashboard", headers=HTML).status_code == 302
    assert "signed-out-everywhere" in [e["event"] for e in audit_events(caplog)]


def test_sign_out_everywhere_from_another_site_is_refused(alice):
    response = alice.post("/account/sign-out-everywhere", headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert alice.get("/dashboard", headers=HTML).status_code == 200


# Two-step sign-in ------------------------------------------------------------------


def test_two_step_set_up_on_the_account_page_with_an_inline_qr_code(app, alice, caplog):
    caplog.set_level(logging.INFO, logger="auth.audit")
    assert alice.post("/account/two-step/start").status_code == 302
    page = alice.get("/account", headers=HTML).get_data(as_text=True)
    assert "<svg" in page and "https://" not in page.split("<svg", 1)[1].split("</svg>")[0].replace(
        "http://www.w3.org", ""
    )
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    assert alice.post("/account/two-step/confirm", data={"code": "000000"}).status_code == 400
    confirmed = alice.post("/account/two-step/confirm", data={"code": code(secret)})
    codes = re.findall(r"<li>([a-z2-9-]{19})</li>", confirmed.get_data(as_text=True))
    assert confirmed.status_code == 200 and len(codes) == 10
    assert parts(app).accounts.two_step_on("alice")
    assert secret not in alice.get("/account", headers=HTML).get_data(as_text=True)  # shown once only
    assert "two-step-on" in [e["event"] for e in audit_events(caplog)]
    assert secret not in caplog.text


def test_with_two_step_on_the_password_leads_to_the_code_page_and_only_then_signs_in(app, client):
    secret, _ = two_step_for(app, "alice")
    response = sign_in(client, "alice", next_path="/dashboard")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login/code")
    assert client.get("/dashboard", headers=HTML).status_code == 302  # nobody signed in yet
    session_cookie = client.get_cookie("session").value
    assert PASSWORDS["alice"] not in session_cookie and secret not in session_cookie
    assert "Enter your code" in client.get("/login/code").get_data(as_text=True)
    response = client.post("/login/code", data={"code": code(secret)})
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard"
    assert client.get("/dashboard", headers=HTML).status_code == 200


def test_a_wrong_code_signs_nobody_in_and_counts_as_a_failed_attempt(app, client, caplog):
    caplog.set_level(logging.INFO, logger="auth.audit")
    secret, _ = two_step_for(app, "alice")
    sign_in(client, "alice")
    wrong = next(
        c for c in ("000000", "111111", "222222") if c not in {code(secret, d) for d in (-30, 0, 30)}
    )
    response = client.post("/login/code", data={"code": wrong})
    assert response.status_code == 401 and "not right" in response.get_data(as_text=True)
    assert client.get("/dashboard", headers=HTML).status_code == 302
    assert [e["event"] for e in audit_events(caplog)][-1] == "sign-in-failed"


def test_a_code_is_accepted_once(app):
    secret, _ = two_step_for(app, "alice")
    first, second = app.server.test_client(), app.server.test_client()
    sign_in(first, "alice")
    sign_in(second, "alice")
    now = code(secret)
    assert first.post("/login/code", data={"code": now}).status_code == 302
    assert second.post("/login/code", data={"code": now}).status_code == 401


def test_a_recovery_code_works_once(app, caplog):
    caplog.set_level(logging.INFO, logger="auth.audit")
    _, codes = two_step_for(app, "alice")
    first, second = app.server.test_client(), app.server.test_client()
    sign_in(first, "alice")
    assert first.post("/login/code", data={"code": codes[0].upper()}).status_code == 302
    assert first.get("/dashboard", headers=HTML).status_code == 200
    sign_in(second, "alice")
    assert second.post("/login/code", data={"code": codes[0]}).status_code == 401
    assert "recovery-code-used" in [e["event"] for e in audit_events(caplog)]
    assert codes[0] not in caplog.text


def test_a_half_done_sign_in_expires(app, client, monkeypatch):
    secret, _ = two_step_for(app, "alice")
    sign_in(client, "alice")
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 301)
    assert client.post("/login/code", data={"code": code(secret, 301)}).status_code == 302
    assert client.get("/dashboard", headers=HTML).status_code == 302


def test_basic_header_with_the_password_alone_is_refused_when_two_step_is_on(app, client):
    two_step_for(app, "alice")
    header = basic(b"alice:" + PASSWORDS["alice"].encode())
    assert client.get("/dashboard", headers=header).status_code == 401


def test_two_step_turned_off_with_a_code(app, client):
    secret, _ = two_step_for(app, "alice")
    sign_in(client, "alice")
    client.post("/login/code", data={"code": code(secret)})
    assert client.post("/account/two-step/off", data={"code": "12"}).status_code == 401
    assert client.post("/account/two-step/off", data={"code": code(secret, 30)}).status_code == 302
    assert not parts(app).accounts.two_step_on("alice")


# Personal access tokens ------------------------------------------------------------


def test_token_made_on_the_account_page_acts_as_the_user_with_groups_until_revoked(app, admin, caplog):
    caplog.set_level(logging.INFO, logger="auth.audit")
    page = admin.post("/account/tokens", data={"label": "nightly"}).get_data(as_text=True)
    token = re.search(r'id="new-token">(dat_[A-Za-z0-9_-]{43})<', page).group(1)
    script = app.server.test_client()
    assert script.get("/admin", headers={**HTML, **bearer(token)}).status_code == 200
    assert script.get("/admin", headers={**HTML, **bearer(token)}).status_code == 200
    assert token not in admin.get("/account", headers=HTML).get_data(as_text=True)
    assert token not in parts(app).accounts.file.path.read_text()
    admin.post("/account/tokens/revoke", data={"label": "nightly"})
    assert script.get("/admin", headers=bearer(token)).status_code == 401
    events = [e["event"] for e in audit_events(caplog)]
    assert events.count("token-first-used") == 1 and "token-created" in events and "token-revoked" in events
    assert token not in caplog.text


def test_a_token_follows_group_edits_and_removal(app, client, settings):
    _, token = parts(app).accounts.new_token("alice")
    as_script = {**HTML, **bearer(token)}
    assert client.get("/admin", headers=as_script).status_code == 403
    settings.groups_file.write_text('admin = ["admin", "alice"]\n')
    assert client.get("/admin", headers=as_script).status_code == 200
    assert client.get("/admin", headers=as_script).status_code == 200  # the remembered answer
    settings.groups_file.write_text('admin = ["admin"]\n')
    assert client.get("/admin", headers=as_script).status_code == 403
    assert app.server.test_cli_runner().invoke(args=["users", "remove", "alice"]).exit_code == 0
    assert client.get("/dashboard", headers=bearer(token)).status_code == 401


def test_tokens_keep_working_while_the_password_is_guessed_at(app, client):
    _, token = parts(app).accounts.new_token("alice")
    for n in range(11):
        sign_in(client, "alice", f"wrong-password-{n:04}")
    assert sign_in(app.server.test_client(), "alice").status_code == 401  # the password waits
    assert client.get("/dashboard", headers={**HTML, **bearer(token)}).status_code == 200
    assert client.get("/dashboard", headers=bearer(token[:-1] + "x")).status_code == 401


# Guessing and lock-outs -------------------------------------------------------------


def test_the_device_cookie_is_httponly_long_lived_and_survives_sign_out(alice):
    header = next(h for h in alice.post("/logout").headers.getlist("Set-Cookie") if "session" in h)
    assert "device" not in header
    cookie = alice.get_cookie("device")
    assert cookie is not None and cookie.http_only and cookie.expires.year > time.gmtime().tm_year


def test_guessing_cannot_lock_the_owners_browser_out(app, alice):
    alice.post("/logout")
    attacker = app.server.test_client()
    for n in range(11):
        sign_in(attacker, "alice", f"wrong-password-{n:04}")
    assert sign_in(app.server.test_client(), "alice").status_code == 401  # unknown clients wait
    assert sign_in(alice, "alice").status_code == 302  # the owner's browser does not


def test_a_hundred_failures_lock_the_account_until_an_admin_unlocks_it(app, alice, caplog):
    caplog.set_level(logging.INFO, logger="auth.audit")
    alice.post("/logout")
    store = parts(app).store
    for _ in range(99):  # 99 failures already counted (each would cost a slow check)
        store.count_attempt("account:alice", 60)
    unknown = app.server.test_client()
    assert sign_in(unknown, "alice", "wrong-password-9999").status_code == 401
    assert "lock-out" in [e["event"] for e in audit_events(caplog)]
    store.delete("failures-turn:account:alice")  # however long one waits, it stays locked
    response = sign_in(unknown, "alice")
    assert response.status_code == 401 and int(response.headers["Retry-After"]) >= 60
    assert "locked" in response.get_data(as_text=True)
    runner = app.server.test_cli_runner()
    assert "Unlocked alice" in runner.invoke(args=["users", "unlock", "alice"]).output
    assert sign_in(unknown, "alice").status_code == 302
    assert "unlock" in [e["event"] for e in audit_events(caplog)]


def test_a_success_from_a_trusted_browser_lifts_a_lock(app, alice):
    alice.post("/logout")
    for _ in range(100):
        parts(app).store.count_attempt("account:alice", 60)
    assert sign_in(app.server.test_client(), "alice").status_code == 401
    assert sign_in(alice, "alice").status_code == 302
    assert sign_in(app.server.test_client(), "alice").status_code == 302


def test_the_throttle_checks_one_attempt_per_wait_and_the_waits_grow(settings):
    store = Store(SQLiteBackend(settings.instance / "throttle.sqlite3"), "test:")
    throttle = Throttle(store, LockoutPolicy(first_wait_seconds=30), 30, 1000)
    checked = []

    def wrong() -> bool:
        checked.append(1)
        return False

    for _ in range(10):
        assert throttle.attempt("bob", "10.0.0.1", wrong) is False
    with pytest.raises(Throttled) as waited:
        throttle.attempt("bob", "10.0.0.2", wrong)
    assert len(checked) == 10 and 25 <= int(waited.value.headers["Retry-After"]) <= 30


def test_too_many_password_checks_at_once_get_a_quick_503(app, client):
    checks = parts(app).passwords._checks
    held = [checks.acquire(blocking=False) for _ in range(parts(app).settings.password_checks_at_once)]
    try:
        started = time.monotonic()
        response = sign_in(client, "alice", "not-remembered-12345")
        assert response.status_code == 503 and int(response.headers["Retry-After"]) > 0
        assert time.monotonic() - started < 0.4  # answered without running scrypt
    finally:
        for _ in held:
            checks.release()
    assert sign_in(client, "alice").status_code == 302  # not counted as a failure either


# Commands -----------------------------------------------------------------------------


def test_users_add_refuses_a_common_password_with_the_reason(app):
    result = app.server.test_cli_runner().invoke(
        args=["users", "add", "carol", "--password-stdin"], input="password123456789\n"
    )
    assert result.exit_code != 0 and "common password" in result.output


def test_users_mfa_prints_the_uri_then_ten_recovery_codes(app):
    output = app.server.test_cli_runner().invoke(args=["users", "mfa", "alice"]).output.splitlines()
    uri = next(line for line in output if line.startswith("otpauth://totp/"))
    assert pyotp.parse_uri(uri).issuer == app.title
    codes = output[next(i for i, line in enumerate(output) if "Recovery codes" in line) + 1 :]
    assert len(codes) == 10 and all(re.fullmatch(r"[a-z2-9]{4}(-[a-z2-9]{4}){3}", c) for c in codes)
    assert parts(app).accounts.two_step_on("alice")


def test_users_token_prints_once_lists_and_revokes(app, client):
    runner = app.server.test_cli_runner()
    token = runner.invoke(args=["users", "token", "alice", "--name", "ci"]).output.split()[-1]
    assert client.get("/dashboard", headers={**HTML, **bearer(token)}).status_code == 200
    listed = runner.invoke(args=["users", "token", "alice", "--list"]).output
    assert listed.startswith("ci\t") and token not in listed
    assert runner.invoke(args=["users", "token", "alice", "--revoke", "ci"]).exit_code == 0
    assert client.get("/dashboard", headers=bearer(token)).status_code == 401


def test_users_sign_out_ends_every_session_of_the_user(app, alice):
    output = app.server.test_cli_runner().invoke(args=["users", "sign-out", "alice"]).output
    assert "Ended 1 session" in output
    assert alice.get("/dashboard", headers=HTML).status_code == 302


def test_parallel_first_uses_of_a_token_all_work(app):
    _, token = parts(app).accounts.new_token("alice")
    answers = []
    threads = [
        threading.Thread(
            target=lambda: answers.append(
                app.server.test_client().get("/dashboard", headers={**HTML, **bearer(token)}).status_code
            )
        )
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [200] * 4
