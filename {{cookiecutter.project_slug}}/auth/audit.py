"""The audit log: one JSON line per sign-in, sign-out, failed sign-in, denied access, ended session,
and per outage of a dependency (when it starts and when it ends, once per worker).

A subscriber of signals.py. Lines go to the ``auth.audit`` logger (standard error
by default, see app.py): who, what, when, from where. Never a password, token or cookie.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from flask import has_request_context, request

from . import signals

log = logging.getLogger("auth.audit")


def audit(event: str, **fields: Any) -> None:
    record: dict[str, Any] = {"event": event, "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    if has_request_context():
        record.update(address=request.remote_addr, method=request.method, path=request.path)
    record.update({name: value for name, value in fields.items() if value is not None})
    log.info(json.dumps(record, sort_keys=True, default=str))


def on_signed_in(sender, user, via, provider=None, **extra) -> None:
    audit("sign-in", user=(user.email or user.id) if provider else user.id, via=via, provider=provider)


def on_signed_out(sender, user_id, **extra) -> None:
    audit("sign-out", user=user_id)


def on_sign_in_failed(sender, username, via, provider=None, reason="", **extra) -> None:
    event = "sign-in-throttled" if reason == "throttled" else "sign-in-failed"
    audit(event, user=username, via=via, provider=provider, reason=None if via == "basic" else reason[:200])


def on_access_denied(sender, user, kind, target, **extra) -> None:
    if kind == "cross-site":
        audit("cross-site-refused", origin=target)
    else:
        audit("access-denied", user=user.id if user else None, kind=kind, target=target)


def on_session_revoked(sender, sid, user_id, reason, **extra) -> None:
    if reason != "sign-out":  # a sign-out has its own line
        audit("session-revoked", user=user_id, reason=reason)


def on_account_changed(sender, event, user, **details) -> None:
    audit(event, user=user, **details)


def on_dependency_failed(sender, dependency, reason, **extra) -> None:
    audit("dependency-failed", dependency=dependency, reason=reason[:200])


def on_dependency_recovered(sender, dependency, seconds, **extra) -> None:
    audit("dependency-recovered", dependency=dependency, seconds=seconds)


def subscribe() -> None:
    """Connect the audit log to the signals (once; connecting again changes nothing)."""
    signals.user_signed_in.connect(on_signed_in)
    signals.user_signed_out.connect(on_signed_out)
    signals.sign_in_failed.connect(on_sign_in_failed)
    signals.access_denied.connect(on_access_denied)
    signals.session_revoked.connect(on_session_revoked)
    signals.account_changed.connect(on_account_changed)
    signals.dependency_failed.connect(on_dependency_failed)
    signals.dependency_recovered.connect(on_dependency_recovered)
