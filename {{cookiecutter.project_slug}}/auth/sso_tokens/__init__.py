"""Single sign-on that acts as the user: the parts below know nothing of Flask or Dash.

(Named apart from sso.py, the sign-in routes, which would otherwise be shadowed.)

- ``vault``: the user's tokens, encrypted at rest, one entry per session
- ``refresh``: a valid access token, refreshed once across all workers when it is about to expire
- ``offline``: what each provider needs to be asked so that it issues a refresh token
- ``revocation``: RFC 7009 revocation of those tokens at sign-out
- ``backchannel``: OpenID Connect Back-Channel Logout 1.0 logout-token validation
- ``graph``: Microsoft Entra ID groups overage, and paged calls to such APIs
"""
