"""The app as a confidential OAuth client: how it authenticates to a provider's token endpoints.

The token endpoint (refresh) and the revocation endpoint take the same form POST with the same
client authentication, client_secret_basic, as Authlib uses at sign-in; this is that one request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

import requests

DEFAULT_TIMEOUT = 10.0  # seconds; a provider that does not answer must not hold a worker


@dataclass(frozen=True)
class ClientCredentials:
    client_id: str
    client_secret: str
    timeout: float = DEFAULT_TIMEOUT

    def post(self, url: str, form: Mapping[str, str]) -> requests.Response:
        """POST ``form`` to ``url`` as this client; raises ``requests.RequestException``."""
        # Each part form-encoded before Basic, as RFC 6749 2.3.1 says and Authlib does.
        auth = (quote(self.client_id), quote(self.client_secret))
        return requests.post(
            url, data=dict(form), auth=auth, timeout=self.timeout, headers={"Accept": "application/json"}
        )
