"""The one decision: may this user pass this rule? For pages, callbacks, routes and functions.

Every request and every guarded call comes here, and a denial is announced here
(signals.access_denied, which the audit log records), once.
"""

from __future__ import annotations

from enum import Enum

from . import signals
from .policy import Access
from .users import User


class Decision(Enum):
    ALLOW = "allow"
    SIGN_IN = "sign in"  # nobody is signed in and the rule needs someone
    DENY = "deny"  # signed in, but the user's groups do not open it


def decide(rule: Access, user: User | None, kind: str, target: str, sender: object = None) -> Decision:
    if rule.allows(user.groups if user else None):
        return Decision.ALLOW
    if user is None:
        return Decision.SIGN_IN
    signals.access_denied.send(sender, user=user, kind=kind, target=target)
    return Decision.DENY
