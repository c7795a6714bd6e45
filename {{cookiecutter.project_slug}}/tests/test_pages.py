"""Who sees which page: on the first load (GET) and through the pages router callback."""

from urllib.parse import parse_qs, urlsplit

import dash
import pytest
from conftest import HTML, open_page, sign_in
from dash import html

from app import create_app
from auth import public, requires, signed_in

ADMIN_CONTENT = "Groups and their members"


def test_home_is_public(client):
    response = client.get("/", headers=HTML)
    assert response.status_code == 200
    assert open_page(client, "/").status_code == 200


@pytest.mark.parametrize("path", ["/dashboard", "/admin"])
def test_signed_out_visitor_is_sent_to_sign_in_and_back(client, path):
    response = client.get(path, headers=HTML)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/login?next=%2F{path[1:]}"


@pytest.mark.parametrize("path", ["/dashboard", "/admin"])
def test_router_gives_signed_out_visitor_the_sign_in_view(client, path):
    response = open_page(client, path)
    assert response.status_code == 200
    assert "sign-in-required" in response.text
    assert ADMIN_CONTENT not in response.text
    assert "chart" not in response.text


def test_admin_sees_admin_page(admin):
    assert admin.get("/admin", headers=HTML).status_code == 200
    response = open_page(admin, "/admin")
    assert ADMIN_CONTENT in response.text
    assert '"admin"' in response.text  # the table lists the admin group


def test_non_admin_gets_not_allowed_view_for_admin_page(alice):
    assert alice.get("/admin", headers=HTML).status_code == 403
    response = open_page(alice, "/admin")
    assert response.status_code == 200
    assert "not-allowed" in response.text
    assert ADMIN_CONTENT not in response.text


def test_signed_in_user_sees_dashboard(alice):
    assert alice.get("/dashboard", headers=HTML).status_code == 200
    assert '"chart"' in open_page(alice, "/dashboard").text


def test_unknown_path_shows_not_found_view(client):
    assert "Page not found" in open_page(client, "/no-such-page").text


@pytest.mark.parametrize("who", ["client", "alice"])
def test_no_restricted_layout_reaches_the_browser_another_way(request, who):
    """The index page's config, the layout and the dependencies carry no admin content."""
    browser = request.getfixturevalue(who)
    for path in ["/", "/admin", "/_dash-layout", "/_dash-dependencies"]:
        response = browser.get(path)
        assert ADMIN_CONTENT not in response.text, path
        assert "groups-table" not in response.text or path == "/_dash-dependencies", path
    assert "validation_layout" not in browser.get("/").text


def test_menu_lists_only_pages_the_user_may_open(client, alice, admin):
    assert "Dashboard" not in client.get("/_dash-layout").text
    assert "Dashboard" in alice.get("/_dash-layout").text
    assert "Admin" not in alice.get("/_dash-layout").text
    assert '"Admin"' in admin.get("/_dash-layout").text


def test_header_shows_user_name_and_groups(admin):
    layout = admin.get("/_dash-layout").json
    text = str(layout)
    assert "user-name" in text and "'admin'" in text
    assert "Sign out" in text


@pytest.fixture
def late_pages(app):
    """Pages registered after the app is built, as an app.py, a plugin or a test may do."""
    names = []

    def register(name: str, **page):
        dash.register_page(name, **page)
        names.append(name)

    yield register
    for name in names:
        dash.page_registry.pop(name, None)


def test_pages_registered_after_the_app_is_built_keep_their_rules(app, late_pages):
    late_pages(
        "late_page",
        path="/late",
        layout=html.Div("Late admin content", id="late-admin"),
        access=requires(one_of=["admin"]),
    )
    late_pages("late_public_page", path="/late-public", layout=html.Div("Late public content"), access=public)
    visitor, alice, admin = (app.server.test_client() for _ in range(3))
    sign_in(alice, "alice")
    sign_in(admin, "admin")

    signed_out = open_page(visitor, "/late")
    assert "sign-in-required" in signed_out.text and "Late admin content" not in signed_out.text
    not_member = open_page(alice, "/late")
    assert "not-allowed" in not_member.text and "Late admin content" not in not_member.text
    assert "Late admin content" in open_page(admin, "/late").text
    for client in (visitor, alice, admin):
        assert "Late public content" in open_page(client, "/late-public").text


@pytest.fixture
def report_app(settings):
    """An app with a page whose path is a template, registered before the app is built."""
    dash.register_page(
        "report_page",
        path_template="/report/<report_id>",
        layout=lambda report_id=None, **_query: html.Div(f"Report {report_id}"),
        access=signed_in,
    )
    yield create_app(settings)
    dash.page_registry.pop("report_page", None)


def sign_in_link(response) -> str:
    """The href of the "Sign in" button in the router's answer."""
    hrefs = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("props", {}).get("children") == "Sign in":
                hrefs.append(node["props"]["href"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(response.json)
    assert len(hrefs) == 1, response.text
    return hrefs[0]


@pytest.mark.parametrize(
    "path, search",
    [("/report/42", "?q=x"), ("/report/42", ""), ("/dashboard", "?q=1"), ("/dashboard", "?metric=a%26b&q=1")],
)
def test_sign_in_link_returns_to_the_exact_url_asked_for(report_app, path, search):
    client = report_app.server.test_client()
    link = urlsplit(sign_in_link(open_page(client, path, search)))
    assert link.path == "/login"
    (target,) = parse_qs(link.query)["next"]
    assert target == path + search
    response = sign_in(client, "alice", next_path=target)
    assert response.status_code == 302 and response.headers["Location"] == path + search
