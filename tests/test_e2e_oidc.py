"""End to end: a baked project under gunicorn, headless Chromium, and a real OpenID provider.

For a baked ``oidc`` and a baked ``both`` project, people sign in through panva's oidc-provider
(tests/idp, on loopback) configured as the ``generic`` provider, and use the pages and callbacks as
they would. What the unit tests of the generated project fake is real here: the redirects, Authlib's
checks, /userinfo, the session cookie, groups.toml and the provider's own session.

The app is browsed at http://localhost:<port> and the provider runs on 127.0.0.1: two hosts, so the
browser keeps their cookies apart. A missing browser, Node or provider is an error, never a skip.
"""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from browser import (
    choose,
    console_errors,
    element,
    sign_in_at_provider,
    text_of,
    texts,
    wait_for_text,
    wait_for_url,
)
from conftest import BAKES
from idp_server import IdentityProvider
from selenium.webdriver.common.by import By
from servers import AppServer, add_user, free_port, strong_key

# People at the provider. The groups claim makes ada an admin; groups.toml makes bob one through
# his verified address; eve's address is listed too but unverified, so it must count for nothing;
# carl has no groups claim at all.
IDP_USERS = {
    "ada": {"name": "Ada Lovelace", "email": "ada@example.test", "groups": ["admin"]},
    "bob": {"name": "Bob Baker", "email": "bob@corp.test", "groups": []},
    "carl": {"name": "Carl Clerk", "email": "carl@corp.test", "groups": None},
    "eve": {"name": "Eve Unverified", "email": "eve@corp.test", "email_verified": False, "groups": None},
}
# dora signs in with a password (the `both` project); groups.toml names her by username.
PASSWORD_USER, PASSWORD = "dora", "dora-password-e2e-1234"
GROUPS_TOML = (
    '# Written by tests/test_e2e_oidc.py\nadmin = ["dora", "bob@corp.test", "eve@corp.test"]\n'
    'analysts = ["ada@example.test"]\n'
)
ADMIN_CALLBACK = {  # what Dash posts when #refresh-groups is clicked on /admin
    "output": "groups-table.children",
    "outputs": {"id": "groups-table", "property": "children"},
    "inputs": [{"id": "refresh-groups", "property": "n_clicks", "value": 1}],
    "changedPropIds": ["refresh-groups.n_clicks"],
    "state": [],
}


@dataclass
class Stack:
    """One baked project served by gunicorn, with its own provider; ``url`` is what the browser opens."""

    project: str
    folder: Path
    url: str
    idp: IdentityProvider
    server: AppServer

    @property
    def has_passwords(self) -> bool:
        return BAKES[self.project]["auth"] == "both"

    def stop(self) -> None:
        self.server.stop()
        self.idp.stop()


def start_stack(baked_project: Path, project: str, folder: Path, claims_in_id_token: bool) -> Stack:
    """Copy the baked project (the bake is shared with other tests), then start provider and app.

    The app's port is chosen first: the provider must know the exact redirect URI before it starts.
    """
    shutil.copytree(baked_project, folder, ignore=shutil.ignore_patterns("instance", "__pycache__"))
    (folder / "groups.toml").write_text(GROUPS_TOML)
    port = free_port()
    url = f"http://localhost:{port}"
    env = {
        "SECRET_KEY": strong_key(),
        "AUTH_METHODS": BAKES[project]["auth"],
        "OIDC_PROVIDERS": "generic",
        "OIDC_GENERIC_GROUPS_CLAIM": "groups",
        "OIDC_GENERIC_SCOPES": "groups",  # the test provider releases the groups claim for this scope
    }
    if BAKES[project]["auth"] == "both":
        add_user(folder, PASSWORD_USER, PASSWORD, env)
    idp = IdentityProvider(
        redirect_uris=[f"{url}/oidc/generic/callback"],
        post_logout_redirect_uris=[f"{url}/"],
        users=IDP_USERS,
        claims_in_id_token=claims_in_id_token,
        log_path=folder / "idp.log",
    ).start()
    env |= {
        "OIDC_GENERIC_CLIENT_ID": idp.client_id,
        "OIDC_GENERIC_CLIENT_SECRET": idp.client_secret,
        "OIDC_GENERIC_ISSUER": idp.issuer,
    }
    server = AppServer(folder, env, port=port)
    try:
        server.start()
    except BaseException:
        idp.stop()
        raise
    return Stack(project, folder, url, idp, server)


class Stacks:
    """Stacks started on first use and kept for the module: each start costs a few seconds."""

    def __init__(self, baked, workdir: Path):
        self._baked = baked
        self._workdir = workdir
        self._running: dict[tuple[str, bool], Stack] = {}

    def get(self, project: str, claims_in_id_token: bool = False) -> Stack:
        key = (project, claims_in_id_token)
        if key not in self._running:
            folder = self._workdir / f"{project}-{'id-token' if claims_in_id_token else 'userinfo'}"
            self._running[key] = start_stack(
                self._baked(project).project_path, project, folder, claims_in_id_token
            )
        return self._running[key]

    def stop(self) -> None:
        with ThreadPoolExecutor() as pool:  # each waits for its processes to exit: at once, not in turn
            list(pool.map(Stack.stop, self._running.values()))


