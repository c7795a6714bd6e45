"""Microsoft Entra ID "groups overage": the groups that did not fit in the token, from (a fake) Graph.

The fake provider's ID token points to Graph instead of listing groups, as Entra ID does past
200 groups, and its ``/v1.0/me/transitiveMemberOf`` pages two objects at a time.
"""

import pytest
from joserfc import jwt
from oidc_fake_provider import FakeProvider
from sso_helpers import sign_in_tokens

from auth.sso.graph import ApiError, Group, fetch_paged, has_group_overage, transitive_groups

MEMBERSHIPS = [
    {"@odata.type": "#microsoft.graph.group", "id": "g-1", "displayName": "Sales"},
    {"@odata.type": "#microsoft.graph.directoryRole", "id": "r-1", "displayName": "Global Reader"},
    {"@odata.type": "#microsoft.graph.group", "id": "g-2", "displayName": "Sales EMEA"},
    {"@odata.type": "#microsoft.graph.group", "id": "g-3"},  # no displayName without the permission
    {"@odata.type": "#microsoft.graph.group", "id": "g-4", "displayName": "Finance"},
    {"@odata.type": "#microsoft.graph.group", "id": "g-5", "displayName": "All staff"},
]


@pytest.fixture
def idp():
    user = {"sub": "alice-1", "email": "alice@example.com", "groups": ["in-token"]}
    with FakeProvider(user=user, groups_overage=True, graph_groups=MEMBERSHIPS) as provider:
        yield provider


def id_token_claims(idp, tokens) -> dict:
    return jwt.decode(tokens["id_token"], idp.key).claims


def test_an_overage_token_is_recognised(idp):
    claims = id_token_claims(idp, sign_in_tokens(idp))
    assert "groups" not in claims and has_group_overage(claims)
    assert has_group_overage({"sub": "x", "hasgroups": True})
    idp.groups_overage = False
    assert not has_group_overage(id_token_claims(idp, sign_in_tokens(idp)))


def test_every_group_is_fetched_through_the_pages(idp):
    groups = transitive_groups(sign_in_tokens(idp)["access_token"], graph_url=idp.issuer)
    assert groups == [
        Group("g-1", "Sales"),
        Group("g-2", "Sales EMEA"),
        Group("g-3", None),
        Group("g-4", "Finance"),
        Group("g-5", "All staff"),
    ]  # across three pages; the directory role is not a group


def test_graph_refuses_a_token_it_did_not_issue(idp):
    with pytest.raises(ApiError, match="HTTP 401"):
        transitive_groups("not-a-token", graph_url=idp.issuer)


def test_graph_failing_is_an_error_not_an_empty_list(idp):
    access_token = sign_in_tokens(idp)["access_token"]
    idp.misbehave = "graph_error"
    with pytest.raises(ApiError, match="HTTP 503"):
        transitive_groups(access_token, graph_url=idp.issuer)


def test_the_token_is_never_sent_to_another_site(idp):
    access_token = sign_in_tokens(idp)["access_token"]
    idp.misbehave = "graph_next_link_elsewhere"
    with pytest.raises(ApiError, match="another site"):
        transitive_groups(access_token, graph_url=idp.issuer)


def test_a_hook_can_page_through_another_api(idp):
    access_token = sign_in_tokens(idp)["access_token"]
    url = f"{idp.issuer}/v1.0/me/transitiveMemberOf"
    assert [item["id"] for item in fetch_paged(url, access_token)] == [m["id"] for m in MEMBERSHIPS]
    with pytest.raises(ApiError, match="more than 2 pages"):
        list(fetch_paged(url, access_token, max_pages=2))
