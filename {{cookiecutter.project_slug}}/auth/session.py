"""The session record: what a signed-in browser's session holds, as one typed value.

It lives in the signed cookie (or server-side, see web/cookies.py) under one key,
as a small dict with a version number: a record of an older shape is read, one of an
unknown shape counts as signed out. No token, password or hash is ever in it.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any

VERSION = 2

# Field name -> key in the stored dict (short, and the same as version 1 where it existed).
KEYS = {
    "user_id": "id",
    "name": "name",
    "provider": "provider",
    "sid": "sid",
    "started": "at",
    "seen": "seen",
    "email": "email",
    "email_verified": "email_verified",
    "subject": "sub",
    "object_id": "oid",
    "groups": "groups",
    "groups_in_store": "groups_in_store",
    "credential": "cred",
    "ends": "ends",
}


@dataclass(frozen=True)
class SessionRecord:
    user_id: str  # what the app keys the user on: the username, or "<issuer>#<subject>"
    name: str  # shown in the header
    provider: str  # "basic", or the single sign-on provider's name
    sid: str = field(default_factory=lambda: secrets.token_urlsafe(16))  # this session's id
    started: int = field(default_factory=lambda: int(time.time()))
    seen: int = 0  # last request, to the minute (idle timeout)
    email: str | None = None
    email_verified: bool = False
    subject: str | None = None  # single sign-on: the provider's "sub"
    object_id: str | None = None  # Microsoft's stable "oid"
    groups: tuple[str, ...] = ()  # from the provider at sign-in
    groups_in_store: bool = False  # too many for the cookie: kept in the store
    credential: str | None = None  # password users: a fingerprint of the stored hash
    ends: int = 0  # single sign-on: when the provider's grant ends (OIDC_SESSION_WITHIN_REFRESH_TOKEN)

    def __post_init__(self) -> None:
        if not self.seen:
            object.__setattr__(self, "seen", self.started)

    def seen_at(self, now: int) -> SessionRecord:
        return replace(self, seen=now)

    def to_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["groups"] = sorted(self.groups)
        return {"v": VERSION} | {
            KEYS[name]: value for name, value in values.items() if value or name == "groups"
        }

    @classmethod
    def from_dict(cls, data: Any) -> SessionRecord | None:
        """The record, or None for anything of another shape (then: signed out)."""
        if not isinstance(data, dict):
            return None
        version = data.get("v", 1)
        if version == 1:  # before records had a type: the hash fingerprint was "password"
            data = {**data, "cred": data.get("password")}
            if data.get("provider") != "basic" and "#" in str(data.get("id")):
                data["sub"] = str(data["id"]).rpartition("#")[2]
        elif version != VERSION:
            return None
        try:
            record = cls(**{name: data[key] for name, key in KEYS.items() if data.get(key) is not None})
        except TypeError:
            return None  # a required field is missing
        if not (
            isinstance(record.user_id, str)
            and isinstance(record.sid, str)
            and isinstance(record.started, int)
            and isinstance(record.seen, int)
            and isinstance(record.groups, list | tuple)
        ):
            return None
        return replace(record, groups=tuple(record.groups))
