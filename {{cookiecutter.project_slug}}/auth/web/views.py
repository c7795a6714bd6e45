"""The auth routes: /login, /logout, /healthz (readiness), /livez (liveness)."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request

from ..errors import AuthError, StoreUnavailable
from ..policy import public
from .account_views import password_accepted
from .identity import auth, check_password, current_user, session_record, sign_out
from .responses import home_url, safe_next

# The pages live in auth/templates/auth/, beside the package's other data.
bp = Blueprint("auth", __name__, template_folder="../templates")


def _login_page(status: int = 200, error: str | None = None, username: str = "", headers=None):
    parts = auth()
    page = render_template(
        "auth/login.html",
        basic=parts.settings.basic,
        providers=parts.sso.choices() if parts.sso else [],
        next=safe_next(request.values.get("next")),
        error=error,
        username=username,
    )
    return page, status, headers or {}


@bp.get("/login")
@public
def login():
    target = safe_next(request.args.get("next"))
    if current_user() is not None:
        return redirect(target)
    parts = auth()
    if parts.sso and not parts.settings.basic:
        only = parts.sso.only_login_url(target)  # one way to sign in: go straight there
        if only:
            return redirect(only)
    return _login_page()


@bp.post("/login")
@public
def login_with_password():
    parts = auth()
    if parts.passwords is None:
        return _login_page(404, "Password sign-in is not enabled.")
    username = request.form.get("username", "").strip()
    try:
        check_password(username, request.form.get("password", ""))
    except AuthError as refusal:  # the form again, with what was typed and why
        return _login_page(refusal.code, refusal.description, username, refusal.headers)
    return password_accepted(username.casefold(), username, safe_next(request.form.get("next")))


@bp.get("/logout")
@public
def logout_confirm():
    if current_user() is None and session_record() is None:  # a session the store cannot check yet counts
        return redirect(home_url())
    return render_template("auth/logout.html")


@bp.post("/logout")
@public
def logout():
    record = session_record()
    sso = auth().sso
    try:  # the tokens and the id token are out of reach while the store is down: sign out here all the same
        if sso and record and record.provider != "basic":
            sso.tokens.revoke(record)  # best effort, logged: the provider forgets the tokens first
        after = sso.logout_url(record) if sso and record else None  # before the session's id token goes
    except StoreUnavailable:
        after = None
    sign_out()
    return redirect(after or home_url())


@bp.get("/healthz")
@public
def healthz():
    """Readiness, for load balancers: 503 naming each dependency that does not answer
    ({"status": "degraded", "store": "unreachable"}), so that traffic goes elsewhere."""
    failures = auth().check_health()
    if failures:
        retry = str(StoreUnavailable.RETRY_AFTER_SECONDS)
        return {"status": "degraded", **failures}, 503, {"Retry-After": retry, "Cache-Control": "no-store"}
    return {"status": "ok"}, 200, {"Cache-Control": "no-store"}


@bp.get("/livez")
@public
def livez():
    """Liveness: the process answers. Checks nothing, so that a store outage never has the
    orchestrator restart instances that will recover by themselves."""
    return {"status": "ok"}
