"""In-process measurements, run inside a project or variant directory (the current one).

    python probes.py loop cookie|basic|none   CPU microseconds per callback, Flask test client
    python probes.py profile [TOKEN]         where a signed-in callback request spends its time
                                             (TOKEN: a personal token of the bench user, for Bearer)
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

HERE = Path.cwd()
sys.path[:0] = [str(HERE), str(HERE / "tests")]
sys.path.append(str(Path(__file__).resolve().parent))

from load import CALLBACK_PATH, CALLBACKS  # noqa: E402
from variants import PASSWORD, USER  # noqa: E402

CALLBACK_BODY = CALLBACKS["echo"][0]


def client_for(how: str, token: str | None = None):
    """A test client of this directory's app, signed in as ``how`` says (cookie, basic, token:
    this personal token, or none); its headers; the app."""
    import app as module

    client = module.app.server.test_client()
    headers = {"Content-Type": "application/json"}
    if how == "cookie":
        answer = client.post("/login", data={"username": USER, "password": PASSWORD, "next": "/"})
        assert answer.status_code == 302, answer.status_code
    elif how == "basic":
        headers["Authorization"] = "Basic " + b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    elif how == "token":
        headers["Authorization"] = f"Bearer {token}"
    answer = client.post(CALLBACK_PATH, data=CALLBACK_BODY, headers=headers)
    assert answer.status_code == 200 and b"ping" in answer.data, answer.data[:200]
    return client, headers, module.app


def cpu_us(client, headers, n: int) -> float:
    """CPU microseconds per callback request, over ``n`` requests."""
    start = time.process_time()
    for _ in range(n):
        answer = client.post(CALLBACK_PATH, data=CALLBACK_BODY, headers=headers)
    spent = time.process_time() - start
    assert answer.status_code == 200 and b"ping" in answer.data, answer.data[:200]  # a what-if broke it
    return spent / n * 1e6


def loop(how: str) -> None:
    client, headers, _ = client_for(how)
    cpu_us(client, headers, 300)  # warm up
    print(json.dumps({"us": median(cpu_us(client, headers, 1000) for _ in range(5))}))


# What-ifs: the same requests with one cost taken away, each priced against the rest -------


def _auth(app):
    return app.server.extensions["dash_auth"]


@contextlib.contextmanager
def _replaced(target, **attributes):
    """Attributes of ``target`` replaced for a while (a method shadowed), then as they were."""
    before = {name: vars(target)[name] for name in attributes if name in vars(target)}
    for name, value in attributes.items():
        setattr(target, name, value)
    yield
    for name in attributes:
        delattr(target, name)
    for name, value in before.items():
        setattr(target, name, value)


def no_revocation_lookup(app):
    """The revocation check (the change clock, else a point lookup) answered from a set in memory."""
    return _replaced(_auth(app).store, is_revoked=set().__contains__)


def counters_in_memory(app):
    """Basic: the failure counters (counted, then forgiven, in SQLite) kept nowhere instead."""
    return _replaced(
        _auth(app).store,
        attempts=lambda _counter: 0,
        count_attempt=lambda _counter, _window: 1,
        forgive_attempt=lambda _counter, _window: None,
        clear_attempts=lambda _counter: None,
    )


def watched_files(app) -> list:
    """Every WatchedFile a request may stat: users.json (twice: passwords, accounts), groups.toml."""
    auth = _auth(app)
    files = [auth.directory.users.file, auth.directory.groups.file]
    return files + ([auth.accounts._view] if auth.accounts else [])


@contextlib.contextmanager
def no_stat(app):
    """users.json and groups.toml not stat()ed on every request (taken as unchanged)."""
    with contextlib.ExitStack() as stack:
        for file in watched_files(app):
            value, generation = file.get(), file.generation
            stack.enter_context(
                _replaced(file, get=lambda v=value: v, current_generation=lambda g=generation: g)
            )
        yield


class _Forgetful(dict):
    """A cache that keeps nothing."""

    def __setitem__(self, key, value):
        pass


def decode_every_time(app):
    """Not a proposal: the session cookie's signature checked on every request, as Flask does."""
    return _replaced(app.server.session_interface, _decoded=_Forgetful())


@contextlib.contextmanager
def _hook_replaced(app, kind: str, name: str, make):
    """A before/after_request function replaced by ``make(original)``, or dropped if make is None."""
    hooks = getattr(app.server, kind)[None]
    index = next(i for i, f in enumerate(hooks) if getattr(f, "__name__", "") == name)
    original = hooks[index]
    hooks[index : index + 1] = [make(original)] if make else []
    yield
    hooks[index : index + (1 if make else 0)] = [original]


