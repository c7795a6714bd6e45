"""Single sign-on with OpenID Connect. Authlib is imported at the first sign-in, not at start-up,
and nothing here is imported by password-only apps (their locks hold no Authlib, joserfc or
cryptography): import the module you need.

- ``client``: the providers' sign-in flow, through Authlib's Flask client (one class for all)
- ``claims``: the checks on what a provider sends, beyond Authlib's defaults
- ``vault``: the user's tokens, encrypted at rest, one entry per session
- ``refresh``: a valid access token, refreshed once across all workers when it is about to expire
- ``tokens``: those parts at work for each session: kept at sign-in, fresh for app code, revoked at sign-out
- ``logout``: which of our sessions a provider's back-channel logout ends
- ``revocation``: RFC 7009 revocation of those tokens at sign-out
- ``backchannel``: OpenID Connect Back-Channel Logout 1.0 logout-token validation
- ``graph``: Microsoft Entra ID groups overage, and paged calls to such APIs
"""
