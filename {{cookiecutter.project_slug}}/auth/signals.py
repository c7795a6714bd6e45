"""What happens, for whoever wants to know: the audit log listens, and so can the app.

    from auth import signals

    @signals.user_signed_in.connect
    def greet(sender, user, via, **extra): ...

``sender`` is the Flask app. Receivers run inside the request, in order: one that
calls a slow or flaky service should catch its own errors (or hand the work off).
"""

from blinker import Namespace

_signals = Namespace()

user_signed_in = _signals.signal("user-signed-in")
"""``user``: the User; ``via``: "basic" or "oidc"; ``provider``: the provider's name or None."""

user_signed_out = _signals.signal("user-signed-out")
"""``user_id``, ``sid``: the session that ended at the user's request."""

sign_in_failed = _signals.signal("sign-in-failed")
"""``username`` (as typed, may be None), ``via``, ``provider``, ``reason`` ("wrong", "throttled", ...)."""

access_denied = _signals.signal("access-denied")
"""``user`` (None: signed out, or unknown site), ``kind`` ("page", "callback", "route", "function",
"cross-site"), ``target`` (path, callback output, endpoint, function or origin)."""

session_revoked = _signals.signal("session-revoked")
"""``sid``, ``user_id``, ``reason`` ("sign-out", ...): refused from now on, by every worker."""

account_changed = _signals.signal("account-changed")
"""``event`` ("password-changed", "two-step-on", "two-step-off", "recovery-code-used",
"token-created", "token-revoked", "token-first-used", "signed-out-everywhere", "lock-out",
"unlock"), ``user``, and details (``label``, ``by``): never a secret."""

dependency_failed = _signals.signal("dependency-failed")
"""``dependency`` ("store", "users_file", "groups_file"), ``reason``: sent once per worker when
it stops answering (not once per request)."""

dependency_recovered = _signals.signal("dependency-recovered")
"""``dependency``, ``seconds`` (how long it was down, as this worker saw it)."""
