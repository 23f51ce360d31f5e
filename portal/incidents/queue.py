"""The agents' queue: which incidents a set of filters and a text search select, in what
order, and how old each one is. The page, its live refresh and the tests share these."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, nulls_last, or_, select

from portal.accounts.models import User
from portal.articles.models import Category
from portal.extensions import db
from portal.incidents.models import OPEN_STATUSES, STATUS_LABELS, Incident, IncidentEvent
from portal.timeutil import as_utc, utcnow

TEXT_MAX = 100


@dataclass(frozen=True)
class Filters:
    """What the queue's filter form asked for (unknown values are ignored, not errors)."""

    status: str = "open"
    priority: str = ""
    category: str = ""
    assignee: str = ""
    text: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> Filters:
        return cls(
            status=args.get("status") or "open",
            priority=args.get("priority") or "",
            category=args.get("category") or "",
            assignee=args.get("assignee") or "",
            text=" ".join((args.get("q") or "").split())[:TEXT_MAX],
        )


def _like(text: str) -> str:
    """A LIKE pattern that finds `text` anywhere, its own % and _ taken literally."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def statement(filters: Filters, agent_id: int) -> Select:
    """The incidents the filters select, most urgent due time first.

    The text search matches the reference, the title, and the requester's name or address,
    each word anywhere and all words required ("vpn erin" finds Erin's VPN incident)."""
    stmt = select(Incident)
    if filters.status == "open":
        stmt = stmt.where(Incident.status.in_(OPEN_STATUSES))
    elif filters.status in STATUS_LABELS:
        stmt = stmt.where(Incident.status == filters.status)
    if filters.priority:
        stmt = stmt.where(Incident.priority == filters.priority)
    if filters.category:
        stmt = stmt.join(Category, Incident.category_id == Category.id).where(
            Category.slug == filters.category
        )
    if filters.assignee == "mine":
        stmt = stmt.where(Incident.assignee_id == agent_id)
    elif filters.assignee == "unassigned":
        stmt = stmt.where(Incident.assignee_id.is_(None))
    elif filters.assignee.isdigit():
        stmt = stmt.where(Incident.assignee_id == int(filters.assignee))
    if filters.text:
        requester = User.__table__.alias("requester")
        stmt = stmt.join(requester, requester.c.id == Incident.requester_id)
        for word in filters.text.split()[:8]:
            pattern = _like(word)
            stmt = stmt.where(
                or_(
                    func.lower(Incident.ref).like(pattern, escape="\\"),
                    func.lower(Incident.title).like(pattern, escape="\\"),
                    func.lower(requester.c.name).like(pattern, escape="\\"),
                    func.lower(requester.c.email).like(pattern, escape="\\"),
                )
            )
    return stmt.order_by(nulls_last(Incident.next_due_at.asc()), Incident.id)


def last_activity(incidents: Iterable[Incident]) -> dict[int, datetime]:
    """When each incident last changed: its newest history line (a reply, a note, a move)."""
    by_id = {i.id: as_utc(i.created_at) for i in incidents}
    if not by_id:
        return {}
    stmt = (
        select(IncidentEvent.incident_id, func.max(IncidentEvent.created_at))
        .where(IncidentEvent.incident_id.in_(by_id))
        .group_by(IncidentEvent.incident_id)
    )
    for incident_id, at in db.session.execute(stmt):
        at = as_utc(at)
        if at is not None and (by_id[incident_id] is None or at > by_id[incident_id]):
            by_id[incident_id] = at
    return by_id


def age(since: datetime | None, now: datetime | None = None) -> str:
    """A short, whole-unit age people read at a glance: "now", "5 min", "3 h", "2 d"."""
    if since is None:
        return ""
    seconds = max(0, int(((now or utcnow()) - as_utc(since)).total_seconds()))
    if seconds < 60:
        return "now"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"
