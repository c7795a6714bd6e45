"""The app as a confidential OAuth client: how it authenticates to a provider's token endpoints.

The token endpoint (refresh) and the revocation endpoint take the same form POST with the same
client authentication; this is that one request.
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
    client_secret: str = ""
    # "client_secret_basic" (the default of OAuth 2.0 and of Authlib), "client_secret_post",
    # or "none" for a public client.
    auth_method: str = "client_secret_basic"
    timeout: float = DEFAULT_TIMEOUT

    def post(self, url: str, form: Mapping[str, str]) -> requests.Response:
        """POST ``form`` to ``url`` as this client; raises ``requests.RequestException`` on network errors."""
        data, auth = dict(form), None
        if self.auth_method == "client_secret_basic":
            # Form-encoded before Basic, as RFC 6749 2.3.1 says and Authlib does at sign-in.
            auth = (quote(self.client_id), quote(self.client_secret))
        elif self.auth_method == "client_secret_post":
            data |= {"client_id": self.client_id, "client_secret": self.client_secret}
        elif self.auth_method == "none":
            data["client_id"] = self.client_id
        else:
            raise ValueError(f"unsupported client authentication {self.auth_method!r}")
        return requests.post(
            url, data=data, auth=auth, timeout=self.timeout, headers={"Accept": "application/json"}
        )
