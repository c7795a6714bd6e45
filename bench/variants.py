"""The apps under test, written next to the baked project: ours, bare Dash, dash-auth.

Every variant has the baked project's pages and layout plus pages/bench.py, a
trivial echo callback protected the way that variant protects callbacks. The
bare and dash-auth variants get a stub ``auth`` module whose names do nothing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from flask import Flask
from werkzeug.security import generate_password_hash

USER = "admin"  # in group admin in the baked groups.toml
PASSWORD = "bench-password-1234"
FLASK_KEY = "bench-dash-auth-key-" + "0123456789abcdef" * 3  # for the dash-auth variants

ECHO = 'callback(Output("bench-out", "children"), Input("bench-in", "value"))'

BENCH_PAGE = '''"""The benchmark's callback: the same trivial echo in every variant."""

import dash
from dash import Input, Output, callback, dcc, html
{imports}
dash.register_page(__name__, path="/bench", name="Bench")

layout = html.Div([dcc.Input(id="bench-in", value="x"), html.Div(id="bench-out")])


{decorators}
def echo(value):
    return value
'''

STUB_AUTH = '''"""No auth: the names the pages import, doing nothing."""

import dash


class User:
    pass


def _as_is(func):
    return func


public = signed_in = _as_is


def requires(**_groups):
    return _as_is


def current_user():
    return None


def group_members():
    return {}


def access_token():
    return None


def provider_metadata():
    return None


def allowed_pages(_user):
    return [p for p in dash.page_registry.values() if not p["module"].endswith("not_found_404")]
'''

# The generated app.py without Auth(...), plus what each dash-auth variant adds.
BARE_APP = '''"""{doc}"""

import dash

