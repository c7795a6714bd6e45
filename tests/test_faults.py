"""Faults survived, with the real parts: redis-server stopped and restarted under gunicorn (2 workers),
the SQLite store made read-only, users.json made unreadable, a provider that hangs; and the load held
by 200 signed-in users, with and without a Redis restart in the middle.

Each fault test asserts the status (503 with Retry-After where the part is needed), the health check,
the recovery without a restart, and that nothing was lost (a sign-out during the outage holds after it).
"""

from __future__ import annotations

import hashlib
import json
import random
import secrets
import shutil
import socket
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from idp_server import IdentityProvider
from servers import HOST, AppServer, RedisServer, add_user, edit_by_hand, free_port, strong_key
from test_security import HTML, PASSWORDS, chart_callback, cookie_of, forge, sign_in, signed_in, with_cookie

USERS = 200
LOAD_SECONDS = 60
CLIENT_THREADS = 16
REQUESTS_PER_WORKER = 8  # a fresh connection each: the workers take turns accepting, so 8 reach both
CLOSE = {"Connection": "close"}


@pytest.fixture(scope="module")
def project(baked, tmp_path_factory) -> Path:
    """A "both" project with alice (a real hash) and 200 load users sharing her hash (hashed once)."""
    project = tmp_path_factory.mktemp("faults") / "app"
    shutil.copytree(baked("both").project_path, project, ignore=shutil.ignore_patterns("instance"))
    add_user(project, "alice", PASSWORDS["alice"], {"SECRET_KEY": strong_key()})
    users = json.loads((project / "users.json").read_text())
    users.update({f"user-{n}": users["alice"] for n in range(USERS)})
    (project / "users.json").write_text(json.dumps(users))
    return project


def stored_hash(project: Path, name: str) -> str:
    record = json.loads((project / "users.json").read_text())[name]
    return record if isinstance(record, str) else record["password"]


def session_cookie(project: Path, key: str, name: str) -> str:
    """A session as the sign-in form makes it, signed with the app's key (no scrypt per user)."""
    now = int(time.time())
    fingerprint = hashlib.sha256(stored_hash(project, name).encode()).hexdigest()[:16]
    record = {"v": 2, "id": name, "name": name, "provider": "basic", "sid": secrets.token_urlsafe(16)}
    record.update(at=now, seen=now, groups=[], cred=fingerprint)
    return forge({"auth": record, "_permanent": True}, key)


def answers(url: str, browser: requests.Session | None = None, headers=None) -> list[requests.Response]:
    """The same GET on fresh connections, so that both workers answer it."""
    get, headers = (browser or requests).get, {**(headers or {}), **CLOSE}
    return [get(url, allow_redirects=False, timeout=30, headers=headers) for _ in range(REQUESTS_PER_WORKER)]


def load_browser(cookie: str) -> requests.Session:
    """A user's browser for the load tests: a connection per request, as gunicorn's sync
    workers did (a kept-alive one that the server closes when idle would fail the next request)."""
    browser = with_cookie(cookie)
    browser.headers.update(CLOSE)
    return browser


def audit_lines(server: AppServer, event: str, dependency: str) -> list[dict]:
    lines = (json.loads(line) for line in server.log.read_text().splitlines() if line.startswith('{"'))
    return [line for line in lines if line.get("event") == event and line.get("dependency") == dependency]


