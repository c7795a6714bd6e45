"""Groups that did not fit in the ID token (Microsoft Entra ID "groups overage"), from Microsoft Graph.

Entra ID puts at most 200 groups in a token. Beyond that it sends ``_claim_names`` /
``_claim_sources`` (or ``hasgroups``) instead of ``groups``, and the app must ask Microsoft Graph
with the user's access token (which needs the ``GroupMember.Read.All`` permission, or
``User.Read`` with ``Directory.Read.All``). ``fetch_paged`` follows any API that pages with a
"next link", so a sign-in hook can reuse it for other providers' APIs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

GRAPH_URL = "https://graph.microsoft.com"
MEMBERSHIPS_PATH = "/v1.0/me/transitiveMemberOf?$select=id,displayName&$top=999"
TIMEOUT_SECONDS = 10.0
MAX_PAGES = 100  # 999 per page: far more groups than anyone is in; a loop stops here


class ApiError(Exception):
    """The API did not give the list (HTTP error, not JSON, a next link elsewhere, too many pages)."""


@dataclass(frozen=True)
class Group:
    id: str
    name: str | None = None  # displayName, when Graph gives it


def has_group_overage(claims: Mapping[str, Any]) -> bool:
    """True when the ID token says the groups are elsewhere instead of listing them."""
    names = claims.get("_claim_names")
    if isinstance(names, Mapping) and "groups" in names:
        return True
    return claims.get("hasgroups") in (True, "true")


def transitive_groups(
    access_token: str, *, graph_url: str = GRAPH_URL, timeout: float = TIMEOUT_SECONDS
) -> list[Group]:
    """The user's groups, direct and nested, from Microsoft Graph (raises ``ApiError``)."""
    url = graph_url.rstrip("/") + MEMBERSHIPS_PATH
    groups = {}
    for item in fetch_paged(url, access_token, timeout=timeout):
        # Memberships include directory roles and administrative units: groups only.
        if item.get("@odata.type", "#microsoft.graph.group") != "#microsoft.graph.group":
            continue
        if isinstance(item.get("id"), str):
            name = item.get("displayName")
            groups[item["id"]] = Group(item["id"], name if isinstance(name, str) else None)
    return list(groups.values())


def fetch_paged(
    url: str,
    access_token: str,
    *,
    items: str = "value",
    next_link: str = "@odata.nextLink",
    timeout: float = TIMEOUT_SECONDS,
    max_pages: int = MAX_PAGES,
) -> Iterator[dict[str, Any]]:
    """Every item of a paged JSON API, calling it as the user (``Authorization: Bearer``).

    Next links are followed only on the first URL's scheme and host: the user's token is never
    sent anywhere else.
    """
    origin = _origin(url)
    headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
    for _page in range(max_pages):
        try:
            answer = requests.get(url, headers=headers, timeout=timeout)
        except requests.RequestException as error:
            raise ApiError(f"{origin} could not be reached: {type(error).__name__}") from None
        if answer.status_code != 200:
            raise ApiError(f"{origin} answered HTTP {answer.status_code}")
        try:
            body = answer.json()
        except ValueError:
            raise ApiError(f"{origin} did not answer JSON") from None
        if not isinstance(body, dict) or not isinstance(body.get(items, []), list):
            raise ApiError(f"{origin} answered something else than a list")
        yield from (item for item in body.get(items, []) if isinstance(item, dict))
        url = body.get(next_link)
        if not url:
            return
        if not isinstance(url, str) or _origin(url) != origin:
            raise ApiError(f"{origin} sent a next link to another site")
    raise ApiError(f"{origin} sent more than {max_pages} pages")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()
