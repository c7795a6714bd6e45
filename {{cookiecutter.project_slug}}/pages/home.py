"""Home: public, the page everyone sees first."""

import dash
from dash import html

from auth import current_user, public

dash.register_page(__name__, path="/", name="Home", title="Home", order=0, access=public)


def layout(**_query):
    user = current_user()
    greeting = f"Welcome back, {user.name}." if user else "Sign in to see the dashboard."
    return html.Div(
        [
            html.H1(dash.get_app().title),
            html.P(greeting, id="greeting", className="lead"),
            html.Div(
                [
                    feature("Dashboard", "Interactive charts for every signed-in user."),
                    feature("Admin", "Who is in which group: for the admin group only."),
                    feature(
                        "Secure by default", "Every page and callback needs sign-in unless declared public."
                    ),
                ],
                className="features",
            ),
        ],
        id="home",
    )


def feature(title: str, text: str) -> html.Div:
    return html.Div([html.H3(title), html.P(text)], className="card feature")
