"""Record what people search, open and vote on, in the database (for reports) and in the
session (so an incident carries what its requester already tried).

Logging never breaks or slows a search: every write here is best effort, in a savepoint.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from flask import session
from flask_login import current_user
from sqlalchemy import select, update

from portal.analytics.models import SearchEvent
from portal.extensions import db
from portal.search.query import normalise
from portal.timeutil import utcnow

log = logging.getLogger(__name__)

TRAIL_KEY = "trail"
TRAIL_MAX = 10
SESSION_WINDOW = timedelta(hours=2)


def session_key() -> str:
    """The search session: an id kept in the browser session, across signing in."""
    if "sid" not in session:
        session["sid"] = secrets.token_hex(12)
    return f"s:{session['sid']}"


def carried_over() -> dict:
    """What survives the session reset at sign-in: the search session and its trail."""
    return {k: session[k] for k in ("sid", TRAIL_KEY) if k in session}


def normalised(text: str) -> str:
    return normalise(text).lower()[:300]


def _trail() -> dict:
    trail = session.get(TRAIL_KEY) or {"queries": [], "articles": [], "votes": []}
    return trail


def _push(kind: str, item: dict) -> None:
    trail = _trail()
    items = [i for i in trail.get(kind, []) if i != item][-(TRAIL_MAX - 1) :]
    trail[kind] = [*items, item]
    session[TRAIL_KEY] = trail


def record_search(text: str, total: int, source: str = "page") -> None:
    query = normalise(text)[:300]
    if not query:
        return
    _push("queries", {"q": query[:200], "total": total})
    try:
        with db.session.begin_nested():
            db.session.add(
                SearchEvent(
                    session_key=session_key(),
                    user_id=current_user.id if current_user.is_authenticated else None,
                    query=query,
                    normalised=normalised(query),
                    result_count=total,
                    source=source,
                )
            )
    except Exception:
        log.exception("could not log a search")


def _latest_event_id() -> int | None:
    return db.session.scalar(
        select(SearchEvent.id)
        .where(
            SearchEvent.session_key == session_key(),
            SearchEvent.created_at >= utcnow() - SESSION_WINDOW,
        )
        .order_by(SearchEvent.id.desc())
        .limit(1)
    )


def record_open(article) -> None:
    """An article was opened: note it for the session's latest search and the trail."""
    _push("articles", {"slug": article.slug, "title": article.title[:120]})
    try:
        with db.session.begin_nested():
            event_id = _latest_event_id()
            if event_id:
                db.session.execute(
                    update(SearchEvent)
                    .where(SearchEvent.id == event_id, SearchEvent.opened_article_id.is_(None))
                    .values(opened_article_id=article.id)
                )
    except Exception:
        log.exception("could not log an article view")


def record_vote(article, helpful: bool) -> None:
    _push("votes", {"slug": article.slug, "helpful": helpful})
    try:
        with db.session.begin_nested():
            db.session.execute(
                update(SearchEvent)
                .where(
                    SearchEvent.session_key == session_key(),
                    SearchEvent.opened_article_id == article.id,
                    SearchEvent.created_at >= utcnow() - SESSION_WINDOW,
                )
                .values(voted=helpful)
            )
    except Exception:
        log.exception("could not log a vote")


def context() -> dict:
    """What this session tried before raising an incident."""
    trail = _trail()
    return {k: list(trail.get(k, [])) for k in ("queries", "articles", "votes")}


def incident_raised(incident) -> None:
    """Tie this session's recent searches to the incident that followed, and start afresh."""
    try:
        with db.session.begin_nested():
            db.session.execute(
                update(SearchEvent)
                .where(
                    SearchEvent.session_key == session_key(),
                    SearchEvent.created_at >= utcnow() - SESSION_WINDOW,
                    SearchEvent.incident_id.is_(None),
                )
                .values(incident_id=incident.id)
            )
    except Exception:
        log.exception("could not link searches to an incident")
    session.pop(TRAIL_KEY, None)
