"""The attack suite: a baked project under gunicorn (2 workers), a second host, Redis, a real OpenID provider.

Each test is one attack or one deployment promise, named for it; README.md's security table points here.
"""

from __future__ import annotations

import base64
import http.client
import json
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from idp_server import IdentityProvider, sign_in_with_provider
from servers import AppServer, RedisServer, add_user, free_port, set_cookie, strong_key

PASSWORDS = {"alice": "alice-password-1234", "root": "root-password-12345", "target": "target-password-123"}
HTML = {"Accept": "text/html"}
ROUTER = ".._pages_content.children..._pages_store.data.."


@dataclass
class Deployment:
    a: AppServer  # host A
    b: AppServer  # host B: its own copy of the project, the same .env values, the same Redis
    idp: IdentityProvider
    env: dict[str, str]
    project: Path  # host A's project folder

    def url(self, server: AppServer) -> str:
        # Browse as "localhost": the provider listens on 127.0.0.1, so their cookies never mix.
        return f"http://localhost:{server.port}"


@pytest.fixture(scope="module")
def deployment(baked, tmp_path_factory):
    root = tmp_path_factory.mktemp("hosts")
    ports = [free_port(), free_port()]
    with RedisServer() as redis:
        idp = IdentityProvider(
            redirect_uris=[f"http://localhost:{port}/oidc/generic/callback" for port in ports],
            post_logout_redirect_uris=[f"http://localhost:{port}/" for port in ports],
            skip_consent=True,
        ).start()
        env = {
            "SECRET_KEY": strong_key(),
            "AUTH_METHODS": "both",
            **idp.generic_settings(),
            "REDIS_URL": redis.url,
        }
        hosts = []
        for name in ("host-a", "host-b"):
            project = root / name
            shutil.copytree(baked("both").project_path, project, ignore=shutil.ignore_patterns("instance"))
            (project / "groups.toml").write_text('admin = ["root"]\n')
            hosts.append(project)
        for name, password in PASSWORDS.items():
            add_user(hosts[0], name, password, env)
        shutil.copy(hosts[0] / "users.json", hosts[1] / "users.json")
        a = AppServer(hosts[0], env, port=ports[0]).start()
        b = AppServer(hosts[1], env, port=ports[1]).start()
        try:
            yield Deployment(a, b, idp, env, hosts[0])
        finally:
            a.stop()
            b.stop()
            idp.stop()


def password_sign_in(base: str, name: str, password: str | None = None) -> requests.Response:
    """POST the sign-in form once, as a script would (no redirects followed)."""
    return requests.post(
        f"{base}/login",
        data={"username": name, "password": password or PASSWORDS[name]},
        allow_redirects=False,
    )


