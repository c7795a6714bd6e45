"""What every response carries: the security headers, and on signed-in content the
headers that keep it out of shared caches.

Added as the response leaves the app (WSGI middleware), where the headers are a plain
list: one step per response instead of a parse and rewrite of each header. A header
the app set itself (its own Content-Security-Policy for one route, say) is kept.
Pages get the policy Dash needs; JSON answers one that lets nothing load, run or frame them.

Each header is sent where it means something, no further: a server checks every byte of
every header of every answer, so a header that changes nothing still costs each request.
"""

from __future__ import annotations

from collections.abc import Callable

SIGNED_IN = "dash_auth.signed_in"  # environ: this request resolved a signed-in user
SESSION_READ = "dash_auth.session_read"  # environ: the answer may depend on the session cookie
DENIED_PAGE = "dash_auth.denied_page"  # environ: the page shell is served, with 403

NOSNIFF = ("X-Content-Type-Options", "nosniff")
# What a page (a document) needs besides: where its links send the Referer, and no framing for
# browsers older than the policy's frame-ancestors.
PAGE_HEADERS = (NOSNIFF, ("Referrer-Policy", "same-origin"), ("X-Frame-Options", "DENY"))
HSTS = ("Strict-Transport-Security", "max-age=31536000")
# A JSON answer (callbacks, the layout) is data, never a page: nothing in it may load or run,
# nor may it be framed (frame-ancestors, which every browser since 2016 obeys in place of
# X-Frame-Options). It makes no requests, so a Referrer-Policy would change nothing.
DATA_HEADERS = (NOSNIFF, ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"))

# The usual signed-in answer. no-store: no cache, shared or the browser's own, may keep it, so
# there is no kept copy for a Vary to tell apart (an answer the app lets be cached gets Vary: Cookie).
PRIVATE = ("Cache-Control", "private, no-store")


class ResponseHeaders:
    """WSGI middleware. ``policy()`` gives the Content-Security-Policy, asked again when
    ``scripts`` (the inline scripts it hashes, which Dash adds to as it sets up) grows."""

    def __init__(self, wsgi_app, policy: Callable[[], str], scripts: list):
        self.wsgi_app = wsgi_app
        self.policy = policy
        self.scripts = scripts
        # (scripts hashed, {(over https?, JSON?): the headers to add})
        self._ours: tuple[int, dict[tuple[bool, bool], list]] = (-1, {})

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
        at = present.get("content-type")
        data = at is not None and headers[at][1].startswith("application/json")
        if len(self.scripts) != self._ours[0]:
            self._ours = (len(self.scripts), self._headers())
        ours = self._ours[1][environ.get("wsgi.url_scheme") == "https", data]
        if present.keys() & OUR_NAMES:
            ours = [header for header in ours if header[0].lower() not in present]
        headers += ours
        signed_in = SIGNED_IN in environ
        cache_control = present.get("cache-control")
        if signed_in and cache_control is None:
            headers.append(PRIVATE)
            return
        if signed_in:  # signed-in content must never be kept by a shared cache
            headers[cache_control] = ("Cache-Control", private(headers[cache_control][1]))
        if signed_in or SESSION_READ in environ:  # nor served to someone with another cookie
            vary = present.get("vary")
            if vary is None:
                headers.append(("Vary", "Cookie"))
            else:
                headers[vary] = ("Vary", vary_on_cookie(headers[vary][1]))

    def _headers(self) -> dict[tuple[bool, bool], list]:
        page = [*PAGE_HEADERS, ("Content-Security-Policy", self.policy())]
        data = list(DATA_HEADERS)
        return {
            (False, False): page,
            (True, False): [*page, HSTS],
            (False, True): data,
            (True, True): [*data, HSTS],
        }


OUR_NAMES = {name.lower() for name, _ in (*PAGE_HEADERS, *DATA_HEADERS, HSTS)}


def private(cache_control: str) -> str:
    """``public, max-age=60`` -> ``private, max-age=60``."""
    kept = [d.strip() for d in cache_control.split(",") if d.strip().lower() not in {"", "public", "private"}]
    return ", ".join(["private", *kept])


def vary_on_cookie(vary: str) -> str:
    return vary if "cookie" in vary.lower() or vary.strip() == "*" else f"{vary}, Cookie"
