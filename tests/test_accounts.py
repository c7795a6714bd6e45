"""Password accounts under attack: a baked project under gunicorn (2 workers, as its gunicorn.conf.py
says: gthread) on Redis, attacked as a guesser would, from many loopback addresses at once.

Each test is one promise of the "Accounts" part of README.md's security table.
"""

from __future__ import annotations

import base64
import http.client
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pyotp
import pytest
import redis
import requests
from servers import HOST, AppServer, RedisServer, add_user, strong_key

USERS = ("owner", "target", "reader", "bob", "carol", "dave", "erin")
PASSWORD = "{}-password-for-tests"  # by name: "owner-password-for-tests"
HTML = {"Accept": "text/html"}
FLOOD_ADDRESSES = 16
FLOOD_SECONDS = 8


@dataclass
class Host:
    server: AppServer
    redis: redis.Redis
    project: Path
    env: dict[str, str]

    @property
    def url(self) -> str:
        return self.server.url

    def flask(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "flask", *args],
            cwd=self.project,
            capture_output=True,
            text=True,
            env={**os.environ, "FLASK_APP": "app:server", **self.env},
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    def failures(self, name: str, count: int) -> None:
        """Set the account's consecutive failures, as if a guesser had spent days at it."""
        (key,) = self.redis.keys(f"*failures:account:{name}")
        self.redis.set(key, count, keepttl=True)
        for turn in self.redis.keys(f"*failures-turn:account:{name}"):
            self.redis.delete(turn)  # the wait is over: only the lock can stop it now


@pytest.fixture(scope="module")
def host(baked, tmp_path_factory):
    project = tmp_path_factory.mktemp("accounts") / "app"
    shutil.copytree(baked("basic").project_path, project, ignore=shutil.ignore_patterns("instance"))
    with RedisServer() as redis_server:
        # Edits by hand of users.json would be looked for only hourly: what `flask users` changes
        # must reach every worker at the next request through the file's change clock alone.
        env = {
            "SECRET_KEY": strong_key(),
            "AUTH_METHODS": "basic",
            "REDIS_URL": redis_server.url,
            "FILE_CHECK_SECONDS": "3600",
        }
        for name in USERS:
            add_user(project, name, PASSWORD.format(name), env)
        with AppServer(project, env, threads=None) as server:  # workers and threads: gunicorn.conf.py
            yield Host(server, redis.Redis.from_url(redis_server.url), project, env)


def post_password(browser, url: str, name: str, password: str | None = None) -> requests.Response:
    return browser.post(
        f"{url}/login",
        data={"username": name, "password": password or PASSWORD.format(name)},
        allow_redirects=False,
    )


def signed_in(browser: requests.Session, url: str) -> bool:
    return browser.get(f"{url}/dashboard", headers=HTML, allow_redirects=False).status_code == 200


def guess(url: str, name: str, times: int) -> list[requests.Response]:
    """Wrong passwords from clients that never signed in (no device cookie), two at a time."""
    with ThreadPoolExecutor(2) as pool:
        return list(
            pool.map(lambda n: post_password(requests, url, name, f"guess-number-{n:04}"), range(times))
        )


def waits(response: requests.Response) -> bool:
    return response.status_code in (401, 429) and int(response.headers["Retry-After"]) > 0


def test_the_right_password_from_an_unknown_client_waits_after_ten_failures(host):
    guess(host.url, "target", 10)
    assert waits(post_password(requests, host.url, "target"))
    basic = "Basic " + base64.b64encode(f"target:{PASSWORD.format('target')}".encode()).decode()
    for _ in range(4):  # on both workers
        assert waits(requests.get(f"{host.url}/dashboard", headers={"Authorization": basic}))


def test_a_lock_out_cannot_be_aimed_at_the_owners_browser(host):
    owner = requests.Session()
    assert post_password(owner, host.url, "owner").status_code == 302
    owner.post(f"{host.url}/logout")
    assert not signed_in(owner, host.url) and owner.cookies.get("device")  # kept after signing out
    guess(host.url, "owner", 11)
    assert waits(post_password(requests, host.url, "owner"))
    host.failures("owner", 100)
    locked = post_password(requests, host.url, "owner")
    assert locked.status_code == 401 and "locked" in locked.text and int(locked.headers["Retry-After"]) >= 60
    assert post_password(owner, host.url, "owner").status_code == 302  # the owner's browser is let in
    assert signed_in(owner, host.url)
    assert post_password(requests, host.url, "owner").status_code == 302  # and its success lifted the lock


def test_tokens_keep_working_through_a_lock_out(host):
    token = host.flask("users", "token", "carol", "--name", "report").split()[-1]
    guess(host.url, "carol", 11)
    host.failures("carol", 100)
    assert "locked" in post_password(requests, host.url, "carol").text
    for _ in range(6):  # on both workers
        answer = requests.get(f"{host.url}/dashboard", headers={**HTML, "Authorization": f"Bearer {token}"})
        assert answer.status_code == 200
    host.flask("users", "unlock", "carol")
    assert post_password(requests, host.url, "carol").status_code == 302


