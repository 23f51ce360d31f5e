"""`flask incidents autoclose`."""

from __future__ import annotations

import click

from portal.extensions import db
from portal.incidents.services import autoclose


@click.group("incidents")
def incidents_cli() -> None:
    """Incident housekeeping."""


@incidents_cli.command("autoclose")
def autoclose_command() -> None:
    """Close incidents resolved more than 5 business days ago (idempotent; run from cron)."""
    closed = autoclose()
    db.session.commit()
    click.echo(f"closed {closed} incidents")