def wait_for_health(server: AppServer, status: int = 200, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while requests.get(f"{server.url}/healthz", timeout=10).status_code != status:
        assert time.monotonic() < deadline, f"/healthz did not answer {status} in {timeout} s"
        time.sleep(0.2)


def assert_unavailable(response: requests.Response) -> None:
    assert response.status_code == 503, (response.status_code, response.text[:300])
    assert int(response.headers["Retry-After"]) > 0
    assert "Traceback" not in response.text


# Redis stopped and restarted under gunicorn -------------------------------------------


@dataclass
class OnRedis:
    server: AppServer
    redis: RedisServer
    key: str


@pytest.fixture(scope="module")
def on_redis(project):
    key = strong_key()
    redis = RedisServer()
    env = {"SECRET_KEY": key, "AUTH_METHODS": "basic", "REDIS_URL": redis.url}
    holder = OnRedis(AppServer(project, env, threads=None), redis, key)  # threads: as gunicorn.conf.py
    try:
        holder.server.start()
        yield holder
    finally:
        holder.server.stop()
        holder.redis.stop()  # the one running now (restarted by the tests)


def restart_redis(deployment: OnRedis) -> None:
    deployment.redis = RedisServer(port=deployment.redis.port)


def test_redis_stopped_answers_503_then_recovers_on_every_worker_and_keeps_the_sign_out(on_redis):
    url = on_redis.server.url
    browser, leaving = sign_in(url, "alice"), sign_in(url, "alice")
    stolen = cookie_of(leaving)
    on_redis.redis.stop()

    for response in answers(f"{url}/dashboard", browser, headers=HTML):
        assert_unavailable(response)
        assert "try again" in response.text and "text/html" in response.headers["Content-Type"]
    callback = chart_callback(browser, url)
    assert_unavailable(callback)
    assert "error" in callback.json()
    assert_unavailable(requests.post(f"{url}/login", data={"username": "alice", "password": "guess-1"}))
    assert {r.status_code for r in answers(f"{url}/", browser, headers=HTML)} == {200}, "public page"
    assert {r.status_code for r in answers(f"{url}/assets/style.css")} == {200}
    for health in answers(f"{url}/healthz"):
        assert health.status_code == 503 and health.json() == {"status": "degraded", "store": "unreachable"}
    assert {r.status_code for r in answers(f"{url}/livez")} == {200}
    signed_out = leaving.post(f"{url}/logout", allow_redirects=False)
    assert signed_out.status_code == 302 and not cookie_of_or_none(leaving), "done, cookie cleared"
    for response in answers(f"{url}/dashboard", with_cookie(stolen), headers=HTML):
        assert response.status_code == 302, "refused at once by both workers (pending-revocations)"

    restart_redis(on_redis)
    wait_for_health(on_redis.server)
    assert {r.status_code for r in answers(f"{url}/dashboard", browser, headers=HTML)} == {200}
    for response in answers(f"{url}/dashboard", with_cookie(stolen), headers=HTML):
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert not (on_redis.server.project / "instance" / "pending-revocations.jsonl").exists(), "replayed"
    failed = audit_lines(on_redis.server, "dependency-failed", "store")
    recovered = audit_lines(on_redis.server, "dependency-recovered", "store")
    assert 1 <= len(failed) <= 2 and 1 <= len(recovered) <= 2, "once per worker, not once per request"


def cookie_of_or_none(browser: requests.Session) -> str | None:
    return next((c.value for c in browser.cookies if c.name.endswith("session") and c.value), None)


# SQLite read-only, users.json unreadable, a provider that hangs ------------------------


class HangingProvider:
    """A provider's address that accepts connections and never answers."""

    def __init__(self, port: int):
        self.listener = socket.create_server((HOST, port))
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._hold, daemon=True)
        self.thread.start()

    def _hold(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.held.append(connection)

    def stop(self) -> None:
        self.listener.shutdown(socket.SHUT_RDWR)  # wakes accept(), so the port is free at once
        self.listener.close()
        self.thread.join(5)
        for connection in self.held:
            connection.close()


@pytest.fixture(scope="module")
def on_sqlite(project, tmp_path_factory):
    """Its own copy of the project, the store in SQLite, OIDC pointing at ``idp_port``."""
    folder = tmp_path_factory.mktemp("sqlite-host") / "app"
    shutil.copytree(project, folder, ignore=shutil.ignore_patterns("instance"))
    idp_port = free_port()
    env = {
        "SECRET_KEY": strong_key(),
        "AUTH_METHODS": "both",
        "OIDC_PROVIDERS": "generic",
        "OIDC_GENERIC_CLIENT_ID": "dash-app",
        "OIDC_GENERIC_CLIENT_SECRET": secrets.token_urlsafe(24),
        "OIDC_GENERIC_ISSUER": f"http://{HOST}:{idp_port}",
        "OIDC_HTTP_TIMEOUT": "2",
    }
    with AppServer(folder, env, threads=None) as server:  # threads: as gunicorn.conf.py
        server.idp_port = idp_port
        yield server


def chattr(flag: str, *paths: Path) -> None:
    # Immutable even for root (CI runs as root, which ignores file modes): writes fail at once.
    subprocess.run(["chattr", flag, *map(str, paths)], check=True, capture_output=True, timeout=10)


def test_read_only_sqlite_store_answers_503_keeps_the_sign_out_and_recovers(on_sqlite):
    url = on_sqlite.url
    leaving = sign_in(url, "alice")
    stolen = cookie_of(leaving)
    store = on_sqlite.project / "instance" / "auth-store.sqlite3"
    frozen = [store, store.with_name(store.name + "-wal")]
    chattr("+i", *frozen)
    try:
        assert_unavailable(requests.post(f"{url}/login", data={"username": "alice", "password": "guess-1"}))
        for health in answers(f"{url}/healthz"):
            assert health.status_code == 503 and health.json() == {
                "status": "degraded",
                "store": "unreachable",
            }
        assert leaving.post(f"{url}/logout", allow_redirects=False).status_code == 302
        for response in answers(f"{url}/dashboard", with_cookie(stolen), headers=HTML):
            assert response.status_code == 302, "refused at once by every worker of this host"
        assert {r.status_code for r in answers(f"{url}/", headers=HTML)} == {200}, "public page"
    finally:
        chattr("-i", *frozen)
    wait_for_health(on_sqlite)
    assert not (on_sqlite.project / "instance" / "pending-revocations.jsonl").exists(), "replayed"
    for response in answers(f"{url}/dashboard", with_cookie(stolen), headers=HTML):
        assert response.status_code == 302
    assert sign_in(url, "alice"), "password sign-in is back"
    assert len(audit_lines(on_sqlite, "dependency-recovered", "store")) >= 1


def test_unreadable_users_file_keeps_the_last_good_version_and_degrades_health(on_sqlite):
    users = on_sqlite.project / "users.json"
    good = users.read_text()
    edit_by_hand(users, good[: len(good) // 2])  # an edit cut short
    try:
        for health in answers(f"{on_sqlite.url}/healthz"):
            assert health.status_code == 503 and health.json() == {
                "status": "degraded",
                "users_file": "unreadable",
            }
        assert signed_in(sign_in(on_sqlite.url, "alice"), on_sqlite.url), "the last good version holds"
    finally:
        edit_by_hand(users, good)
    wait_for_health(on_sqlite)
    assert {r.status_code for r in answers(f"{on_sqlite.url}/healthz")} == {200}
    assert 1 <= len(audit_lines(on_sqlite, "dependency-failed", "users_file")) <= 2


def test_hanging_provider_fails_sign_in_in_bounded_time_and_recovers(on_sqlite):
    start = f"{on_sqlite.url}/oidc/generic/login"
    hanging = HangingProvider(on_sqlite.idp_port)
    try:
        began = time.monotonic()
        answer = requests.get(start, headers=HTML, allow_redirects=False, timeout=30)
        assert answer.status_code in (502, 503, 504) and "Traceback" not in answer.text
        assert time.monotonic() - began < 25, "well under gunicorn's 30 s worker timeout"
        assert signed_in(sign_in(on_sqlite.url, "alice"), on_sqlite.url), "password sign-in unaffected"
        assert requests.get(f"{on_sqlite.url}/healthz").status_code == 200, "a provider is not readiness"
    finally:
        hanging.stop()
    idp = IdentityProvider(
        redirect_uris=[f"{on_sqlite.url}/oidc/generic/callback"],
        client_secret=on_sqlite.env["OIDC_GENERIC_CLIENT_SECRET"],
        port=on_sqlite.idp_port,
    ).start()
    try:
        for answer in answers(start, headers=HTML):
            assert answer.status_code == 302 and answer.headers["Location"].startswith(idp.issuer)
    finally:
        idp.stop()


# Load held ------------------------------------------------------------------------------


def load(
    server: AppServer, cookies: list[str], seconds: float, during=None
) -> list[tuple[float, float, int]]:
    """Every user's page loads and callbacks, ``CLIENT_THREADS`` at a time, for ``seconds``:
    (start, seconds taken, status) per request. ``during(started)`` runs beside it."""
    browsers = [load_browser(cookie) for cookie in cookies]
    results: list[tuple[float, float, int]] = []
    began = time.monotonic()

    def work(seed: int) -> None:
        pick = random.Random(seed)
        while time.monotonic() - began < seconds:
            browser = pick.choice(browsers)
            sent = time.monotonic()
            status = page_or_callback(browser, server.url, page=pick.random() < 0.5)
            results.append((sent - began, time.monotonic() - sent, status))

    with ThreadPoolExecutor(CLIENT_THREADS + 1) as pool:
        side = pool.submit(during, began) if during else None
        for future in [pool.submit(work, n) for n in range(CLIENT_THREADS)]:
            future.result()
        if side:
            side.result()
    return results


def page_or_callback(browser: requests.Session, url: str, page: bool) -> int:
    """What a signed-in user does: load the dashboard, or change its chart (a callback)."""
    if page:
        return browser.get(f"{url}/dashboard", headers=HTML, timeout=30).status_code
    return chart_callback(browser, url).status_code


def percentile(results, rank: int) -> float:
    """Milliseconds within which ``rank`` percent of the requests were answered."""
    taken = sorted(seconds for _, seconds, _ in results)
    return taken[min(len(taken) - 1, len(taken) * rank // 100)] * 1000


def test_200_users_for_a_minute_get_no_error_and_the_p99_is_printed_beside_one_users(on_redis, project):
    cookies = [session_cookie(project, on_redis.key, f"user-{n}") for n in range(USERS)]
    alone = one_user(on_redis.server, cookies[0], requests_sent=100)
    results = load(on_redis.server, cookies, LOAD_SECONDS)
    statuses = {status for _, _, status in results}
    print(
        f"\n{USERS} users ({CLIENT_THREADS} at a time), {LOAD_SECONDS} s, gunicorn -w 2 + Redis:"
        f" {len(results)} requests ({len(results) / LOAD_SECONDS:.0f}/s),"
        f" p50 {percentile(results, 50):.0f} ms, p99 {percentile(results, 99):.0f} ms;"
        f" one user alone: p99 {percentile(alone, 99):.0f} ms"
    )
    assert statuses == {200}, statuses


def one_user(server: AppServer, cookie: str, requests_sent: int) -> list[tuple[float, float, int]]:
    """The same mix as ``load``, one request at a time."""
    browser, results = load_browser(cookie), []
    for n in range(requests_sent):
        sent = time.monotonic()
        status = page_or_callback(browser, server.url, page=n % 2 == 0)
        assert status == 200
        results.append((0.0, time.monotonic() - sent, status))
    return results


def test_200_users_through_a_redis_restart_get_only_503s_in_the_gap_and_none_after(on_redis, project):
    cookies = [session_cookie(project, on_redis.key, f"user-{n}") for n in range(USERS)]
    gap: dict[str, float] = {}

    def restart_in_the_middle(began: float) -> None:
        time.sleep(LOAD_SECONDS / 2)
        gap["down"] = time.monotonic() - began
        on_redis.redis.stop()
        time.sleep(3)
        restart_redis(on_redis)
        gap["up"] = time.monotonic() - began

    results = load(on_redis.server, cookies, LOAD_SECONDS, during=restart_in_the_middle)
    unavailable = [(sent, taken) for sent, taken, status in results if status == 503]
    others = {status for _, _, status in results} - {200, 503}
    print(
        f"\nRedis down from {gap['down']:.1f} s to {gap['up']:.1f} s: {len(results)} requests,"
        f" {len(unavailable)} answered 503, p99 {percentile(results, 99):.0f} ms"
    )
    assert not others, others
    assert unavailable, "the gap was seen"
    for sent, taken in unavailable:
        assert sent + taken >= gap["down"] and sent <= gap["up"], (
            f"a 503 outside the gap, sent at {sent:.1f} s"
        )
