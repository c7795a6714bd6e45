"""What people and scripts get when something stops them: a plain page or JSON, never a trace."""

from __future__ import annotations

import logging
from urllib.parse import unquote, urlencode, urlsplit

from flask import Flask, Response, jsonify, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException, InternalServerError

from ..errors import AuthError, SessionEnded, StoreUnavailable
from .identity import auth

log = logging.getLogger(__name__)

# Decoded this many times at most when checking a redirect target: enough to
# unwrap any double or triple encoding a crafted link could carry.
DECODE_ROUNDS = 3


def wants_html() -> bool:
    """A browser navigation, as opposed to Dash's fetch() calls or a script."""
    return request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html"


def from_browser_fetch() -> bool:
    """Browsers mark fetch() calls; a 401 challenge there would pop up the browser's own dialog."""
    return request.headers.get("Sec-Fetch-Mode") in {"cors", "same-origin", "no-cors"}


def safe_next(target: str | None) -> str:
    """``target`` if it is a path on this site, else the home page (no open redirects)."""
    if not target:
        return home_url()
    value = target
    for _ in range(DECODE_ROUNDS + 1):
        if not _is_local_path(value):
            return home_url()
        value = unquote(value)
    return target if _is_local_path(value) else home_url()


def _is_local_path(value: str) -> bool:
    if not value.startswith("/") or value.startswith("//"):
        return False
    if "\\" in value or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return False
    parts = urlsplit(value)
    return not parts.scheme and not parts.netloc


def external_url(settings, path: str) -> str:
    """An absolute URL for the provider: PUBLIC_URL if set, else this request's origin
    (which honours X-Forwarded-* only when TRUSTED_PROXY_HOPS says a proxy is there)."""
    origin = settings.public_url or request.host_url.rstrip("/")
    return origin + path


def home_url() -> str:
    """The Dash app's home page, under its url_base_pathname if it has one."""
    return auth().app.get_relative_path("/")


def request_path() -> str:
    """This request's path and query, as a value for ``?next=``."""
    query = request.query_string.decode("latin-1")
    return request.script_root + request.path + (f"?{query}" if query else "")


def sign_in_redirect() -> Response:
    return redirect(url_for("auth.login") + "?" + urlencode({"next": request_path()}))


def error_response(status: int, message: str) -> Response:
    if wants_html():
        response = Response(render_template("auth/error.html", status=status, message=message), status=status)
    else:
        response = jsonify(error=message)
        response.status_code = status
    return response


def install_error_pages(server: Flask) -> None:
    """The auth package's errors, and unexpected ones, end as a plain page (or JSON) with
    their status, never a trace. Other errors of the app keep their own handlers."""

    # Registered for HTTPException: Flask files a handler of AuthError under AuthError's own code
    # (400) only, so its 401, 403, 503... subclasses would never reach it.
    @server.errorhandler(HTTPException)
    def refused(error: HTTPException):
        if not isinstance(error, AuthError):
            return error  # not ours: Flask's own answer (an app's handler for its code wins anyway)
        if isinstance(error, SessionEnded) and request.method == "GET" and wants_html():
            return sign_in_redirect()  # a page or route: straight to the sign-in page
        response = error_response(error.code, error.description)
        response.headers.update(error.headers)
        return response

    @server.errorhandler(InternalServerError)
    def unexpected_error(error: InternalServerError):
        if isinstance(error.original_exception, StoreUnavailable):  # raised before the request ran
            return refused(error.original_exception)
        if error.original_exception is not None:
            log.error(
                "unhandled error on %s %s", request.method, request.path, exc_info=error.original_exception
            )
        return error_response(500, InternalServerError.description)
