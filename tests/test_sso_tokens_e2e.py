"""End to end: single sign-on that acts as the user, against panva's oidc-provider, under gunicorn -w 2.

A baked ``oidc`` project with its profile page (a callback calling the provider's /userinfo with
``access_token()``) and a probe page added by this test (a callback that shows ``access_token()``
itself, so that the provider's introspection can be asked about it). Access tokens live 2 s, so
every call refreshes (the app refreshes within a minute of expiry) and rotation is exercised on
both workers. The provider's back-channel logout goes through a relay on loopback that keeps each
logout token, for the replay and forgery cases.
"""

from __future__ import annotations

import base64
import json
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
import requests
from idp_server import IdentityProvider, sign_in_with_provider
from servers import AppServer, free_port, strong_key

PROBE_PAGE = """
import dash
from dash import Input, Output, callback, html

from auth import access_token, signed_in

dash.register_page(
    __name__, path="/probe", access=signed_in, layout=html.Div([html.Button(id="probe"), html.P(id="token")])
)


@callback(Output("token", "children"), Input("probe", "n_clicks"))
def probe(_clicks):
    return access_token()
"""


def callback_body(output: str, button: str) -> dict:
    return {
        "output": f"{output}.children",
        "outputs": {"id": output, "property": "children"},
        "inputs": [{"id": button, "property": "n_clicks", "value": 1}],
        "changedPropIds": [f"{button}.n_clicks"],
        "state": [],
    }


class LogoutRelay:
    """Passes the provider's logout tokens on to the app, keeping each one."""

    def __init__(self):
        self.target = ""
        self.tokens: list[str] = []
        relay = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                relay.tokens.extend(parse_qs(body).get("logout_token", []))
                answer = requests.post(
                    relay.target,
                    data=body,
                    headers={"Content-Type": self.headers["Content-Type"]},
                    timeout=10,
                )
                self.send_response(answer.status_code)
                self.end_headers()

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/backchannel"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()


class Stack:
    def __init__(self, baked_project, folder):
        shutil.copytree(baked_project, folder, ignore=shutil.ignore_patterns("instance", "__pycache__"))
        (folder / "pages" / "probe.py").write_text(PROBE_PAGE)
        port = free_port()
        self.url = f"http://localhost:{port}"
        self.relay = LogoutRelay()
        self.relay.target = f"http://127.0.0.1:{port}/oidc/generic/backchannel-logout"
        self.idp = IdentityProvider(
            redirect_uris=[f"{self.url}/oidc/generic/callback"],
            post_logout_redirect_uris=[f"{self.url}/"],
            skip_consent=True,
            access_token_seconds=2,
            backchannel_logout_uri=self.relay.url,
            log_path=folder / "idp.log",
        ).start()
        env = {"SECRET_KEY": strong_key(), "AUTH_METHODS": "oidc", **self.idp.generic_settings()}
        self.server = AppServer(folder, env, port=port, workers=2)
        try:
            self.server.start()
        except BaseException:
            self.stop()
            raise

    def stop(self):
        self.server.stop()
        self.idp.stop()
        self.relay.stop()

    def signed_in(self, login: str) -> requests.Session:
        """A browser (cookie jar) signed in as ``login`` at the provider, then at the app."""
        browser = requests.Session()
        callback = sign_in_with_provider(browser, f"{self.url}/oidc/generic/login", login)
        assert browser.get(callback, allow_redirects=False).status_code == 302
        return browser

    def call(self, browser: requests.Session, output: str, button: str) -> requests.Response:
        return browser.post(
            f"{self.url}/_dash-update-component", json=callback_body(output, button), timeout=30
        )

    def token(self, browser: requests.Session) -> str:
        answer = self.call(browser, "token", "probe")
        assert answer.status_code == 200, answer.text
        token = answer.json()["response"]["token"]["children"]
        assert isinstance(token, str) and token
        return token

    def profile(self, browser: requests.Session) -> str:
        answer = self.call(browser, "profile-claims", "fetch-profile")
        assert answer.status_code == 200, answer.text
        return json.dumps(answer.json()["response"]["profile-claims"]["children"])

    def signed_out(self, browser: requests.Session) -> bool:
        page = browser.get(f"{self.url}/dashboard", headers={"Accept": "text/html"}, allow_redirects=False)
        return page.status_code == 302 and "/login" in page.headers["Location"]


@pytest.fixture(scope="module")
def stack(baked, tmp_path_factory):
    running = Stack(baked("oidc").project_path, tmp_path_factory.mktemp("tokens") / "app")
    yield running
    running.stop()


def test_a_callback_calls_userinfo_as_each_signed_in_user(stack):
    ada, bob = stack.signed_in("ada"), stack.signed_in("bob")
    assert '"ada@example.test"' in stack.profile(ada) and "bob" not in stack.profile(ada)
    assert '"bob@example.test"' in stack.profile(bob) and "ada" not in stack.profile(bob)


def test_an_access_token_expired_at_the_provider_is_refreshed_on_either_worker(stack):
    carl = stack.signed_in("carl")
    first = stack.token(carl)
    time.sleep(3)
    assert stack.idp.introspect(first) == {"active": False}  # expired at the provider
    with ThreadPoolExecutor(4) as pool:  # side by side, on both workers
        tokens = list(pool.map(lambda _: stack.token(carl), range(6)))
    assert first not in tokens
    assert stack.idp.introspect(tokens[-1])["sub"] == "carl"
    assert '"carl@example.test"' in stack.profile(carl)  # still signed in, /userinfo still answers


def test_sign_out_revokes_the_token_at_the_provider(stack):
    dora = stack.signed_in("dora")
    token = stack.token(dora)
    assert stack.idp.introspect(token)["active"] is True
    answer = dora.post(f"{stack.url}/logout", allow_redirects=False)
    assert answer.status_code == 302 and answer.headers["Location"].startswith(stack.idp.issuer)
    assert stack.idp.introspect(token) == {"active": False}
    assert stack.signed_out(dora)


def test_a_back_channel_logout_from_the_provider_ends_the_app_session(stack):
    erin = stack.signed_in("erin")
    assert not stack.signed_out(erin)
    assert stack.idp.backchannel_logout("erin") == {"sent": 1, "failed": []}
    assert stack.signed_out(erin)
    assert stack.call(erin, "token", "probe").status_code == 401


def forged(token: str) -> str:
    """The same signature over other claims: another user's session named."""
    header, body, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["sub"] = "someone-else"
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{body}.{signature}"


def unsigned(token: str) -> str:
    _header, body, _signature = token.split(".")
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"logout+jwt"}').rstrip(b"=").decode()
    return f"{header}.{body}."


def replayed(token: str) -> str:
    return token


@pytest.mark.parametrize("bad", [forged, unsigned, replayed])
def test_bad_logout_tokens_get_400_and_end_nothing(stack, bad):
    login = f"fay-{bad.__name__}"
    browser = stack.signed_in(login)
    assert stack.idp.backchannel_logout(login) == {"sent": 1, "failed": []}
    delivered = stack.relay.tokens[-1]
    assert stack.signed_out(browser)
    # Signed in again in the same provider session (no login form): the token names it once more.
    assert browser.get(f"{stack.url}/oidc/generic/login").status_code == 200
    answer = requests.post(stack.relay.target, data={"logout_token": bad(delivered)}, timeout=10)
    assert answer.status_code == 400 and answer.headers["Cache-Control"] == "no-store"
    assert not stack.signed_out(browser)
