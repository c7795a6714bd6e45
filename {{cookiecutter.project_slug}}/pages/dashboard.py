"""Dashboard: any signed-in user. A chart driven by a callback."""

import math
import random

import dash
import plotly.graph_objects as go
from dash import Input, Output, callback, dcc, html

from auth import signed_in

dash.register_page(
    __name__, path="/dashboard", name="Dashboard", title="Dashboard", order=1, access=signed_in
)

METRICS = {
    "visits": "Daily visits",
    "signups": "Daily sign-ups",
    "revenue": "Daily revenue (k€)",
}
MAX_WINDOW = 28  # days of the moving average, at most


def series(metric: str, days: int = 120) -> list[float]:
    """A made-up, repeatable time series with a trend, a weekly rhythm and noise."""
    rng = random.Random(metric)  # noqa: S311 (demo data, not security)
    base, trend, weekly = {"visits": (900, 3.0, 140), "signups": (40, 0.2, 8), "revenue": (12, 0.05, 2.5)}[
        metric
    ]
    return [
        round(base + trend * day + weekly * math.sin(2 * math.pi * day / 7) + rng.gauss(0, weekly / 2), 1)
        for day in range(days)
    ]


def moving_average(values: list[float], window: int) -> list[float]:
    out, total = [], 0.0
    for index, value in enumerate(values):
        total += value
        if index >= window:
            total -= values[index - window]
        out.append(round(total / min(index + 1, window), 2))
    return out


layout = html.Div(
    [
        html.H1("Dashboard"),
        # A number field, not a slider: Dash's slider gives its handle no accessible name.
        html.Div(
            [
                html.Label("Metric", htmlFor="metric"),
                dcc.Dropdown(
                    id="metric",
                    options=[{"label": label, "value": key} for key, label in METRICS.items()],
                    value="visits",
                    clearable=False,
                    searchable=False,
                ),
                html.Label("Smoothing (days)", htmlFor="window"),
                dcc.Input(id="window", type="number", min=1, max=MAX_WINDOW, step=1, value=7, debounce=True),
            ],
            className="card controls",
        ),
        html.Div(id="summary", className="summary"),
        dcc.Graph(id="chart", className="card"),
    ]
)


@callback(
    Output("chart", "figure"),
    Output("summary", "children"),
    Input("metric", "value"),
    Input("window", "value"),
)
def update_chart(metric: str, window: int | None):
    if metric not in METRICS or not isinstance(window, int) or not 1 <= window <= MAX_WINDOW:
        raise dash.exceptions.PreventUpdate  # the field shows it is out of range; the chart stays
    values = series(metric)
    smooth = moving_average(values, window)
    days = list(range(1, len(values) + 1))
    figure = go.Figure(
        [
            go.Scatter(x=days, y=values, name="daily", mode="lines", opacity=0.35),
            go.Scatter(x=days, y=smooth, name=f"{window}-day average", mode="lines"),
        ],
        layout=go.Layout(
            title=METRICS[metric],
            template="plotly_white",
            margin={"l": 40, "r": 20, "t": 50, "b": 40},
            xaxis_title="day",
            legend={"orientation": "h"},
        ),
    )
    summary = f"{METRICS[metric]}: last {window}-day average {smooth[-1]:,}"
    return figure, summary
