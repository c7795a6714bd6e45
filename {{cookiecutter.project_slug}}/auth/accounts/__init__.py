"""Building blocks of password accounts, each without Flask: the new-password policy
(strength), two-step sign-in (mfa), personal access tokens (tokens) and device cookies
with the lock-out policy they feed (devices)."""
