"""Every setting the auth package reads, with its default, from the environment (.env)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .keys import FIX, key_problem

METHODS = ("basic", "oidc")

# Defaults, in one place. Durations in minutes.
DEFAULT_IDLE_TIMEOUT = 8 * 60
DEFAULT_ABSOLUTE_TIMEOUT = 24 * 60


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


@dataclass(frozen=True)
class Settings:
    secret_key: str
    secret_key_fallbacks: tuple[str, ...] = ()
    methods: tuple[str, ...] = ("basic",)
    users_file: Path = Path("users.json")
    groups_file: Path = Path("groups.toml")
    idle_timeout: int = DEFAULT_IDLE_TIMEOUT
    absolute_timeout: int = DEFAULT_ABSOLUTE_TIMEOUT
    oidc_providers: tuple[str, ...] = ()
    redis_url: str = ""
    instance: Path = Path("instance")

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
            oidc_providers=_list(_value(env, "OIDC_PROVIDERS")),
            redis_url=_value(env, "REDIS_URL"),
            instance=root / "instance",
        )

    @property
    def basic(self) -> bool:
        return "basic" in self.methods

    @property
    def oidc(self) -> bool:
        return "oidc" in self.methods
