"""Known issues at intake: open incidents that name the same problem as a new one, by the
search's relevance bar and meaning (portal.search.same_problem), never one shared word."""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.incidents.models import OPEN_STATUSES, Incident
from portal.search import same_problem

RECENT = 300


def similar_open(title: str, category_id: int | None = None, limit: int = 5) -> list[Incident]:
    """Open incidents that look like the same problem, best match first (the same category
    first among equals)."""
    if not (title or "").strip():
        return []
    candidates = db.session.scalars(
        select(Incident)
        .where(Incident.status.in_(OPEN_STATUSES))
        .order_by(Incident.id.desc())
        .limit(RECENT)
    ).all()
    scores = same_problem(title, [i.title for i in candidates])
    scored = [
        (score, category_id is not None and i.category_id == category_id, i.id, i)
        for i, score in zip(candidates, scores, strict=True)
        if score > 0
    ]
    scored.sort(key=lambda row: row[:3], reverse=True)
    return [row[3] for row in scored[:limit]]
