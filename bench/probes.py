"""In-process measurements, run inside a project or variant directory (the current one).

    python probes.py loop cookie|basic|none   CPU microseconds per callback, Flask test client
    python probes.py profile                 where a signed-in callback request spends its time
    python probes.py oidc                    a sign-in round trip against the fake provider

CPU time (not wall time) per request, so that other work on the machine matters less.
"""

from __future__ import annotations

import contextlib
import cProfile
import json
import logging
import os
import pstats
import sys
import time
import timeit
from base64 import b64encode
from pathlib import Path
from statistics import median
from types import SimpleNamespace

HERE = Path.cwd()
sys.path[:0] = [str(HERE), str(HERE / "tests")]
sys.path.append(str(Path(__file__).resolve().parent))

from load import CALLBACK_PATH, CALLBACKS  # noqa: E402
from variants import PASSWORD, USER  # noqa: E402

CALLBACK_BODY = CALLBACKS["echo"][0]


def client_for(how: str):
    """A test client of this directory's app, signed in as ``how`` says; its headers; the app."""
    import app as module

    client = module.app.server.test_client()
    headers = {"Content-Type": "application/json"}
    if how == "cookie":
        answer = client.post("/login", data={"username": USER, "password": PASSWORD, "next": "/"})
        assert answer.status_code == 302, answer.status_code
    elif how == "basic":
        headers["Authorization"] = "Basic " + b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    answer = client.post(CALLBACK_PATH, data=CALLBACK_BODY, headers=headers)
    assert answer.status_code == 200 and b"ping" in answer.data, answer.data[:200]
    return client, headers, module.app


def cpu_us(client, headers, n: int) -> float:
    """CPU microseconds per callback request, over ``n`` requests."""
    start = time.process_time()
    for _ in range(n):
        client.post(CALLBACK_PATH, data=CALLBACK_BODY, headers=headers)
    return (time.process_time() - start) / n * 1e6


def loop(how: str) -> None:
    client, headers, _ = client_for(how)
    cpu_us(client, headers, 300)  # warm up
    print(json.dumps({"us": median(cpu_us(client, headers, 1000) for _ in range(5))}))


# What-ifs: the same requests with one cost taken away, each priced against the rest -------


@contextlib.contextmanager
def no_refresh(app):
    """Flask re-signs a permanent session on every response unless this is off."""
    config = app.server.config
    before, config["SESSION_REFRESH_EACH_REQUEST"] = config["SESSION_REFRESH_EACH_REQUEST"], False
    yield
    config["SESSION_REFRESH_EACH_REQUEST"] = before


@contextlib.contextmanager
def one_serializer(app):
    """The session's signing serializer built once, not twice per request (open and save)."""
    interface = app.server.session_interface
    serializer = interface.get_signing_serializer(app.server)
    interface.get_signing_serializer = lambda _app: serializer
    yield
    del interface.get_signing_serializer


@contextlib.contextmanager
def memory_store(app):
    """The store's lookups (SQLite) answered from a dict instead."""
    auth = app.server.extensions["dash_auth"]
    store, auth.store = auth.store, SimpleNamespace(get={}.get)
    yield
    auth.store = store


@contextlib.contextmanager
def no_stat(app):
    """groups.toml and users.json not stat()ed on every request."""
    auth = app.server.extensions["dash_auth"]
    files = [auth.groups._file, auth.users._file]
    for file in files:
        file._current_stamp = lambda stamp=file._stamp: stamp
    yield
    for file in files:
        del file._current_stamp


@contextlib.contextmanager
def _hook_replaced(app, kind: str, name: str, make):
    """A before/after_request function replaced by ``make(original)``, or dropped if make is None."""
    hooks = getattr(app.server, kind)[None]
    index = next(i for i, f in enumerate(hooks) if getattr(f, "__name__", "") == name)
    original = hooks[index]
    hooks[index : index + 1] = [make(original)] if make else []
    yield
    hooks[index : index + (1 if make else 0)] = [original]


def _finish_once(original):
    from auth.guard import SECURITY_HEADERS
    from flask import g

    def finish(response):
        if g.get("auth_user") is None or g.get("page_denied") or "Cache-Control" in response.headers:
            return original(response)
        response.headers.update(SECURITY_HEADERS)
        response.headers["Cache-Control"] = "private, no-store"
        response.vary.add("Cookie")
        return response

    return finish


def one_cache_control(app):
    """RequestGuard.finish writing "private, no-store" once, not parsing Cache-Control three times."""
    return _hook_replaced(app, "after_request_funcs", "finish", _finish_once)


