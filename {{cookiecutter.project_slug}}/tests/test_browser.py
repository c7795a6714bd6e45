"""In a real browser: sign in, use the pages, sign out. Deselect with -m "not browser"."""

import os
from pathlib import Path

import pytest
from conftest import PASSWORDS

pytestmark = pytest.mark.browser


@pytest.fixture
def browser(dash_duo, app):
    dash_duo.start_server(app, navigate=False)
    return dash_duo


def open_url(browser, path: str) -> None:
    browser.driver.get(browser.server.url.rstrip("/") + path)


def sign_in(browser, name: str, next_path: str = "/dashboard") -> None:
    open_url(browser, f"/login?next={next_path}")
    browser.wait_for_element("#username").send_keys(name)
    browser.find_element("#password").send_keys(PASSWORDS[name])
    browser.find_element("button[type=submit]").click()


def screenshot(browser, name: str) -> None:
    """Kept as SCREENSHOT_DIR/<name>.png when that variable is set, e.g. for the docs."""
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        browser.driver.save_screenshot(str(Path(folder) / f"{name}.png"))


# Single sign-on projects have a profile page too, for every signed-in user.
PROFILE = ["Profile"] if (Path(__file__).parent.parent / "pages" / "profile.py").exists() else []


def nav_links(browser) -> list[str]:
    return [link.text for link in browser.find_elements(".nav-link")]


def test_admin_signs_in_uses_the_dashboard_and_admin_page_then_signs_out(browser):
    sign_in(browser, "admin")
    browser.wait_for_contains_text("#summary", "Daily visits")
    assert browser.driver.current_url.endswith("/dashboard")
    assert browser.find_element("#user-name").text == "admin"
    assert "admin" in browser.find_element("#user-groups").text
    assert nav_links(browser) == ["Home", "Dashboard", "Admin", *PROFILE]

    browser.select_dcc_dropdown("#metric", value="Daily sign-ups")
    browser.wait_for_contains_text("#summary", "Daily sign-ups")
    assert browser.find_elements("#chart .main-svg"), "the chart is drawn"
    screenshot(browser, "dashboard")

    browser.find_element(".nav a[href='/admin']").click()
    browser.wait_for_contains_text("#groups-table", "admin")
    browser.find_element("#refresh-groups").click()
    browser.wait_for_contains_text("#groups-table", "analysts")
    screenshot(browser, "admin")

    browser.find_element("#sign-out").click()
    browser.wait_for_element("#greeting")
    assert browser.find_element(".user a").text == "Sign in"
    open_url(browser, "/dashboard")
    browser.wait_for_element("#username")
    assert "/login?next=" in browser.driver.current_url
    assert browser.get_logs() == [], "no errors in the browser console"


def test_user_outside_admin_group_sees_not_allowed(browser):
    sign_in(browser, "alice")
    browser.wait_for_contains_text("#summary", "Daily visits")
    assert nav_links(browser) == ["Home", "Dashboard", *PROFILE]
    assert browser.find_element("#user-groups").text == "no groups"
    open_url(browser, "/admin")
    browser.wait_for_contains_text("#not-allowed", "Not allowed")
    assert not browser.find_elements("#groups-table")
    screenshot(browser, "not-allowed")


def test_wrong_password_keeps_the_username(browser):
    open_url(browser, "/login")
    browser.wait_for_element("#username").send_keys("alice")
    browser.find_element("#password").send_keys("not-the-password")
    browser.find_element("button[type=submit]").click()
    browser.wait_for_contains_text(".alert", "Wrong username or password")
    assert browser.find_element("#username").get_attribute("value") == "alice"
    screenshot(browser, "sign-in")


def test_signed_out_visitor_sees_home_and_is_asked_to_sign_in_for_more(browser):
    open_url(browser, "/")
    browser.wait_for_contains_text("#greeting", "Sign in to see the dashboard")
    assert nav_links(browser) == ["Home"]
    open_url(browser, "/admin")
    browser.wait_for_element("#username")
    assert "next=%2Fadmin" in browser.driver.current_url