@pytest.fixture(scope="module")
def stacks(baked, tmp_path_factory):
    running = Stacks(baked, tmp_path_factory.mktemp("e2e"))
    yield running
    running.stop()


@pytest.fixture(params=["oidc", "both"])
def stack(request, stacks) -> Stack:
    """The provider puts the claims only in /userinfo: its default, and the spec's."""
    return stacks.get(request.param)


# Steps ----------------------------------------------------------------------------------------


def open_signed_out(chrome, stack: Stack, path: str) -> None:
    """Open a protected page signed out and go on to the provider, as a person would."""
    chrome.get(stack.url + path)
    if stack.has_passwords:
        wait_for_url(chrome, f"{stack.url}/login?next={quote(path, safe='')}")
    continue_with_provider(chrome, stack)


def continue_with_provider(chrome, stack: Stack) -> None:
    """With passwords too, the sign-in page offers a choice; with one provider only, it is skipped."""
    if stack.has_passwords:
        button = element(chrome, "a.provider")
        assert button.text == "Continue with Single sign-on"
        button.click()


def sign_in(chrome, stack: Stack, login: str, path: str) -> None:
    open_signed_out(chrome, stack, path)
    sign_in_at_provider(chrome, stack.idp.issuer, login)
    wait_for_url(chrome, stack.url + path)


def user_groups(chrome) -> list[str]:
    return texts(chrome, "#user-groups .chip")


def session_cookie(chrome) -> dict[str, str]:
    cookie = chrome.get_cookie("session")
    assert cookie is not None, "no session cookie"
    return {"session": cookie["value"]}


def call_admin_callback(stack: Stack, cookies: dict[str, str]) -> int:
    """The admin page's callback, sent by hand with a browser's cookie: the guard must not care how."""
    response = requests.post(
        stack.url + "/_dash-update-component", json=ADMIN_CALLBACK, cookies=cookies, timeout=10
    )
    return response.status_code


def page_status(stack: Stack, path: str, cookies: dict[str, str]) -> tuple[int, str]:
    response = requests.get(
        stack.url + path, cookies=cookies, headers={"Accept": "text/html"}, allow_redirects=False, timeout=10
    )
    return response.status_code, response.headers.get("Location", "")


def assert_admin_page(chrome) -> None:
    wait_for_text(chrome, "#groups-table", "bob@corp.test")
    assert not chrome.find_elements(By.ID, "not-allowed")


def assert_not_allowed(chrome, stack: Stack) -> None:
    chrome.get(stack.url + "/admin")
    element(chrome, "#not-allowed")
    assert not chrome.find_elements(By.ID, "groups-table")


def unexpected_console_errors(chrome, stack: Stack, refused: tuple[str, ...] = ()) -> list[str]:
    """The app's console errors, less the 403 of each page in ``refused``: the app answers a page
    the user may not see with its "not allowed" view and status 403, which the browser logs."""
    expected = {
        f"{stack.url}{path} - Failed to load resource: the server responded with a status of 403 (FORBIDDEN)"
        for path in refused
    }
    return [error for error in console_errors(chrome, stack.url) if error not in expected]


# Tests ----------------------------------------------------------------------------------------


def test_admin_from_groups_claim_follows_deep_link_and_runs_admin_callback(chrome, stack):
    sign_in(chrome, stack, "ada", "/admin")

    assert_admin_page(chrome)
    assert text_of(chrome, "#user-name") == "Ada Lovelace"
    assert user_groups(chrome) == ["admin", "analysts"], "the claim's group and groups.toml's, by e-mail"
    assert texts(chrome, ".nav-link") == ["Home", "Dashboard", "Admin", "Profile"]

    groups_file = stack.folder / "groups.toml"
    groups_file.write_text(GROUPS_TOML + 'auditors = ["ada@example.test"]\n')
    try:
        element(chrome, "#refresh-groups").click()
        wait_for_text(chrome, "#groups-table", "auditors")  # the callback ran and read the file again
    finally:
        groups_file.write_text(GROUPS_TOML)
    assert call_admin_callback(stack, session_cookie(chrome)) == 200
    assert unexpected_console_errors(chrome, stack) == []


def test_plain_user_uses_dashboard_but_not_admin_page_or_its_callback(chrome, stack):
    sign_in(chrome, stack, "carl", "/dashboard")

    wait_for_text(chrome, "#summary", "Daily visits: last 7-day average")
    element(chrome, "#chart .main-svg")  # Plotly drew the figure the callback returned
    assert text_of(chrome, "#user-name") == "Carl Clerk"
    assert text_of(chrome, "#user-groups") == "no groups"
    assert texts(chrome, ".nav-link") == ["Home", "Dashboard", "Profile"]

    choose(chrome, "#metric", "Daily sign-ups")
    wait_for_text(chrome, "#summary", "Daily sign-ups: last 7-day average")
    element(chrome, ".nav a[href='/']").click()
    wait_for_text(chrome, "#greeting", "Welcome back, Carl Clerk.")

    assert_not_allowed(chrome, stack)
    assert call_admin_callback(stack, session_cookie(chrome)) == 403
    # The refused page itself answers 403 (so the browser logs it); nothing else may fail.
    assert unexpected_console_errors(chrome, stack, refused=("/admin",)) == []


