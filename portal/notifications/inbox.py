"""The staff inbox behind the top bar's unread count: counted and marked read here, with
nothing but the notification table, so any page can use it."""

from __future__ import annotations

from sqlalchemy import func, select, update

from portal import writebehind
from portal.extensions import db
from portal.notifications.models import Notification
from portal.timeutil import utcnow


def unread_count(user) -> int:
    """The number in the top bar."""
    return db.session.scalar(
        select(func.count(Notification.id)).where(
            Notification.user_id == user.id, Notification.read_at.is_(None)
        )
    )


def mark_incident_read(user, incident_id: int) -> None:
    """Opening an incident reads its notifications (written behind: the page is a GET)."""
    _mark_read(user, Notification.incident_id == incident_id)


def mark_revision_read(user, revision_id: int) -> None:
    """Opening a proposal's page reads the notice of its decision."""
    _mark_read(user, Notification.revision_id == revision_id)


def _mark_read(user, about) -> None:
    user_id, now = user.id, utcnow()

    def job(session):
        session.execute(
            update(Notification)
            .where(Notification.user_id == user_id, about, Notification.read_at.is_(None))
            .values(read_at=now)
        )

    writebehind.submit(job)
