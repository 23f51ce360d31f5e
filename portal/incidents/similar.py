"""Known issues at intake: open incidents whose titles share the words, or the meaning, of
a new one (the meaning from portal.search's embedding model, when it is installed)."""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.incidents.models import OPEN_STATUSES, Incident
from portal.search import semantic_similarity
from portal.search.query import analyze

RECENT = 300
# Cosine between two titles that makes them the same problem ("VPN drops every hour" and
# "vpn disconnects hourly" 0.93; unrelated titles stay below 0.88 on e5-small).
SAME_MEANING = 0.89


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
    ).all()
    meaning = semantic_similarity(title, [i.title for i in candidates]) or [0.0] * len(candidates)
    scored = []
    for incident, cos in zip(candidates, meaning, strict=True):
        other = set(analyze(incident.title))
        shared = len(terms & other)
        share = shared / min(len(terms), len(other)) if shared else 0.0
        same_category = category_id is not None and incident.category_id == category_id
        close = cos >= SAME_MEANING
        if close or (shared and (shared >= 2 or share >= 0.6 or same_category)):
            score = max(share, cos if close else 0.0) + (0.2 if same_category else 0)
            scored.append((score, incident.id, incident))
    scored.sort(key=lambda row: (row[0], row[1]), reverse=True)
    return [incident for _, _, incident in scored[:limit]]
