"""The signed-in user of this request (Flask): resolved once, from the header or the session."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Request, current_app, g, request, session
from flask.sessions import SessionMixin

from .. import decision, signals
from ..basic import parse_basic_header
from ..errors import AuthError, NotAllowed, SignInRequired, StoreUnavailable, Throttled, WrongCredentials
from ..policy import Access
from ..session import SessionRecord
from ..users import User
from . import device_cookie
from .cookies import UNREADABLE
from .headers import SIGNED_IN

SESSION_KEY = "auth"
EXTENSION = "dash_auth"
USER = "dash_auth.user"  # environ: this request's user, once resolved (None: nobody)
UNAVAILABLE = "dash_auth.user_unavailable"  # environ: why it could not be resolved (the store)


def auth() -> Any:
    """The app's Auth (extension.py)."""
    return current_app._get_current_object().extensions[EXTENSION]  # one proxy lookup, not three


def current_user() -> User | None:
    """The user of this request, or None when nobody is signed in (or outside a request).

    While the store is down, a public page sees nobody signed in (the cookie is kept);
    a request that needs the user has already stopped with a 503 (``needed_user``).
    """
    try:
        req = request._get_current_object()
    except RuntimeError:  # outside a request
        return None
    try:
        return needed_user(req)
    except StoreUnavailable:
        return None


def needed_user(req: Request | None = None) -> User | None:
    """``current_user()`` for what must know: raises StoreUnavailable (a 503) rather than
    take "cannot tell" for "signed out". ``req``: this request, if at hand."""
    # This request's answer so far, kept in its environ: it is asked several times per
    # request (guard, layout, callbacks), and the environ is one lookup away.
    req = request._get_current_object() if req is None else req
    known = req.environ
    if USER in known:
        return known[USER]
    if UNAVAILABLE in known:  # asked again in this request: the same answer, no new wait
        raise known[UNAVAILABLE]
    try:
        user = known[USER] = resolve_user(req)
    except StoreUnavailable as failure:
        known[UNAVAILABLE] = failure
        raise
    if user is not None:
        known[SIGNED_IN] = True  # private, and Vary: Cookie (headers.py)
    return user


def user_groups() -> frozenset[str]:
    """The current user's groups (empty when signed out)."""
    user = current_user()
    return user.groups if user else frozenset()


def check_groups(one_of: Iterable[str] = (), all_of: Iterable[str] = (), none_of: Iterable[str] = ()) -> bool:
    """True if a user is signed in and meets the group condition."""
    user = current_user()
    return user is not None and user.in_groups(one_of, all_of, none_of)


def group_members() -> dict[str, tuple[str, ...]]:
    """Every group with its members, as the directory (groups.toml) says now."""
    return auth().directory.members()


def require(access: Access, target: str = "") -> User | None:
    """Stop the request with 401 (signed out) or 403 (not allowed) unless ``access`` allows it."""
    user = needed_user()
    verdict = decision.decide(access, user, "function", target, current_app._get_current_object())
    if verdict is decision.Decision.SIGN_IN:
        raise SignInRequired()
    if verdict is decision.Decision.DENY:
        raise NotAllowed()
    return user


def session_record(this: SessionMixin | None = None) -> SessionRecord | None:
    """The record in this request's session (``this``: the session, if at hand)."""
    this = session._get_current_object() if this is None else this
    memo = None if this.modified else getattr(this, "memo", None)
    if memo is None:
        return SessionRecord.from_dict(this.get(SESSION_KEY))
    record = memo.get("record", memo)
    if record is memo:  # the same signed cookie value holds the same record: parsed once
        record = memo["record"] = SessionRecord.from_dict(this.get(SESSION_KEY))
    return record


def keep_session(record: SessionRecord) -> None:
    session[SESSION_KEY] = record.to_dict()


def start_session(record: SessionRecord) -> None:
    """A fresh session for this identity: nothing from before survives."""
    regenerate = getattr(current_app.session_interface, "regenerate", None)
    if regenerate is not None:  # a server-side session: a new id, so none from before survives
        regenerate(session)
    session.clear()
    keep_session(record)
    session.permanent = True
    request.environ.pop(USER, None)
    request.environ.pop(UNAVAILABLE, None)


def clear_session() -> SessionRecord | None:
    """Forget this browser's session; returns what it held, for the sign-out follow-ups."""
    record = session_record()
    session.clear()
    request.environ[USER] = None
    return record


# Who is asking ----------------------------------------------------------------------


