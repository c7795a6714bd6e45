"""Every setting the auth package reads, with its default, in one place.

Settings come from the Flask config when it holds them and from the environment
(``.env``) otherwise. Durations are held in seconds; the names say so.
"""

from __future__ import annotations

import os
from collections import ChainMap
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .errors import ConfigurationError
from .keys import FIX, key_problem, store_namespace
from .providers import NO, PRESETS, YES, Provider, provider_from_env

METHODS = ("basic", "oidc")
SESSION_STORES = ("cookie", "filesystem", "redis")
MINUTE = 60

# Defaults, in one place.
DEFAULT_IDLE_TIMEOUT_SECONDS = 8 * 60 * MINUTE
DEFAULT_ABSOLUTE_TIMEOUT_SECONDS = 24 * 60 * MINUTE
DEFAULT_CALLBACK_ROUTE = "/oidc/<idp>/callback"
DEFAULT_OIDC_TIMEOUT_SECONDS = 10  # for every call to a provider
# After 10 failures an account waits this long for unknown clients, doubling with each
# further failure (accounts/devices.py); 50 failures from one address in it stop that address.
DEFAULT_FAILURE_WINDOW_SECONDS = 30
DEFAULT_FAILURES_PER_ACCOUNT = 10
DEFAULT_FAILURES_PER_ADDRESS = 50
# users.json is looked at for edits by hand this often (a stat); changes made through the app
# and its flask commands apply from the next request. groups.toml gets a stat on every request.
DEFAULT_FILE_CHECK_SECONDS = 1
DEFAULT_PASSWORD_CHECKS_AT_ONCE = 2  # scrypt checks side by side in one worker; more get a quick 503
SEEN_RESOLUTION_SECONDS = 60  # "last seen" is written back at most this often
DEFAULT_GRAPH_URL = "https://graph.microsoft.com"  # where Entra ID's overage groups are read


