"""{{ cookiecutter.project_name }}: a multi-page Dash app behind a sign-in.

Development:  python app.py           (http://127.0.0.1:8050)
Production:   gunicorn app:server
"""

import logging
import os
from pathlib import Path

import dash
from dotenv import load_dotenv

import layout
{%- if cookiecutter.auth != "basic" %}
import sign_in
{%- endif %}
from auth import Auth, ConfigurationError, Settings

APP_NAME = {{ cookiecutter.project_name | tojson }}
HERE = Path(__file__).resolve().parent


{% if cookiecutter.auth == "basic" -%}
def create_app(settings: Settings | None = None) -> dash.Dash:
    """Build the app; ``settings`` default to the environment and .env."""
{%- else -%}
def create_app(settings: Settings | None = None, on_sign_in=sign_in.extra_groups) -> dash.Dash:
    """Build the app; ``settings`` default to the environment and .env; ``on_sign_in``: see sign_in.py."""
{%- endif %}
    app = dash.Dash(__name__, use_pages=True, title=APP_NAME, update_title=None)
    # The page's language, for screen readers and translation (Dash's page names none).
    app.index_string = app.index_string.replace("<html>", '<html lang="en">', 1)
    app.layout = layout.shell
    Auth(
        app,
        settings=settings,
        sign_in_view=layout.sign_in_required,
        not_allowed_view=layout.not_allowed,
{%- if cookiecutter.auth != "basic" %}
        on_sign_in=on_sign_in,
{%- endif %}
    )
    return app


# The audit log: one JSON line per sign-in, sign-out, failed sign-in and denied access, on stderr.
logging.basicConfig(format="%(message)s")
logging.getLogger("auth.audit").setLevel(logging.INFO)

load_dotenv(HERE / ".env")  # variables already set in the environment win
try:
    app = create_app()
except ConfigurationError as error:
    error.exit()  # one line saying why, and exit status 4 (gunicorn stops instead of retrying)
server = app.server

if __name__ == "__main__":
    # debug stays off: Dash's debug mode shows tracebacks to whoever is looking.
    app.run(
        host=os.environ.get("HOST", "127.0.0.1"),
        port=int(os.environ.get("PORT", "8050")),
        debug=False,
    )
