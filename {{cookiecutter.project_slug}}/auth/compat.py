"""Every private Dash and Authlib name the auth package relies on, checked once at start-up.

Dash's pages router, its callback map and its inline scripts have no public API
for what the guard needs; Authlib's Flask client keeps its discovery document in an
attribute. If an upgrade changes any of them, the app stops at start-up with one
line instead of guarding less than it should. pyproject.toml caps the majors.
"""

from __future__ import annotations

from dash import _pages

from .errors import ConfigurationError

# The pages router callback's output, as the renderer names it in /_dash-update-component.
PAGES_ROUTER_OUTPUT = ".._pages_content.children..._pages_store.data.."


def path_to_page(path: str):
    """(page entry or None, path variables) for a path, as Dash's pages router finds it."""
    return _pages._path_to_page(path)  # looked up on the module, which check_dash vouches for


def inline_scripts(app) -> list:
    """The inline scripts Dash adds to the index page (clientside callbacks...): the list
    itself, which Dash extends in place as it sets up."""
    return app._inline_scripts


def all_callbacks(app) -> dict:
    """Output -> callback entry, those Dash has set up and those it will at the first request."""
    from dash._callback import GLOBAL_CALLBACK_MAP

    return {**GLOBAL_CALLBACK_MAP, **app.callback_map}


def check_dash(app) -> None:
    import dash

    problems = []
    if not callable(getattr(_pages, "_path_to_page", None)):
        problems.append("dash._pages._path_to_page")
    from dash import _callback

    if not isinstance(getattr(_callback, "GLOBAL_CALLBACK_MAP", None), dict):
        problems.append("dash._callback.GLOBAL_CALLBACK_MAP")
    if not isinstance(getattr(app, "_inline_scripts", None), list):
        problems.append("Dash._inline_scripts")
    if not hasattr(app, "callback_map") or not callable(getattr(app, "csp_hashes", None)):
        problems.append("Dash.callback_map / csp_hashes")
    from dash import dash as dash_module

    if (dash_module._ID_CONTENT, dash_module._ID_STORE) != ("_pages_content", "_pages_store"):
        problems.append("the pages router's component ids")
    if problems:
        raise ConfigurationError(
            f"Dash {dash.__version__} changed what the auth package relies on ({', '.join(problems)}): "
            "install the Dash version pyproject.toml names"
        )


# Authlib's Flask client: where it keeps a sign-in's state in the session, and the
# time it stamps on its discovery document.
AUTHLIB_STATE_PREFIX = "_state_"
AUTHLIB_LOADED_AT = "_loaded_at"
AUTHLIB_MAJOR = 1


def check_authlib_version() -> None:
    """At start-up, without importing Authlib (0.1 s): the major version we know."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        installed = version("authlib")
    except PackageNotFoundError:
        raise ConfigurationError("single sign-on needs Authlib: pip install -r requirements.txt") from None
    if installed.split(".")[0] != str(AUTHLIB_MAJOR):
        raise ConfigurationError(
            f"Authlib {installed} is installed; single sign-on is written for Authlib {AUTHLIB_MAJOR}.x"
        )


def check_authlib_client(client) -> None:
    """At the first sign-in, once Authlib is imported: what its client must still have."""
    needed = (
        "load_server_metadata",
        "create_authorization_url",
        "save_authorize_data",
        "authorize_access_token",
    )
    missing = [name for name in needed if not callable(getattr(client, name, None))]
    if not isinstance(getattr(client, "server_metadata", None), dict):
        missing.append("server_metadata")
    if missing:
        raise ConfigurationError(f"Authlib changed what single sign-on relies on ({', '.join(missing)})")