import layout
{imports}
app = dash.Dash(__name__, use_pages=True, title="My Dash App", update_title=None)
app.layout = layout.shell
app.config.suppress_callback_exceptions = True  # as Auth(app) sets it: no validation layout
{setup}
server = app.server
'''

GROUPS = {"admin": ["admin"]}
DASH_AUTH = {
    "da-basic": (
        "dash-auth BasicAuth, plain-text passwords",
        "from dash_auth import BasicAuth\n",
        f"BasicAuth(app, {{{USER!r}: {PASSWORD!r}}}, user_groups={GROUPS!r}, secret_key={FLASK_KEY!r})",
    ),
    "da-scrypt": (
        "dash-auth BasicAuth, a werkzeug scrypt hash checked on every request",
        "from dash_auth import BasicAuth\nfrom werkzeug.security import check_password_hash\n",
        "HASHES = @HASHES@\n"
        "BasicAuth(\n"
        "    app,\n"
        "    auth_func=lambda name, pw: name in HASHES and check_password_hash(HASHES[name], pw),\n"
        f"    user_groups={GROUPS!r},\n"
        f"    secret_key={FLASK_KEY!r},\n"
        ")",
    ),
    "da-protected": (
        "dash-auth BasicAuth with protected_callback",
        "from dash_auth import BasicAuth\n",
        f"BasicAuth(app, {{{USER!r}: {PASSWORD!r}}}, user_groups={GROUPS!r}, secret_key={FLASK_KEY!r})",
    ),
    "da-oidc": (
        "dash-auth OIDCAuth: signed-in users carry its session cookie",
        "from dash_auth import OIDCAuth\n",
        f"OIDCAuth(app, secret_key={FLASK_KEY!r})",
    ),
}


def bench_page(kind: str) -> str:
    if kind == "ours-admin":
        return BENCH_PAGE.format(
            imports="\nfrom auth import requires\n", decorators=f'@{ECHO}\n@requires(one_of=["admin"])'
        )
    if kind == "da-protected":
        decorator = ECHO.replace("callback(", "protected_callback(", 1)[:-1] + ', groups=["admin"])'
        return BENCH_PAGE.format(
            imports="\nfrom dash_auth import protected_callback\n", decorators=f"@{decorator}"
        )
    return BENCH_PAGE.format(imports="", decorators=f"@{ECHO}")


def large_groups(groups: int = 1000, per_group: int = 10) -> str:
    """groups.toml with groups * per_group members; admin is also in ten of the groups."""
    lines = ['admin = ["admin"]']
    for g in range(groups):
        members = [f"user{g * per_group + m:05d}@example.com" for m in range(per_group)]
        if g % 100 == 0:
            members.append(USER)
        lines.append(f"group{g:04d} = {members!r}".replace("'", '"'))
    return "\n".join(lines) + "\n"


def _run(command: list[str], cwd: Path, stdin: str | None = None) -> str:
    """What ``command`` printed; its errors in the exception when it fails."""
    done = subprocess.run(command, cwd=cwd, input=stdin, text=True, capture_output=True)
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command[:6])} failed in {cwd}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
        )
    return done.stdout


def set_password(project: Path, bin_dir: Path) -> None:
    """The known password for the bench user, stored as a scrypt hash by the project's own CLI."""
    flask = str(bin_dir / "flask")
    _run([flask, "--app", "app:server", "users", "add", USER, "--password-stdin"], project, PASSWORD + "\n")


def _copy(project: Path, target: Path, *skip: str) -> Path:
    shutil.rmtree(target, ignore_errors=True)
    ignore = shutil.ignore_patterns("__pycache__", "instance", "tests", "docs", "README.md", *skip)
    shutil.copytree(project, target, ignore=ignore)
    return target


def write_all(project: Path, out: Path) -> dict[str, Path]:
    """Write every variant under ``out``; returns name -> directory."""
    dirs = {}
    for kind in ("ours", "ours-admin", "ours-10k", "ours-users"):
        target = dirs[kind] = _copy(project, out / kind)
        (target / "pages" / "bench.py").write_text(bench_page(kind))
        if kind == "ours-10k":
            (target / "groups.toml").write_text(large_groups())
        if kind == "ours-users":
            many_users(target)

    skip = ("auth", "sign_in.py", ".env*", "users.json", "groups.toml", "pyproject.toml")
    hashes = {USER: generate_password_hash(PASSWORD, method="scrypt")}
    for kind in ("bare", *DASH_AUTH):
        target = dirs[kind] = _copy(project, out / kind, *skip)
        (target / "auth.py").write_text(STUB_AUTH)
        (target / "pages" / "bench.py").write_text(bench_page(kind))
        doc, imports, setup = DASH_AUTH.get(kind, ("Bare Dash: the generated app's pages, no auth.", "", ""))
        setup = setup.replace("@HASHES@", repr(hashes))
        (target / "app.py").write_text(BARE_APP.format(doc=doc, imports=imports, setup=setup))
    return dirs


def many_users(project: Path, count: int = 1000) -> None:
    """users.json with ``count`` users, all with the bench user's hash (one scrypt run, not a thousand)."""
    users = json.loads((project / "users.json").read_text())
    record = users[USER]
    users.update({f"user{n:04d}": record for n in range(count)})
    (project / "users.json").write_text(json.dumps(users))


# Signed-in users as POST /login makes them, after the password check (scrypt, half a second
# each: too slow for a thousand), by the app's own code: the session is listed in the store,
# the device cookie set, the session cookie signed; "last seen" is now, so a run shorter than
# a minute writes nothing back. Prints one JSON list of Cookie header values, last.
SIGN_IN_MANY = """
import json, sys
from flask import session
from app import server
from auth.web.account_views import password_accepted
from auth.web.identity import SESSION_KEY
auth = server.extensions["dash_auth"]
cookies = []
for n in range(int(sys.argv[1])):
    user = f"user{n:04d}"
    with server.test_request_context("/login", method="POST", headers={"User-Agent": "bench"}):
        answer = password_accepted(user, user, "/")
        server.session_interface.save_session(server, session, answer)
        sid = session[SESSION_KEY]["sid"]
    assert sid in auth.store.sessions_of(user), "the session is not listed in the store"
    cookies.append("; ".join(c.split(";", 1)[0] for c in answer.headers.getlist("Set-Cookie")))
print(json.dumps(cookies))
"""


def signed_in_cookies(project: Path, count: int) -> list[str]:
    """Cookie headers of ``count`` users signed in just now (SIGN_IN_MANY), in the app's store."""
    printed = _run([sys.executable, "-c", SIGN_IN_MANY, str(count)], project)
    return json.loads(printed.strip().splitlines()[-1])


def personal_token(project: Path, bin_dir: Path) -> str:
    """A personal access token of the bench user, made as a user makes one: ``flask users token``."""
    printed = _run(
        [str(bin_dir / "flask"), "--app", "app:server", "users", "token", USER, "--name", "bench"], project
    )
    token = printed.strip().splitlines()[-1]
    if not token.startswith("dat_"):
        raise RuntimeError(f"flask users token printed no token:\n{printed}")
    return token


def dash_auth_oidc_cookie() -> str:
    """A session cookie of a user signed in through dash-auth's OIDCAuth (it checks "user" in session).

    Signed by Flask's default session interface with the variant's key, as its app would sign it.
    """
    server = Flask("bench")
    server.secret_key = FLASK_KEY
    user = {"email": "admin@example.com", "name": "Admin", "groups": ["admin"]}
    value = server.session_interface.get_signing_serializer(server).dumps({"user": user, "idp": "bench"})
    return f"session={value}"