def sign_in(base: str, name: str, password: str | None = None) -> requests.Session:
    browser = requests.Session()
    response = browser.post(
        f"{base}/login",
        data={"username": name, "password": password or PASSWORDS[name]},
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text
    return browser


def cookie_of(browser: requests.Session) -> str:
    return next(c.value for c in browser.cookies if c.name.endswith("session"))


def with_cookie(value: str) -> requests.Session:
    browser = requests.Session()
    browser.headers["Cookie"] = f"session={value}"
    return browser


def signed_in(browser: requests.Session, base: str) -> bool:
    response = browser.get(f"{base}/dashboard", headers=HTML, allow_redirects=False)
    assert response.status_code in (200, 302), response.status_code
    return response.status_code == 200


def payload(cookie: str) -> dict:
    """What a Flask session cookie says: readable without the key (only signed, not encrypted)."""
    body = cookie.lstrip(".").split(".")[0]
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    if cookie.startswith("."):
        import zlib

        raw = zlib.decompress(raw)
    return json.loads(raw)


def forge(data: dict, key: str) -> str:
    app = Flask("forger")
    app.secret_key = key
    return SecureCookieSessionInterface().get_signing_serializer(app).dumps(data)


def open_page(browser: requests.Session, base: str, path: str) -> requests.Response:
    body = {
        "output": ROUTER,
        "outputs": [
            {"id": "_pages_content", "property": "children"},
            {"id": "_pages_store", "property": "data"},
        ],
        "inputs": [
            {"id": "_pages_location", "property": "pathname", "value": path},
            {"id": "_pages_location", "property": "search", "value": ""},
        ],
        "changedPropIds": ["_pages_location.pathname"],
        "state": [],
    }
    return browser.post(f"{base}/_dash-update-component", json=body)


def chart_callback(browser: requests.Session, base: str, extra_inputs=()) -> requests.Response:
    body = {
        "output": "..chart.figure...summary.children..",
        "outputs": [{"id": "chart", "property": "figure"}, {"id": "summary", "property": "children"}],
        "inputs": [
            {"id": "metric", "property": "value", "value": "visits"},
            {"id": "window", "property": "value", "value": 7},
            *extra_inputs,
        ],
        "changedPropIds": ["metric.value"],
        "state": [],
    }
    return browser.post(f"{base}/_dash-update-component", json=body)


# Sessions and keys -------------------------------------------------------------


def test_session_cookie_is_httponly_and_samesite_lax(deployment):
    response = requests.post(
        f"{deployment.a.url}/login",
        data={"username": "alice", "password": PASSWORDS["alice"]},
        allow_redirects=False,
    )
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_session_is_renewed_at_sign_in(deployment):
    browser = sign_in(deployment.a.url, "alice")
    before = payload(cookie_of(browser))["auth"]["sid"]
    browser.post(f"{deployment.a.url}/login", data={"username": "root", "password": PASSWORDS["root"]})
    after = payload(cookie_of(browser))["auth"]
    assert after["id"] == "root" and after["sid"] != before


def test_authenticated_responses_are_not_cacheable(deployment):
    browser = sign_in(deployment.a.url, "alice")
    for response in (
        browser.get(f"{deployment.a.url}/_dash-layout"),
        chart_callback(browser, deployment.a.url),
    ):
        assert (
            "no-store" in response.headers["Cache-Control"] and "private" in response.headers["Cache-Control"]
        )


def test_cookie_copied_before_sign_out_is_refused_by_every_worker(deployment):
    browser = sign_in(deployment.a.url, "alice")
    stolen = cookie_of(browser)
    browser.post(f"{deployment.a.url}/logout")
    for _ in range(8):  # spread over both workers
        assert not signed_in(with_cookie(stolen), deployment.a.url)


def test_sign_out_on_one_host_is_seen_by_the_other_through_redis(deployment):
    browser = sign_in(deployment.a.url, "alice")
    stolen = cookie_of(browser)
    assert signed_in(with_cookie(stolen), deployment.b.url)
    browser.post(f"{deployment.a.url}/logout")
    assert not signed_in(with_cookie(stolen), deployment.b.url)


def test_hosts_sharing_env_accept_each_others_sessions(deployment):
    browser = sign_in(deployment.a.url, "root")
    response = open_page(with_cookie(cookie_of(browser)), deployment.b.url, "/admin")
    assert "Groups and their members" in response.text


def test_restart_keeps_everyone_signed_in(deployment):
    browser = sign_in(deployment.b.url, "alice")
    deployment.b.restart()
    assert signed_in(browser, deployment.b.url)


@pytest.mark.parametrize("key", ["secret", "dev", "", "another-projects-key-0123456789-abcdefghijkl"])
def test_cookie_forged_with_another_key_is_signed_out(deployment, key):
    data = payload(cookie_of(sign_in(deployment.a.url, "alice")))
    data["auth"]["groups"] = ["admin"]
    forged = with_cookie(forge(data, key or "k"))
    assert not signed_in(forged, deployment.a.url)
    assert "Groups and their members" not in open_page(forged, deployment.a.url, "/admin").text


def test_tampered_or_truncated_cookie_is_signed_out(deployment):
    cookie = cookie_of(sign_in(deployment.a.url, "alice"))
    _body, rest = cookie.split(".", 1)
    edited = (
        base64.urlsafe_b64encode(
            json.dumps({**payload(cookie), "auth": {**payload(cookie)["auth"], "id": "root"}}).encode()
        )
        .decode()
        .rstrip("=")
    )
    for broken in (cookie[:-6], cookie[: len(cookie) // 2], f"{edited}.{rest}", "garbage"):
        assert not signed_in(with_cookie(broken), deployment.a.url)


@pytest.fixture
def own_host(baked, tmp_path, deployment):
    """A host of its own for the tests that change .env or restart with other settings."""
    project = tmp_path / "own-host"
    shutil.copytree(deployment.project, project, ignore=shutil.ignore_patterns("instance"))
    env = {k: v for k, v in deployment.env.items() if k not in ("SECRET_KEY", "REDIS_URL")}
    server = AppServer(project, env)
    yield server
    server.stop()


def test_key_rotation_keeps_old_sessions_and_signs_new_ones_with_the_new_key(own_host):
    env_file = own_host.project / ".env"
    original = env_file.read_text()
    own_host.start()
    old_cookie = cookie_of(sign_in(own_host.url, "alice"))
    subprocess.run(
        [sys.executable, "-m", "flask", "keys", "rotate"],
        cwd=own_host.project,
        check=True,
        capture_output=True,
        timeout=60,
    )
    assert "SECRET_KEY_FALLBACKS=" in env_file.read_text() and env_file.read_text() != original
    own_host.restart()
    assert signed_in(with_cookie(old_cookie), own_host.url), "sessions signed with the old key still work"
    new_cookie = cookie_of(sign_in(own_host.url, "alice"))
    env_file.write_text(original)  # back to the old key alone
    own_host.restart()
    assert signed_in(with_cookie(old_cookie), own_host.url)
    assert not signed_in(with_cookie(new_cookie), own_host.url), (
        "new cookies are signed with the new key only"
    )


def test_changed_key_asks_to_sign_in_again_instead_of_failing(own_host):
    own_host.start()
    browser = sign_in(own_host.url, "alice")
    env_file = own_host.project / ".env"
    env_file.write_text(re.sub(r"SECRET_KEY=.*", f"SECRET_KEY={strong_key()}", env_file.read_text()))
    own_host.restart()
    response = browser.get(f"{own_host.url}/dashboard", headers=HTML, allow_redirects=False)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert chart_callback(browser, own_host.url).status_code == 401


def test_server_side_sessions_in_redis_are_deleted_at_sign_out(deployment, own_host):
    import redis

    own_host.env.update(SESSION_STORE="redis", REDIS_URL=deployment.env["REDIS_URL"])
    own_host.start()
    client = redis.Redis.from_url(deployment.env["REDIS_URL"])
    browser = sign_in(own_host.url, "alice")
    stolen = cookie_of(browser)
    (key,) = client.keys(f"*session:{stolen}")  # under the app's own prefix
    assert client.exists(key), "the session lives in Redis; the cookie holds its id"
    browser.post(f"{own_host.url}/logout")
    assert not client.exists(key)
    assert not signed_in(with_cookie(stolen), own_host.url)


# Basic auth --------------------------------------------------------------------


def test_guessing_is_throttled_across_workers_and_hosts(deployment):
    for attempt in range(10):
        host = deployment.a if attempt % 2 else deployment.b
        response = requests.post(
            f"{host.url}/login", data={"username": "target", "password": f"guess-number-{attempt}"}
        )
        assert response.status_code == 401
    response = requests.post(
        f"{deployment.a.url}/login", data={"username": "target", "password": PASSWORDS["target"]}
    )
    assert response.status_code == 401 and int(response.headers["Retry-After"]) > 0
    header = "Basic " + base64.b64encode(f"target:{PASSWORDS['target']}".encode()).decode()
    response = requests.get(f"{deployment.b.url}/dashboard", headers={"Authorization": header})
    assert response.status_code == 401 and "Retry-After" in response.headers


def test_throttling_never_locks_a_user_out_for_good(own_host):
    own_host.env["FAILED_SIGN_IN_WINDOW"] = "4"  # the first wait after 10 failures
    own_host.start()
    with ThreadPoolExecutor(4) as pool:  # each wrong guess costs a scrypt check: guess in parallel
        list(pool.map(lambda n: password_sign_in(own_host.url, "alice", f"wrong-{n}"), range(10)))
    refused = password_sign_in(own_host.url, "alice")
    assert refused.status_code == 401
    time.sleep(int(refused.headers["Retry-After"]) + 1)  # wait as told: then the right password works
    assert password_sign_in(own_host.url, "alice").status_code == 302


def basic_auth(name: str, password: str | None = None) -> dict[str, str]:
    credentials = f"{name}:{password or PASSWORDS[name]}".encode()
    return {"Authorization": "Basic " + base64.b64encode(credentials).decode()}


def checked(response: requests.Response) -> bool:
    """The password was really checked (and was wrong), rather than refused by the throttle."""
    return response.status_code == 401 and "Wrong username or password." in response.text


def test_guessing_at_an_active_account_is_throttled_on_every_worker(own_host):
    own_host.start()
    for _ in range(6):  # the owner's script, spread over both workers: each has seen the password right
        assert requests.get(f"{own_host.url}/dashboard", headers=basic_auth("alice")).status_code == 200
    for n in range(10):
        assert checked(password_sign_in(own_host.url, "alice", f"guess-number-{n}"))
    response = password_sign_in(own_host.url, "alice")
    assert response.status_code == 401 and int(response.headers["Retry-After"]) > 0
    for _ in range(6):
        response = requests.get(f"{own_host.url}/dashboard", headers=basic_auth("alice"))
        assert response.status_code == 401 and "Retry-After" in response.headers


@pytest.fixture(params=[6, None], ids=["redis-6", "redis-7-or-newer"])
def threaded_host_on_redis(request, deployment, tmp_path):
    """A host of its own on Redis 6 or on the newest Redis here, under gunicorn with 2 workers of
    4 threads each (gthread, as many deployments run): guesses are really checked side by side."""
    project = tmp_path / "threaded-host"
    shutil.copytree(deployment.project, project, ignore=shutil.ignore_patterns("instance"))
    with RedisServer(major=request.param) as redis_server:
        assert request.param or redis_server.version >= (7,), redis_server.version
        env = {**deployment.env, "SECRET_KEY": strong_key(), "REDIS_URL": redis_server.url}
        env["PASSWORD_CHECKS_AT_ONCE"] = "4"  # one per thread: no guess answered "busy" unchecked
        with AppServer(project, env, threads=4) as server:
            yield server


def test_parallel_wrong_guesses_never_get_more_than_the_limit_checked(threaded_host_on_redis):
    url = threaded_host_on_redis.url
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda n: password_sign_in(url, "alice", f"wrong-{n}"), range(30)))
    assert {answer.status_code for answer in answers} == {401}
    assert sum(map(checked, answers)) <= 10, f"{sum(map(checked, answers))} wrong guesses were checked"
    for response in (
        password_sign_in(url, "alice"),
        requests.get(f"{url}/dashboard", headers=basic_auth("alice")),
    ):
        assert response.status_code == 401 and int(response.headers["Retry-After"]) > 0


@pytest.mark.parametrize("sent_first", ["right password", "wrong guesses"])
def test_right_password_racing_the_last_guesses_never_gets_more_than_the_limit_checked(
    threaded_host_on_redis, sent_first
):
    """The limit is reached while the right password is being checked, or the right password
    arrives while the guesses that reach the limit are being checked."""
    url = threaded_host_on_redis.url
    for n in range(9):
        assert checked(password_sign_in(url, "alice", f"wrong-{n}"))
    with ThreadPoolExecutor(8) as pool:

        def send_right():
            return pool.submit(password_sign_in, url, "alice")

        def send_wrong():
            return [pool.submit(password_sign_in, url, "alice", f"late-{n}") for n in range(6)]

        if sent_first == "right password":
            right = send_right()
            time.sleep(0.05)
            wrong = send_wrong()
        else:
            wrong = send_wrong()
            time.sleep(0.05)
            right = send_right()
        right, wrong = right.result(), [future.result() for future in wrong]
    assert {answer.status_code for answer in wrong} == {401}
    assert 9 + sum(map(checked, wrong)) <= 10, f"{9 + sum(map(checked, wrong))} wrong guesses were checked"
    assert right.status_code == 302 or "Retry-After" in right.headers, right.status_code
    after = password_sign_in(url, "alice")
    if right.status_code == 302:  # checked first: a success ends the run of consecutive failures
        assert sent_first == "right password" and after.status_code == 302
    else:
        assert after.status_code == 401 and int(after.headers["Retry-After"]) > 0


def test_wrong_password_and_unknown_user_get_the_same_answer(deployment):
    wrong = requests.post(f"{deployment.a.url}/login", data={"username": "root", "password": "not-it-at-all"})
    unknown = requests.post(
        f"{deployment.a.url}/login", data={"username": "nobody", "password": "not-it-at-all"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.text.replace("root", "X") == unknown.text.replace("nobody", "X")


@pytest.mark.parametrize(
    "header",
    [
        "Bearer x.y.z",
        "Basic",
        "Basic !!!",
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:\xfa").decode(),
        "Basic " + "A" * 6000,
        "NTLM TlRMTVNTUAAB",
    ],
)
def test_malformed_authorization_header_gets_401_not_500(deployment, header):
    response = requests.get(f"{deployment.a.url}/dashboard", headers={"Authorization": header})
    assert response.status_code == 401
    assert "Traceback" not in response.text


def test_script_sending_basic_credentials_works_and_a_changed_password_is_refused_at_once(own_host):
    own_host.start()
    header = {"Authorization": "Basic " + base64.b64encode(f"alice:{PASSWORDS['alice']}".encode()).decode()}
    for _ in range(4):
        assert requests.get(f"{own_host.url}/dashboard", headers=header).status_code == 200
    add_user(own_host.project, "alice", "a-completely-new-password", own_host.env)
    assert requests.get(f"{own_host.url}/dashboard", headers=header).status_code == 401


@pytest.mark.parametrize("headers", [{"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}])
def test_cross_site_sign_out_is_refused(deployment, headers):
    browser = sign_in(deployment.a.url, "alice")
    assert (
        browser.post(f"{deployment.a.url}/logout", headers=headers, allow_redirects=False).status_code == 403
    )
    assert signed_in(browser, deployment.a.url)


# Apps sharing one Redis database ----------------------------------------------------


@dataclass
class TwoApps:
    a: AppServer
    b: AppServer
    redis_url: str


@pytest.fixture(scope="module")
def two_apps_on_one_redis(deployment, tmp_path_factory):
    """Two different apps (each its own SECRET_KEY), the same users, one Redis database."""
    root = tmp_path_factory.mktemp("two-apps")
    with RedisServer() as redis_server:
        servers = []
        for name in ("app-a", "app-b"):
            project = root / name
            shutil.copytree(deployment.project, project, ignore=shutil.ignore_patterns("instance"))
            env = {**deployment.env, "SECRET_KEY": strong_key(), "REDIS_URL": redis_server.url}
            servers.append(AppServer(project, env))
        try:
            for server in servers:
                server.start()
            yield TwoApps(*servers, redis_server.url)
        finally:
            for server in servers:
                server.stop()


def test_guessing_at_one_apps_account_does_not_throttle_another_app_on_the_same_redis(two_apps_on_one_redis):
    a, b = two_apps_on_one_redis.a, two_apps_on_one_redis.b
    for n in range(10):
        assert checked(password_sign_in(a.url, "target", f"guess-number-{n}"))
    assert password_sign_in(a.url, "target").status_code == 401, "app A throttles its own account"
    assert password_sign_in(b.url, "target").status_code == 302


def test_sign_out_in_one_app_does_not_end_a_session_of_another_app_on_the_same_redis(two_apps_on_one_redis):
    a, b = two_apps_on_one_redis.a, two_apps_on_one_redis.b
    browser = sign_in(b.url, "alice")
    # App A's holder (its operators, or whoever took app A) makes a session of A's with the same id.
    twin = with_cookie(forge(payload(cookie_of(browser)), a.env["SECRET_KEY"]))
    assert signed_in(twin, a.url)
    twin.post(f"{a.url}/logout")
    assert not signed_in(twin, a.url), "app A revoked it for itself"
    assert signed_in(browser, b.url), "app B never reads app A's revocations"


def test_apps_on_one_redis_write_no_key_in_common_and_none_unprefixed(two_apps_on_one_redis):
    import redis

    client = redis.Redis.from_url(two_apps_on_one_redis.redis_url, decode_responses=True)
    written = {}
    for server in (two_apps_on_one_redis.a, two_apps_on_one_redis.b):
        client.flushdb()
        password_sign_in(server.url, "root", "a-wrong-guess")
        sign_in(server.url, "root").post(f"{server.url}/logout")
        written[server] = set(client.keys("*"))
    keys_a, keys_b = written.values()
    assert keys_a and keys_b
    assert not keys_a & keys_b, f"both apps use {sorted(keys_a & keys_b)}"
    bare = sorted(k for k in keys_a | keys_b if re.match(r"(revoked|failures|groups|session):", k))
    assert not bare, f"keys without the app's prefix: {bare}"


# Access --------------------------------------------------------------------------


def test_fake_pathname_input_does_not_open_a_protected_callback(deployment):
    fake = [{"id": "_pages_location", "property": "pathname", "value": "/"}]
    assert chart_callback(requests.Session(), deployment.a.url, fake).status_code == 401


def test_non_admin_asking_the_router_for_admin_gets_not_allowed(deployment):
    response = open_page(sign_in(deployment.a.url, "alice"), deployment.a.url, "/admin")
    assert "not-allowed" in response.text and "Groups and their members" not in response.text


def test_no_restricted_layout_in_index_or_dash_layout(deployment):
    browser = sign_in(deployment.a.url, "alice")
    for path in ("/", "/admin", "/_dash-layout"):
        assert "Groups and their members" not in browser.get(f"{deployment.a.url}{path}").text


@pytest.mark.parametrize(
    "path, allowed",
    [
        ("/assets/style.css", True),
        ("/assets/data.csv", False),
        ("/assets/../app.py", False),
        ("/assets/%2e%2e/app.py", False),
        ("/assets/..%2fapp.py", False),
        ("/_dash-component-suites/dash/../../app.py", False),
    ],
)
def test_only_the_stylesheet_is_public_and_nothing_escapes_assets(deployment, path, allowed):
    connection = http.client.HTTPConnection("127.0.0.1", deployment.a.port, timeout=10)
    connection.request("GET", path)  # sent as written: no client-side clean-up of "..".
    response = connection.getresponse()
    body = response.read().decode(errors="replace")
    assert (response.status == 200) == allowed, response.status
    assert "create_app" not in body


def test_errors_are_plain_pages_without_debugger(deployment):
    browser = sign_in(deployment.a.url, "alice")
    response = browser.post(
        f"{deployment.a.url}/_dash-update-component",
        json={"output": "..chart.figure...summary.children..", "inputs": "nonsense"},
    )
    assert 400 <= response.status_code < 600
    assert "Traceback" not in response.text and "Werkzeug Debugger" not in response.text


def test_security_headers_on_every_response(deployment):
    for path in ("/", "/login", "/assets/style.css"):
        headers = requests.get(f"{deployment.a.url}{path}").headers
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["Referrer-Policy"] == "same-origin"


# Proxies ------------------------------------------------------------------------


def test_spoofed_forwarded_headers_change_nothing_without_a_trusted_proxy(deployment):
    spoof = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example", "X-Forwarded-For": "6.6.6.6"}
    start = requests.get(
        f"{deployment.url(deployment.a)}/oidc/generic/login", headers=spoof, allow_redirects=False
    )
    assert f"redirect_uri=http%3A%2F%2Flocalhost%3A{deployment.a.port}%2F" in start.headers["Location"]
    response = requests.post(
        f"{deployment.a.url}/login",
        headers=spoof,
        allow_redirects=False,
        data={"username": "alice", "password": PASSWORDS["alice"]},
    )
    assert "Secure" not in response.headers["Set-Cookie"]
    assert "Strict-Transport-Security" not in response.headers


def test_behind_a_trusted_tls_proxy_everything_uses_https_and_the_public_host(own_host):
    own_host.env["TRUSTED_PROXY_HOPS"] = "1"
    own_host.start()
    proxy = {
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "dash.example.com",
        "X-Forwarded-For": "10.1.2.3",
    }
    start = requests.get(f"{own_host.url}/oidc/generic/login", headers=proxy, allow_redirects=False)
    assert (
        "redirect_uri=https%3A%2F%2Fdash.example.com%2Foidc%2Fgeneric%2Fcallback" in start.headers["Location"]
    )
    response = requests.post(
        f"{own_host.url}/login",
        headers=proxy,
        allow_redirects=False,
        data={"username": "alice", "password": PASSWORDS["alice"]},
    )
    assert "Secure" in set_cookie(response, "__Host-session")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


# Single sign-on ------------------------------------------------------------------


def test_sign_in_started_on_one_host_finishes_on_the_other(deployment):
    browser = requests.Session()
    callback = sign_in_with_provider(browser, f"{deployment.url(deployment.a)}/oidc/generic/login", "alice")
    on_b = callback.replace(f":{deployment.a.port}/", f":{deployment.b.port}/")
    assert browser.get(on_b, allow_redirects=False).status_code == 302
    assert signed_in(browser, deployment.url(deployment.a)) and signed_in(
        browser, deployment.url(deployment.b)
    )


def test_provider_callback_cannot_be_replayed(deployment):
    browser = requests.Session()
    callback = sign_in_with_provider(browser, f"{deployment.url(deployment.a)}/oidc/generic/login", "bob")
    assert browser.get(callback, allow_redirects=False).status_code == 302
    replay = requests.get(callback, headers=HTML, allow_redirects=False)
    assert replay.status_code == 400


def test_provider_error_is_escaped(deployment):
    response = requests.get(
        f"{deployment.a.url}/oidc/generic/callback",
        params={"error": "<script>alert(1)</script>", "error_description": "<img src=x onerror=alert(2)>"},
        headers=HTML,
    )
    assert response.status_code == 401
    assert "<script>alert" not in response.text and "<img" not in response.text
