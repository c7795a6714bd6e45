"""A Dash component tree serialized once, so serving it again costs no new walk through its components.

Dash turns a layout into JSON on every request: each component's ``to_plotly_json()``,
called by Plotly's JSON encoder, one component at a time. For a tree that is kept
and served many times (layout.py keeps the page frame), that work can be done once:

    frame = prebuilt(html.Div([...]))     # still an ordinary html.Div

The tree stays a real component (Dash's checks and `flask access` walk it as before);
only its JSON form is stored. Do not change the tree afterwards: the stored form
would not follow.

Plotly writes with orjson when it is installed (its default engine, "auto"): it is then
handed the finished text, which orjson copies as it is. Its other engine gets the plain form.
"""

from typing import Any

import orjson
from dash.development.base_component import Component
from plotly.io.json import config, to_json_plotly

# What Python's JSON encoder writes by itself; anything else goes to Plotly's encoder.
PLAIN = (str, int, float, bool, type(None))


def prebuilt(component: Component) -> Component:
    """``component``, answering ``to_plotly_json()`` with its JSON form computed now."""
    stored = json_form(component)
    written = orjson.Fragment(to_json_plotly(stored, engine="orjson"))
    # What the encoder asks each component for; the engine is looked up as Plotly does, per call.
    component.to_plotly_json = lambda: stored if config.default_engine == "json" else written
    return component


def json_form(value: Any) -> Any:
    """``value`` as Plotly's JSON encoder sees it: components replaced by their
    ``to_plotly_json()``, all the way down, in plain dicts and lists.

    Values it cannot tell how to write (numbers from numpy, dates...) stay as they are,
    for the encoder to write on each request exactly as it would have.
    """
    if isinstance(value, dict):
        return {key: json_form(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_form(item) for item in value]
    if isinstance(value, PLAIN) or not hasattr(value, "to_plotly_json"):
        return value
    return json_form(value.to_plotly_json())
