"""Shared fixtures: an app on temporary users/groups files, clients signed in as test users."""

import base64
import os
import secrets
import shutil
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

# app.py builds one app when imported; give it a key before .env is consulted.
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(48))

from app import create_app
from auth import Settings
from auth import files as watched_files
from auth.passwords import UsersFile
from auth.settings import DEFAULT_FILE_CHECK_SECONDS

PROJECT = Path(__file__).resolve().parent.parent

# Test-only accounts: "admin" is in group admin (groups.toml), "alice" in none.
PASSWORDS = {"admin": "admin-password-1234", "alice": "alice-password-1234"}
GROUPS = 'admin = ["admin"]\nanalysts = []\n'


@pytest.fixture
def a_second_later(monkeypatch):
    """Call after an edit by hand of users.json: the wait before a worker looks at it again
    (FILE_CHECK_SECONDS) is over at once. (groups.toml is looked at on every request.)"""
    passed = 0.0

    def later() -> None:
        nonlocal passed
        passed += DEFAULT_FILE_CHECK_SECONDS

    monkeypatch.setattr(watched_files, "time", SimpleNamespace(monotonic=lambda: time.monotonic() + passed))
    return later


@pytest.fixture(scope="session")
def hashed_users(tmp_path_factory) -> Path:
    """The users file, hashed once per run: each scrypt hash takes about half a second."""
    path = tmp_path_factory.mktemp("users") / "users.json"
    users = UsersFile(path)
    for name, password in PASSWORDS.items():
        users.add(name, password)
    return path


@pytest.fixture
def files(tmp_path, hashed_users) -> Path:
    shutil.copy(hashed_users, tmp_path / "users.json")
    (tmp_path / "groups.toml").write_text(GROUPS)
    return tmp_path


@pytest.fixture
def settings(files) -> Settings:
    return make_settings(files)


def make_settings(files: Path, **changes) -> Settings:
    values = {
        "secret_key": secrets.token_urlsafe(48),
        "methods": ("basic",),
        "users_file": files / "users.json",
        "groups_file": files / "groups.toml",
        "instance": files / "instance",
    }
    return Settings(**{**values, **changes})


@pytest.fixture
def app(settings):
    return create_app(settings)


@pytest.fixture
def client(app):
    return app.server.test_client()


def basic(credentials: bytes) -> dict:
    """The headers of a script that signs in with ``name:password`` on every request."""
    return {"Authorization": "Basic " + base64.b64encode(credentials).decode()}


def sign_in(client, name: str, password: str | None = None, next_path: str = "/"):
    return client.post(
        "/login",
        data={"username": name, "password": password or PASSWORDS[name], "next": next_path},
    )


@pytest.fixture
def admin(app):
    client = app.server.test_client()
    assert sign_in(client, "admin").status_code == 302
    return client


@pytest.fixture
def alice(app):
    client = app.server.test_client()
    assert sign_in(client, "alice").status_code == 302
    return client


HTML = {"Accept": "text/html"}


def run_callback(
    client, outputs: list[tuple[str, str]], inputs: list[tuple[str, str, object]], headers: dict | None = None
):
    """POST /_dash-update-component as the Dash renderer does."""
    output_key = outputs[0][0] + "." + outputs[0][1]
    if len(outputs) > 1:
        output_key = ".." + "...".join(f"{i}.{p}" for i, p in outputs) + ".."
    body = {
        "output": output_key,
        "outputs": [{"id": i, "property": p} for i, p in outputs]
        if len(outputs) > 1
        else {"id": outputs[0][0], "property": outputs[0][1]},
        "inputs": [{"id": i, "property": p, "value": v} for i, p, v in inputs],
        "changedPropIds": [f"{i}.{p}" for i, p, _ in inputs],
        "state": [],
    }
    return client.post("/_dash-update-component", json=body, headers=headers or {})


def open_page(client, path: str, search: str = ""):
    """Ask the pages router for a page's content, as a click on a dcc.Link does (``search``: "?q=1")."""
    return run_callback(
        client,
        [("_pages_content", "children"), ("_pages_store", "data")],
        [("_pages_location", "pathname", path), ("_pages_location", "search", search)],
    )


# Headless Chrome/Chromium for the browser tests (dash[testing] calls this hook).
CHROME_ARGUMENTS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-extensions",
    "--window-size=1280,900",
]


def pytest_setup_options():
    from selenium.webdriver.chrome.options import Options

    options = Options()
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary and not shutil.which("google-chrome"):
        options.binary_location = binary
    for argument in CHROME_ARGUMENTS:
        options.add_argument(argument)
    return options
