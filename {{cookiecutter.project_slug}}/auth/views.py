"""The auth routes: /login, /logout, /healthz."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request

from .audit import audit
from .identity import EXTENSION, current_user, sign_in, sign_out
from .policy import public
from .responses import home_url, safe_next

bp = Blueprint("auth", __name__, template_folder="templates")


def _auth():
    return current_app.extensions[EXTENSION]


def _login_page(
    status: int = 200, error: str | None = None, username: str = "", retry_after: int | None = None
):
    auth = _auth()
    headers = {"Retry-After": str(retry_after)} if retry_after else {}
    return (
        render_template(
            "auth/login.html",
            basic=auth.settings.basic,
            providers=auth.provider_choices(),
            next=safe_next(request.values.get("next")),
            error=error,
            username=username,
        ),
        status,
        headers,
    )


@bp.get("/login")
@public
def login():
    target = safe_next(request.args.get("next"))
    if current_user() is not None:
        return redirect(target)
    only = _auth().single_sign_in_route(target)
    if only:
        return redirect(only)
    return _login_page()


@bp.post("/login")
@public
def login_with_password():
    auth = _auth()
    if not auth.settings.basic:
        return _login_page(404, "Password sign-in is not enabled.")
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    refusal = auth.check_password(username, password)
    if refusal:
        return _login_page(refusal.status, refusal.message, username, refusal.retry_after)
    sign_in(username.casefold(), name=username, provider="basic", password=auth.users.fingerprint(username))
    audit("sign-in", user=username.casefold(), via="basic")
    return redirect(safe_next(request.form.get("next")))


@bp.get("/logout")
@public
def logout_confirm():
    if current_user() is None:
        return redirect(home_url())
    return render_template("auth/logout.html")


@bp.post("/logout")
@public
def logout():
    user = current_user()
    data = sign_out()
    if data:
        _auth().revoke(data)
        audit("sign-out", user=user.id if user else data.get("id"))
        after = _auth().provider_logout_url(data)
        if after:
            return redirect(after)
    return redirect(home_url())


@bp.get("/healthz")
@public
def healthz():
    return {"status": "ok"}
