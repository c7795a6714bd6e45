"""The audit log: one JSON line per sign-in, sign-out, failed sign-in and denied access.

Lines go to the ``auth.audit`` logger (standard error by default, see app.py):
who, what, when, from where. Never a password, token or cookie.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from flask import has_request_context, request

log = logging.getLogger("auth.audit")


def audit(event: str, **fields: Any) -> None:
    record: dict[str, Any] = {"event": event, "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    if has_request_context():
        record.update(address=request.remote_addr, method=request.method, path=request.path)
    record.update(fields)
    log.info(json.dumps(record, sort_keys=True, default=str))
