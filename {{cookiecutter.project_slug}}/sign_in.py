"""Runs once when someone signs in with single sign-on: add groups from elsewhere.

Groups already come from the provider's groups claim (OIDC_<IDP>_GROUPS_CLAIM)
and from groups.toml (by verified e-mail). Return more here, e.g. from an API
the provider offers. ``token`` holds the access token for such calls; it is
not kept after this function returns.

Example, Google Workspace groups through the Cloud Identity API (needs the
scope https://www.googleapis.com/auth/cloud-identity.groups.readonly in
OIDC_GOOGLE_SCOPES):

    if provider == "google":
        response = requests.get(
            "https://cloudidentity.googleapis.com/v1/groups/-/memberships:searchDirectGroups",
            params={"query": f"member_key_id == '{claims['email']}'"},
            headers={"Authorization": f"Bearer {token['access_token']}"},
            timeout=10,
        )
        response.raise_for_status()
        return [m["groupKey"]["id"] for m in response.json().get("memberships", [])]

APIs that page their answers (a "next link") can be read whole with the function the app uses
for Microsoft Entra ID's groups overage (too many groups for the token, read from Graph):

    from auth.sso.graph import fetch_paged, has_group_overage

    for item in fetch_paged(url, token["access_token"], items="value", next_link="@odata.nextLink"):
        ...

Next links are followed on the first URL's host only, so the token goes nowhere else. For
calls after sign-in, use ``access_token()`` instead (README: "Calling APIs as the user").

An exception here stops the sign-in with an error page.
"""

from collections.abc import Iterable
from typing import Any


def extra_groups(provider: str, claims: dict[str, Any], token: dict[str, Any]) -> Iterable[str]:
    return ()
