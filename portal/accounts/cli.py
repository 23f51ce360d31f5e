"""`flask users create`, `flask users set-password` and `flask tokens create`."""

from __future__ import annotations

import click

from portal.accounts.models import ROLES
from portal.accounts.services import (
    AccountError,
    create_token,
    create_user,
    find_user,
    set_password_by_admin,
)
from portal.extensions import db


@click.group("users")
def users() -> None:
    """Manage user accounts."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option(
    "--role",
    "roles",
    multiple=True,
    type=click.Choice(ROLES),
    default=["employee"],
    show_default=True,
    help="Repeat for several roles.",
)
@click.option("--password", default=None, help="Prompted for when omitted.")
def create(email: str, name: str, roles: tuple[str, ...], password: str | None) -> None:
    """Create a user with one or more roles."""
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_user(email, name, set(roles), password)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"created {user.email} ({', '.join(sorted(user.roles))})")


@users.command("set-password")
@click.argument("email")
@click.option(
    "--password", default=None, help="Prompted for when omitted (safer: no shell history)."
)
def set_password(email: str, password: str | None) -> None:
    """Set EMAIL's password, for a locked-out admin; every session of the account ends."""
    user = find_user(email)
    if user is None:
        raise click.ClickException(f"no user {email}")
    if password is None:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    try:
        set_password_by_admin(user, password)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"password of {user.email} set; its sessions ended")


@click.group("tokens")
def tokens() -> None:
    """Manage API tokens."""


@tokens.command("create")
@click.argument("email")
@click.option("--name", default="", help="What the token is for.")
def create_token_command(email: str, name: str) -> None:
    """Print a new API token for EMAIL (shown once; only its hash is kept)."""
    user = find_user(email)
    if user is None:
        raise click.ClickException(f"no user {email}")
    token = create_token(user, name)
    db.session.commit()
    click.echo(token)
