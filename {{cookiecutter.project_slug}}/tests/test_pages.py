"""Who sees which page: on the first load (GET) and through the pages router callback."""

import pytest
from conftest import HTML, open_page

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
