"""What an app can plug in without editing auth/: signals, its own directory of users, init_app;
and the one decision function that every request goes through."""

import sqlite3
import time

import dash
import pytest
from conftest import HTML, make_settings, open_page, run_callback, sign_in
from flask import Flask
from flask.sessions import SecureCookieSessionInterface

import layout
from auth import Auth, signals
from auth.passwords import hash_password

CHART = (
    [("chart", "figure"), ("summary", "children")],
    [("metric", "value", "visits"), ("window", "value", 7)],
)


def test_every_kind_of_request_goes_through_the_one_decision(app, monkeypatch):
    import auth.decision

    seen = []
    real = auth.decision.decide

    def recording(rule, user, kind, target, sender=None):
        seen.append((kind, target, str(rule)))
        return real(rule, user, kind, target, sender)

    monkeypatch.setattr(auth.decision, "decide", recording)
    client = app.server.test_client()
    sign_in(client, "alice")  # a route: the sign-in form
    client.get("/dashboard", headers=HTML)  # a page
    run_callback(client, *CHART)  # a callback
    open_page(client, "/admin")  # a page's content, through the router
    client.post("/logout")  # a route: sign-out
    kinds = {(kind, target) for kind, target, _ in seen}
    assert ("route", "auth.login_with_password") in kinds
    assert ("page", "/dashboard") in kinds
    assert ("callback", "..chart.figure...summary.children..") in kinds
    assert ("page", "/admin") in kinds and ("route", "auth.logout") in kinds


def test_signals_tell_the_app_who_signed_in_failed_was_denied_and_signed_out(app):
    heard = []

    def listen(name):
        def receiver(sender, **fields):
            heard.append(
                (name, fields.get("user_id") or getattr(fields.get("user"), "id", fields.get("username")))
            )

        return receiver

    receivers = {
        name: listen(name)
        for name in (
            "user_signed_in",
            "sign_in_failed",
            "access_denied",
            "user_signed_out",
            "session_revoked",
        )
    }
    for name, receiver in receivers.items():
        getattr(signals, name).connect(receiver)
    try:
        client = app.server.test_client()
        sign_in(client, "alice", "wrong-password-1234")
        sign_in(client, "alice")
        client.get("/admin", headers=HTML)
        client.post("/logout")
    finally:
        for name, receiver in receivers.items():
            getattr(signals, name).disconnect(receiver)
    assert heard == [
        ("sign_in_failed", "alice"),
        ("user_signed_in", "alice"),
        ("access_denied", "alice"),
        ("session_revoked", "alice"),
        ("user_signed_out", "alice"),
    ]


class SQLiteDirectory:
    """Users and groups from a database, as an app would plug in its own."""

    def __init__(self, path):
        self.db = sqlite3.connect(path, check_same_thread=False)
        self.db.executescript(
            "CREATE TABLE users (name TEXT PRIMARY KEY, hash TEXT);"
            "CREATE TABLE members (grp TEXT, member TEXT);"
        )

    def password_hash(self, username):
        row = self.db.execute("SELECT hash FROM users WHERE name = ?", (username,)).fetchone()
        return row[0] if row else None

    def groups_of(self, members):
        members = list(members)
        rows = self.db.execute(
            f"SELECT grp FROM members WHERE member IN ({', '.join('?' * len(members))})",  # noqa: S608
            members,
        )
        return frozenset(group for (group,) in rows)

    def members(self):
        table = {}
        for group, member in self.db.execute("SELECT grp, member FROM members"):
            table[group] = (*table.get(group, ()), member)
        return table


def client_of_app_with(directory, files):
    app = dash.Dash(__name__, use_pages=True, pages_folder="")
    app.layout = layout.shell
    Auth(
        app,
        settings=make_settings(files),
        directory=directory,
        sign_in_view=layout.sign_in_required,
        not_allowed_view=layout.not_allowed,
    )
    return app.server.test_client()


def test_users_and_groups_can_come_from_a_database(files, tmp_path):
    directory = SQLiteDirectory(tmp_path / "people.sqlite3")
    directory.db.execute("INSERT INTO users VALUES ('grace', ?)", (hash_password("grace-password-123"),))
    directory.db.execute("INSERT INTO members VALUES ('admin', 'grace')")
    client = client_of_app_with(directory, files)
    assert sign_in(client, "alice").status_code == 401, "users.json is not consulted"
    assert sign_in(client, "grace", "grace-password-123").status_code == 302
    assert client.get("/admin", headers=HTML).status_code == 200
    directory.db.execute("DELETE FROM members")  # taken out of the group: on the next request
    assert client.get("/admin", headers=HTML).status_code == 403
    directory.db.execute("UPDATE users SET hash = ?", (hash_password("another-password-1234"),))
    assert client.get("/dashboard", headers=HTML).status_code == 302, "a new password ends the session"


