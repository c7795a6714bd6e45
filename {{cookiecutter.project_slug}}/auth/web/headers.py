"""What every response carries: the security headers, and on signed-in content the
headers that keep it out of shared caches.

Added as the response leaves the app (WSGI middleware), where the headers are a plain
list: one step per response instead of a parse and rewrite of each header. A header
the app set itself (its own Content-Security-Policy for one route, say) is kept.
"""

from __future__ import annotations

from collections.abc import Callable

SIGNED_IN = "dash_auth.signed_in"  # environ: this request resolved a signed-in user
SESSION_READ = "dash_auth.session_read"  # environ: the answer may depend on the session cookie
DENIED_PAGE = "dash_auth.denied_page"  # environ: the page shell is served, with 403

SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
)
HSTS = ("Strict-Transport-Security", "max-age=31536000")


PRIVATE = [("Cache-Control", "private, no-store"), ("Vary", "Cookie")]


class ResponseHeaders:
    """WSGI middleware. ``policy()`` gives the Content-Security-Policy, asked again when
    ``scripts`` (the inline scripts it hashes, which Dash adds to as it sets up) grows."""

    def __init__(self, wsgi_app, policy: Callable[[], str], scripts: list):
        self.wsgi_app = wsgi_app
        self.policy = policy
        self.scripts = scripts
        self._ours: tuple[int, list, list] = (-1, [], [])  # (scripts hashed, over http, over https)

    def __call__(self, environ, start_response):
        def start(status, headers, exc_info=None):
            self.add(headers, environ)
            if DENIED_PAGE in environ:
                status = "403 FORBIDDEN"
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, start)

    def add(self, headers: list[tuple[str, str]], environ: dict) -> None:
        present = {}
        for at, (name, _) in enumerate(headers):
            present[name.lower()] = at
        if len(self.scripts) != self._ours[0]:
            plain = [*SECURITY_HEADERS, ("Content-Security-Policy", self.policy())]
            self._ours = (len(self.scripts), plain, [*plain, HSTS])
        ours = self._ours[2] if environ.get("wsgi.url_scheme") == "https" else self._ours[1]
        if present.keys() & OUR_NAMES:
            ours = [header for header in ours if header[0].lower() not in present]
        headers += ours
        signed_in = SIGNED_IN in environ
        if signed_in and "cache-control" not in present and "vary" not in present:
            headers += PRIVATE  # the usual signed-in answer, in one step
            return
        if signed_in:  # signed-in content must never be kept by a shared cache
            _merge(headers, present.get("cache-control"), "Cache-Control", "private, no-store", private)
        if signed_in or SESSION_READ in environ:  # nor served to someone with another cookie
            _merge(headers, present.get("vary"), "Vary", "Cookie", vary_on_cookie)


OUR_NAMES = {name.lower() for name, _ in (*SECURITY_HEADERS, HSTS)} | {"content-security-policy"}


def _merge(headers, at: int | None, name: str, default: str, merge: Callable[[str], str]) -> None:
    if at is None:
        headers.append((name, default))
    else:
        headers[at] = (name, merge(headers[at][1]))


def private(cache_control: str) -> str:
    """``public, max-age=60`` -> ``private, max-age=60``."""
    kept = [d.strip() for d in cache_control.split(",") if d.strip().lower() not in {"", "public", "private"}]
    return ", ".join(["private", *kept])


def vary_on_cookie(vary: str) -> str:
    return vary if "cookie" in vary.lower() or vary.strip() == "*" else f"{vary}, Cookie"
