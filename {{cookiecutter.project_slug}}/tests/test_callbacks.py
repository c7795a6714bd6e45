"""Callbacks: deny by default, decided on the server from what the app declared."""

import pytest
from conftest import run_callback

CHART = (
    [("chart", "figure"), ("summary", "children")],
    [("metric", "value", "visits"), ("window", "value", 7)],
)
GROUPS_TABLE = ([("groups-table", "children")], [("refresh-groups", "n_clicks", 1)])


def test_signed_in_user_runs_the_chart_callback(alice):
    response = run_callback(alice, *CHART)
    assert response.status_code == 200
    assert "Daily visits" in response.text


def test_signed_out_visitor_cannot_run_a_protected_callback(client):
    response = run_callback(client, *CHART)
    assert response.status_code == 401
    assert "Daily visits" not in response.text


def test_fake_pathname_input_does_not_make_a_callback_public(client):
    """dash-auth decides from a client-sent "pathname"; here it changes nothing."""
    outputs, inputs = CHART
    inputs = [*inputs, ("_pages_location", "pathname", "/")]
    assert run_callback(client, outputs, inputs).status_code == 401


def test_group_protected_callback(alice, admin):
    assert run_callback(alice, *GROUPS_TABLE).status_code == 403
    response = run_callback(admin, *GROUPS_TABLE)
    assert response.status_code == 200
    assert "admin" in response.text


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"output": 5}', b"{}"])
def test_malformed_callback_request_is_refused_cleanly(alice, body):
    response = alice.post("/_dash-update-component", data=body, content_type="application/json")
    assert response.status_code == 400
    assert "Traceback" not in response.text


def test_unknown_callback_is_not_found(alice):
    response = run_callback(alice, [("nothing", "children")], [("x", "value", 1)])
    assert response.status_code == 404


def test_callbacks_added_by_the_app_need_sign_in_unless_public(app):
    from dash import Input, Output, callback

    from auth import public

    @callback(Output("open-out", "children"), Input("open-in", "value"))
    @public
    def open_callback(value):
        return f"open {value}"

    @callback(Output("closed-out", "children"), Input("closed-in", "value"))
    def closed_callback(value):
        return f"closed {value}"

    client = app.server.test_client()
    client.get("/")  # Dash collects callbacks at its first request
    assert run_callback(client, [("open-out", "children")], [("open-in", "value", 1)]).status_code == 200
    assert run_callback(client, [("closed-out", "children")], [("closed-in", "value", 1)]).status_code == 401