def test_groups_toml_grants_admin_to_verified_email(chrome, stack):
    sign_in(chrome, stack, "bob", "/admin")

    assert_admin_page(chrome)
    assert text_of(chrome, "#user-name") == "Bob Baker"
    assert user_groups(chrome) == ["admin"]
    assert unexpected_console_errors(chrome, stack) == []


def test_unverified_email_in_groups_toml_grants_nothing(chrome, stack):
    sign_in(chrome, stack, "eve", "/dashboard")

    wait_for_text(chrome, "#summary", "Daily visits")
    assert text_of(chrome, "#user-name") == "Eve Unverified"
    assert text_of(chrome, "#user-groups") == "no groups"
    assert_not_allowed(chrome, stack)
    assert call_admin_callback(stack, session_cookie(chrome)) == 403
    assert unexpected_console_errors(chrome, stack, refused=("/admin",)) == []


def test_sign_out_ends_app_and_provider_sessions(chrome, stack):
    sign_in(chrome, stack, "ada", "/dashboard")
    wait_for_text(chrome, "#summary", "Daily visits")
    cookies = session_cookie(chrome)
    assert page_status(stack, "/dashboard", cookies) == (200, "")

    element(chrome, "#sign-out").click()

    # Through the provider's end-session endpoint and back to exactly the home page.
    wait_for_url(chrome, stack.url + "/")
    wait_for_text(chrome, "#greeting", "Sign in to see the dashboard.")
    assert text_of(chrome, ".user a") == "Sign in"
    assert chrome.get_cookie("session") is None
    # A copy of the old cookie is refused: the session was revoked, not only forgotten.
    assert page_status(stack, "/dashboard", cookies) == (302, "/login?next=%2Fdashboard")
    # The provider's session ended too: signing in again asks for the password again.
    open_signed_out(chrome, stack, "/dashboard")
    sign_in_at_provider(chrome, stack.idp.issuer, "ada")
    wait_for_text(chrome, "#summary", "Daily visits")
    assert unexpected_console_errors(chrome, stack) == []


def test_lost_session_shows_sign_in_view_and_provider_signs_in_again_at_once(chrome, stack):
    """Without sign-out the provider still knows the person: no form on the way back. (What gives
    meaning to the form that must reappear after sign-out, in the test above.)"""
    sign_in(chrome, stack, "carl", "/dashboard")
    wait_for_text(chrome, "#summary", "Daily visits")

    chrome.delete_cookie("session")  # the session ended: it expired, or was signed out in another tab
    element(chrome, ".nav a[href='/']").click()  # Dash links: the page is not loaded again
    wait_for_text(chrome, "#greeting", "Sign in to see the dashboard.")
    element(chrome, ".nav a[href='/dashboard']").click()
    element(chrome, "#sign-in-required a").click()

    continue_with_provider(chrome, stack)
    wait_for_url(chrome, stack.url + "/dashboard")
    wait_for_text(chrome, "#summary", "Daily visits")
    assert unexpected_console_errors(chrome, stack) == []


@pytest.mark.parametrize("project", ["oidc", "both"])
def test_claims_in_id_token_give_the_same_user(chrome, stacks, project):
    """Providers that put the claims in the ID token (no /userinfo call needed) work the same."""
    stack = stacks.get(project, claims_in_id_token=True)
    sign_in(chrome, stack, "ada", "/admin")

    assert_admin_page(chrome)
    assert text_of(chrome, "#user-name") == "Ada Lovelace"
    assert user_groups(chrome) == ["admin", "analysts"]
    assert unexpected_console_errors(chrome, stack) == []


def test_password_sign_in_works_alongside_single_sign_on(chrome, stacks):
    stack = stacks.get("both")
    chrome.get(stack.url + "/admin")
    wait_for_url(chrome, stack.url + "/login?next=%2Fadmin")
    assert element(chrome, "a.provider").text == "Continue with Single sign-on"

    element(chrome, "#username").send_keys(PASSWORD_USER)
    element(chrome, "#password").send_keys(PASSWORD)
    element(chrome, "form button[type=submit]").click()

    wait_for_url(chrome, stack.url + "/admin")
    assert_admin_page(chrome)
    assert text_of(chrome, "#user-name") == PASSWORD_USER
    assert user_groups(chrome) == ["admin"]

    element(chrome, "#sign-out").click()
    wait_for_url(chrome, stack.url + "/")  # no provider to sign out of
    wait_for_text(chrome, "#greeting", "Sign in to see the dashboard.")
    assert chrome.get_cookie("session") is None
    assert unexpected_console_errors(chrome, stack) == []
