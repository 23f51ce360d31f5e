"""`flask --app portal analytics prune`: search logs are kept for a limited time."""

from __future__ import annotations

from datetime import datetime, timedelta

import click
from flask.cli import with_appcontext
from sqlalchemy import delete

from portal import settings
from portal.analytics.models import SearchEvent
from portal.extensions import db
from portal.timeutil import utcnow


def prune(days: int, now: datetime | None = None) -> int:
    """Delete search events older than `days` days; the caller commits. Returns how many."""
    if days < 1:
        raise ValueError("keep search events for at least one day")
    cutoff = (now or utcnow()) - timedelta(days=days)
    result = db.session.execute(
        delete(SearchEvent).where(SearchEvent.created_at < cutoff),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount or 0


@click.group("analytics")
def analytics_cli() -> None:
    """Search analytics housekeeping."""


@analytics_cli.command("prune")
@click.option(
    "--days",
    type=click.IntRange(min=1),
    default=None,
    help="Keep this many days (default: the analytics_retention_days setting, 180).",
)
@with_appcontext
def prune_command(days: int | None) -> None:
    """Delete search events older than the retention period (safe to run from cron)."""
    days = days or int(settings.get("analytics_retention_days"))
    deleted = prune(days)
    db.session.commit()
    click.echo(f"deleted {deleted} search events older than {days} days")
