"""Deny by default: every request is checked on the server before Flask or Dash answers it.

What is public is decided from what the app declared (page ``access=``, ``@public``
on a callback or view), looked up by the route or callback the server is about to
run, never from data the client sends about where it is.
"""

from __future__ import annotations

from pathlib import PurePosixPath

import dash
from flask import Request, Response, g, request

from .. import decision, signals
from ..compat import PAGES_ROUTER_OUTPUT, inline_scripts, path_to_page
from ..errors import BadRequest, CrossSiteRefused, NotAllowed, NotFound, SignInRequired
from ..policy import Access, access_of, public, signed_in
from .headers import DENIED_PAGE, ResponseHeaders
from .identity import needed_user
from .pages import PageGuard, is_not_found_page
from .responses import from_browser_fetch, sign_in_redirect, wants_html

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
SERVER_TO_SERVER = "_auth_server_to_server"

# What Dash needs: its own scripts, its two inline scripts (by hash), inline styles
# (React and Plotly set them), data:/blob: images; and nothing may frame the app.
CSP = (
    "default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
    "frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
)

# Files under assets/ that the sign-in page and public pages need; anything else
# there (data files, scripts) needs sign-in.
PUBLIC_ASSET_SUFFIXES = {
    ".css",
    ".ico",
    ".png",
    ".svg",
    ".jpg",
    ".jpeg",
    ".gif",
    ".webp",
    ".woff",
    ".woff2",
    ".ttf",
}

# The Dash renderer's own routes: needed by every page, so public when any page is.
SHELL_ROUTES = (
    "_dash-layout",
    "_dash-dependencies",
    "_favicon.ico",
    "_reload-hash",
    "_dash-component-suites/<string:package_name>/<path:fingerprinted_path>",
)


class RequestGuard:
    """Finds the rule for each request (route, page, callback), has it decided, answers."""

    def __init__(self, app: dash.Dash, pages: PageGuard, challenge: str | None):
        prefix = app.config.routes_pathname_prefix
        self.app = app
        self.pages = pages
        self.challenge = challenge
        self.page_endpoints = {prefix, prefix + "<path:path>"}
        self.shell_endpoints = {prefix + route for route in SHELL_ROUTES}
        self.callback_endpoint = prefix + "_dash-update-component"
        blueprint = prefix.replace("/", "_").replace(".", "_") + "dash_assets"
        self.assets_endpoint = f"{blueprint}.static"
        self._callback_rules: dict[str, tuple[dict, Access]] = {}  # output -> (callback_map entry, rule)
        self._shell: tuple[tuple, Access] | None = None  # (the registered pages, rule)

    def install(self) -> None:
        server = self.app.server
        server.before_request(self.check)
        policy = self.content_security_policy
        server.wsgi_app = ResponseHeaders(server.wsgi_app, policy, inline_scripts(self.app))

    def check(self) -> Response | None:
        # The request and app as plain objects: this runs on every request, and each use
        # of Flask's ``request`` proxy is a lookup of its own.
        req, server = request._get_current_object(), self.app.server
        if req.method not in SAFE_METHODS and not same_origin(req) and not self.server_to_server(req):
            origin = req.headers.get("Origin")
            signals.access_denied.send(server, user=None, kind="cross-site", target=origin)
            raise CrossSiteRefused()
        kind, target, rule = self.rule_for_request(req)
        user = None if rule.public else needed_user(req)
        verdict = decision.decide(rule, user, kind, target, server)
        if verdict is decision.Decision.ALLOW:
            return None
        if verdict is decision.Decision.SIGN_IN:
            return self.unauthenticated()
        if kind == "page":
            # Serve the page shell; the pages router shows the "not allowed" view.
            req.environ[DENIED_PAGE] = True
            return None
        raise NotAllowed()

    def content_security_policy(self) -> str:
        """With the hashes of Dash's inline scripts (headers.py asks again when they change)."""
        return CSP.format(hashes=" ".join(self.app.csp_hashes()))

    def unauthenticated(self) -> Response:
        if request.method == "GET" and wants_html():
            return sign_in_redirect()
        challenge = self.challenge and not from_browser_fetch()
        raise SignInRequired(
            retry_after=g.get("auth_retry_after"),
            headers={"WWW-Authenticate": self.challenge} if challenge else None,
        )

    def server_to_server(self, req: Request) -> bool:
        """A route marked @server_to_server: posted by other servers, never by browsers."""
        view = self.app.server.view_functions.get(req.endpoint) if req.endpoint else None
        return getattr(view, SERVER_TO_SERVER, False)

    def rule_for_request(self, req: Request) -> tuple[str, str, Access]:
        """(kind, target, rule) of what this request is about to run."""
        endpoint = req.endpoint
        if endpoint is None:
            return "route", req.path, public  # no such route: Flask answers 404 or 405
        if endpoint in self.page_endpoints:
            # The public path: under the prefix a proxy may have stripped (prefix.py).
            path = self.app.strip_relative_path(req.script_root + req.path)
            page, _ = path_to_page(path)
            return "page", "/" + (path or ""), access_of(page) if page else self.shell_access()
        if endpoint in self.shell_endpoints:
            return "route", endpoint, self.shell_access()
        if endpoint == self.callback_endpoint:
            output, rule = self.callback_access(req)
            return "callback", output, rule
        if endpoint == self.assets_endpoint:
            suffix = PurePosixPath(req.view_args.get("filename", "")).suffix.lower()
            return "route", req.path, public if suffix in PUBLIC_ASSET_SUFFIXES else signed_in
        return "route", endpoint, access_of(self.app.server.view_functions.get(endpoint))

    def shell_access(self) -> Access:
        pages = tuple(dash.page_registry.values())
        if self._shell is None or self._shell[0] != pages:  # again when the pages change
            shown = [page for page in pages if not is_not_found_page(page)]
            self._shell = (pages, public if any(access_of(page).public for page in shown) else signed_in)
        return self._shell[1]

    def callback_access(self, req: Request) -> tuple[str, Access]:
        body = req.get_json(silent=True)
        output = body.get("output") if isinstance(body, dict) else None
        if not isinstance(output, str):
            raise BadRequest("Malformed callback request.")
        if output == PAGES_ROUTER_OUTPUT:
            # Public, because it answers each page with that page's own rule applied;
            # pages registered since the last navigation are guarded first.
            self.pages.protect()
            return output, public
        callback = self.app.callback_map.get(output)
        if callback is None:
            raise NotFound("No such callback.")
        known = self._callback_rules.get(output)
        if known is None or known[0] is not callback:  # looked up once per callback
            known = self._callback_rules[output] = (callback, access_of(callback["callback"]))
        return output, known[1]


def server_to_server(view):
    """Mark a route that other servers POST to (a provider's back-channel logout): it reads no
    cookie, so cross-site request forgery cannot borrow a session there, and the same-origin
    check (which would refuse a POST carrying another site's Origin) does not apply."""
    setattr(view, SERVER_TO_SERVER, True)
    return view


def same_origin(req: Request) -> bool:
    """False for a request a browser sent from another site (CSRF)."""
    environ = req.environ  # read directly: this runs on every callback
    site = environ.get("HTTP_SEC_FETCH_SITE")
    if site is not None:
        return site in {"same-origin", "none"}
    origin = environ.get("HTTP_ORIGIN")
    if origin is not None:
        return origin == req.host_url.rstrip("/")
    return True  # not sent by a browser: scripts carry their own credentials
