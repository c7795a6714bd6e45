"""Callbacks: deny by default, decided on the server from what the app declared."""

import pytest
from conftest import run_callback, sign_in

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


def test_requires_applies_whichever_side_of_callback_it_is_written(app):
    from dash import Input, Output, callback

    from auth import requires

    @callback(Output("below-out", "children"), Input("below-in", "value"))
    @requires(one_of=["admin"])
    def rule_below(value):
        return f"below {value}"

    @requires(one_of=["admin"])
    @callback(Output("above-out", "children"), Input("above-in", "value"))
    def rule_above(value):
        return f"above {value}"

    visitor, alice, admin = (app.server.test_client() for _ in range(3))
    sign_in(alice, "alice")
    sign_in(admin, "admin")
    for side in ("below", "above"):
        call = ([(f"{side}-out", "children")], [(f"{side}-in", "value", 1)])
        assert run_callback(visitor, *call).status_code == 401, side
        assert run_callback(alice, *call).status_code == 403, side
        response = run_callback(admin, *call)
        assert response.status_code == 200 and f"{side} 1" in response.text, side


def test_public_applies_whichever_side_of_callback_it_is_written(app):
    from dash import Input, Output, callback

    from auth import public

    @callback(Output("public-below-out", "children"), Input("public-below-in", "value"))
    @public
    def public_below(value):
        return f"below {value}"

    @public
    @callback(Output("public-above-out", "children"), Input("public-above-in", "value"))
    def public_above(value):
        return f"above {value}"

    visitor = app.server.test_client()
    for side in ("below", "above"):
        call = ([(f"public-{side}-out", "children")], [(f"public-{side}-in", "value", 1)])
        response = run_callback(visitor, *call)
        assert response.status_code == 200 and f"{side} 1" in response.text, side