def no_guard(app):
    """Not a proposal: the price of the guard's before_request check, for scale."""
    return _hook_replaced(app, "before_request_funcs", "check", None)


WHAT_IFS = {
    "as generated": (),
    "SESSION_REFRESH_EACH_REQUEST=False": (no_refresh,),
    "signing serializer built once": (one_serializer,),
    "finish(): one Cache-Control write": (one_cache_control,),
    "store lookup from memory, not SQLite": (memory_store,),
    "no stat of groups.toml/users.json": (no_stat,),
    "all five above": (no_refresh, one_serializer, one_cache_control, memory_store, no_stat),
    "(for scale: no guard check at all)": (no_guard,),
}


def what_ifs(app, client, headers, changes: dict, reps: int = 5, n: int = 600) -> dict[str, float]:
    """Median CPU us/request per change; the changes take turns, so drift hits all alike."""
    times: dict[str, list[float]] = {label: [] for label in changes}
    for _ in range(reps):
        for label, patches in changes.items():
            with contextlib.ExitStack() as stack:
                for patch in patches:
                    stack.enter_context(patch(app))
                times[label].append(cpu_us(client, headers, n))
    return {label: median(values) for label, values in times.items()}


def single_operations(app, client) -> dict[str, float]:
    from auth.identity import current_user
    from dash._pages import _path_to_page
    from flask import g, request

    server, auth = app.server, app.server.extensions["dash_auth"]
    interface = server.session_interface
    finish = next(f for f in server.after_request_funcs[None] if f.__name__ == "finish")
    cookie = client.get_cookie("session").value
    environ = {"HTTP_COOKIE": f"session={cookie}"}
    with server.test_request_context(CALLBACK_PATH, method="POST", environ_base=environ):
        session = interface.open_session(server, request)
        g.auth_user = current_user()

        def resolve():
            g.pop("auth_user", None)
            return current_user()

        ops = {
            "Flask open_session (cookie decode)": lambda: interface.open_session(server, request),
            "Flask save_session (re-sign, Set-Cookie)": lambda: interface.save_session(
                server, session, server.response_class()
            ),
            "current_user() resolve from session": resolve,
            "  of which store.get (SQLite)": lambda: auth.store.get("revoked:x"),
            "  of which stat groups.toml": auth.groups._file.path.stat,
            "RequestGuard.finish (signed in)": lambda: finish(server.response_class()),
            "callback body json.loads": lambda: json.loads(CALLBACK_BODY),
            "_path_to_page('/dashboard') (pages only)": lambda: _path_to_page("/dashboard"),
        }
        return {
            label: min(timeit.repeat(op, number=2000, repeat=5)) / 2000 * 1e6 for label, op in ops.items()
        }


def profile() -> None:
    client, headers, app = client_for("cookie")
    basic_client, basic_headers, _ = client_for("basic")
    cpu_us(client, headers, 300)

    print("What-ifs: CPU us per signed-in callback, in-process (medians of 5 x 600, taking turns):")
    results = what_ifs(app, client, headers, WHAT_IFS)
    base = results["as generated"]
    for label, us in results.items():
        print(f"  cookie  {label:40} {us:6.0f}  ({us - base:+4.0f})")
    basic_changes = {
        "as generated": (),
        "signing serializer built once": (one_serializer,),
        "failure counters from memory": (memory_store,),
    }
    results = what_ifs(app, basic_client, basic_headers, basic_changes)
    base = results["as generated"]
    for label, us in results.items():
        print(f"  Basic   {label:40} {us:6.0f}  ({us - base:+4.0f})")

    print("Single operations (us, best of 5 x 2000):")
    for label, us in single_operations(app, client).items():
        print(f"  {label:48} {us:6.1f}")

    n = 2000
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(n):
        client.post(CALLBACK_PATH, data=CALLBACK_BODY, headers=headers)
    profiler.disable()
    report_profile(pstats.Stats(profiler), n)


# External functions worth seeing next to auth/ in the profile: (where, name) substrings.
NOTABLE = (
    ("sqlite3.Connection", "execute"),
    ("posix", "stat"),
    ("itsdangerous", "loads"),
    ("itsdangerous", "dumps"),
    ("flask/sessions.py", "_session"),
    ("json/__init__.py", "loads"),
    ("werkzeug/wrappers/request.py", "get_json"),
    ("dash/backends/_flask.py", "_dispatch"),
    ("werkzeug/sansio/response.py", "set_cookie"),
    ("werkzeug/sansio/response.py", "cache_control"),
)


