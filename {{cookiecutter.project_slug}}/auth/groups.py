"""groups.toml: who belongs to which group, edited by hand, read again when it changes."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .files import WatchedFile


@dataclass(frozen=True)
class Membership:
    by_member: dict[str, frozenset[str]]
    by_group: dict[str, tuple[str, ...]]


NOBODY = Membership({}, {})


def member_key(member: str) -> str:
    """Usernames and e-mail addresses match regardless of case."""
    return member.strip().casefold()


def parse_groups(path: Path) -> Membership:
    """Read ``group = ["member", ...]`` lines into member -> groups."""
    with path.open("rb") as file:
        try:
            table = tomllib.load(file)
        except tomllib.TOMLDecodeError as error:
            raise ValueError(f"{path}: {error}") from None
    members: dict[str, set[str]] = {}
    for group, names in table.items():
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ValueError(f'{path}: group "{group}" must be a list of names, like {group} = ["alice"]')
        for name in names:
            members.setdefault(member_key(name), set()).add(group)
    return Membership(
        by_member={member: frozenset(groups) for member, groups in members.items()},
        by_group={group: tuple(names) for group, names in table.items()},
    )


class GroupsFile:
    def __init__(self, path: str | os.PathLike[str], check_every: float = 0):
        self.file = WatchedFile(path, parse_groups, empty=NOBODY, check_every=check_every)

    def load(self) -> None:
        """Read at start-up, so that a malformed file stops the app with its reason."""
        self.file.load()

    def problem(self) -> str | None:
        """Why the file on disk is unreadable (the last good version is in force), or None."""
        self.file.get()
        return self.file.problem

    def groups_of(self, member: str | None) -> frozenset[str]:
        if not member:
            return frozenset()
        return self.file.get().by_member.get(member_key(member), frozenset())

    def members(self) -> dict[str, tuple[str, ...]]:
        """Group -> members, as written in the file."""
        return self.file.get().by_group
