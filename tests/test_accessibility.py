"""Accessible pages: axe-core in headless Chromium finds nothing serious; the keyboard alone signs in and out.

A baked ``both`` project under gunicorn. Every page people meet is checked with the same helper,
``assert_accessible`` (tests/browser.py): the sign-in page (with a provider set up and one not), the
logout confirmation, an error page, the app shell on each page, "not allowed". A new page is checked
by adding a line to ``PAGES``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pyotp
import pytest
from browser import (
    assert_accessible,
    element,
    press,
    tab_to,
    wait_for_text,
    wait_for_url,
)
from selenium.webdriver.common.keys import Keys
from servers import AppServer, add_user, strong_key

PASSWORDS = {"root": "root-password-12345", "alice": "alice-password-1234", "bob": "bob-password-12345"}
TWO_STEP = {}  # name -> TOTP secret, for those with two-step sign-in on


@pytest.fixture(scope="module")
def app_url(baked, tmp_path_factory):
    project = tmp_path_factory.mktemp("a11y") / "app"
    shutil.copytree(baked("both").project_path, project, ignore=shutil.ignore_patterns("instance"))
    (project / "groups.toml").write_text('admin = ["root"]\n')
    env = {
        "SECRET_KEY": strong_key(),
        "AUTH_METHODS": "both",
        # One provider set up (a link), one not (a disabled entry with a hint): both are on the page.
        "OIDC_PROVIDERS": "generic,google",
        "OIDC_GENERIC_CLIENT_ID": "dash-app",
        "OIDC_GENERIC_CLIENT_SECRET": "not-used-in-these-tests",
        "OIDC_GENERIC_ISSUER": "https://idp.example.test",
    }
    for name, password in PASSWORDS.items():
        add_user(project, name, password, env)
    TWO_STEP["bob"] = two_step_on(project, "bob", env)
    with AppServer(project, env, workers=1) as server:
        yield f"http://localhost:{server.port}"


def two_step_on(project, name: str, env: dict[str, str]) -> str:
    """`flask users mfa NAME` as an admin runs it; the secret from the URI it prints."""
    printed = subprocess.run(
        [sys.executable, "-m", "flask", "users", "mfa", name],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "FLASK_APP": "app:server", **env},
    ).stdout
    return pyotp.parse_uri(
        next(line for line in printed.splitlines() if line.startswith("otpauth://"))
    ).secret


def sign_in_with_keyboard(chrome, app_url: str, name: str) -> None:
    """From the home page: Tab to "Sign in", Enter, type the name and password, Enter."""
    chrome.get(app_url + "/")
    wait_for_text(chrome, "#greeting", "Sign in to see the dashboard.")
    tab_to(chrome, ".user a")
    press(chrome, Keys.ENTER)
    wait_for_url(chrome, app_url + "/login")
    assert chrome.switch_to.active_element == element(chrome, "#username")  # the form has the focus at once
    press(chrome, name)
    tab_to(chrome, "#password")
    press(chrome, PASSWORDS[name], Keys.ENTER)
    wait_for_text(chrome, "#user-name", name)


def fill_in_sign_in(chrome, app_url: str, name: str, password: str) -> None:
    chrome.get(app_url + "/login")
    element(chrome, "#username").send_keys(name)
    element(chrome, "#password").send_keys(password, Keys.ENTER)


def page(name: str, who: str | None, path: str, rendered: str, **marks):
    """One page to check: who is signed in (None: nobody), where, what shows it has rendered."""
    return pytest.param(name, who, path, rendered, id=name, **marks)


PAGES = [
    page("home, signed out", None, "/", "#greeting"),
    page("home", "root", "/", "#greeting"),
    page(
        "dashboard",
        "root",
        "/dashboard",
        "#summary",
        # Inside Dash 4.4.1's own dcc.Dropdown: a focusable input marked aria-hidden. Strict: this
        # fails as soon as Dash fixes it, and the mark must go.
        marks=pytest.mark.xfail(strict=True, reason="dcc.Dropdown's aria-hidden focus target (Dash 4.4.1)"),
    ),
    page("admin", "root", "/admin", "#groups-table"),
    page("not allowed", "alice", "/admin", "#not-allowed"),
    page("page not found", None, "/no-such-page", "h1"),
    page("sign-in page", None, "/login", "#username"),
    page("sign-out confirmation", "alice", "/logout", "form"),
    page("error page", None, "/oidc/generic/callback?error=access_denied", ".alert"),
    page("account page", "alice", "/account", "#account-name"),
]


@pytest.mark.parametrize(("page_name", "who", "path", "rendered"), PAGES)
def test_page_has_no_serious_accessibility_violation(chrome, app_url, page_name, who, path, rendered):
    chrome.delete_all_cookies()
    if who is not None:
        fill_in_sign_in(chrome, app_url, who, PASSWORDS[who])
        wait_for_text(chrome, "#user-name", who)
    chrome.get(app_url + path)
    element(chrome, rendered)
    assert_accessible(chrome, page_name)


def test_sign_in_page_showing_an_error_is_accessible(chrome, app_url):
    fill_in_sign_in(chrome, app_url, "nobody", "wrong-password-123")
    element(chrome, ".alert")
    assert_accessible(chrome, "sign-in page after a wrong password")


def test_keyboard_alone_signs_in_and_out(chrome, app_url):
    sign_in_with_keyboard(chrome, app_url, "root")
    tab_to(chrome, "#sign-out")
    press(chrome, Keys.ENTER)
    wait_for_url(chrome, app_url + "/")
    wait_for_text(chrome, ".user a", "Sign in")
    assert chrome.get_cookie("session") is None


def test_second_step_page_is_accessible_and_works_with_the_keyboard(chrome, app_url):
    chrome.delete_all_cookies()
    fill_in_sign_in(chrome, app_url, "bob", PASSWORDS["bob"])
    wait_for_url(chrome, app_url + "/login/code")
    assert chrome.switch_to.active_element == element(chrome, "#code")
    assert_accessible(chrome, "second-step page")
    press(chrome, "000000", Keys.ENTER)
    element(chrome, ".alert")
    assert_accessible(chrome, "second-step page after a wrong code")
    element(chrome, "#code").clear()
    press(chrome, pyotp.TOTP(TWO_STEP["bob"]).now(), Keys.ENTER)
    wait_for_text(chrome, "#user-name", "bob")


def test_account_page_reached_from_the_header_sets_up_two_step_with_the_keyboard(chrome, app_url):
    chrome.delete_all_cookies()
    fill_in_sign_in(chrome, app_url, "alice", PASSWORDS["alice"])
    wait_for_text(chrome, "#user-name", "alice")
    tab_to(chrome, "#account-link")
    press(chrome, Keys.ENTER)
    wait_for_url(chrome, app_url + "/account")
    tab_to(chrome, "form[action$='/account/two-step/start'] button")
    press(chrome, Keys.ENTER)
    element(chrome, ".qr svg")
    assert_accessible(chrome, "account page setting up two-step sign-in")
