"""Every setting the auth package reads, with its default, from the environment (.env)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .keys import FIX, key_problem
from .providers import PRESETS, Provider, provider_from_env

METHODS = ("basic", "oidc")
SESSION_STORES = ("cookie", "filesystem", "redis")

# Defaults, in one place. Durations in minutes.
DEFAULT_IDLE_TIMEOUT = 8 * 60
DEFAULT_ABSOLUTE_TIMEOUT = 24 * 60
DEFAULT_CALLBACK_ROUTE = "/oidc/<idp>/callback"
DEFAULT_OIDC_TIMEOUT = 10  # seconds, for every call to a provider
DEFAULT_FAILURE_WINDOW = 300  # seconds a failed password sign-in counts against its account


class ConfigurationError(SystemExit):
    """A setting that stops the app from starting.

    A SystemExit with status 4, which gunicorn reads as "the app failed to load"
    (it stops instead of restarting workers forever); the message is printed first.
    """

    def __init__(self, message: str):
        super().__init__(4)
        self.message = message

    def __str__(self) -> str:
        return self.message


def _list(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


def _value(env: Mapping[str, str], name: str, default: str = "") -> str:
    """A setting's value; empty counts as unset, so .env can list every setting."""
    return env.get(name, "").strip() or default


def _minutes(env: Mapping[str, str], name: str, default: int) -> int:
    value = _value(env, name)
    if not value:
        return default
    if not value.isdigit() or int(value) == 0:
        raise ConfigurationError(f"{name} must be a whole number of minutes above 0, not {value!r}")
    return int(value)


def _count(env: Mapping[str, str], name: str) -> int:
    value = _value(env, name, "0")
    if not value.isdigit():
        raise ConfigurationError(f"{name} must be a whole number, not {value!r}")
    return int(value)


def _providers(env: Mapping[str, str]) -> tuple[Provider, ...]:
    names = _list(_value(env, "OIDC_PROVIDERS").lower())
    unknown = [name for name in names if name not in PRESETS]
    if unknown:
        raise ConfigurationError(
            f"OIDC_PROVIDERS names unknown providers ({', '.join(unknown)}): choose from {', '.join(PRESETS)}"
        )
    return tuple(provider_from_env(name, env) for name in dict.fromkeys(names))


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


@dataclass(frozen=True)
class Settings:
    secret_key: str
    secret_key_fallbacks: tuple[str, ...] = ()
    methods: tuple[str, ...] = ("basic",)
    users_file: Path = Path("users.json")
    groups_file: Path = Path("groups.toml")
    idle_timeout: int = DEFAULT_IDLE_TIMEOUT
    absolute_timeout: int = DEFAULT_ABSOLUTE_TIMEOUT
    providers: tuple[Provider, ...] = ()
    callback_route: str = DEFAULT_CALLBACK_ROUTE
    oidc_timeout: float = DEFAULT_OIDC_TIMEOUT
    redis_url: str = ""
    instance: Path = Path("instance")
    public_url: str = ""
    proxy_hops: int = 0
    failure_window: int = DEFAULT_FAILURE_WINDOW
    session_store: str = "cookie"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, root: Path = Path(".")) -> Settings:
        env = os.environ if env is None else env
        key = env.get("SECRET_KEY")
        problem = key_problem(key)
        if problem:
            raise ConfigurationError(f"{problem}: {FIX}")
        fallbacks = _list(_value(env, "SECRET_KEY_FALLBACKS"))
        for fallback in fallbacks:
            if key_problem(fallback):
                raise ConfigurationError("SECRET_KEY_FALLBACKS holds a weak key: remove it from .env")
        methods = _list(_value(env, "AUTH_METHODS", "basic").replace("both", "basic,oidc"))
        unknown = sorted(set(methods) - set(METHODS))
        if unknown or not methods:
            raise ConfigurationError(
                f"AUTH_METHODS must be basic, oidc or both, not {env.get('AUTH_METHODS')!r}"
            )
        return cls(
            secret_key=key,
            secret_key_fallbacks=fallbacks,
            methods=tuple(m for m in METHODS if m in methods),
            users_file=root / _value(env, "USERS_FILE", "users.json"),
            groups_file=root / _value(env, "GROUPS_FILE", "groups.toml"),
            idle_timeout=_minutes(env, "SESSION_IDLE_TIMEOUT", DEFAULT_IDLE_TIMEOUT),
            absolute_timeout=_minutes(env, "SESSION_ABSOLUTE_TIMEOUT", DEFAULT_ABSOLUTE_TIMEOUT),
            providers=_providers(env),
            callback_route=_callback_route(env),
            oidc_timeout=_count(env, "OIDC_HTTP_TIMEOUT") or DEFAULT_OIDC_TIMEOUT,
            redis_url=_value(env, "REDIS_URL"),
            instance=root / "instance",
            public_url=_public_url(env),
            proxy_hops=_count(env, "TRUSTED_PROXY_HOPS"),
            failure_window=_count(env, "FAILED_SIGN_IN_WINDOW") or DEFAULT_FAILURE_WINDOW,
            session_store=_session_store(env),
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
