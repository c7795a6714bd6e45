"""What ``flask access`` prints: every page, callback and route with its rule, and what looks wrong."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import dash

from ..compat import PAGES_ROUTER_OUTPUT, all_callbacks
from ..policy import ACCESS_ATTRIBUTE, Access, access_of, declared_access
from .pages import ORIGINAL_LAYOUT

# Routes whose rule the guard decides itself (Dash's own, and the auth package's).
OWN_MODULES = ("dash.", "flask.", "auth.")


@dataclass(frozen=True)
class Entry:
    kind: str  # page, callback, route
    name: str
    rule: Access
    note: str = ""


def entries(app: dash.Dash) -> Iterator[Entry]:
    for page in dash.page_registry.values():
        yield Entry("page", page["path"], access_of(page))
    for output, callback in all_callbacks(app).items():
        if output == PAGES_ROUTER_OUTPUT:
            continue
        function = callback["callback"]
        note = ""
        if getattr(function, ACCESS_ATTRIBUTE, None) is None and declared_access(function) is not None:
            note = "rule written above @callback"
        yield Entry("callback", output, access_of(function), note)
    server = app.server
    for url_rule in sorted(server.url_map.iter_rules(), key=lambda r: r.rule):
        view = server.view_functions.get(url_rule.endpoint)
        module = getattr(view, "__module__", "") or ""
        if any(module.startswith(own) for own in OWN_MODULES) or url_rule.endpoint.endswith("static"):
            continue
        declared = declared_access(view)
        note = "" if declared else "no rule declared"
        if declared and not declared.public and getattr(view, "__wrapped__", None) is None:
            note = "rule written above @route"  # the rule's own wrapper is not what Flask holds
        yield Entry("route", url_rule.rule, declared or access_of(view), note)


def findings(app: dash.Dash, members: dict[str, tuple[str, ...]], groups_from_provider: bool) -> list[str]:
    """What looks wrong, one line each."""
    found = []
    listed = list(entries(app))
    for entry in listed:
        if entry.note == "no rule declared":
            found.append(f"{entry.kind} {entry.name}: no rule declared (signed in by default)")
        elif entry.note:
            found.append(
                f"{entry.kind} {entry.name}: {entry.note}; it holds for requests, but a direct call "
                "skips it: put the rule right above the function"
            )
        empty = sorted(g for g in entry.rule.one_of | entry.rule.all_of if not members.get(g))
        if empty and not groups_from_provider:
            found.append(
                f"{entry.kind} {entry.name}: {entry.rule} names groups no one is in: {', '.join(empty)}"
            )
    found.extend(_public_callbacks_into_restricted_pages(app))
    return found


def _public_callbacks_into_restricted_pages(app: dash.Dash) -> Iterator[str]:
    restricted: dict[str, str] = {}  # component id -> path of a page that is not public
    for page in dash.page_registry.values():
        if access_of(page).public:
            continue
        for component_id in _ids(page.get(ORIGINAL_LAYOUT, page["layout"])):
            restricted[component_id] = page["path"]
    for output, callback in all_callbacks(app).items():
        if output == PAGES_ROUTER_OUTPUT or not access_of(callback["callback"]).public:
            continue
        for component_id in _output_ids(output):
            if component_id in restricted:
                yield (
                    f"callback {output}: public, but writes into {restricted[component_id]}, "
                    "which is not: anyone can fill that page's content"
                )


def _ids(layout: Any) -> Iterator[str]:
    try:
        tree = layout() if callable(layout) else layout
    except Exception:
        return
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, list | tuple):
            stack.extend(node)
            continue
        component_id = getattr(node, "id", None)
        if isinstance(component_id, str):
            yield component_id
        children = getattr(node, "children", None)
        if children is not None and not isinstance(children, str):
            stack.append(children)


def _output_ids(output: str) -> Iterator[str]:
    for part in output.strip(".").split("..."):
        yield part.rsplit(".", 1)[0]
