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

# The rule is kept on the function itself as well as on its guarded wrapper: with
# ``@requires`` above ``@callback`` (or ``@server.route``), Dash (or Flask) holds the
# undecorated function, and the rule is found there, so both orders work.
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
        have = groups if isinstance(groups, frozenset | set) else set(groups)
        return (
            (not self.one_of or bool(have & self.one_of)) and self.all_of <= have and not have & self.none_of
        )

    def __str__(self) -> str:
        if self.public:
            return "public"
        conditions = [
            f"{name}={sorted(groups)}"
            for name, groups in (("one_of", self.one_of), ("all_of", self.all_of), ("none_of", self.none_of))
            if groups
        ]
        return f"requires({', '.join(conditions)})" if conditions else "signed in"

    @property
    def groups(self) -> frozenset[str]:
        """Every group this rule names."""
        return self.one_of | self.all_of | self.none_of

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Decorate a callback, view or function so that it runs only when allowed."""
        setattr(func, ACCESS_ATTRIBUTE, self)
        if self.public:
            return func
        # Imported here, once per guarded function (an import on each call costs a lookup chain of
        # its own), so that this module stays free of Flask for pure tests.
        from .web.identity import require

        target = func.__qualname__

        @functools.wraps(func)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            require(self, target)
            return func(*args, **kwargs)

        return guarded  # functools.wraps copied the rule onto it


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


def declared_access(obj: Any) -> Access | None:
    """The rule declared on a function, or on a function it wraps (functools.wraps), or None."""
    while obj is not None:
        rule = getattr(obj, ACCESS_ATTRIBUTE, None)
        if rule is not None:
            return rule
        obj = getattr(obj, "__wrapped__", None)
    return None


def access_of(obj: Any, default: Access = signed_in) -> Access:
    """The rule declared on a function or page entry, or the default."""
    rule = obj.get("access", default) if isinstance(obj, dict) else (declared_access(obj) or default)
    if not isinstance(rule, Access):
        raise TypeError(f"access must be public, signed_in or requires(...), not {rule!r}")
    return rule
