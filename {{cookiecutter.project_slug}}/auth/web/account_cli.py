"""``flask users sign-out | mfa | unlock | token``: what an admin does for an account.

Added to the ``flask users`` group of cli.py when this module is imported (extension.py).
"""

from __future__ import annotations

import click
from flask import current_app

from .. import signals
from ..passwords import UserError
from .cli import users_cli
from .identity import auth


def _announce(event: str, user: str, **details) -> None:
    signals.account_changed.send(
        current_app._get_current_object(), event=event, user=user, by="admin", **details
    )


def _password_accounts():
    accounts = auth().accounts
    if accounts is None:
        raise click.ClickException("password sign-in is off (AUTH_METHODS)")
    return accounts


@users_cli.command("sign-out")
@click.argument("name")
def sign_out(name: str) -> None:
    """End every session of a user: a password user's name, or an SSO user's id (as in the audit log)."""
    user_id = name if "#" in name else name.casefold()
    ended = auth().sessions.end_all(user_id, "admin-sign-out", sender=current_app._get_current_object())
    _announce("signed-out-everywhere", user_id, sessions_ended=ended)
    click.echo(f"Ended {ended} session(s) of {user_id}.")


@users_cli.command("mfa")
@click.argument("name")
def mfa(name: str) -> None:
    """Turn on two-step sign-in (TOTP) for a password user; prints the secret and recovery codes once."""
    user_id = name.casefold()
    try:
        two_step = _password_accounts().turn_on_two_step(user_id)
    except UserError as error:
        raise click.ClickException(str(error)) from None
    _announce("two-step-on", user_id)
    click.echo("Add this to an authenticator app (or show it as a QR code):")
    click.echo(two_step.uri)
    click.echo("Recovery codes (each works once; they are not shown again):")
    for code in two_step.recovery_codes:
        click.echo(code)


@users_cli.command("unlock")
@click.argument("name")
def unlock(name: str) -> None:
    """Lift a lock-out (after 100 failed sign-ins) and the wait before the next attempt."""
    user_id = name.casefold()
    auth().throttle.unlock(user_id)
    _announce("unlock", user_id)
    click.echo(f"Unlocked {user_id}.")


@users_cli.command("token")
@click.argument("name")
@click.option("--name", "label", help="A label for the new token.")
@click.option("--list", "list_", is_flag=True, help="List the user's tokens.")
@click.option("--revoke", metavar="LABEL", help="Revoke the token with this label.")
def token(name: str, label: str | None, list_: bool, revoke: str | None) -> None:
    """Make a personal access token for scripts (printed once), or list or revoke them."""
    user_id, accounts = name.casefold(), _password_accounts()
    if list_:
        for each, record in accounts.tokens_of(user_id).items():
            click.echo(f"{each}\tcreated {record.created}\tlast used {record.last_used or 'never'}")
        return
    if revoke:
        if not accounts.revoke_token(user_id, revoke):
            raise click.ClickException(f"{user_id} has no token labelled {revoke!r}")
        _announce("token-revoked", user_id, label=revoke)
        click.echo(f"Revoked {revoke}.")
        return
    try:
        label, new = accounts.new_token(user_id, label)
    except UserError as error:
        raise click.ClickException(str(error)) from None
    _announce("token-created", user_id, label=label)
    click.echo(f"Token {label} for {user_id} (send it as 'Authorization: Bearer <token>'; shown once):")
    click.echo(new)
