"""The frame around every page: header with navigation and the signed-in user."""

from functools import lru_cache
from urllib.parse import urlencode

import dash
from dash import dcc, html

from auth import allowed_pages, current_user
from prebuilt import prebuilt

FRAMES_KEPT = 256  # frames kept ready (about one per user, ~25 KiB each); the least recently used go first


def shell() -> html.Div:
    """The frame for this visitor: Dash asks for it each time the app loads in a browser.

    Building and serializing its ~20 components would cost more than the rest of the
    request, yet the frame changes only with what it shows. So each frame is built once
    and kept, keyed by exactly that: the user's name and groups, the pages they may open,
    the app's title and path prefix. The key comes from the user resolved for this very
    request, so a sign-out or a groups.toml edit shows at the next load.
    """
    user = current_user()
    pages = tuple((page["name"], page["relative_path"]) for page in allowed_pages(user))
    name, groups = (user.name, tuple(sorted(user.groups))) if user else (None, ())
    return frame(dash.get_app().title, dash.get_relative_path("/"), pages, name, groups)


@lru_cache(maxsize=FRAMES_KEPT)
def frame(title: str, home: str, pages: tuple, name: str | None, groups: tuple[str, ...]) -> html.Div:
    """The whole frame, built and serialized once per key (see ``shell``)."""
    return prebuilt(
        html.Div(
            [
                header(title, home, pages, name, groups),
                html.Main(dash.page_container, className="content"),
                html.Footer(title, className="footer"),
            ],
            className="shell",
        )
    )


def header(title: str, home: str, pages: tuple, name: str | None, groups: tuple[str, ...]) -> html.Header:
    """Brand, menu (``pages``: (name, path) pairs) and the user box (``name`` None: signed out)."""
    links = [dcc.Link(page_name, href=path, className="nav-link") for page_name, path in pages]
    return html.Header(
        [
            dcc.Link(title, href=home, className="brand"),
            html.Nav(links, className="nav"),
            user_box(name, groups),
        ],
        className="header",
    )


def user_box(name: str | None, groups: tuple[str, ...]) -> html.Div:
    if name is None:
        # A real navigation (not a Dash link): the sign-in page is not part of the Dash app.
        return html.Div(
            html.A("Sign in", href=dash.get_relative_path("/login"), className="button primary"),
            className="user",
        )
    return html.Div(
        [
            html.Div(
                [
                    # A real navigation: /account is a server page, not part of the Dash app.
                    html.A(
                        html.Span(name, id="user-name", className="user-name"),
                        href=dash.get_relative_path("/account"),
                        title="Your account",
                        id="account-link",
                    ),
                    html.Span(
                        [html.Span(group, className="chip") for group in groups]
                        or html.Span("no groups", className="chip muted"),
                        id="user-groups",
                        className="chips",
                    ),
                ],
                className="user-info",
            ),
            html.Form(
                html.Button("Sign out", type="submit", id="sign-out", className="button"),
                method="post",
                action=dash.get_relative_path("/logout"),
            ),
        ],
        className="user",
    )


def sign_in_required(url: str) -> html.Div:
    """Shown in place of a page that needs a signed-in user; ``url``: the page asked for."""
    return html.Div(
        [
            html.H1("Please sign in"),
            html.P("This page is for signed-in users."),
            html.A(
                "Sign in",
                href=dash.get_relative_path("/login") + "?" + urlencode({"next": url}),
                className="button primary",
            ),
        ],
        id="sign-in-required",
        className="card notice",
    )


def not_allowed() -> html.Div:
    """Shown in place of a page the signed-in user's groups do not open."""
    return html.Div(
        [
            html.H1("Not allowed"),
            html.P(
                "Your account does not have access to this page. "
                "Ask an administrator to add you to the right group."
            ),
            dcc.Link("Back to the home page", href=dash.get_relative_path("/")),
        ],
        id="not-allowed",
        className="card notice",
    )
