"""Who may see what: access rules as plain data, checked without Flask.

An ``Access`` rule is attached to a page (``dash.register_page(..., access=...)``),
a callback, a Flask view or a plain function. The same object serves as a value
and as a decorator, so one vocabulary covers all four.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

ACCESS_ATTRIBUTE = "__access__"


@dataclass(frozen=True)
class Access:
    """An access rule: public, or signed-in users with a group condition.

    ``one_of``: at least one of these groups; ``all_of``: every one of them;
    ``none_of``: none of them. Empty conditions are satisfied.
    """

    public: bool = False
    one_of: frozenset[str] = frozenset()
    all_of: frozenset[str] = frozenset()
    none_of: frozenset[str] = frozenset()

    def allows(self, groups: Iterable[str] | None) -> bool:
        """True if a user with these groups may pass; ``None`` means signed out."""
        if self.public:
            return True
        if groups is None:
            return False
        return groups_match(groups, self.one_of, self.all_of, self.none_of)

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Decorate a callback, view or function so that it runs only when allowed."""
        if self.public:
            setattr(func, ACCESS_ATTRIBUTE, self)
            return func

        @functools.wraps(func)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            # Imported here so that this module stays free of Flask for pure tests.
            from .identity import require

            require(self)
            return func(*args, **kwargs)

        setattr(guarded, ACCESS_ATTRIBUTE, self)
        return guarded


def groups_match(
    groups: Iterable[str],
    one_of: Iterable[str] = (),
    all_of: Iterable[str] = (),
    none_of: Iterable[str] = (),
) -> bool:
    """The group condition alone: one of / all of / none of."""
    have = set(groups)
    one_of, all_of, none_of = set(one_of), set(all_of), set(none_of)
    return (not one_of or bool(have & one_of)) and all_of <= have and not (have & none_of)


def requires(
    *,
    one_of: Iterable[str] = (),
    all_of: Iterable[str] = (),
    none_of: Iterable[str] = (),
) -> Access:
    """A rule for signed-in users in the given groups.

    >>> requires(one_of=["admin", "ops"]).allows({"ops"})
    True
    """
    for name, value in (("one_of", one_of), ("all_of", all_of), ("none_of", none_of)):
        if isinstance(value, str):
            raise TypeError(f"{name} takes a list of group names, not the string {value!r}")
    return Access(one_of=frozenset(one_of), all_of=frozenset(all_of), none_of=frozenset(none_of))


public = Access(public=True)
"""Anyone, signed in or not."""

signed_in = Access()
"""Any signed-in user: the default for everything not declared otherwise."""


def access_of(obj: Any, default: Access = signed_in) -> Access:
    """The rule declared on a function or page entry, or the default."""
    rule = obj.get("access", default) if isinstance(obj, dict) else getattr(obj, ACCESS_ATTRIBUTE, default)
    if not isinstance(rule, Access):
        raise TypeError(f"access must be public, signed_in or requires(...), not {rule!r}")
    return rule
