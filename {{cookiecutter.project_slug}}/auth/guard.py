"""Deny by default: every request is checked on the server before Flask or Dash answers it.

What is public is decided from what the app declared (page ``access=``, ``@public``
on a callback or view), looked up by the route or callback the server is about to
run, never from data the client sends about where it is.
"""

from __future__ import annotations

from pathlib import PurePosixPath

import dash
from dash._pages import _path_to_page
from flask import Response, abort, current_app, g, request

from .audit import audit
from .identity import current_user
from .pages import is_not_found_page
from .policy import Access, access_of, public, signed_in
from .responses import error_response, from_browser_fetch, sign_in_redirect, wants_html

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
HSTS = "max-age=31536000"

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

# Dash's pages router callback (outputs _pages_content.children and _pages_store.data):
# public, because it answers each page with that page's own access rule applied.
PAGES_ROUTER_OUTPUT = ".._pages_content.children..._pages_store.data.."


class RequestGuard:
    def __init__(self, app: dash.Dash, challenge: str | None):
        prefix = app.config.routes_pathname_prefix
        self.app = app
        self.challenge = challenge
        self.page_endpoints = {prefix, prefix + "<path:path>"}
        self.shell_endpoints = {prefix + route for route in SHELL_ROUTES}
        self.callback_endpoint = prefix + "_dash-update-component"
        blueprint = prefix.replace("/", "_").replace(".", "_") + "dash_assets"
        self.assets_endpoint = f"{blueprint}.static"
        self._csp: tuple[int, str] | None = None

    def install(self) -> None:
        self.app.server.before_request(self.check)
        self.app.server.after_request(self.finish)

    def check(self) -> Response | None:
        if request.method not in SAFE_METHODS and not same_origin():
            audit("cross-site-refused", origin=request.headers.get("Origin"))
            return error_response(403, "Cross-site request refused.")
        rule = self.access_for_request()
        if rule.public:
            return None
        user = current_user()
        if user is None:
            return self.unauthenticated()
        if rule.allows(user.groups):
            return None
        audit("access-denied", user=user.id)
        if request.endpoint in self.page_endpoints:
            # Serve the page shell; the pages router shows the "not allowed" view.
            g.page_denied = True
            return None
        return error_response(403, "You are not allowed to see this.")

    def finish(self, response: Response) -> Response:
        if g.get("page_denied"):
            response.status_code = 403
        response.headers.update(SECURITY_HEADERS)
        response.headers["Content-Security-Policy"] = self.content_security_policy()
        if request.is_secure:
            response.headers["Strict-Transport-Security"] = HSTS
        if g.get("auth_user") is not None:
            # Signed-in content must never be kept by a shared cache. (Set as text when
            # absent: parsing and rewriting the header object costs more than the rest.)
            headers = response.headers
            if "Cache-Control" not in headers:
                headers["Cache-Control"] = "private, no-store"
            else:
                response.cache_control.private = True
            if "Vary" not in headers:
                headers["Vary"] = "Cookie"
            else:
                response.vary.add("Cookie")
        return response

    def content_security_policy(self) -> str:
        # Dash adds inline scripts (clientside callbacks) as it sets up: hash again when they change.
        scripts = len(self.app._inline_scripts)
        if self._csp is None or self._csp[0] != scripts:
            self._csp = (scripts, CSP.format(hashes=" ".join(self.app.csp_hashes())))
        return self._csp[1]

    def unauthenticated(self) -> Response:
        if request.method == "GET" and wants_html():
            return sign_in_redirect()
        response = error_response(401, "Please sign in.")
        if self.challenge and not from_browser_fetch():
            response.headers["WWW-Authenticate"] = self.challenge
        if g.get("auth_retry_after"):
            response.headers["Retry-After"] = str(g.auth_retry_after)
        return response

    def access_for_request(self) -> Access:
        endpoint = request.endpoint
        if endpoint is None:
            return public  # no such route: Flask answers 404 or 405
        if endpoint in self.page_endpoints:
            # The public path: under the prefix a proxy may have stripped (prefix.py).
            page, _ = _path_to_page(self.app.strip_relative_path(request.script_root + request.path))
            return access_of(page) if page else self.shell_access()
        if endpoint in self.shell_endpoints:
            return self.shell_access()
        if endpoint == self.callback_endpoint:
            return self.callback_access()
        if endpoint == self.assets_endpoint:
            suffix = PurePosixPath(request.view_args.get("filename", "")).suffix.lower()
            return public if suffix in PUBLIC_ASSET_SUFFIXES else signed_in
        return access_of(current_app.view_functions.get(endpoint))

    def shell_access(self) -> Access:
        pages = [page for page in dash.page_registry.values() if not is_not_found_page(page)]
        return public if any(access_of(page).public for page in pages) else signed_in

    def callback_access(self) -> Access:
        body = request.get_json(silent=True)
        output = body.get("output") if isinstance(body, dict) else None
        if not isinstance(output, str):
            abort(400, "Malformed callback request.")
        if output == PAGES_ROUTER_OUTPUT:
            return public
        callback = self.app.callback_map.get(output)
        if callback is None:
            abort(404, "No such callback.")
        return access_of(callback["callback"])


def same_origin() -> bool:
    """False for a request a browser sent from another site (CSRF)."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site in {"same-origin", "none"}
    origin = request.headers.get("Origin")
    if origin is not None:
        return origin == request.host_url.rstrip("/")
    return True  # not sent by a browser: scripts carry their own credentials
