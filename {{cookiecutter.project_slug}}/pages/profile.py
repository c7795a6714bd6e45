"""Profile: what your sign-in provider says about you, asked with your own access token.

The callback calls the provider's userinfo endpoint as the signed-in user; the same
``access_token()`` calls Microsoft Graph, Google APIs or your own API (see README.md).
"""

import dash
import requests
from dash import Input, Output, callback, html

from auth import access_token, provider_metadata, signed_in

dash.register_page(__name__, path="/profile", name="Profile", title="Profile", order=3, access=signed_in)

layout = html.Div(
    [
        html.H1("Your profile at the provider"),
        html.P("Fetched from your sign-in provider just now, with your access token."),
        html.Button("Fetch again", id="fetch-profile", className="button"),
        html.Dl(id="profile-claims", className="card"),
    ]
)


@callback(Output("profile-claims", "children"), Input("fetch-profile", "n_clicks"))
def show_profile(_clicks):
    token = access_token()  # valid now: refreshed first when it was about to expire
    if token is None:
        return html.P("You signed in with a password: there is no provider to ask.")
    endpoint = provider_metadata().get("userinfo_endpoint")
    if not endpoint:
        return html.P("Your provider offers no userinfo endpoint.")
    try:
        answer = requests.get(endpoint, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    except requests.RequestException:
        return html.P("Your provider could not be reached. Please try again.")
    if answer.status_code != 200:
        return html.P(f"Your provider answered HTTP {answer.status_code}.")
    claims = answer.json()
    rows = []
    for name in sorted(claims):
        rows += [html.Dt(name), html.Dd(str(claims[name]))]
    return rows
