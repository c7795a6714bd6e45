"""``access_token()``: the signed-in single sign-on user's access token, for calling APIs as them.

    from auth import access_token

    requests.get(url, headers={"Authorization": f"Bearer {access_token()}"})

Valid when returned (refreshed first when it expires within a minute, once for all workers).
When the provider refuses to refresh it (revoked, expired), the session ends and the request
is answered "sign in again"; when the provider cannot be reached, 503. ``provider_metadata()``
is the same provider's discovery document, for its endpoints (userinfo_endpoint, ...).
"""

from __future__ import annotations

from typing import Any

from flask import current_app

from ..errors import AuthError, ProviderUnavailable, SessionEnded
from .identity import auth, clear_session, current_user, session_record


def access_token() -> str | None:
    """The access token of this request's single sign-on user; None for password users and
    signed-out visitors. Raises SessionEnded (401 / the sign-in page) or ProviderUnavailable (503)."""
    user = current_user()
    parts = auth()
    if user is None or user.provider == "basic" or parts.sso is None:
        return None
    record = session_record()
    if record is None or record.sid != user.session_id:
        return None
    # Here, not at the top: password-only apps have no cryptography (the vault's) installed.
    from ..sso.refresh import RefreshUnavailable, SignInAgain

    try:
        token = parts.sso.tokens.access_token(record)
        if token is None:  # dropped by another worker's refused refresh
            raise SignInAgain("no tokens kept for this session")
    except SignInAgain as refused:
        # Audited as the end of the session, with the reason; the cookie is cleared too.
        clear_session()
        parts.sessions.end(record, f"tokens: {refused}"[:200], current_app._get_current_object())
        raise SessionEnded(reason=str(refused)) from None
    except RefreshUnavailable as unavailable:
        raise ProviderUnavailable(reason=str(unavailable)) from None
    return token


def provider_metadata() -> dict[str, Any] | None:
    """The discovery document of this request's single sign-on provider; None for password
    users and signed-out visitors. Raises ProviderUnavailable when it cannot be fetched."""
    user = current_user()
    parts = auth()
    if user is None or user.provider == "basic" or parts.sso is None:
        return None
    import requests  # here, not at the top: password-only apps never load it

    try:
        return dict(parts.sso.metadata_of(user.provider))
    except (requests.RequestException, AuthError) as error:
        raise ProviderUnavailable(reason=f"discovery: {type(error).__name__}") from None
