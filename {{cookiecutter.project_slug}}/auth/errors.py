"""One family of errors: what stops a request (with its status and a message for people),
and what stops the app from starting."""

from __future__ import annotations

import sys
from typing import NoReturn

from werkzeug.exceptions import HTTPException


class ConfigurationError(Exception):
    """A setting or file that stops the app from starting, with the reason for people."""

    def exit(self) -> NoReturn:
        """End start-up with one line and status 4, which gunicorn reads as "the app failed
        to load" (it stops instead of restarting workers forever)."""
        print(f"Cannot start: {self}", file=sys.stderr)
        raise SystemExit(4)


class AuthError(HTTPException):
    """A request stopped by the auth package; shown as a plain page or JSON (errors.html)."""

    code = 400
    description = "Request refused."

    def __init__(
        self,
        description: str | None = None,
        *,
        retry_after: int | str | None = None,
        headers: dict[str, str] | None = None,
        reason: str = "",
    ):
        super().__init__(description)
        self.headers = dict(headers or {})
        if retry_after:
            self.headers["Retry-After"] = str(retry_after)
        self.reason = reason  # for the log, never shown

    def get_headers(self, environ=None, scope=None) -> list[tuple[str, str]]:
        return [*super().get_headers(environ, scope), *self.headers.items()]


class BadRequest(AuthError):
    code = 400
    description = "Malformed request."


class SignInRequired(AuthError):
    code = 401
    description = "Please sign in."


class WrongCredentials(AuthError):
    code = 401
    description = "Wrong username or password."


class Throttled(AuthError):
    code = 401
    description = "Too many failed sign-ins. Try again in a few minutes."


class Locked(Throttled):
    description = (
        "This account is locked after too many failed sign-ins. Sign in from a browser you "
        "used before, or ask an administrator to unlock it."
    )


class Busy(AuthError):
    """More password checks at once than this worker runs: a quick answer instead of a queue."""

    code = 503
    description = "Too many sign-ins at this moment. Try again in a few seconds."


class SignInFailed(AuthError):
    """A single sign-on that did not complete; ``code`` is set per case (400-504)."""

    def __init__(self, code: int, description: str, reason: str = ""):
        super().__init__(description, reason=reason)
        self.code = code


class NotAllowed(AuthError):
    code = 403
    description = "You are not allowed to see this."


class CrossSiteRefused(AuthError):
    code = 403
    description = "Cross-site request refused."


class NotFound(AuthError):
    code = 404
    description = "Not found."


class SessionEnded(SignInRequired):
    """The single sign-on session can no longer act as the user (refresh refused): sign in again.
    A browser navigation is sent to the sign-in page (web/responses.py)."""

    description = "Your sign-in has ended. Please sign in again."


class ProviderUnavailable(AuthError):
    code = 503
    description = "The sign-in provider could not be reached. Please try again in a moment."


class StoreUnavailable(AuthError):
    """A part the request needs (the shared store) does not answer: try again shortly.

    Raised by the store's backends for any failure of theirs (Redis down, refusing or
    slow; SQLite locked, read-only or full), so that callers see one kind of error.
    """

    code = 503
    description = "Sign-in is briefly unavailable. Please try again in a moment."
    RETRY_AFTER_SECONDS = 5

    def __init__(self, reason: str = ""):
        super().__init__(retry_after=self.RETRY_AFTER_SECONDS, reason=reason)
