"""The app under a path prefix (Dash's url_base_pathname), as behind a proxy at /reports/."""

import pytest
from conftest import HTML, PASSWORDS

from app import create_app


@pytest.fixture
def prefixed(monkeypatch, settings):
    monkeypatch.setenv("DASH_URL_BASE_PATHNAME", "/reports/")
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