def no_guard(app):
    """Not a proposal: the price of the guard's before_request check, for scale."""
    return _hook_replaced(app, "before_request_funcs", "check", None)


def no_headers(app):
    """Not a proposal: no security or cache headers (their WSGI middleware taken out), for scale."""
    server = app.server
    layers = list(_middleware(server))
    at = next(i for i, layer in enumerate(layers) if type(layer).__name__ == "ResponseHeaders")
    return _replaced(layers[at - 1] if at else server, wsgi_app=layers[at].wsgi_app)


WHAT_IFS = {
    "as generated": (),
    "revocation lookup from memory, not SQLite": (no_revocation_lookup,),
    "no stat of users.json/groups.toml": (no_stat,),
    "both above": (no_revocation_lookup, no_stat),
    "(for scale: cookie decoded every request)": (decode_every_time,),
    "(for scale: no guard check at all)": (no_guard,),
}
BASIC_WHAT_IFS = {
    "as generated": (),
    "failure counters in memory, not SQLite": (counters_in_memory,),
    "no stat of users.json/groups.toml": (no_stat,),
}
TOKEN_WHAT_IFS = {
    "as generated": (),
    "no stat of users.json/groups.toml": (no_stat,),
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
    from auth.web.identity import current_user, session_record
    from dash._pages import _path_to_page
    from flask import g, request

    server, auth = app.server, _auth(app)
    interface = server.session_interface
    serializer = interface.get_signing_serializer(server)
    headers = next(w for w in _middleware(server) if type(w).__name__ == "ResponseHeaders")
    signed_in = {"dash_auth.signed_in": True, "wsgi.url_scheme": "http"}
    cookie = client.get_cookie("session").value
    environ = {"HTTP_COOKIE": f"session={cookie}"}
    with server.test_request_context(CALLBACK_PATH, method="POST", environ_base=environ):
        interface.open_session(server, request)
        g.auth_user = current_user()
        record = session_record()

        def resolve():
            g.pop("auth_user", None)
            return current_user()

        ops = {
            "open_session (cookie decoded before: cached)": lambda: interface.open_session(server, request),
            "  signature check (serializer.loads), uncached": lambda: serializer.loads(cookie),
            "current_user() resolve from session": resolve,
            "  of which Sessions.user_of(record)": lambda: auth.sessions.user_of(record),
            "    of which store.is_revoked (clock, else SQLite)": lambda: auth.store.is_revoked(record.sid),
            "    of which stat groups.toml": auth.directory.groups.file.current_generation,
            "security headers (signed in)": lambda: headers.add([("Content-Type", "text/html")], signed_in),
            "callback body json.loads": lambda: json.loads(CALLBACK_BODY),
            "_path_to_page('/dashboard') (pages only)": lambda: _path_to_page("/dashboard"),
        }
        return {
            label: min(timeit.repeat(op, number=2000, repeat=5)) / 2000 * 1e6 for label, op in ops.items()
        }


def _middleware(server):
    """The WSGI layers around Flask's own app, outermost first."""
    layer = server.wsgi_app
    while hasattr(layer, "wsgi_app") and not hasattr(layer, "url_map"):
        yield layer
        layer = layer.wsgi_app


def print_what_ifs(kind: str, results: dict[str, float]) -> None:
    base = results["as generated"]
    for label, us in results.items():
        print(f"  {kind:7} {label:42} {us:6.0f}  ({us - base:+4.0f})")


def profile(token: str | None) -> None:
    client, headers, app = client_for("cookie")
    cpu_us(client, headers, 300)

    print("What-ifs: CPU us per signed-in callback, in-process (medians of 5 x 600, taking turns):")
    print_what_ifs("cookie", what_ifs(app, client, headers, WHAT_IFS))
    basic_client, basic_headers, _ = client_for("basic")
    print_what_ifs("Basic", what_ifs(app, basic_client, basic_headers, BASIC_WHAT_IFS))
    if token:
        token_client, token_headers, _ = client_for("token", token)
        print_what_ifs("Bearer", what_ifs(app, token_client, token_headers, TOKEN_WHAT_IFS))

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
            rows.append((f"{Path(file).relative_to(HERE)}:{line} {name}", calls, cumulative))
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
    commands = {
        "loop": lambda: loop(sys.argv[2]),
        "profile": lambda: profile(sys.argv[2] if len(sys.argv) > 2 else None),
        "oidc": oidc,
    }
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    commands[sys.argv[1]]()
