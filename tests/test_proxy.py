"""Behind a real proxy: Debian's nginx with TLS, running the generated project's ``deploy/nginx.conf``.

People browse https://localhost:<port>/reports/; nginx strips ``/reports`` and passes the request to
the baked app under gunicorn on plain HTTP. The app knows the proxy only from its settings
(``TRUSTED_PROXY_HOPS=1``, ``DASH_REQUESTS_PATHNAME_PREFIX=/reports/``), not ``PUBLIC_URL``: that the
cookie is ``Secure``, HSTS is sent and redirect URIs are https, at the public host and under the
public prefix, comes from what nginx tells it over real TLS. The certificate is made for this run;
clients trust exactly it.
"""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests
from browser import element, new_chrome, sign_in_at_provider, wait_for_text, wait_for_url
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from idp_server import IdentityProvider, sign_in_with_provider
from servers import AppServer, NginxProxy, add_user, free_port, set_cookie, strong_key

PREFIX = "/reports"
PASSWORD = "alice-password-1234"
HTML = {"Accept": "text/html"}


@dataclass
class Proxied:
    nginx: NginxProxy
    idp: IdentityProvider

    def url(self, path: str = "/") -> str:
        return self.nginx.url(PREFIX + path)

    def browser(self) -> requests.Session:
        """A client that trusts the test certificate and nothing else."""
        session = requests.Session()
        session.trust_env = False  # else REQUESTS_CA_BUNDLE from the environment overrides ``verify``
        session.verify = str(self.nginx.cert)
        return session


@pytest.fixture(scope="module")
def proxied(baked, tmp_path_factory):
    root = tmp_path_factory.mktemp("proxied")
    project = root / "app"
    shutil.copytree(baked("both").project_path, project, ignore=shutil.ignore_patterns("instance"))
    (project / "groups.toml").write_text('admin = ["root"]\n')
    https_port = free_port()
    public = f"https://localhost:{https_port}{PREFIX}"
    idp = IdentityProvider(
        redirect_uris=[f"{public}/oidc/generic/callback"],
        post_logout_redirect_uris=[f"{public}/"],
        skip_consent=True,
    ).start()
    env = {
        "SECRET_KEY": strong_key(),
        "AUTH_METHODS": "both",
        **idp.generic_settings(),
        "TRUSTED_PROXY_HOPS": "1",
        "DASH_REQUESTS_PATHNAME_PREFIX": f"{PREFIX}/",
    }
    add_user(project, "alice", PASSWORD, env)
    app = AppServer(project, env)
    try:
        app.start()
        nginx_folder = root / "nginx"
        nginx_folder.mkdir()
        with NginxProxy(project / "deploy" / "nginx.conf", app.port, nginx_folder, https_port) as nginx:
            yield Proxied(nginx, idp)
    finally:
        app.stop()
        idp.stop()


def password_sign_in(proxied: Proxied, next_path: str) -> tuple[requests.Session, requests.Response]:
    browser = proxied.browser()
    response = browser.post(
        proxied.url("/login"),
        data={"username": "alice", "password": PASSWORD, "next": next_path},
        allow_redirects=False,
    )
    return browser, response


def test_over_real_tls_the_cookie_is_secure_and_host_only_and_hsts_is_sent(proxied):
    _, response = password_sign_in(proxied, f"{PREFIX}/dashboard")
    assert response.status_code == 302
    cookie = set_cookie(response, "__Host-session")
    assert "Secure" in cookie and "HttpOnly" in cookie and "Path=/;" in cookie and "Domain" not in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_plain_http_is_sent_to_https(proxied):
    response = requests.get(
        f"http://localhost:{proxied.nginx.http_port}{PREFIX}/dashboard", allow_redirects=False, timeout=5
    )
    assert response.status_code == 301
    assert response.headers["Location"] == f"https://localhost{PREFIX}/dashboard"  # port 443 in real life