def mfa(host: Host, name: str) -> tuple[str, list[str]]:
    lines = host.flask("users", "mfa", name).splitlines()
    uri = next(line for line in lines if line.startswith("otpauth://"))
    codes = lines[next(i for i, line in enumerate(lines) if "Recovery codes" in line) + 1 :]
    return pyotp.parse_uri(uri).secret, codes


def code_step(browser: requests.Session, url: str, code: str) -> requests.Response:
    return browser.post(f"{url}/login/code", data={"code": code}, allow_redirects=False)


def test_the_second_step_signs_in_only_with_the_code_and_the_code_only_once(host):
    secret, _ = mfa(host, "bob")
    first, second = requests.Session(), requests.Session()
    for browser in (first, second):
        answer = post_password(browser, host.url, "bob")
        assert answer.status_code == 302 and answer.headers["Location"].endswith("/login/code")
        assert not signed_in(browser, host.url)
    assert code_step(first, host.url, "12345").status_code == 401
    code = pyotp.TOTP(secret).now()
    assert code_step(first, host.url, code).status_code == 302
    assert code_step(second, host.url, code).status_code == 401  # replayed, whichever worker answers
    assert signed_in(first, host.url) and not signed_in(second, host.url)
    basic = "Basic " + base64.b64encode(f"bob:{PASSWORD.format('bob')}".encode()).decode()
    assert requests.get(f"{host.url}/dashboard", headers={"Authorization": basic}).status_code == 401


def test_a_recovery_code_works_once(host):
    _, codes = mfa(host, "dave")
    browsers = [requests.Session() for _ in range(4)]
    for browser in browsers:
        assert post_password(browser, host.url, "dave").status_code == 302
    with ThreadPoolExecutor(4) as pool:  # the same code, at once, on both workers
        answers = list(pool.map(lambda b: code_step(b, host.url, codes[0]).status_code, browsers))
    assert sorted(answers) == [302, 401, 401, 401]
    assert code_step(browsers[answers.index(401)], host.url, codes[1]).status_code == 302


def test_flask_users_changes_hold_at_once_on_every_worker(host):
    token = host.flask("users", "token", "erin", "--name", "nightly").split()[-1]
    script = {"Authorization": f"Bearer {token}"}
    assert [requests.get(f"{host.url}/dashboard", headers=script).status_code for _ in range(6)] == [200] * 6
    host.flask("users", "token", "erin", "--revoke", "nightly")
    assert [requests.get(f"{host.url}/dashboard", headers=script).status_code for _ in range(6)] == [401] * 6
    browser = requests.Session()
    assert post_password(browser, host.url, "erin").status_code == 302
    host.flask("users", "remove", "erin")
    assert not any(signed_in(browser, host.url) for _ in range(6))


def test_sign_out_everywhere_is_seen_by_every_worker(host):
    browsers = [requests.Session() for _ in range(3)]
    for browser in browsers:
        assert post_password(browser, host.url, "reader").status_code == 302
    assert (
        browsers[0].post(f"{host.url}/account/sign-out-everywhere", allow_redirects=False).status_code == 302
    )
    for browser in browsers:
        assert not any(signed_in(browser, host.url) for _ in range(4))


def flood(url: str, stop: threading.Event, answers: list, address: str) -> None:
    """Guess at ever new accounts (each costs a password check) from one loopback address."""
    n = 0
    while not stop.is_set():
        n += 1
        connection = http.client.HTTPConnection(
            HOST, int(url.rsplit(":", 1)[1]), timeout=10, source_address=(address, 0)
        )
        body = urlencode({"username": f"guess-{address}-{n}", "password": "a-guessed-password"})
        started = time.monotonic()
        try:
            connection.request("POST", "/login", body, {"Content-Type": "application/x-www-form-urlencoded"})
            response = connection.getresponse()
            response.read()
            answers.append((response.status, response.getheader("Retry-After"), time.monotonic() - started))
        finally:
            connection.close()


def test_a_flood_of_guesses_from_16_addresses_leaves_signed_in_pages_answering(host):
    reader = requests.Session()
    assert post_password(reader, host.url, "reader").status_code == 302
    stop, answers = threading.Event(), []
    threads = [
        threading.Thread(target=flood, args=(host.url, stop, answers, f"127.0.0.{10 + n}"))
        for n in range(FLOOD_ADDRESSES)
    ]
    for thread in threads:
        thread.start()
    latencies = []
    try:
        time.sleep(1)  # the flood is under way
        deadline = time.monotonic() + FLOOD_SECONDS
        while time.monotonic() < deadline:
            started = time.monotonic()
            assert reader.get(f"{host.url}/dashboard", headers=HTML, timeout=10).status_code == 200
            latencies.append(time.monotonic() - started)
            time.sleep(0.05)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    p90 = statistics.quantiles(latencies, n=10)[-1]
    statuses = sorted({status for status, _, _ in answers})
    print(
        f"\nsigned-in p90 {p90 * 1000:.0f} ms over {len(latencies)} requests during "
        f"{len(answers)} guesses from {FLOOD_ADDRESSES} addresses (answers {statuses})"
    )
    assert p90 < 1.0
    assert set(statuses) <= {401, 429, 503}, statuses
    assert all(retry for status, retry, _ in answers if status in (429, 503))
    assert max(seconds for _, _, seconds in answers) < 5, "a guess was kept waiting"
