"""``flask users``, ``flask keys`` and ``flask access``: accounts, the key and the rules, from the shell."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from ..accounts.strength import password_problem
from ..keys import new_secret_key, rotate_key
from ..passwords import UserError, UsersFile
from . import report
from .identity import auth

users_cli = AppGroup("users", help="Password (Basic auth) users.")
keys_cli = AppGroup("keys", help="The secret key that signs sessions.")


def _users_file() -> UsersFile:
    return UsersFile(auth().settings.users_file)


def _groups_of(name: str) -> list[str]:
    return sorted(auth().directory.groups_of((name.casefold(),)))


@users_cli.command("add")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from one line of standard input.")
def add_user(name: str, password_stdin: bool) -> None:
    """Add a user, or set a new password for one."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    problem = password_problem(password, username=name, app_name=auth().app.title)
    if problem:
        raise click.ClickException(problem)
    try:
        _users_file().add(name.casefold(), password)
    except UserError as error:
        raise click.ClickException(str(error)) from None
    groups = _groups_of(name)
    click.echo(f"Saved {name.casefold()} (groups: {', '.join(groups) or 'none; add them in groups.toml'}).")


@users_cli.command("remove")
@click.argument("name")
def remove_user(name: str) -> None:
    """Remove a user; their sessions end on their next request."""
    if not _users_file().remove(name.casefold()):
        raise click.ClickException(f"there is no user named {name!r}")
    click.echo(f"Removed {name.casefold()}.")


@users_cli.command("list")
def list_users() -> None:
    """List the users and their groups from groups.toml."""
    names = sorted(_users_file().read())
    if not names:
        click.echo("No users yet: add one with `flask users add NAME`.")
    for name in names:
        groups = ", ".join(_groups_of(name)) or "-"
        click.echo(f"{name}\t{groups}")


@keys_cli.command("new")
def new_key() -> None:
    """Print a new random key (for SECRET_KEY)."""
    click.echo(new_secret_key())


@keys_cli.command("rotate")
def rotate() -> None:
    """Write a new SECRET_KEY to .env; the old one signs nothing new but still reads old sessions."""
    env = Path(current_app.root_path) / ".env"
    rotate_key(env)
    click.echo(
        f"New key written to {env}; the old one is in SECRET_KEY_FALLBACKS.\n"
        "Restart the app on every host. Remove the fallback once old sessions have expired."
    )


@click.command("access")
@click.option("--check", is_flag=True, help="Exit with status 1 if anything looks wrong (for CI).")
@with_appcontext
def access_cli(check: bool) -> None:
    """Every page, callback and route with the rule that protects it, and what looks wrong."""
    parts = auth()
    for entry in report.entries(parts.app):
        click.echo(f"{entry.kind:<9} {entry.name:<48} {entry.rule}")
    found = report.findings(parts.app, parts.directory.members(), groups_from_provider=parts.sso is not None)
    click.echo("")
    for line in found:
        click.echo(f"! {line}")
    click.echo(f"{len(found)} finding(s)" if found else "No findings.")
    if check and found:
        raise SystemExit(1)