def test_every_link_and_redirect_carries_the_prefix_the_proxy_strips(proxied):
    browser = proxied.browser()
    response = browser.get(proxied.url("/dashboard"), headers=HTML, allow_redirects=False)
    assert response.headers["Location"] == f"{PREFIX}/login?next={quote(PREFIX + '/dashboard', safe='')}"
    page = browser.get(proxied.url("/login")).text
    assert f'action="{PREFIX}/login"' in page
    assert f'href="{PREFIX}/oidc/generic/login?next={PREFIX}/"' in page
    stylesheet = re.search(r'href="([^"]+\.css[^"]*)"', page)[1]
    assert stylesheet.startswith(f"{PREFIX}/assets/")
    assert browser.get(proxied.nginx.url(stylesheet)).headers["Content-Type"].startswith("text/css")

    browser, response = password_sign_in(proxied, f"{PREFIX}/dashboard")
    assert response.headers["Location"] == f"{PREFIX}/dashboard"
    assert browser.get(proxied.url("/dashboard"), headers=HTML, allow_redirects=False).status_code == 200
    assert f"'{PREFIX}/logout'" in str(browser.get(proxied.url("/_dash-layout")).json())
    assert f'action="{PREFIX}/logout"' in browser.get(proxied.url("/logout")).text
    assert browser.post(proxied.url("/logout"), allow_redirects=False).headers["Location"] == f"{PREFIX}/"


def test_single_sign_on_through_the_proxy_uses_the_public_https_address(proxied):
    browser = proxied.browser()
    start = browser.get(proxied.url(f"/oidc/generic/login?next={PREFIX}/dashboard"), allow_redirects=False)
    redirect_uri = parse_qs(urlsplit(start.headers["Location"]).query)["redirect_uri"]
    assert redirect_uri == [proxied.url("/oidc/generic/callback")]

    callback = sign_in_with_provider(
        browser, proxied.url(f"/oidc/generic/login?next={PREFIX}/dashboard"), "bob"
    )
    assert callback.startswith(proxied.url("/oidc/generic/callback?"))
    assert browser.get(callback, allow_redirects=False).headers["Location"] == f"{PREFIX}/dashboard"
    assert browser.get(proxied.url("/dashboard"), headers=HTML, allow_redirects=False).status_code == 200

    to_provider = browser.post(proxied.url("/logout"), allow_redirects=False).headers["Location"]
    assert to_provider.startswith(proxied.idp.issuer)
    assert parse_qs(urlsplit(to_provider).query)["post_logout_redirect_uri"] == [proxied.url("/")]
    assert browser.get(to_provider).status_code == 200  # the provider accepts it: registered byte for byte


def spki_hash(cert: Path) -> str:
    """What Chromium's --ignore-certificate-errors-spki-list takes: trust this one key, nothing more."""
    key = x509.load_pem_x509_certificate(cert.read_bytes()).public_key()
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def test_a_browser_signs_in_and_out_through_the_proxy(proxied):
    chrome = new_chrome(f"--ignore-certificate-errors-spki-list={spki_hash(proxied.nginx.cert)}")
    try:
        chrome.get(proxied.url("/dashboard"))
        wait_for_url(chrome, proxied.url(f"/login?next={quote(PREFIX + '/dashboard', safe='')}"))
        element(chrome, "a.provider").click()
        sign_in_at_provider(chrome, proxied.idp.issuer, "alice")
        wait_for_url(chrome, proxied.url("/dashboard"))
        # The chart comes from a callback: Dash's own requests go through the prefix too.
        wait_for_text(chrome, "#summary", "Daily visits")
        assert chrome.get_cookie("__Host-session")["secure"] is True

        element(chrome, "#sign-out").click()
        wait_for_url(chrome, proxied.url("/"))
        wait_for_text(chrome, ".user a", "Sign in")
        assert chrome.get_cookie("__Host-session") is None
    finally:
        chrome.quit()
