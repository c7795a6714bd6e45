"""Single sign-on with OpenID Connect: the providers' flow (client.py) and the checks on
what they send (claims.py). Authlib is imported at the first sign-in, not at start-up."""

from .client import SingleSignOn

__all__ = ["SingleSignOn"]
