"""The app under a path prefix: served at /reports/ itself, or behind a proxy that strips /reports."""

import json
import re

import pytest
from conftest import HTML, PASSWORDS

from app import create_app


@pytest.fixture
def prefixed(monkeypatch, settings):
    monkeypatch.setenv("DASH_URL_BASE_PATHNAME", "/reports/")
    return create_app(settings).server.test_client()


@pytest.fixture
def stripped(monkeypatch, settings):
    """Public address /reports/..., but the proxy passes /... on (nginx: proxy_pass http://app/;)."""
    monkeypatch.setenv("DASH_REQUESTS_PATHNAME_PREFIX", "/reports/")
    return create_app(settings).server.test_client()


def test_everything_lives_under_the_prefix(prefixed):
    response = prefixed.get("/reports/dashboard", headers=HTML)
    assert response.status_code == 302
    assert response.headers["Location"] == "/reports/login?next=%2Freports%2Fdashboard"
    assert "/reports/assets/style.css" in prefixed.get("/reports/login").text
    assert prefixed.get("/reports/healthz").json == {"status": "ok"}
    assert prefixed.get("/login").status_code == 404


def test_sign_in_and_out_stay_under_the_prefix(prefixed):
    response = prefixed.post(
        "/reports/login",
        data={"username": "admin", "password": PASSWORDS["admin"], "next": "/reports/admin"},
    )
    assert response.headers["Location"] == "/reports/admin"
    assert prefixed.get("/reports/admin", headers=HTML).status_code == 200
    layout = str(prefixed.get("/reports/_dash-layout").json)
    assert "'/reports/logout'" in layout and "'/reports/admin'" in layout
    assert prefixed.post("/reports/logout").headers["Location"] == "/reports/"


def test_bad_next_goes_to_the_prefixed_home(prefixed):
    response = prefixed.post(
        "/reports/login", data={"username": "admin", "password": PASSWORDS["admin"], "next": "//evil.example"}
    )
    assert response.headers["Location"] == "/reports/"


def test_behind_a_proxy_that_strips_the_prefix_links_carry_it(stripped):
    response = stripped.get("/dashboard", headers=HTML)
    assert response.headers["Location"] == "/reports/login?next=%2Freports%2Fdashboard"
    page = stripped.get("/login").text
    assert 'action="/reports/login"' in page and "/reports/assets/style.css" in page
    index = stripped.get("/").text
    config = json.loads(re.search(r'id="_dash-config" type="application/json">(.*?)</script>', index)[1])
    assert config["requests_pathname_prefix"] == "/reports/"  # where the browser sends Dash's requests
    assert 'src="/reports/_dash-component-suites/' in index


def test_behind_a_proxy_that_strips_the_prefix_sign_in_and_out_carry_it(stripped):
    response = stripped.post(
        "/login", data={"username": "admin", "password": PASSWORDS["admin"], "next": "/reports/admin"}
    )
    assert response.headers["Location"] == "/reports/admin"
    assert stripped.get("/admin", headers=HTML).status_code == 200
    layout = str(stripped.get("/_dash-layout").json)
    assert "'/reports/logout'" in layout and "'/reports/admin'" in layout
    assert 'action="/reports/logout"' in stripped.get("/logout").text
    assert stripped.post("/logout").headers["Location"] == "/reports/"
