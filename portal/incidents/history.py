"""Which lines of an incident's history each person reads.

Staff read all of it. The requester (and a colleague it was shared with) reads status
changes, public replies, the desk's updates, the solution and the articles they may open:
never triage (category, impact, urgency, priority, assignee), internal notes, a linked
staff-only or unpublished article, an article drafted from the incident, nor who follows it.
A follower reads less again: status changes, the desk's updates and the articles they may
open, with the requester's name left out.
"""

from __future__ import annotations

from typing import Any

from portal import access
from portal.incidents.models import Incident, IncidentEvent

REQUESTER_KINDS = frozenset(
    {
        "created",
        "status",
        "reply",
        "update",
        "article",
        "self_solved",
        "still_needs_help",
        "status_reason",
        "shared",
        "unshared",
    }
)
FOLLOWER_KINDS = frozenset({"created", "status", "update", "article"})


def visible_events(user: Any, incident: Incident) -> list[IncidentEvent]:
    """The history as this person may read it, oldest first."""
    relation = access.incident_relation(user, incident)
    if relation == access.STAFF_VIEW:
        return list(incident.events)
    if relation is None:
        return []
    kinds = FOLLOWER_KINDS if relation == access.FOLLOWER else REQUESTER_KINDS
    readable = {
        link.article.slug
        for link in incident.article_links
        if link.kind == "used" and access.can_see_article(user, link.article)
    }
    shown = []
    for event in incident.events:
        if event.is_internal or event.kind not in kinds:
            continue
        if event.kind == "article" and (event.field != "used" or event.new_value not in readable):
            continue
        shown.append(event)
    return shown


def actor_name(user: Any, incident: Incident, event: IncidentEvent) -> str:
    """Who did it, as this person may know: a follower never learns the requester's name
    (nor a shared colleague's), only that it was them."""
    actor = event.actor
    if actor is None:
        return "The portal"
    if access.incident_relation(user, incident) != access.FOLLOWER or actor.is_staff:
        return actor.name
    return "The requester" if actor.id == incident.requester_id else "Someone it concerns"
