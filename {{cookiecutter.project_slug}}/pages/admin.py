"""Admin: members of group "admin" only. Who is in which group, from groups.toml."""

import dash
from dash import Input, Output, callback, html

from auth import group_members, requires

ADMINS = requires(one_of=["admin"])

dash.register_page(__name__, path="/admin", name="Admin", title="Admin", order=2, access=ADMINS)


def layout(**_query):
    return html.Div(
        [
            html.H1("Admin"),
            html.P("Groups and their members, as groups.toml says right now."),
            html.Button("Refresh", id="refresh-groups", className="button"),
            html.Div(groups_table(), id="groups-table"),
        ],
        id="admin",
    )


@callback(Output("groups-table", "children"), Input("refresh-groups", "n_clicks"), prevent_initial_call=True)
@ADMINS
def refresh_groups(_clicks):
    # Guarded twice on purpose: the page, and this callback, which anyone could
    # call directly with a hand-made request.
    return groups_table()


def groups_table() -> html.Table:
    rows = [
        html.Tr([html.Td(group), html.Td(", ".join(sorted(names)) or "-")])
        for group, names in sorted(group_members().items())
    ]
    return html.Table(
        [html.Thead(html.Tr([html.Th("Group"), html.Th("Members")])), html.Tbody(rows)],
        className="table",
    )
