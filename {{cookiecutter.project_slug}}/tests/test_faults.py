"""When the store or a file fails: 503 with Retry-After where it is needed, nothing lost, recovery by itself.

The store is broken for real: a Redis backend pointed at a port nobody listens on
(connection refused), or the SQLite file held locked by another connection.
"""

import base64
import json
import logging
import socket
import sqlite3
import subprocess
import sys
import zlib
from contextlib import contextmanager

import pytest
from conftest import HTML, PROJECT, make_settings, open_page, run_callback, sign_in

from app import create_app
from auth.health import Watched
from auth.store import RedisBackend


def parts(app):
    return app.server.extensions["dash_auth"]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # free once closed: connections are refused


@contextmanager
def store_down(app):
    """The store unreachable until the block ends, then the same store as before."""
    store, health = parts(app).store, parts(app).health
    working = store.backend
    store.backend = Watched(RedisBackend(f"redis://127.0.0.1:{closed_port()}/0"), health)
    try:
        yield
    finally:
        store.backend = working


def cookie_of(client) -> str:
    return client.get_cookie("session").value


def with_cookie(app, cookie: str):
    """Another browser holding a copy of a session cookie."""
    browser = app.server.test_client()
    browser.set_cookie("session", cookie)
    return browser


def audit_events(caplog, name: str) -> list[dict]:
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "auth.audit"]
    return [line for line in lines if line["event"] == name]


def test_signed_in_pages_and_callbacks_answer_503_with_retry_after_while_the_store_is_down(app, alice):
    with store_down(app):
        page = alice.get("/dashboard", headers=HTML)
        assert page.status_code == 503 and int(page.headers["Retry-After"]) > 0
        assert "text/html" in page.content_type and "try again" in page.get_data(as_text=True)
        callback = open_page(alice, "/dashboard")
        assert callback.status_code == 503 and "Retry-After" in callback.headers
        assert "try again" in callback.json["error"]
    assert alice.get("/dashboard", headers=HTML).status_code == 200, "back by itself"
    assert open_page(alice, "/dashboard").status_code == 200


def test_public_pages_and_the_sign_in_form_keep_working_while_the_store_is_down(app, alice):
    with store_down(app):
        assert alice.get("/", headers=HTML).status_code == 200
        assert app.server.test_client().get("/login", headers=HTML).status_code == 200
        assert alice.get("/assets/style.css").status_code == 200
        assert open_page(alice, "/").status_code == 200
    assert alice.get("/dashboard", headers=HTML).status_code == 200, "the cookie was kept"


def test_password_checks_are_refused_with_503_while_attempts_cannot_be_counted(app, client):
    with store_down(app):
        form = sign_in(client, "alice")
        assert form.status_code == 503 and "Retry-After" in form.headers
        assert "try again" in form.get_data(as_text=True)
        script = client.get(
            "/dashboard", headers={"Authorization": "Basic YWxpY2U6YWxpY2UtcGFzc3dvcmQtMTIzNA=="}
        )
        assert script.status_code == 503
    assert sign_in(client, "alice").status_code == 302


def test_healthz_names_the_failed_store_and_livez_checks_nothing(app, client):
    with store_down(app):
        health = client.get("/healthz")
        assert health.status_code == 503 and health.json == {"status": "degraded", "store": "unreachable"}
        assert client.get("/livez").status_code == 200
    assert client.get("/healthz").json == {"status": "ok"}


def test_an_outage_is_audited_once_and_its_end_once(app, alice, caplog):
    caplog.set_level(logging.INFO, logger="auth.audit")
    with store_down(app):
        for _ in range(5):
            alice.get("/dashboard", headers=HTML)
            alice.get("/healthz")
    for _ in range(3):
        assert alice.get("/dashboard", headers=HTML).status_code == 200
    (failed,) = audit_events(caplog, "dependency-failed")
    (recovered,) = audit_events(caplog, "dependency-recovered")
    assert failed["dependency"] == recovered["dependency"] == "store"
    assert "refused" in failed["reason"].lower()


