"""Shown for any path that is not a page."""

import dash
from dash import dcc, html

dash.register_page(__name__, title="Not found")

layout = html.Div(
    [html.H1("Page not found"), dcc.Link("Back to the home page", href=dash.get_relative_path("/"))],
    className="card notice",
)
