"""The part of the public path that a proxy strips before the request reaches the app.

Dash knows two prefixes: ``requests_pathname_prefix``, where browsers find the app
(``/reports/``), and ``routes_pathname_prefix``, where the server listens (``/``).
When they differ, a proxy in front removes the difference (``/reports``). Flask
reads that part of a URL from the WSGI ``SCRIPT_NAME``: setting it there makes
``url_for``, ``request.script_root`` and so every sign-in link, ``?next=`` and
redirect URI carry the public prefix, while routes still match what arrives.

It comes from the app's configuration, never from a request header: the browser
side of Dash needs it before any request is seen.
"""

from __future__ import annotations

import dash

from ..errors import ConfigurationError


def stripped_prefix(app: dash.Dash) -> str:
    """``"/reports"`` for requests prefix ``/reports/`` and routes prefix ``/``; ``""`` when they agree."""
    public, served = app.config.requests_pathname_prefix, app.config.routes_pathname_prefix
    if not public.endswith(served):
        raise ConfigurationError(
            f"DASH_REQUESTS_PATHNAME_PREFIX ({public}) must end with DASH_ROUTES_PATHNAME_PREFIX ({served}): "
            "the proxy can strip the start of the path, not change the rest"
        )
    return public[: len(public) - len(served)]


class UnderPrefix:
    """WSGI middleware: every request is taken to have arrived under ``prefix``."""

    def __init__(self, wsgi_app, prefix: str):
        self.wsgi_app = wsgi_app
        self.prefix = prefix

    def __call__(self, environ, start_response):
        environ["SCRIPT_NAME"] = self.prefix
        return self.wsgi_app(environ, start_response)
