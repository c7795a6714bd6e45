"""The single sign-on routes: /oidc/<idp>/login, the provider's callback, and its back-channel logout."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Blueprint, Response, current_app, jsonify, redirect, request, session

from .. import signals
from ..errors import SignInFailed
from ..policy import public
from ..sso.backchannel import LogoutTokenInvalid
from .guard import server_to_server
from .identity import auth, sign_in

log = logging.getLogger(__name__)


def blueprint(callback_route: str, url_prefix: str | None) -> Blueprint:
    bp = Blueprint("oidc", __name__, url_prefix=url_prefix)
    bp.add_url_rule("/oidc/<idp>/login", "login", login)
    bp.add_url_rule(callback_route, "callback", callback)
    bp.add_url_rule(
        "/oidc/<idp>/backchannel-logout", "backchannel_logout", backchannel_logout, methods=["POST"]
    )
    return bp


@public
def login(idp: str):
    with sign_in_failures(idp):
        return redirect(auth().sso.start(idp))


@public
def callback(idp: str):
    with sign_in_failures(idp):
        record, next_path = auth().sso.finish(idp)
    sign_in(record)
    return redirect(next_path)


@public
@server_to_server
def backchannel_logout(idp: str):
    """OpenID Connect Back-Channel Logout 1.0: the provider ended a session; ours end with it."""
    import requests  # loaded with Authlib

    parts = auth()
    try:
        ended = parts.sso.sessions_to_end(idp, request.form.get("logout_token", ""))
    except (LogoutTokenInvalid, SignInFailed) as refused:
        return _logout_answer(400, f"logout token refused: {refused}")
    except (requests.RequestException, RuntimeError, ValueError) as error:  # its keys could not be had
        return _logout_answer(400, f"provider keys unavailable: {type(error).__name__}")
    for user_id, sid in ended:
        if not parts.store.is_revoked(sid):
            parts.sessions.end_session(user_id, sid, "back-channel logout", current_app._get_current_object())
    return _logout_answer(200, f"{len(ended)} session(s) ended")


def _logout_answer(status: int, reason: str) -> Response:
    log.log(logging.INFO if status == 200 else logging.WARNING, "back-channel logout: %s", reason)
    response = jsonify({} if status == 200 else {"error": "invalid_request"})
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"  # the spec's section 2.8
    return response


@contextmanager
def sign_in_failures(idp: str) -> Iterator[None]:
    """Any failure of a sign-in: signed out, logged, announced, and shown as a plain page."""
    import requests  # loaded with Authlib, at the first sign-in

    try:
        yield
    except requests.Timeout:
        failure = SignInFailed(
            504, "The sign-in provider did not answer in time. Please try again.", "timeout"
        )
    except requests.RequestException as error:
        failure = SignInFailed(
            502, "The sign-in provider could not be reached. Please try again later.", f"network: {error!r}"
        )
    except SignInFailed as error:
        failure = error
    else:
        return
    session.clear()
    log.warning("sign-in with %s failed: %s", idp, failure.reason)
    signals.sign_in_failed.send(
        current_app._get_current_object(), username=None, via="oidc", provider=idp, reason=failure.reason
    )
    raise failure
