"""The single sign-on routes: /oidc/<idp>/login and the provider's callback."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Blueprint, current_app, redirect, session

from .. import signals
from ..errors import SignInFailed
from ..policy import public
from .identity import auth, sign_in

log = logging.getLogger(__name__)


def blueprint(callback_route: str, url_prefix: str | None) -> Blueprint:
    bp = Blueprint("oidc", __name__, url_prefix=url_prefix)
    bp.add_url_rule("/oidc/<idp>/login", "login", login)
    bp.add_url_rule(callback_route, "callback", callback)
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