def _list(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


def _value(env: Mapping[str, str], name: str, default: str = "") -> str:
    """A setting's value; empty counts as unset, so .env can list every setting."""
    return str(env.get(name) or "").strip() or default


def _whole(env: Mapping[str, str], name: str, default: int, unit: str, minimum: int = 1) -> int:
    """A whole number of ``unit`` (at least ``minimum``); unset means ``default``."""
    value = _value(env, name)
    if not value:
        return default
    if not value.isdigit() or int(value) < minimum:
        raise ConfigurationError(
            f"{name} must be a whole number of {unit}, at least {minimum}, not {value!r}"
        )
    return int(value)


def _switch(env: Mapping[str, str], name: str) -> bool:
    """An on/off setting, off unless set."""
    value = _value(env, name, "false").lower()
    if value not in YES | NO:
        raise ConfigurationError(f"{name} must be true or false, not {value!r}")
    return value in YES


def providers_from_env(env: Mapping[str, str]) -> tuple[Provider, ...]:
    """The providers OIDC_PROVIDERS names, each as its OIDC_<IDP>_... settings describe it."""
    names = _list(_value(env, "OIDC_PROVIDERS").lower())
    unknown = [name for name in names if name not in PRESETS]
    if unknown:
        raise ConfigurationError(
            f"OIDC_PROVIDERS names unknown providers ({', '.join(unknown)}): choose from {', '.join(PRESETS)}"
        )
    names = tuple(dict.fromkeys(names))
    # A verified e-mail vouches for groups.toml's plain e-mail entries only when one provider
    # is offered, or when OIDC_<IDP>_TRUST_EMAIL says so (see groups.toml).
    try:
        return tuple(provider_from_env(name, env, trust_email_default=len(names) == 1) for name in names)
    except ValueError as error:
        raise ConfigurationError(str(error)) from None


def _callback_route(env: Mapping[str, str]) -> str:
    route = _value(env, "OIDC_CALLBACK_ROUTE", DEFAULT_CALLBACK_ROUTE)
    if not route.startswith("/") or "<idp>" not in route:
        raise ConfigurationError(f"OIDC_CALLBACK_ROUTE must be a path holding <idp>, not {route!r}")
    return route


def _public_url(env: Mapping[str, str]) -> str:
    url = _value(env, "PUBLIC_URL").rstrip("/")
    parts = urlsplit(url)
    if url and (parts.scheme not in ("http", "https") or not parts.netloc or parts.path):
        raise ConfigurationError(f"PUBLIC_URL must look like https://dash.example.com, not {url!r}")
    return url


def _session_store(env: Mapping[str, str]) -> str:
    store = _value(env, "SESSION_STORE", "cookie").lower()
    if store not in SESSION_STORES:
        raise ConfigurationError(f"SESSION_STORE must be {', '.join(SESSION_STORES)}, not {store!r}")
    if store == "redis" and not _value(env, "REDIS_URL"):
        raise ConfigurationError("SESSION_STORE=redis needs REDIS_URL")
    return store


def _methods(env: Mapping[str, str]) -> tuple[str, ...]:
    methods = _list(_value(env, "AUTH_METHODS", "basic").replace("both", "basic,oidc"))
    if not methods or set(methods) - set(METHODS):
        raise ConfigurationError(f"AUTH_METHODS must be basic, oidc or both, not {env.get('AUTH_METHODS')!r}")
    return tuple(m for m in METHODS if m in methods)


@dataclass(frozen=True)
class Settings:
    secret_key: str
    secret_key_fallbacks: tuple[str, ...] = ()
    methods: tuple[str, ...] = ("basic",)
    users_file: Path = Path("users.json")
    groups_file: Path = Path("groups.toml")
    idle_timeout_seconds: int = DEFAULT_IDLE_TIMEOUT_SECONDS
    absolute_timeout_seconds: int = DEFAULT_ABSOLUTE_TIMEOUT_SECONDS
    providers: tuple[Provider, ...] = ()
    callback_route: str = DEFAULT_CALLBACK_ROUTE
    oidc_timeout_seconds: int = DEFAULT_OIDC_TIMEOUT_SECONDS
    redis_url: str = ""
    # Put before every key in the shared store, so that apps sharing one Redis never
    # see each other's entries. Empty: derived from the secret keys (see keys.py).
    redis_prefix: str = ""
    instance: Path = Path("instance")
    public_url: str = ""
    proxy_hops: int = 0
    failure_window_seconds: int = DEFAULT_FAILURE_WINDOW_SECONDS
    file_check_seconds: int = DEFAULT_FILE_CHECK_SECONDS
    failures_per_account: int = DEFAULT_FAILURES_PER_ACCOUNT
    failures_per_address: int = DEFAULT_FAILURES_PER_ADDRESS
    session_store: str = "cookie"
    # Issue 11: single sign-on that acts as the user.
    graph_url: str = DEFAULT_GRAPH_URL
    session_within_refresh_token: bool = False  # end a session when its refresh token would
    # Issue 10: password accounts.
    password_checks_at_once: int = DEFAULT_PASSWORD_CHECKS_AT_ONCE

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, root: Path = Path(".")) -> Settings:
        env = os.environ if env is None else env
        key = env.get("SECRET_KEY")
        problem = key_problem(key)
        if problem:
            raise ConfigurationError(f"{problem}: {FIX}")
        fallbacks = _list(_value(env, "SECRET_KEY_FALLBACKS"))
        if any(key_problem(fallback) for fallback in fallbacks):
            raise ConfigurationError("SECRET_KEY_FALLBACKS holds a weak key: remove it from .env")
        return cls(
            secret_key=key,
            secret_key_fallbacks=fallbacks,
            methods=_methods(env),
            users_file=root / _value(env, "USERS_FILE", "users.json"),
            groups_file=root / _value(env, "GROUPS_FILE", "groups.toml"),
            idle_timeout_seconds=MINUTE
            * _whole(env, "SESSION_IDLE_TIMEOUT", DEFAULT_IDLE_TIMEOUT_SECONDS // MINUTE, "minutes"),
            absolute_timeout_seconds=MINUTE
            * _whole(env, "SESSION_ABSOLUTE_TIMEOUT", DEFAULT_ABSOLUTE_TIMEOUT_SECONDS // MINUTE, "minutes"),
            providers=providers_from_env(env),
            callback_route=_callback_route(env),
            oidc_timeout_seconds=_whole(env, "OIDC_HTTP_TIMEOUT", DEFAULT_OIDC_TIMEOUT_SECONDS, "seconds"),
            redis_url=_value(env, "REDIS_URL"),
            redis_prefix=_value(env, "REDIS_PREFIX"),
            instance=root / "instance",
            public_url=_public_url(env),
            proxy_hops=_whole(env, "TRUSTED_PROXY_HOPS", 0, "proxies", minimum=0),
            failure_window_seconds=_whole(
                env, "FAILED_SIGN_IN_WINDOW", DEFAULT_FAILURE_WINDOW_SECONDS, "seconds"
            ),
            file_check_seconds=_whole(
                env, "FILE_CHECK_SECONDS", DEFAULT_FILE_CHECK_SECONDS, "seconds", minimum=0
            ),
            session_store=_session_store(env),
            graph_url=_value(env, "OIDC_GRAPH_URL", DEFAULT_GRAPH_URL).rstrip("/"),
            session_within_refresh_token=_switch(env, "OIDC_SESSION_WITHIN_REFRESH_TOKEN"),
            password_checks_at_once=_whole(
                env, "PASSWORD_CHECKS_AT_ONCE", DEFAULT_PASSWORD_CHECKS_AT_ONCE, "checks"
            ),
        )

    @classmethod
    def from_config(cls, config: Mapping[str, object], root: Path) -> Settings:
        """From the Flask config where it names a setting, else from the environment."""
        return cls.from_env(
            ChainMap({k: v for k, v in config.items() if isinstance(v, str)}, os.environ), root
        )

    @property
    def basic(self) -> bool:
        return "basic" in self.methods

    @property
    def oidc(self) -> bool:
        return "oidc" in self.methods

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.startswith("https://")

    @property
    def namespace(self) -> str:
        """What every key in the shared store starts with."""
        return self.redis_prefix or store_namespace(self.secret_key)
