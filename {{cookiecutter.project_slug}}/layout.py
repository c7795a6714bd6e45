"""The frame around every page: header with navigation and the signed-in user."""

from urllib.parse import urlencode

import dash
from dash import dcc, html

from auth import User, allowed_pages, current_user


def shell() -> html.Div:
    """Built for each visitor when the app loads, so the header knows who is signed in."""
    user = current_user()
    return html.Div(
        [
            header(user),
            html.Main(dash.page_container, className="content"),
            html.Footer(f"{dash.get_app().title}", className="footer"),
        ],
        className="shell",
    )


def header(user: User | None) -> html.Header:
    links = [
        dcc.Link(page["name"], href=page["relative_path"], className="nav-link")
        for page in allowed_pages(user)
    ]
    return html.Header(
        [
            dcc.Link(dash.get_app().title, href=dash.get_relative_path("/"), className="brand"),
            html.Nav(links, className="nav"),
            user_box(user),
        ],
        className="header",
    )


def user_box(user: User | None) -> html.Div:
    if user is None:
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
                        html.Span(user.name, id="user-name", className="user-name"),
                        href=dash.get_relative_path("/account"),
                        title="Your account",
                        id="account-link",
                    ),
                    html.Span(
                        [html.Span(group, className="chip") for group in sorted(user.groups)]
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
