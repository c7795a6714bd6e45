"""The page frame (layout.py) is built once per what it shows, yet always shows who is signed in now."""

import datetime

import plotly.graph_objects as go
import plotly.io.json
import pytest
from dash import dcc, html
from dash._utils import to_json

import layout
from prebuilt import prebuilt


@pytest.fixture(autouse=True)
def no_kept_frames():
    """Each test starts and ends with no frame kept (other tests' apps share the module)."""
    layout.frame.cache_clear()
    yield
    layout.frame.cache_clear()


def chips(client) -> list[str]:
    """The group chips in the header, as the browser gets them."""
    shown = layout_json(client)["props"]["children"][0]["props"]["children"][2]
    return [chip["props"]["children"] for chip in walk(shown) if chip["props"].get("className") == "chip"]


def layout_json(client) -> dict:
    response = client.get("/_dash-layout")
    assert response.status_code == 200
    return response.json


def walk(node):
    if isinstance(node, list):
        for item in node:
            yield from walk(item)
    elif isinstance(node, dict) and "props" in node:
        yield node
        yield from walk(node["props"].get("children"))


def test_the_kept_frame_is_byte_for_byte_what_dash_makes_of_its_components(client, alice, admin, monkeypatch):
    visitors = {"anyone": client, "alice": alice, "admin": admin}
    kept = {who: browser.get("/_dash-layout").data for who, browser in visitors.items()}
    layout.frame.cache_clear()
    monkeypatch.setattr(layout, "prebuilt", lambda component: component)  # Dash serializes the components
    for who, browser in visitors.items():
        assert browser.get("/_dash-layout").data == kept[who], who


@pytest.mark.parametrize("engine", ["auto", "json"])  # auto: orjson, installed with the app
def test_prebuilt_serializes_every_kind_of_value_as_the_components_would(engine, monkeypatch):
    monkeypatch.setattr(plotly.io.json.config, "default_engine", engine)

    def tree():
        return html.Div(
            [
                dcc.Dropdown(options=[{"label": html.B("bold"), "value": 1}], value=1, id="pick"),
                dcc.Graph(figure=go.Figure(go.Bar(x=["a", "b"], y=(1, float("nan"))))),
                html.Time(str(datetime.date(2026, 1, 2)), **{"data-when": datetime.date(2026, 1, 2)}),
                html.P(["text", 3, None, True]),
            ],
            id="root",
        )

    assert to_json(prebuilt(tree())) == to_json(tree())
    assert to_json(html.Div([prebuilt(tree()), "around"])) == to_json(html.Div([tree(), "around"]))


def test_one_user_loading_the_app_again_gets_the_kept_frame(alice, monkeypatch):
    built = []
    monkeypatch.setattr(layout, "header", lambda *key: built.append(key) or html.Header())
    alice.get("/_dash-layout")
    alice.get("/_dash-layout")
    assert len(built) == 1


def test_a_groups_file_edit_shows_in_the_header_at_the_next_request(alice, settings):
    assert chips(alice) == []
    settings.groups_file.write_text('admin = ["admin", "alice"]\nanalysts = ["alice"]\n')
    assert chips(alice) == ["admin", "analysts"]
    assert '"Admin"' in alice.get("/_dash-layout").text
    settings.groups_file.write_text('admin = ["admin"]\n')
    assert chips(alice) == []
    assert '"Admin"' not in alice.get("/_dash-layout").text


def test_after_sign_out_the_same_browser_gets_the_signed_out_frame(admin):
    assert "sign-out" in admin.get("/_dash-layout").text
    admin.post("/logout")
    text = admin.get("/_dash-layout").text
    assert "sign-out" not in text and "user-name" not in text and '"Sign in"' in text


def test_a_cookie_copied_before_sign_out_gets_the_signed_out_frame(app, admin):
    copy = app.server.test_client()
    copy.set_cookie("session", admin.get_cookie("session").value)
    assert "user-name" in copy.get("/_dash-layout").text
    admin.post("/logout")
    assert "user-name" not in copy.get("/_dash-layout").text