def resolve_user(req: Request) -> User | None:
    """From an ``Authorization`` header (scripts: a token, or Basic), else from the session."""
    if UNREADABLE in req.environ:  # a server-side session that could not be read (cookies.py)
        raise StoreUnavailable(reason=req.environ[UNREADABLE])
    parts = auth()
    header = req.environ.get("HTTP_AUTHORIZATION")
    if header is not None and parts.passwords is not None:
        token = _bearer_token(header)
        return _user_from_token(token) if token is not None else _user_from_header(header)
    this = session._get_current_object()
    record = session_record(this)
    if record is None:
        if SESSION_KEY in this:
            this.clear()  # a session of another shape: signed out
        return None
    user, kept = parts.sessions.user_of(record)
    if user is None:
        this.clear()
    elif kept is not record:
        keep_session(kept)
    return user


def _bearer_token(header: str) -> str | None:
    scheme, _, token = header.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def _user_from_token(token: str) -> User | None:
    """A personal access token: not guessable (256 bits), so not throttled."""
    parts = auth()
    user_id = parts.accounts.token_owner(token)
    return None if user_id is None else parts.password_users.get(user_id, "token")


def _user_from_header(header: str) -> User | None:
    parts = auth()
    # A script sends the same header from the same place on every request: its user is kept
    # (by the header's digest: no password is kept) while nothing that decided it has changed.
    # The address and the cookies (a known device's) decide which failures count (throttle.py).
    environ = request.environ
    sent = (
        parts.passwords.digest(header),
        environ.get("REMOTE_ADDR"),
        environ.get("HTTP_COOKIE"),
        environ["wsgi.url_scheme"],  # which of the cookies is the device's (device_cookie.py)
    )
    user = parts.scripts.get(sent)
    if user is not None:
        return user
    mark = parts.scripts.mark()  # before looking, never after (kept.py)
    credentials = parse_basic_header(header)
    if credentials is None:
        return None
    name, password = credentials
    user_id = name.casefold()
    # A script sends the same right password on every request. Once scrypt has said yes
    # (basic.py remembers it), and while no failure is counted for this client, it is no
    # guess: there is nothing to count (throttle.py). Anything else is counted and checked.
    known = parts.passwords.remembered(name, password) and parts.throttle.clean(
        user_id, request.remote_addr, device_cookie.this_device(user_id)
    )
    try:
        if not known:
            check_password(name, password)
    except StoreUnavailable:
        raise  # cannot count the attempt: a 503, not "signed out"
    except AuthError as refusal:
        g.auth_retry_after = refusal.headers.get("Retry-After")
        return None
    if parts.accounts.two_step_on(user_id):
        return None  # a password alone is not enough for this account: a token is the way
    user = parts.password_users.get(user_id, "basic", name)
    if known and user is not None:
        parts.scripts.keep(sent, mark, user)
    return user


def check_password(name: str, password: str) -> None:
    """Raise Throttled or WrongCredentials unless this password is right (and may be tried)."""
    parts = auth()
    _attempt(name, lambda: parts.passwords.check(name, password), WrongCredentials())


def check_second_factor(user_id: str, code: str) -> str:
    """ "code" or "recovery-code"; raises like check_password: a wrong code is a failed attempt."""
    kind = None

    def right() -> bool:
        nonlocal kind
        kind = auth().accounts.second_factor(user_id, code)
        return kind is not None

    _attempt(user_id, right, WrongCredentials("That code is not right, or it was used already."))
    return kind


def _attempt(name: str, check, wrong: AuthError) -> None:
    try:
        right = auth().throttle.attempt(
            name, request.remote_addr, check, device=device_cookie.this_device(name.casefold())
        )
    except Throttled:
        _failed(name, "throttled")
        raise
    if not right:
        _failed(name, "wrong")
        raise wrong


def _failed(name: str, reason: str) -> None:
    signals.sign_in_failed.send(
        current_app._get_current_object(), username=name, via="basic", provider=None, reason=reason
    )


# Signing in and out -------------------------------------------------------------------


def sign_in(record: SessionRecord) -> None:
    """Start the session of someone who just proved who they are."""
    record = auth().sessions.start(record, agent=request.headers.get("User-Agent", ""))
    start_session(record)
    signals.user_signed_in.send(
        current_app._get_current_object(),
        user=current_user(),
        via="basic" if record.provider == "basic" else "oidc",
        provider=None if record.provider == "basic" else record.provider,
    )


def sign_out() -> SessionRecord | None:
    """End this browser's session, on every worker and host; returns what it held.

    Ended first, cleared after: if the end cannot be recorded (StoreUnavailable, a 503),
    the browser keeps its cookie, so the sign-out never looks done when it is not."""
    record = session_record()
    if record is not None:
        auth().sessions.end(record, "sign-out", current_app._get_current_object())
        signals.user_signed_out.send(
            current_app._get_current_object(), user_id=record.user_id, sid=record.sid
        )
    clear_session()
    return record