def report_profile(stats: pstats.Stats, n: int) -> None:
    total = max(ct for _, _, _, ct, _ in stats.stats.values())
    print(f"cProfile of {n} signed-in callback requests ({total / n * 1e6:.0f} us/request, profiler on):")
    print(f"  {'function':56} {'calls/req':>9} {'us/req':>7} {'share':>6}")
    auth_dir = str(HERE / "auth")
    rows = []
    for (file, line, name), (_, calls, _, cumulative, _) in stats.stats.items():
        label = f"{Path(file).name}:{line} {name}" if line else name
        if file.startswith(auth_dir):
            rows.append(("auth/" + label, calls, cumulative))
        elif any(where in file + name and what in name for where, what in NOTABLE):
            rows.append((label, calls, cumulative))
    for label, calls, cumulative in sorted(rows, key=lambda row: -row[2])[:18]:
        print(f"  {label[:56]:56} {calls / n:9.1f} {cumulative / n * 1e6:7.1f} {cumulative / total:6.1%}")


# OpenID Connect sign-in --------------------------------------------------------------------


def oidc(rounds: int = 20) -> None:
    import secrets
    import shutil
    import tempfile
    from urllib.parse import urlsplit

    import requests
    from oidc_fake_provider import CLIENT_ID, CLIENT_SECRET, FakeProvider

    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(48))
    from app import create_app
    from auth import Settings
    from auth.providers import provider_from_env

    class TimedProvider(FakeProvider):
        """The fake provider, counting its calls and the time its own handlers take."""

        busy, calls = 0.0, 0

        def wsgi(self, environ, start_response):
            start = time.perf_counter()
            try:
                return super().wsgi(environ, start_response)
            finally:
                self.busy += time.perf_counter() - start
                self.calls += 1

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the provider's request log
    # Every claim in the ID token (groups too), so no /userinfo call is needed.
    user = {
        "sub": "alice-1",
        "email": "alice@example.com",
        "email_verified": True,
        "name": "Alice",
        "groups": ["sales"],
    }
    files = Path(tempfile.mkdtemp())
    shutil.copy(HERE / "users.json", files / "users.json")
    (files / "groups.toml").write_text('admin = ["admin"]\n')
    rows = []
    with TimedProvider(user=user) as idp:
        env = {
            "OIDC_GENERIC_CLIENT_ID": CLIENT_ID,
            "OIDC_GENERIC_CLIENT_SECRET": CLIENT_SECRET,
            "OIDC_GENERIC_ISSUER": idp.issuer,
        }
        settings = Settings(
            secret_key=secrets.token_urlsafe(48),
            methods=("basic", "oidc"),
            users_file=files / "users.json",
            groups_file=files / "groups.toml",
            instance=files / "instance",
            providers=(provider_from_env("generic", env),),
        )
        app = create_app(settings)
        for _ in range(rounds + 2):
            client = app.server.test_client()
            idp.busy, idp.calls = 0.0, 0
            start = time.perf_counter()
            answer = client.get("/oidc/generic/login?next=/dashboard")
            login, provider, calls = time.perf_counter() - start, idp.busy, idp.calls
            # The browser's visit to the provider: neither side's cost, left out.
            at_provider = requests.get(answer.headers["Location"], allow_redirects=False, timeout=5)
            back = urlsplit(at_provider.headers["Location"])
            idp.busy, idp.calls = 0.0, 0
            start = time.perf_counter()
            answer = client.get(f"{back.path}?{back.query}")
            callback = time.perf_counter() - start
            assert answer.status_code == 302 and answer.headers["Location"] == "/dashboard", answer.text
            rows.append((login, callback, provider + idp.busy, calls + idp.calls))
    shutil.rmtree(files)
    warm = rows[2:]  # the first sign-ins also fetch discovery and keys
    names = ("login", "callback", "provider")
    ms = {name: median(row[i] for row in warm) * 1e3 for i, name in enumerate(names)}
    ours = ms["login"] + ms["callback"] - ms["provider"]
    first = sum(rows[0][:2]) * 1e3
    calls = median(row[3] for row in warm)
    print(json.dumps({**ms, "ours": ours, "first": first, "rounds": len(warm), "calls": calls}))


if __name__ == "__main__":
    commands = {"loop": lambda: loop(sys.argv[2]), "profile": profile, "oidc": oidc}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    commands[sys.argv[1]]()
