"""Start and stop the real OpenID Connect provider in tests/idp (panva's oidc-provider on Node).

No pytest fixtures here: conftest.py builds fixtures on top of :class:`IdentityProvider`::

    with IdentityProvider(redirect_uris=["http://localhost:8050/oidc/callback"]) as idp:
        idp.issuer, idp.client_id, idp.client_secret

The provider listens on 127.0.0.1 only, on a port the OS picks (or ``port=``). Its dev login page
accepts any login and any non-empty password; the login becomes the ``sub``. Selenium selectors:

* login page ``<issuer>/interaction/<uid>``: ``input[name=login]``, ``input[name=password]``,
  ``button[type=submit]``
* consent page (same URL pattern, unless ``skip_consent=True``): ``input[name=prompt][value=consent]``
  identifies it, ``button[type=submit]`` confirms
* RP-initiated logout (``end_session_endpoint``): the "sign out?" page submits itself, no click.

Refresh tokens (rotated at each use), revocation, introspection and back-channel logout are on;
``access_token_seconds`` shortens access tokens, :meth:`IdentityProvider.introspect` asks whether a
token is still active and :meth:`IdentityProvider.backchannel_logout` ends a login's sessions as if
the provider had, POSTing a logout token to ``backchannel_logout_uri``.

:func:`sign_in_with_provider` goes through the login form with ``requests``, without a browser.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import time
from html import unescape
from pathlib import Path
from typing import Self
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import requests

IDP_DIR = Path(__file__).resolve().parent / "idp"
HOST = "127.0.0.1"

#: Users the provider knows when ``users`` is not given. Any other login works too and gets
#: ``<login>@example.test`` (verified), name = preferred_username = login and no groups.
DEFAULT_USERS: dict[str, dict] = {
    "alice": {
        "email": "alice@example.test",
        "name": "Alice Admin",
        "groups": ["admins", "users"],
        "realm_access": {"roles": ["admin", "user"]},
    },
    "bob": {
        "email": "bob@example.test",
        "name": "Bob User",
        "groups": ["users"],
        "realm_access": {"roles": ["user"]},
    },
}


def _installed_version(idp_dir: Path, package: str = "oidc-provider") -> str | None:
    try:
        meta = json.loads((idp_dir / "node_modules" / package / "package.json").read_text())
    except (OSError, ValueError):
        return None
    return meta.get("version")


def _pinned_versions(idp_dir: Path) -> dict[str, str]:
    try:
        meta = json.loads((idp_dir / "package.json").read_text())
    except (OSError, ValueError):
        return {}
    return meta.get("dependencies", {})


def _all_installed(idp_dir: Path) -> bool:
    """Every package of package.json (the provider, axe-core) at its pinned version."""
    pinned = _pinned_versions(idp_dir)
    return bool(pinned) and all(_installed_version(idp_dir, name) == v for name, v in pinned.items())


def ensure_node_modules(idp_dir: Path = IDP_DIR, timeout: float = 300.0) -> None:
    """Run ``npm ci`` in *idp_dir* unless its pinned packages are already installed.

    Raises RuntimeError when node or npm is missing or ``npm ci`` fails.
    """
    idp_dir = Path(idp_dir)
    if not shutil.which("node"):
        raise RuntimeError("node is not installed (Node.js >= 20 is needed for the test OpenID provider)")
    if _all_installed(idp_dir):
        return
    npm = shutil.which("npm")
    if not npm:
        raise RuntimeError(f"npm is not installed; it is needed to run `npm ci` in {idp_dir}")
    lock = _lock(idp_dir)
    try:
        if _all_installed(idp_dir):  # another process did it
            return
        proc = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=idp_dir,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(
                f"`npm ci` failed in {idp_dir} (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
            )
    finally:
        _unlock(lock)
    if _installed_version(idp_dir) is None:
        raise RuntimeError(f"`npm ci` in {idp_dir} did not install oidc-provider")


def _lock(idp_dir: Path):
    """Serialize `npm ci` between processes (pytest-xdist workers); best effort, POSIX only."""
    try:
        import fcntl
    except ImportError:
        return None
    digest = hashlib.sha256(str(idp_dir.resolve()).encode()).hexdigest()[:16]
    handle = open(Path(tempfile.gettempdir()) / f"idp-npm-ci-{digest}.lock", "w")  # noqa: SIM115
    fcntl.flock(handle, fcntl.LOCK_EX)
    return handle


def _unlock(handle) -> None:
    if handle is not None:
        handle.close()  # closing releases the flock


class IdentityProvider:
    """A running oidc-provider with one confidential client (client_secret_basic, code flow).

    Keyword arguments:
        redirect_uris: the app's callback URLs, matched byte for byte (127.0.0.1 != localhost).
        post_logout_redirect_uris: where RP-initiated logout may send the browser back to.
        users: ``{login: {email, email_verified, name, preferred_username, groups, realm_access}}``;
            every key is optional (a ``None`` value drops that claim). Default: DEFAULT_USERS.
        claims_in_id_token: False (the spec's and oidc-provider's default) = email/profile/groups claims
            only from /userinfo; True = in the ID token as well.
        skip_consent: True = no consent page after login.
        require_pkce: True = authorization requests without an S256 code_challenge are rejected.
        client_id, client_secret: default "dash-app" and a random secret.
        port: default None = a free port chosen by the OS.
        startup_timeout: seconds to wait for the discovery document (node's first start has taken
            over 20 s on a loaded 2-core machine).
        log_path: file for the provider's stdout/stderr (default: a new temporary file, kept after stop()).
        idp_dir: folder with provider.mjs and package-lock.json.
        access_token_seconds: access-token lifetime (Authlib treats a token as expired 60 s early,
            so refresh tests want about 90).
        backchannel_logout_uri: the app's back-channel logout URL, registered for the client.

    Attributes: issuer, client_id, client_secret, port, redirect_uris, post_logout_redirect_uris,
    users, claims_in_id_token, skip_consent, require_pkce, log_path, process, startup_seconds.
    """

    def __init__(
        self,
        *,
        redirect_uris: list[str] | tuple[str, ...],
        post_logout_redirect_uris: list[str] | tuple[str, ...] = (),
        users: dict[str, dict] | None = None,
        claims_in_id_token: bool = False,
        skip_consent: bool = False,
        require_pkce: bool = True,
        client_id: str = "dash-app",
        client_secret: str | None = None,
        port: int | None = None,
        startup_timeout: float = 60.0,
        log_path: str | os.PathLike | None = None,
        idp_dir: str | os.PathLike = IDP_DIR,
        access_token_seconds: int = 600,
        backchannel_logout_uri: str | None = None,
    ) -> None:
        if isinstance(redirect_uris, str) or isinstance(post_logout_redirect_uris, str):
            raise TypeError("redirect_uris and post_logout_redirect_uris must be lists of URLs")
        if not redirect_uris:
            raise ValueError("at least one redirect URI is required")
        for uri in (*redirect_uris, *post_logout_redirect_uris):
            if "," in uri:
                raise ValueError(f"URI must not contain a comma: {uri!r}")
        self.redirect_uris = list(redirect_uris)
        self.post_logout_redirect_uris = list(post_logout_redirect_uris)
        self.users = copy.deepcopy(DEFAULT_USERS if users is None else users)
        self.claims_in_id_token = claims_in_id_token
        self.skip_consent = skip_consent
        self.require_pkce = require_pkce
        self.access_token_seconds = access_token_seconds
        self.backchannel_logout_uri = backchannel_logout_uri
        self.client_id = client_id
        self.client_secret = client_secret or secrets.token_urlsafe(24)
        self.port: int | None = port
        self.issuer: str | None = None
        self.startup_timeout = startup_timeout
        self.idp_dir = Path(idp_dir)
        self.process: subprocess.Popen | None = None
        self.log_path: Path | None = Path(log_path) if log_path is not None else None
        self._requested_port = port
        self.startup_seconds: float | None = None
        self._log_file = None

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> Self:
        """Install node_modules if needed, start the provider, wait until discovery answers."""
        if self.process is not None:
            raise RuntimeError("the identity provider is already running")
        ensure_node_modules(self.idp_dir)
        self.issuer = None
        self.port = self._requested_port
        env = dict(
            os.environ,
            IDP_PORT=str(self.port or 0),
            IDP_CLIENT_ID=self.client_id,
            IDP_CLIENT_SECRET=self.client_secret,
            IDP_REDIRECT_URIS=",".join(self.redirect_uris),
            IDP_POST_LOGOUT_REDIRECT_URIS=",".join(self.post_logout_redirect_uris),
            IDP_USERS_JSON=json.dumps(self.users),
            IDP_CLAIMS_IN_ID_TOKEN="1" if self.claims_in_id_token else "0",
            IDP_SKIP_CONSENT="1" if self.skip_consent else "0",
            IDP_REQUIRE_PKCE="1" if self.require_pkce else "0",
            IDP_EXIT_ON_STDIN_EOF="1",  # no orphaned provider if the test process dies
            IDP_ACCESS_TOKEN_SECONDS=str(self.access_token_seconds),
            IDP_BACKCHANNEL_LOGOUT_URI=self.backchannel_logout_uri or "",
        )
        if self.log_path is None:
            fd, name = tempfile.mkstemp(prefix="idp-", suffix=".log")
            self.log_path = Path(name)
            self._log_file = os.fdopen(fd, "w")
        else:
            self._log_file = open(self.log_path, "w")  # noqa: SIM115 (closed in stop())
        started = time.monotonic()
        self.process = subprocess.Popen(
            [shutil.which("node") or "node", "provider.mjs"],
            cwd=self.idp_dir,
            env=env,
            stdin=subprocess.PIPE,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )
        try:
            self._wait_until_ready(started)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        return self

    def _wait_until_ready(self, started: float) -> None:
        deadline = started + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the identity provider exited with code {self.process.returncode}:\n{self.log()}"
                )
            if self.issuer is None:
                for line in self.log().splitlines():
                    if line.startswith("IDP READY "):
                        self.issuer = line.split(" ", 2)[2].strip()
                        self.port = int(self.issuer.rsplit(":", 1)[1])
                        break
            if self.issuer is not None:
                try:
                    response = requests.get(self.discovery_url, timeout=1)
                    if response.status_code == 200 and response.json().get("issuer") == self.issuer:
                        return
                except (requests.RequestException, ValueError):
                    pass
            time.sleep(0.05)
        raise RuntimeError(
            f"the identity provider did not answer at "
            f"{self.discovery_url if self.issuer else 'its discovery URL'} within "
            f"{self.startup_timeout:g}s:\n{self.log()}"
        )

    def stop(self) -> None:
        """Terminate the provider (SIGTERM, then SIGKILL after 5 s). Safe to call twice."""
        process, self.process = self.process, None
        if process is not None:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=5)
            if process.stdin is not None:
                process.stdin.close()
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # -- helpers ---------------------------------------------------------------------------------

    def generic_settings(self) -> dict[str, str]:
        """What an app's .env says to use this provider as its ``generic`` one."""
        return {
            "OIDC_PROVIDERS": "generic",
            "OIDC_GENERIC_CLIENT_ID": self.client_id,
            "OIDC_GENERIC_CLIENT_SECRET": self.client_secret,
            "OIDC_GENERIC_ISSUER": self.issuer,
        }

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log(self) -> str:
        """Everything the provider printed so far (stdout and stderr)."""
        if self.log_path is None:
            return ""
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def _client_post(self, path: str, form: dict[str, str]) -> requests.Response:
        return requests.post(
            f"{self.issuer}{path}", data=form, auth=(self.client_id, self.client_secret), timeout=10
        )

    def introspect(self, token: str) -> dict:
        """RFC 7662 introspection as the client: ``{"active": False}`` for a revoked or expired token."""
        answer = self._client_post("/token/introspection", {"token": token})
        answer.raise_for_status()
        return answer.json()

    def refresh(self, refresh_token: str) -> requests.Response:
        """The refresh grant, as the app's client would send it."""
        return self._client_post("/token", {"grant_type": "refresh_token", "refresh_token": refresh_token})

    def backchannel_logout(self, login: str) -> dict:
        """End every session ``login`` signed in with: one logout token each to the back-channel URI.

        Returns ``{"sent": n, "failed": [reasons]}``.
        """
        answer = self._client_post("/test/backchannel-logout", {"login": login})
        answer.raise_for_status()
        return answer.json()

    def sign_in_without_browser(self, login: str, scope: str = "openid email profile") -> dict:
        """The code flow with PKCE through the dev login (and consent) pages, with plain HTTP requests.

        Returns the token response (access_token, refresh_token, id_token, expires_in, ...). For
        testing the provider side alone: the redirect URI is never visited.
        """
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
        redirect_uri = self.redirect_uris[0]
        query = {
            "client_id": self.client_id,
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "scope": scope,
            "state": secrets.token_urlsafe(8),
            "nonce": secrets.token_urlsafe(8),
            "code_challenge": challenge.decode(),
            "code_challenge_method": "S256",
        }
        browser = requests.Session()
        answer = browser.get(f"{self.issuer}/auth?{urlencode(query)}", allow_redirects=False, timeout=10)
        for _step in range(10):
            if answer.is_redirect:
                location = urljoin(answer.url, answer.headers["Location"])
                if location.startswith(redirect_uri):
                    code = parse_qs(urlsplit(location).query)["code"][0]
                    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
                    tokens = self._client_post("/token", {**form, "code_verifier": verifier})
                    tokens.raise_for_status()
                    return tokens.json()
                answer = browser.get(location, allow_redirects=False, timeout=10)
                continue
            action = re.search(r'<form[^>]*action="([^"]+)"', answer.text)
            if answer.status_code != 200 or action is None:
                break
            if 'name="login"' in answer.text:
                form = {"prompt": "login", "login": login, "password": "any-password"}
            else:
                form = {"prompt": "consent"}
            target = urljoin(answer.url, unescape(action.group(1)))
            answer = browser.post(target, data=form, allow_redirects=False, timeout=10)
        raise RuntimeError(f"sign-in at the provider did not finish: HTTP {answer.status_code}\n{self.log()}")

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<IdentityProvider {self.issuer or '(not started)'} {state}>"


def sign_in_with_provider(browser: requests.Session, start: str, login: str) -> str:
    """Through the real provider's own forms from the app's ``start`` URL (``.../oidc/generic/login``);
    returns the callback URL the provider sends the browser back to."""
    at_provider = browser.get(start, allow_redirects=False).headers["Location"]
    page = browser.get(at_provider)
    action = re.search(r'<form[^>]*action="([^"]+)"', page.text).group(1)
    answer = browser.post(
        requests.compat.urljoin(page.url, action),
        data={"prompt": "login", "login": login, "password": "any"},
        allow_redirects=False,
    )
    while "/oidc/generic/callback" not in answer.headers.get("Location", ""):
        answer = browser.get(
            requests.compat.urljoin(answer.url, answer.headers["Location"]), allow_redirects=False
        )
    return answer.headers["Location"]
