"""Who a user is, and where users and groups come from (the directory).

The default directory is the two files: users.json (password users) and
groups.toml (group -> members). An app can pass its own (a database, an LDAP
lookup) as ``Auth(app, directory=...)``: anything with these two methods.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from .basic import PasswordFile
from .errors import ConfigurationError
from .groups import GroupsFile
from .policy import requires


@dataclass(frozen=True)
class User:
    """Who is signed in, and the groups that decide what they may see.

    ``groups`` joins the groups the identity provider sent at sign-in with those
    the directory gives the user now (looked up on every request).
    """

    id: str
    name: str
    provider: str
    email: str | None = None
    groups: frozenset[str] = field(default_factory=frozenset)
    signed_in_at: int = 0
    session_id: str | None = None

    def in_groups(
        self, one_of: Iterable[str] = (), all_of: Iterable[str] = (), none_of: Iterable[str] = ()
    ) -> bool:
        return requires(one_of=one_of, all_of=all_of, none_of=none_of).allows(self.groups)


class Directory(Protocol):
    """Where password users and group memberships come from.

    A directory may also have ``version()``: any value that changes whenever its answers
    may have changed. With it, a session's user is worked out once per version instead
    of on every request (FileDirectory: a stat of each file); without it, every request asks.
    """

    def password_hash(self, username: str) -> str | None:
        """The stored hash (auth.passwords.hash_password) of this user, None if there is none."""

    def groups_of(self, members: Iterable[str]) -> frozenset[str]:
        """The groups of someone known by these member keys (see ``member_keys``)."""

    def members(self) -> dict[str, tuple[str, ...]]:
        """Group -> members, for admin pages and ``flask access``."""


def version_of(directory: Directory) -> Callable[[], object | None]:
    """The directory's ``version``, or a stand-in that never knows one."""
    return getattr(directory, "version", lambda: None)


KNOWN_PASSWORD_USERS = 4096  # (user, how they sign in, name) a worker keeps worked out


class PasswordUsers:
    """The User of a password account (Basic header, personal token) as the directory says now.

    A script sends the same credentials on every request: with a directory that has a
    ``version()``, each user is worked out once per version, else on every request.
    """

    def __init__(self, directory: Directory):
        self.directory = directory
        self._version = version_of(directory)
        self._known: dict[tuple, tuple[object, User | None]] = {}  # (id, provider, name) -> (version, user)

    def get(self, user_id: str, provider: str, name: str | None = None) -> User | None:
        """None if the directory has no password for this user (removed since)."""
        version, key = self._version(), (user_id, provider, name)
        known = self._known.get(key)
        if known is not None and version is not None and known[0] == version:
            return known[1]
        user = None
        if self.directory.password_hash(user_id) is not None:
            groups = self.directory.groups_of((user_id,))
            user = User(id=user_id, name=name or user_id, provider=provider, groups=groups)
        if version is not None:
            if len(self._known) >= KNOWN_PASSWORD_USERS:
                self._known.clear()  # simple and thread-safe; the next requests work them out again
            self._known[key] = (version, user)
        return user


class FileDirectory:
    """users.json and groups.toml, read again when they change."""

    def __init__(self, users_file: Path, groups_file: Path, load_users: bool = True, check_every: float = 0):
        """``check_every``: seconds between looks for edits by hand of ``users_file`` (files.py).
        ``groups_file``, which is only ever edited by hand, is looked at on every request."""
        self.users = PasswordFile(users_file, check_every)
        self.groups = GroupsFile(groups_file)
        self.load_users = load_users
        try:  # at start-up, so that a malformed file stops the app with its reason
            self.groups.load()
            if load_users:
                self.users.load()
        except (OSError, ValueError) as error:
            raise ConfigurationError(str(error)) from None

    def password_hash(self, username: str) -> str | None:
        return self.users.hash_of(username)

    def version(self) -> tuple[int, int]:
        """Moves on with either file (a stat of each, when due: files.py)."""
        users = self.users.file.current_generation() if self.load_users else 0
        return (users, self.groups.file.current_generation())

    def groups_of(self, members: Iterable[str]) -> frozenset[str]:
        return frozenset().union(*(self.groups.groups_of(member) for member in members))

    def members(self) -> dict[str, tuple[str, ...]]:
        return self.groups.members()

    def problems(self) -> dict[str, str | None]:
        """For /healthz: each file with why it is unreadable, or None when it reads."""
        problems = {"groups_file": self.groups.problem()}
        if self.load_users:
            problems["users_file"] = self.users.problem()
        return problems


def member_keys(
    provider: str,
    user_id: str,
    *,
    subject: str | None = None,
    object_id: str | None = None,
    email: str | None = None,
    email_verified: bool = False,
    trust_email: bool = False,
) -> tuple[str, ...]:
    """How groups.toml (or a directory) may name this user.

    Password users: their username. Single sign-on users: ``<idp>:sub:<subject>``,
    ``microsoft:oid:<object id>``, ``<idp>:<verified e-mail>``, and the plain verified
    e-mail only for a provider trusted for e-mail (OIDC_<IDP>_TRUST_EMAIL).
    """
    if provider == "basic":
        return (user_id,)
    keys = [f"{provider}:sub:{subject}"] if subject else []
    if object_id:
        keys.append(f"{provider}:oid:{object_id}")
    if email and email_verified:
        keys.append(f"{provider}:{email}")
        if trust_email:
            keys.append(email)
    return tuple(keys)
