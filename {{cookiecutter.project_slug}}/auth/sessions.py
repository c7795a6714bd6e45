"""Sessions: started at sign-in, checked on every request, ended (everywhere) at sign-out.

What a session is (session.py) and where it is kept (web/cookies.py) are elsewhere;
this is what is decided about one: still valid? who is it now? what ends it?
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace

from . import signals
from .basic import Passwords
from .errors import StoreUnavailable
from .kept import KeptAnswers, SharedState
from .pending import PendingRevocations
from .session import SessionRecord
from .settings import SEEN_RESOLUTION_SECONDS, Settings
from .sso.shared_store import store_key
from .store import Store
from .users import Directory, User, member_keys, version_of


@dataclass(frozen=True)
class SessionInfo:
    """One of a user's sessions, as /account lists it."""

    sid: str
    started: int
    seen: int
    provider: str
    agent: str = ""


GROUPS_IN_COOKIE = 1500  # bytes of group names kept in the cookie; a longer list goes to the store
KEPT = ("groups",)  # what a session may keep in the store, deleted with it (and its tokens)
KNOWN_USERS = 4096  # records whose user a worker keeps worked out (see Sessions._known_user)


class Sessions:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        directory: Directory,
        passwords: Passwords | None,
        providers: Iterable[str],
        pending: PendingRevocations | None = None,
    ):
        """``pending``: where sign-outs wait while the store is down (pending.py); without
        it, a sign-out during an outage fails with StoreUnavailable instead."""
        self.settings = settings
        self.pending = pending
        self.store = store
        self.directory = directory
        self.passwords = passwords
        self.providers = {p.name: p for p in settings.providers if p.name in set(providers)}
        # id(record) -> (record, its user), while nothing they rest on has changed: ``_known_user``
        self._known: KeptAnswers[tuple[SessionRecord, User]] = KeptAnswers(
            SharedState(store, pending, (version_of(directory),)), KNOWN_USERS
        )

    def start(self, record: SessionRecord, agent: str = "") -> SessionRecord:
        """The record to keep for a new session (a long group list is kept in the store),
        listed among the user's sessions; ``agent``: the browser's User-Agent, for people."""
        if record.groups_in_store or len(json.dumps(record.groups)) > GROUPS_IN_COOKIE:
            self.store.keep_groups(record.sid, record.groups, self.settings.absolute_timeout_seconds)
            record = replace(record, groups=(), groups_in_store=True)
        self._list(record, agent[:200])
        return record

    def _list(self, record: SessionRecord, agent: str | None = None) -> None:
        about = {"started": record.started, "seen": record.seen, "provider": record.provider}
        if agent is None:  # a "last seen" update: keep what was said at the start
            about["agent"] = self.store.sessions_of(record.user_id).get(record.sid, {}).get("agent", "")
        else:
            about["agent"] = agent
        ttl = record.started + self.settings.absolute_timeout_seconds - int(time.time())
        self.store.list_session(record.user_id, record.sid, about, max(ttl, 1))

    def of_user(self, user_id: str) -> list[SessionInfo]:
        """The user's sessions that have not ended, the most recently seen first."""
        listed = self.store.sessions_of(user_id)
        infos = [
            SessionInfo(sid=sid, **about) for sid, about in listed.items() if not self.store.is_revoked(sid)
        ]
        return sorted(infos, key=lambda info: info.seen, reverse=True)

    def user_of(self, record: SessionRecord, now: int | None = None) -> tuple[User | None, SessionRecord]:
        """Who this session is now, or None if it has ended; and the record to keep
        (with "last seen" moved on when it is more than a minute old)."""
        now = int(time.time()) if now is None else now
        settings = self.settings
        timed_out = (
            now - record.started > settings.absolute_timeout_seconds
            or now - record.seen > settings.idle_timeout_seconds
            or (record.ends and now >= record.ends)
        )
        if timed_out:
            return None, record
        user = self._known_user(record)
        if user is None:
            mark = self._known.mark()  # before looking, never after (kept.py)
            if self._ended(record):
                return None, record
            user = self._user(record)
            if user is not None and not record.groups_in_store:
                self._known.keep(id(record), mark, (record, user))
        if user is not None and now - record.seen > SEEN_RESOLUTION_SECONDS:
            record = record.seen_at(now)
            self._list(record)
        return user, record

    def _ended(self, record: SessionRecord) -> bool:
        """Signed out (or ended by an admin, a new password...) on any worker or host."""
        if self.pending is not None and self.pending.waiting():
            try:
                self.replay_pending()
            except StoreUnavailable:
                if self.pending.refuses(record):  # signed out during the outage: refused here
                    return True
                raise
        return self.store.is_revoked(record.sid)

    def _known_user(self, record: SessionRecord) -> User | None:
        """The user worked out for this very record (web/identity.py keeps one record object per
        cookie value, so a worker sees the same few over and over), if no revocation, sign-out
        kept for later or directory change can have come since (kept.py). None where that
        cannot be told without asking: the store is Redis (another host may have written) or
        down, or the directory has no version."""
        known = self._known.get(id(record))  # the entry holds the record: its id is not reused meanwhile
        return known[1] if known is not None and known[0] is record else None

    def _user(self, record: SessionRecord) -> User | None:
        """The user as the directory says now."""
        keys = self._member_keys(record)
        if keys is None:
            return None
        claimed = self.store.kept_groups(record.sid) if record.groups_in_store else frozenset(record.groups)
        return User(
            id=record.user_id,
            name=record.name or record.user_id,
            provider=record.provider,
            email=record.email,
            groups=claimed | self.directory.groups_of(keys),
            signed_in_at=record.started,
            session_id=record.sid,
        )

    def _member_keys(self, record: SessionRecord) -> tuple[str, ...] | None:
        """How the directory knows this session's user; None if the session no longer holds."""
        if record.provider == "basic":
            valid = self.passwords is not None and record.credential == self.passwords.fingerprint(
                record.user_id
            )
            return (record.user_id,) if valid else None
        provider = self.providers.get(record.provider)
        if provider is None:
            return None
        return member_keys(
            record.provider,
            record.user_id,
            subject=record.subject,
            object_id=record.object_id,
            email=record.email,
            email_verified=record.email_verified,
            trust_email=provider.trust_email,
        )

    def end(self, record: SessionRecord, reason: str, sender: object = None) -> None:
        """Refuse this session from now on, on every worker, even from a copied cookie."""
        self.end_session(record.user_id, record.sid, reason, sender)

    def end_session(self, user_id: str, sid: str, reason: str, sender: object = None) -> None:
        try:
            self._end_in_store(user_id, sid)
        except StoreUnavailable:
            if self.pending is None:
                raise
            self.pending.add_session(user_id, sid, reason)  # refused here now, everywhere at the replay
        signals.session_revoked.send(sender, sid=sid, user_id=user_id, reason=reason)

    def _end_in_store(self, user_id: str, sid: str) -> None:
        self.store.revoke(sid, self.settings.absolute_timeout_seconds)
        self.store.forget(sid, *KEPT)
        self.store.delete(store_key("tokens", sid))  # the provider's tokens die with the session
        self.store.unlist_session(user_id, sid)

    def end_all(self, user_id: str, reason: str, keep: str | None = None, sender: object = None) -> int:
        """End every session of this user (but ``keep``, the one asking); how many ended
        (0 while the store is down: they are refused here at once, and ended at the replay)."""
        try:
            listed = self.store.sessions_of(user_id)
        except StoreUnavailable:
            if self.pending is None:
                raise
            self.pending.add_user(user_id, int(time.time()), keep, reason)
            return 0
        ended = 0
        for sid in listed:
            if sid != keep:
                self.end_session(user_id, sid, reason, sender)
                ended += 1
        return ended

    # Sign-outs kept while the store was down (pending.py) --------------------------------

    def replay_pending(self) -> None:
        """Write the sign-outs that waited for the store; raises StoreUnavailable while it is down."""
        if self.pending is not None and self.pending.waiting():
            self.pending.replay(self._replay_session, self._replay_user)

    def _replay_session(self, user_id: str, sid: str, reason: str) -> None:
        self._end_in_store(user_id, sid)

    def _replay_user(self, user_id: str, before: int, keep: str | None, reason: str) -> None:
        for sid, about in self.store.sessions_of(user_id).items():
            if sid != keep and about.get("started", 0) <= before:
                self._end_in_store(user_id, sid)
                signals.session_revoked.send(None, sid=sid, user_id=user_id, reason=reason)
