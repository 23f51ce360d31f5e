"""Known issues at intake: open incidents whose titles share the words of a new one."""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.incidents.models import OPEN_STATUSES, Incident
from portal.search.query import analyze

RECENT = 300


def similar_open(title: str, category_id: int | None = None, limit: int = 5) -> list[Incident]:
    """Open incidents that look like the same problem, best match first."""
    terms = set(analyze(title or ""))
    if not terms:
        return []
    candidates = db.session.scalars(
        select(Incident)
        .where(Incident.status.in_(OPEN_STATUSES))
        .order_by(Incident.id.desc())
        .limit(RECENT)
    )
    scored = []
    for incident in candidates:
        other = set(analyze(incident.title))
        shared = len(terms & other)
        if not shared:
            continue
        share = shared / min(len(terms), len(other))
        same_category = category_id is not None and incident.category_id == category_id
        if shared >= 2 or share >= 0.6 or same_category:
            scored.append((share + (0.2 if same_category else 0), incident.id, incident))
    scored.sort(key=lambda row: (row[0], row[1]), reverse=True)
    return [incident for _, _, incident in scored[:limit]]