def test_sign_out_during_an_outage_is_kept_and_the_copied_cookie_refused_after_it(app, alice):
    stolen = cookie_of(alice)
    with store_down(app):
        assert alice.post("/logout").status_code == 302
        assert with_cookie(app, stolen).get("/dashboard", headers=HTML).status_code == 302, (
            "refused here at once"
        )
    assert with_cookie(app, stolen).get("/dashboard", headers=HTML).status_code == 302
    assert not (parts(app).settings.instance / "pending-revocations.jsonl").exists(), "replayed"
    assert parts(app).store.is_revoked(session_of(stolen)["sid"]), "written to the store, for every host"


def session_of(cookie: str) -> dict:
    """What a session cookie says (signed, not encrypted)."""
    body = cookie.lstrip(".").split(".")[0]
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    return json.loads(zlib.decompress(raw) if cookie.startswith(".") else raw)["auth"]


def test_sign_out_everywhere_during_an_outage_ends_every_other_session(app):
    laptop, phone = app.server.test_client(), app.server.test_client()
    for browser in (laptop, phone):
        assert sign_in(browser, "alice").status_code == 302
    keep = session_of(cookie_of(laptop))["sid"]
    with app.server.app_context(), store_down(app):
        assert parts(app).sessions.end_all("alice", "sign-out-everywhere", keep=keep) == 0
    assert phone.get("/dashboard", headers=HTML).status_code == 302
    assert laptop.get("/dashboard", headers=HTML).status_code == 200
    assert parts(app).sessions.of_user("alice")[0].sid == keep


def test_without_a_local_fallback_a_sign_out_during_an_outage_says_it_did_not_complete(app, alice):
    parts(app).sessions.pending = None
    with store_down(app):
        answer = alice.post("/logout")
        assert answer.status_code == 503
    assert alice.get("/dashboard", headers=HTML).status_code == 200, "not signed out: the user was told"


def test_a_locked_sqlite_store_waits_briefly_then_answers_503(app, client):
    path = parts(app).settings.instance / "auth-store.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        answer = sign_in(client, "alice")
        assert answer.status_code == 503 and "Retry-After" in answer.headers
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert sign_in(client, "alice").status_code == 302


@pytest.mark.parametrize("name", ["users.json", "groups.toml"])
def test_an_unreadable_users_or_groups_file_keeps_the_last_good_version_and_degrades_health(
    files, name, a_second_later
):
    app = create_app(make_settings(files))
    client = app.server.test_client()
    original = (files / name).read_text()
    (files / name).write_text("{ this is not readable")
    a_second_later()
    health = client.get("/healthz")
    key = name.replace(".json", "_file").replace(".toml", "_file")
    assert health.status_code == 503 and health.json == {"status": "degraded", key: "unreadable"}
    assert sign_in(client, "admin").status_code == 302, "the last good version is in force"
    assert client.get("/admin", headers=HTML).status_code == 200
    (files / name).write_text(original)
    a_second_later()
    assert client.get("/healthz").json == {"status": "ok"}


def test_a_callback_of_a_protected_page_answers_503_as_json(app, alice):
    with store_down(app):
        answer = run_callback(
            alice, [("chart", "figure"), ("summary", "children")], [("metric", "value", "visits")]
        )
        assert answer.status_code == 503 and answer.is_json


def test_server_side_sessions_with_their_store_down_answer_503_not_500(files):
    down = f"redis://127.0.0.1:{closed_port()}/0"
    app = create_app(make_settings(files, session_store="redis", redis_url=down))
    client = with_cookie(app, "id-of-a-session-kept-in-redis")  # a returning visitor
    page = client.get("/dashboard", headers=HTML)
    assert page.status_code == 503 and "Retry-After" in page.headers
    assert "try again" in page.get_data(as_text=True)
    assert client.get("/", headers=HTML).status_code == 200, "public pages without a session"
    health = app.server.test_client().get("/healthz")
    assert health.status_code == 503 and health.json == {"status": "degraded", "store": "unreachable"}


def test_workers_starting_together_on_a_new_instance_folder_all_open_the_store(tmp_path):
    """gunicorn starts its workers at once; a worker refused here would stop the whole server."""
    opening = "import sys, pathlib, auth.store as s; s.open_store('', pathlib.Path(sys.argv[1]), 'app:')"
    workers = [
        subprocess.Popen([sys.executable, "-c", opening, str(tmp_path)], cwd=PROJECT, stderr=subprocess.PIPE)
        for _ in range(6)
    ]
    for worker in workers:
        _, said = worker.communicate(timeout=60)
        assert worker.returncode == 0, said.decode()
