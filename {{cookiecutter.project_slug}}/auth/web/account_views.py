"""The account routes: the second sign-in step (/login/code) and /account (password, sessions,
sign out everywhere, two-step sign-in, personal tokens). Plain forms, no JavaScript; the
request guard refuses cross-site POSTs and everything here but /login/code needs a session.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import replace

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for

from .. import signals
from ..accounts import mfa
from ..accounts.strength import password_problem
from ..errors import AuthError, NotAllowed
from ..passwords import UserError
from ..policy import public
from ..session import SessionRecord
from ..users import User
from .device_cookie import remember_device
from .identity import (
    auth,
    check_password,
    check_second_factor,
    clear_session,
    current_user,
    keep_session,
    session_record,
    sign_in,
)
from .responses import home_url

bp = Blueprint("account", __name__, template_folder="../templates")

PENDING_KEY = "auth_pending"  # a half-done sign-in: who, since when, where to; never a secret
PENDING_SECONDS = 300
DONE = {
    "password": "Password changed. Your other sessions have ended.",
    "session": "That session has ended.",
    "two-step-off": "Two-step sign-in is off.",
    "token-revoked": "Token revoked.",
}


# Signing in with a password, then maybe a code ---------------------------------------


def password_accepted(user_id: str, name: str, target: str):
    """The answer to a right password: the session, or first the second step."""
    if auth().accounts.two_step_on(user_id):
        session[PENDING_KEY] = {
            "user": user_id,
            "name": name,
            "at": int(time.time()),
            "next": target,
            "cred": auth().passwords.fingerprint(user_id),
        }
        return redirect(url_for("account.second_step"))
    return _signed_in(user_id, name, target)


def _signed_in(user_id: str, name: str, target: str):
    sign_in(
        SessionRecord(
            user_id=user_id, name=name, provider="basic", credential=auth().passwords.fingerprint(user_id)
        )
    )
    return remember_device(redirect(target), user_id)


def _pending() -> dict | None:
    pending = session.get(PENDING_KEY)
    if auth().passwords is None:
        return None
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        session.pop(PENDING_KEY, None)
        return None
    if pending.get("cred") != auth().passwords.fingerprint(pending.get("user", "")):
        session.pop(PENDING_KEY, None)  # the password changed meanwhile
        return None
    return pending


@bp.get("/login/code")
@public
def second_step():
    if _pending() is None:
        return redirect(url_for("auth.login"))
    return render_template("auth/login_code.html")


@bp.post("/login/code")
@public
def second_step_code():
    pending = _pending()
    if pending is None:
        return redirect(url_for("auth.login"))
    try:
        kind = check_second_factor(pending["user"], request.form.get("code", ""))
    except AuthError as refusal:
        page = render_template("auth/login_code.html", error=refusal.description)
        return page, refusal.code, refusal.headers
    response = _signed_in(pending["user"], pending["name"], pending["next"])
    if kind == "recovery-code":
        response.headers["Location"] = url_for("account.account") + "?done=recovery"
    return response


# /account ---------------------------------------------------------------------------


def _session_user() -> User:
    user = current_user()
    if user is None or user.session_id is None:
        raise NotAllowed("Manage your account from a browser that signed in.")
    return user


def _password_user() -> User:
    user = _session_user()
    if user.provider != "basic":
        raise NotAllowed("Your account is managed by your sign-in provider.")
    return user


def _when(timestamp: int | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(timestamp)) if timestamp else "never"


def _handle(sid: str) -> str:
    """What the page names a session by: not its id, which stays between server and cookie."""
    return hashlib.sha256(sid.encode()).hexdigest()[:20]


def _account_page(status: int = 200, error: str | None = None, once: dict | None = None):
    user = _session_user()
    parts = auth()
    password_user = user.provider == "basic"
    setup_secret = parts.accounts.pending_setup(user.id) if password_user else None
    setup = None
    if setup_secret:
        uri = mfa.provisioning_uri(setup_secret, username=user.id, issuer=parts.accounts.issuer)
        setup = {"secret": setup_secret, "qr": mfa.qr_code_svg(uri)}
    two_step = password_user and parts.accounts.two_step_on(user.id)
    methods = {"basic": "password and a code" if two_step else "password"}
    page = render_template(
        "auth/account.html",
        user=user,
        method=methods.get(user.provider, f"single sign-on ({user.provider})"),
        password_user=password_user,
        two_step=two_step,
        setup=setup,
        once=once,
        error=error,
        done=DONE.get(request.args.get("done", "")),
        tokens=[
            {"label": label, "created": _when(token.created), "last_used": _when(token.last_used)}
            for label, token in (parts.accounts.tokens_of(user.id) if password_user else {}).items()
        ],
        sessions=[
            {
                "sid": _handle(info.sid),
                "agent": info.agent or "unknown browser",
                "started": _when(info.started),
                "seen": _when(info.seen),
                "current": info.sid == user.session_id,
            }
            for info in parts.sessions.of_user(user.id)
        ],
    )
    return page, status, {"Cache-Control": "no-store"}


def _done(what: str):
    return redirect(url_for("account.account") + f"?done={what}")


def _app():
    return current_app._get_current_object()


def _announce(event: str, user: User, **details) -> None:
    signals.account_changed.send(_app(), event=event, user=user.id, **details)


@bp.get("/account")
def account():
    if request.args.get("done") == "recovery":
        return _account_page(
            error="You signed in with a recovery code; it will not work again. "
            "Set up two-step sign-in again below to get new codes."
        )
    return _account_page()


@bp.post("/account/password")
def change_password():
    user = _password_user()
    new = request.form.get("new", "")
    try:
        check_password(user.id, request.form.get("current", ""))
    except AuthError as refusal:
        return _account_page(refusal.code, f"Current password: {refusal.description}")
    problem = password_problem(new, username=user.id, app_name=auth().app.title)
    if problem:
        return _account_page(400, problem)
    parts = auth()
    parts.accounts.file.add(user.id, new)
    record = session_record()
    keep_session(replace(record, credential=parts.passwords.fingerprint(user.id)))
    ended = parts.sessions.end_all(user.id, "password-changed", keep=record.sid, sender=_app())
    _announce("password-changed", user, sessions_ended=ended)
    return _done("password")


@bp.post("/account/sessions/end")
def end_session():
    user = _session_user()
    handle = request.form.get("sid", "")
    for info in auth().sessions.of_user(user.id):
        if _handle(info.sid) == handle:
            auth().sessions.end_session(user.id, info.sid, "ended-from-account", _app())
            if info.sid == user.session_id:
                clear_session()
                return redirect(home_url())
    return _done("session")


@bp.post("/account/sign-out-everywhere")
def sign_out_everywhere():
    user = _session_user()
    ended = auth().sessions.end_all(user.id, "sign-out-everywhere", sender=_app())
    clear_session()
    _announce("signed-out-everywhere", user, sessions_ended=ended)
    return redirect(home_url())


@bp.post("/account/two-step/start")
def two_step_start():
    user = _password_user()
    auth().accounts.start_two_step_setup(user.id)
    return redirect(url_for("account.account") + "#two-step-title")


@bp.post("/account/two-step/confirm")
def two_step_confirm():
    user = _password_user()
    two_step = auth().accounts.confirm_two_step_setup(user.id, request.form.get("code", ""))
    if two_step is None:
        return _account_page(400, "That code is not right: type the one your app shows now.")
    _announce("two-step-on", user, by="user")
    return _account_page(
        once={
            "title": "Two-step sign-in is on: your recovery codes",
            "hint": "Keep these somewhere safe. Each works once, in place of a code. "
            "They are not shown again.",
            "codes": two_step.recovery_codes,
        }
    )


@bp.post("/account/two-step/off")
def two_step_off():
    user = _password_user()
    try:
        check_second_factor(user.id, request.form.get("code", ""))
    except AuthError as refusal:
        return _account_page(refusal.code, refusal.description)
    auth().accounts.turn_off_two_step(user.id)
    _announce("two-step-off", user, by="user")
    return _done("two-step-off")


@bp.post("/account/tokens")
def create_token():
    user = _password_user()
    try:
        label, token = auth().accounts.new_token(user.id, request.form.get("label", "").strip() or None)
    except UserError as error:
        return _account_page(400, str(error).capitalize() + ".")
    _announce("token-created", user, label=label)
    return _account_page(
        once={
            "title": f"Your new token ({label})",
            "hint": "Copy it now: it is not shown again. Only a hash of it is kept.",
            "token": token,
        }
    )


@bp.post("/account/tokens/revoke")
def revoke_token():
    user = _password_user()
    label = request.form.get("label", "")
    if auth().accounts.revoke_token(user.id, label):
        _announce("token-revoked", user, label=label)
    return _done("token-revoked")
