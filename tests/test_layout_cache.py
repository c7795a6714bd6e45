"""The kept page frames (generated layout.py) under gunicorn with 2 workers: each worker keeps its own,
yet every one shows who is signed in now, at the very next load of the app.

One promise of README.md's security table ("Kept page frames").
"""

from __future__ import annotations

import shutil

import pytest
import requests
from servers import AppServer, add_user, strong_key

PASSWORD = "ada-password-for-tests"
LOADS = 6  # enough loads of the app that both workers answer (and have a frame kept)


@pytest.fixture(scope="module")
def site(baked, tmp_path_factory):
    project = tmp_path_factory.mktemp("frames") / "app"
    shutil.copytree(baked("basic").project_path, project, ignore=shutil.ignore_patterns("instance"))
    env = {"SECRET_KEY": strong_key(), "AUTH_METHODS": "basic"}
    add_user(project, "ada", PASSWORD, env)
    with AppServer(project, env, workers=2) as server:
        yield server, project / "groups.toml"


def signed_in_browser(url: str) -> requests.Session:
    browser = requests.Session()
    form = {"username": "ada", "password": PASSWORD}
    assert browser.post(f"{url}/login", data=form, allow_redirects=False).status_code == 302
    return browser


def frames(browser, url: str) -> list[str]:
    """The frame as each of LOADS loads of the app gets it."""
    answers = [browser.get(f"{url}/_dash-layout") for _ in range(LOADS)]
    assert all(answer.status_code == 200 for answer in answers)
    return [answer.text for answer in answers]


def test_a_groups_file_edit_shows_in_every_workers_kept_frame_at_the_next_request(site):
    server, groups = site
    browser = signed_in_browser(server.url)
    assert not any('"Admin"' in frame for frame in frames(browser, server.url))
    original = groups.read_text()
    try:
        groups.write_text('admin = ["admin", "ada"]\n')  # by hand: no wait, and no restart
        for frame in frames(browser, server.url):
            assert '"Admin"' in frame and '"children":"admin"' in frame  # the menu and the group chip
    finally:
        groups.write_text(original)
    assert not any('"Admin"' in frame for frame in frames(browser, server.url))


def test_a_cookie_copied_before_sign_out_gets_the_signed_out_frame_from_every_worker(site):
    server, _ = site
    browser = signed_in_browser(server.url)
    copy = requests.Session()
    copy.cookies.update(browser.cookies)
    assert all('"user-name"' in frame for frame in frames(copy, server.url))
    assert browser.post(f"{server.url}/logout", allow_redirects=False).status_code in (302, 303)
    for frame in frames(copy, server.url):
        assert '"user-name"' not in frame and '"Sign in"' in frame