class VersionedDirectory(SQLiteDirectory):
    """The same, telling the app when its answers change, and counting the group lookups."""

    def __init__(self, path):
        super().__init__(path)
        self.changes = self.lookups = 0

    def version(self):
        return self.changes

    def groups_of(self, members):
        self.lookups += 1
        return super().groups_of(members)


def test_a_directory_with_a_version_is_asked_once_per_version(files, tmp_path):
    directory = VersionedDirectory(tmp_path / "people.sqlite3")
    directory.db.execute("INSERT INTO users VALUES ('grace', ?)", (hash_password("grace-password-123"),))
    directory.db.execute("INSERT INTO members VALUES ('admin', 'grace')")
    client = client_of_app_with(directory, files)
    assert sign_in(client, "grace", "grace-password-123").status_code == 302
    assert client.get("/admin", headers=HTML).status_code == 200
    asked = directory.lookups
    for _ in range(3):
        assert client.get("/admin", headers=HTML).status_code == 200
    assert directory.lookups == asked, "the same session and version: not asked again"
    directory.db.execute("DELETE FROM members")
    directory.changes += 1
    assert client.get("/admin", headers=HTML).status_code == 403, "a new version applies at once"


def test_init_app_reads_settings_from_the_flask_config(files, monkeypatch):
    monkeypatch.delenv("SESSION_IDLE_TIMEOUT", raising=False)
    app = dash.Dash(__name__, use_pages=True, pages_folder="")
    app.layout = layout.shell
    app.server.config.update(
        SECRET_KEY="k" * 30 + "Q7x9Zp2Lm4Vb8Nc1Rt6Y",
        USERS_FILE=str(files / "users.json"),
        GROUPS_FILE=str(files / "groups.toml"),
        SESSION_IDLE_TIMEOUT="5",
        AUTH_METHODS="basic",  # the config wins over the environment (.env may say otherwise)
    )
    auth = Auth(sign_in_view=layout.sign_in_required, not_allowed_view=layout.not_allowed)
    auth.init_app(app)
    assert auth.settings.idle_timeout_seconds == 300
    assert sign_in(app.server.test_client(), "alice").status_code == 302


def test_a_cookie_from_before_the_typed_record_still_signs_in(app, alice):
    """Version 1 records (no "v", the hash fingerprint under "password") are read."""
    serializer = app.server.session_interface.get_signing_serializer(app.server)
    data = serializer.loads(alice.get_cookie("session").value)
    record = data["auth"]
    now = int(time.time())
    old = {
        "id": "alice",
        "name": "alice",
        "provider": "basic",
        "email": None,
        "groups": [],
        "sid": record["sid"],
        "at": now,
        "seen": now,
        "password": record["cred"],
    }
    other = Flask("old")
    other.secret_key = app.server.secret_key
    client = app.server.test_client()
    client.set_cookie(
        "session", SecureCookieSessionInterface().get_signing_serializer(other).dumps({"auth": old})
    )
    assert client.get("/dashboard", headers=HTML).status_code == 200
    client.set_cookie(
        "session", SecureCookieSessionInterface().get_signing_serializer(other).dumps({"auth": {"v": 99}})
    )
    assert client.get("/dashboard", headers=HTML).status_code == 302, "an unknown version: signed out"


@pytest.fixture
def checked_cli(app):
    return app.server.test_cli_runner()


def test_flask_access_lists_every_page_callback_and_route_with_its_rule(checked_cli):
    result = checked_cli.invoke(args=["access"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(
        line.split()[:2] == ["page", "/admin"] and "requires(one_of=['admin'])" in line for line in lines
    )
    assert any(line.split()[:2] == ["page", "/"] and line.endswith("public") for line in lines)
    assert any(
        line.startswith("callback") and "chart.figure" in line and "signed in" in line for line in lines
    )
    assert "No findings." in result.output
    assert checked_cli.invoke(args=["access", "--check"]).exit_code == 0


def test_flask_access_check_fails_on_what_looks_wrong(app, checked_cli):
    from dash import Input, Output, callback

    from auth import public, requires

    @app.server.route("/api/forgotten")
    def forgotten():
        return {}

    @requires(one_of=["auditors"])
    @app.server.route("/api/audit")
    def audit_report():
        return {}

    @callback(
        Output("groups-table", "children", allow_duplicate=True),
        Input("late-go", "n_clicks"),
        prevent_initial_call=True,
    )
    @public
    def leak(n):
        return "x"

    result = checked_cli.invoke(args=["access", "--check"])
    assert result.exit_code == 1
    assert "route /api/forgotten: no rule declared" in result.output
    assert "route /api/audit: rule written above @route" in result.output
    assert "names groups no one is in: auditors" in result.output
    assert "public, but writes into /admin" in result.output
