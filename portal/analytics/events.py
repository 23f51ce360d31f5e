"""Record what people search, open and vote on, in the database (for reports) and in the
session (so an incident carries what its requester already tried).

Logging never breaks or slows a search: events are handed to ``portal.writebehind``, which
writes them in its own transaction, off the reader's path.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import session
from flask_login import current_user
from sqlalchemy import func, select, update

from portal import writebehind
from portal.accounts.sessions import keep_across_sign_in
from portal.analytics.models import SearchEvent
from portal.incidents import tried
from portal.search.query import normalise
from portal.timeutil import utcnow

TRAIL_KEY = "trail"
TRAIL_MAX = 10
SESSION_WINDOW = timedelta(hours=2)
# The search session and its trail survive the session reset at sign-in.
keep_across_sign_in("sid", TRAIL_KEY)


def session_key() -> str:
    """The search session: an id kept in the browser session, across signing in."""
    if "sid" not in session:
        session["sid"] = secrets.token_hex(12)
    return f"s:{session['sid']}"


def normalised(text: str) -> str:
    return normalise(text).lower()[:300]


def _trail() -> dict:
    trail = session.get(TRAIL_KEY) or {"queries": [], "articles": [], "votes": []}
    return trail


def _push(kind: str, item: dict) -> None:
    trail = _trail()
    if trail.get(kind) and trail[kind][-1] == item:
        return  # the same search again (a reload, page 2): the session cookie stays as it is
    items = [i for i in trail.get(kind, []) if i != item][-(TRAIL_MAX - 1) :]
    trail[kind] = [*items, item]
    session[TRAIL_KEY] = trail


def record_search(text: str, total: int, source: str = "page") -> None:
    """Note a search in the trail and, in the background, in the search events."""
    query = normalise(text)[:300]
    if not query:
        return
    if source == "api" and not session:
        # A program calling the API keeps no cookie: a new session with a trail at each
        # call would only grow every response (and cost a signed cookie per search).
        key = f"a:{secrets.token_hex(12)}"
    else:
        _push("queries", {"q": query[:200], "total": total})
        key = session_key()
    values = {
        "session_key": key,
        "user_id": current_user.id if current_user.is_authenticated else None,
        "query": query,
        "normalised": normalised(query),
        "result_count": total,
        "source": source,
        "created_at": utcnow(),
    }
    writebehind.insert_row(SearchEvent, values)


def _latest_event(s, key: str, since):
    return s.execute(
        select(SearchEvent.id, SearchEvent.created_at)
        .where(SearchEvent.session_key == key, SearchEvent.created_at >= since)
        .order_by(SearchEvent.created_at.desc(), SearchEvent.id.desc())
        .limit(1)
    ).first()


def record_open(article) -> None:
    """An article was opened: note it for the session's latest search and the trail."""
    searched = bool(_trail().get("queries"))
    _push("articles", {"slug": article.slug, "title": article.title[:120]})
    if not searched:
        return
    key, now, article_id = session_key(), utcnow(), article.id

    def job(s):
        latest = _latest_event(s, key, now - SESSION_WINDOW)
        if latest is None:
            return False  # the search is still in another process's queue: try again
        s.execute(
            update(SearchEvent)
            .where(SearchEvent.id == latest.id, SearchEvent.opened_article_id.is_(None))
            .values(opened_article_id=article_id)
        )
        return True

    writebehind.submit(job)


def record_vote(article, helpful: bool) -> None:
    _push("votes", {"slug": article.slug, "helpful": helpful})
    key, now, article_id = session_key(), utcnow(), article.id

    def job(s):
        s.execute(
            update(SearchEvent)
            .where(
                SearchEvent.session_key == key,
                SearchEvent.opened_article_id == article_id,
                SearchEvent.created_at >= now - SESSION_WINDOW,
            )
            .values(voted=helpful)
        )

    writebehind.submit(job)


def context() -> dict:
    """What this session tried before raising an incident."""
    trail = _trail()
    return {k: list(trail.get(k, [])) for k in ("queries", "articles", "votes")}


def incident_raised(incident) -> None:
    """Tie the searches of this session that belong to the incident (portal.incidents.tried:
    the last few sharing its words or meaning) to it, and start afresh; the session's other
    searches stay unattributed, so no report credits them to the incident.

    Queued behind this process's pending search events, so the searches just made count."""
    key, now, incident_id = session_key(), utcnow(), incident.id
    queries = [q.get("q", "") for q in _trail().get("queries", [])]
    keep = tried.belonging(incident.title, incident.description_md, queries)
    wanted = sorted({queries[i] for i in keep})  # the trail keeps a query's first 200 chars
    session.pop(TRAIL_KEY, None)
    if not wanted:
        return

    def job(s):
        s.execute(
            update(SearchEvent)
            .where(
                SearchEvent.session_key == key,
                SearchEvent.created_at >= now - SESSION_WINDOW,
                SearchEvent.created_at <= now,
                SearchEvent.incident_id.is_(None),
                func.substr(SearchEvent.query, 1, 200).in_(wanted),
            )
            .values(incident_id=incident_id)
        )

    writebehind.submit(job)
