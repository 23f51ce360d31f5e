"""The verbs of an incident: raise, triage, assign, comment, move, resolve, confirm, reopen,
close. Each records events in the incident's history; callers commit once."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select

from portal import access, settings
from portal import markdown as md
from portal.accounts.models import User
from portal.articles import checks
from portal.articles.models import Article, Category
from portal.articles.services import ArticleData, ArticleError, save_article, slugify
from portal.extensions import db
from portal.incidents import mail, sla, tried, workflow
from portal.incidents.models import (
    LEVELS,
    OPEN_STATUSES,
    Comment,
    Follower,
    Incident,
    IncidentArticle,
    IncidentEvent,
    Share,
    SlaPause,
    ref_for,
)
from portal.incidents.priority import priority as matrix_priority
from portal.timeutil import as_utc, utcnow

TITLE_MAX = 200


class IncidentError(ValueError):
    """A change that cannot be made, with a message fit for the person who tried."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


# -- reading ---------------------------------------------------------------------------


FOLLOWER_MESSAGE = (
    "you follow this incident: only the person who raised it and the service desk write in "
    "it. If you have more to tell, raise your own incident."
)


def actor_of(user, incident: Incident) -> str | None:
    """How a user acts on an incident: as the service desk, as its requester (or a colleague
    it was shared with), as a follower (who only reads its public view), or not at all."""
    relation = access.incident_relation(user, incident)
    if relation == access.STAFF_VIEW:
        return "agent"
    if relation in (access.REQUESTER, access.SHARED):
        return "requester"
    if relation == access.FOLLOWER:
        return "follower"
    return None


def _only_the_requester(incident: Incident, user: User, role: str | None, what: str) -> None:
    """Confirming and reopening are the requester's say, not a follower's or a colleague's."""
    if role is None:
        raise IncidentError("you cannot change this incident")
    if role in ("requester", "follower") and user.id != incident.requester_id:
        raise IncidentError(f"only the person who raised this incident can {what}", "status")


def get_by_ref(ref: str) -> Incident | None:
    """The incident with this reference, any case; None for anything that cannot be one."""
    # PostgreSQL refuses NUL in a string parameter: that would be a 500, not a 404.
    if not ref or len(ref) > 20 or "\x00" in ref:
        return None
    return db.session.scalars(select(Incident).where(Incident.ref == ref.upper())).first()


def solved_count(article: Article) -> int:
    """How many incidents an article solved (reused or created from one)."""
    return db.session.scalar(
        select(func.count(IncidentArticle.id)).where(IncidentArticle.article_id == article.id)
    )


# -- raising ---------------------------------------------------------------------------


def _category(name_or_slug: str | None, parent: Category | None = None) -> Category | None:
    if not name_or_slug:
        return None
    stmt = select(Category).where(
        or_(Category.slug == name_or_slug, func.lower(Category.name) == name_or_slug.lower())
    )
    stmt = stmt.where(
        Category.parent_id == parent.id if parent is not None else Category.parent_id.is_(None)
    )
    found = db.session.scalars(stmt).first()
    if found is None:
        field = "subcategory" if parent is not None else "category"
        raise IncidentError(f"unknown {field} '{name_or_slug}'", field)
    return found


def _level(value: str | None, field: str, default: str) -> str:
    value = (value or default).strip().lower()
    if value not in LEVELS:
        raise IncidentError(f"{field} must be one of high, medium, low", field)
    return value


def raise_incident(
    requester: User,
    title: str,
    description: str,
    *,
    category: str | None = None,
    subcategory: str | None = None,
    impact: str | None = None,
    urgency: str | None = None,
    search_context: dict | None = None,
    now: datetime | None = None,
    source: str = "web",
    answers: list | None = None,
) -> Incident:
    """Create an incident with its reference, priority and due times, and tell the requester
    (with `answers`, the articles that may already solve it) and the service desk."""
    title = " ".join((title or "").split())
    if not title:
        raise IncidentError("a title is required", "title")
    if len(title) > TITLE_MAX:
        raise IncidentError(f"the title is longer than {TITLE_MAX} characters", "title")
    if not (description or "").strip():
        raise IncidentError("a description is required", "description")
    cat = _category(category)
    if subcategory and cat is None:
        raise IncidentError("a subcategory needs a category", "subcategory")
    sub = _category(subcategory, cat) if subcategory else None
    incident = Incident(
        requester=requester,
        title=title,
        description_md=description.strip(),
        description_html=md.render(description.strip()),
        category=cat,
        subcategory=sub,
        impact=_level(impact, "impact", "medium"),
        urgency=_level(urgency, "urgency", "medium"),
        status="new",
        search_context=search_context or {},
        created_at=now or utcnow(),
        source=source,
    )
    incident.priority = matrix_priority(incident.impact, incident.urgency, settings.matrix())
    db.session.add(incident)
    db.session.flush()
    incident.ref = ref_for(incident.id)
    recompute_sla(incident)
    _event(incident, requester, "created", new=incident.ref, created_at=incident.created_at)
    mail.received(incident, answers)
    return incident


def follow(incident: Incident, user: User) -> bool:
    """Follow an open incident instead of raising a duplicate ("me too"); True when newly
    followed. The follower hears of its progress and reads its public view only."""
    relation = access.incident_relation(user, incident)
    if relation in (access.REQUESTER, access.SHARED, access.FOLLOWER) or any(
        f.user_id == user.id or f.user is user for f in incident.followers
    ):
        return False  # the requester, a colleague it was shared with, or a follower already
    incident.followers.append(Follower(user=user))
    _event(incident, user, "followed", new=user.name, internal=True)
    return True


def unfollow(incident: Incident, user: User) -> bool:
    """Stop following; True when the user followed it."""
    for follower in incident.followers:
        if follower.user_id == user.id or follower.user is user:
            incident.followers.remove(follower)
            _event(incident, user, "unfollowed", new=user.name, internal=True)
            return True
    return False


def share(incident: Incident, user: User, email: str) -> User:
    """The requester shares the incident with a named colleague, who then reads and writes
    in it as the requester does (as in JSM); returns the colleague. Confirming the fix and
    reopening stay with the requester."""
    if user.id != incident.requester_id:
        raise IncidentError("only the person who raised this incident can share it")
    address = (email or "").strip()
    colleague = None
    if address and "\x00" not in address and len(address) <= 254:
        colleague = db.session.scalars(
            select(User).where(func.lower(User.email) == address.lower())
        ).first()
    if colleague is None or not colleague.is_active_account:
        raise IncidentError(f"nobody with the address '{address[:254]}' can sign in", "email")
    if colleague.id == incident.requester_id:
        raise IncidentError("you raised this incident yourself", "email")
    if colleague.is_staff:
        raise IncidentError(f"{colleague.name} is on the service desk and sees it", "email")
    if any(s.user_id == colleague.id or s.user is colleague for s in incident.shares):
        raise IncidentError(f"{incident.ref} is already shared with {colleague.name}", "email")
    for follower in list(incident.followers):  # a follower now reads all of it
        if follower.user_id == colleague.id:
            incident.followers.remove(follower)
    incident.shares.append(Share(user=colleague, shared_by_id=user.id))
    _event(incident, user, "shared", new=colleague.name)
    mail.shared(incident, colleague, user)
    return colleague


def unshare(incident: Incident, user: User, colleague_id: int) -> bool:
    """The requester takes a share back; True when there was one."""
    if user.id != incident.requester_id:
        raise IncidentError("only the person who raised this incident can change who sees it")
    for item in incident.shares:
        if item.user_id == colleague_id:
            incident.shares.remove(item)
            _event(incident, user, "unshared", new=item.user.name)
            return True
    return False


# -- triage and assignment -------------------------------------------------------------


def triage(
    incident: Incident,
    agent: User,
    *,
    category: str | None = None,
    subcategory: str | None = None,
    impact: str | None = None,
    urgency: str | None = None,
) -> None:
    """Set category, subcategory, impact and urgency; priority and due times follow."""
    cat = _category(category) if category else None
    sub = _subcategory_of(cat, subcategory) if subcategory else None
    if sub is not None and cat is None:  # a subcategory names its category
        cat = sub.parent
    changes = {
        "category": (incident.category, cat),
        "subcategory": (incident.subcategory, sub),
    }
    for field, (old, new) in changes.items():
        if (old.id if old else None) != (new.id if new else None):
            setattr(incident, field, new)
            _event(
                incident, agent, "field", field, old.name if old else "", new.name if new else ""
            )
    for field, value in (("impact", impact), ("urgency", urgency)):
        if value is None:
            continue
        value = _level(value, field, "medium")
        old = getattr(incident, field)
        if old != value:
            setattr(incident, field, value)
            _event(incident, agent, "field", field, old, value)
    new_priority = matrix_priority(incident.impact, incident.urgency, settings.matrix())
    if new_priority != incident.priority:
        old_priority = incident.priority
        _event(incident, agent, "field", "priority", old_priority, new_priority)
        incident.priority = new_priority
        recompute_sla(incident)
        mail.priority_raised(incident, old_priority, agent)


def _subcategory_of(category: Category | None, slug: str) -> Category:
    """The subcategory, which must belong to the category chosen with it (if one was)."""
    if category is not None:
        own = category.children
        named = [c for c in own if c.slug == slug or c.name.lower() == slug.lower()]
        if named:
            return named[0]
    found = db.session.scalars(
        select(Category).where(Category.slug == slug, Category.parent_id.is_not(None))
    ).first()
    if found is None:
        raise IncidentError(f"unknown subcategory '{slug}'", "subcategory")
    if category is not None and found.parent_id != category.id:
        raise IncidentError(
            f"{found.name} is not a subcategory of {category.name}; choose one of its own",
            "subcategory",
        )
    return found


def assign(incident: Incident, assignee: User | None, actor: User) -> None:
    """Give the incident to an agent (or to nobody) and tell them."""
    if assignee is not None and not assignee.is_staff:
        raise IncidentError(f"{assignee.name} is not on the service desk", "assignee")
    old = incident.assignee
    if (old.id if old else None) == (assignee.id if assignee else None):
        return
    incident.assignee = assignee
    _event(
        incident,
        actor,
        "field",
        "assignee",
        old.name if old else "",
        assignee.name if assignee else "",
    )
    if assignee is not None and assignee.id != actor.id:
        mail.assigned(incident, assignee)


# -- conversation ----------------------------------------------------------------------


def add_comment(
    incident: Incident,
    author: User,
    body: str,
    *,
    internal: bool = False,
    for_followers: bool = False,
    now: datetime | None = None,
) -> Comment:
    """A public reply, an internal note, or (the desk's) an update for followers, which the
    requester and every follower read. An agent's first public reply is the first response
    and puts a New incident In progress (the requester sees someone is on it); a requester's
    reply to a question puts the incident back to work. Followers do not write in someone
    else's conversation."""
    role = actor_of(author, incident)
    if role is None:
        raise IncidentError("you cannot comment on this incident")
    if role == "follower":
        raise IncidentError(FOLLOWER_MESSAGE)
    if not (body or "").strip():
        raise IncidentError("the message is empty", "body")
    if internal and role != "agent":
        raise IncidentError("only the service desk writes internal notes", "internal")
    if for_followers and (role != "agent" or internal):
        raise IncidentError("only the service desk posts updates for followers", "for_followers")
    if role == "requester" and incident.status == "closed":
        raise IncidentError("this incident is closed; reopen it to add a reply")
    now = now or utcnow()
    comment = Comment(
        incident=incident,
        author=author,
        body_md=body.strip(),
        body_html=md.render(body.strip()),
        is_internal=internal,
        for_followers=for_followers,
        created_at=now,
    )
    db.session.add(comment)
    db.session.flush()
    kind = "note" if internal else "update" if for_followers else "reply"
    _event(incident, author, kind, new=str(comment.id), internal=internal, created_at=now)
    if role == "agent" and not internal:
        _first_response(incident, now)
        if incident.status == "new":
            _move(incident, "in_progress", author, "agent", now)
        mail.public_reply(incident, comment)
    elif role == "requester":
        if incident.status == "waiting":
            _move(incident, "in_progress", None, "system", now)
        mail.requester_replied(incident, comment)
    return comment


# -- status ----------------------------------------------------------------------------


REASON_MAX = 2000


def change_status(
    incident: Incident,
    target: str,
    user: User,
    now: datetime | None = None,
    reason: str = "",
) -> None:
    """Move an incident along the transition table (resolving goes through resolve()).

    The optional reason is kept in the history beside the move, where everyone who sees the
    incident reads it (a reopen's reason is a reply instead, see reopen())."""
    role = actor_of(user, incident)
    if role is None:
        raise IncidentError("you cannot change this incident")
    if role == "follower" and target not in ("reopened", "closed"):
        raise IncidentError("only the service desk moves this incident", "status")
    if target == "resolved":
        raise IncidentError("resolving needs a solution: use the resolve form", "solution")
    if target == "reopened":
        reopen(incident, user, reason, now=now)
        return
    now = now or utcnow()
    if target == "closed" and role in ("requester", "follower"):
        confirm(incident, user, now=now)
    else:
        _move(incident, target, user, role, now)
    reason = " ".join((reason or "").split())
    if reason:
        _event(incident, user, "status_reason", "status", "", reason[:REASON_MAX], created_at=now)


def resolve(
    incident: Incident,
    agent: User,
    solution: str,
    *,
    article_ids: list[int] | None = None,
    create_article: bool = False,
    no_article_reason: str = "",
    now: datetime | None = None,
) -> Article | None:
    """Resolve with a documented solution, and link the articles used or draft a new one.

    Returns the draft article when one was created from the incident.
    """
    if actor_of(agent, incident) != "agent":
        raise IncidentError("only the service desk resolves incidents")
    if not (solution or "").strip():
        raise IncidentError("resolving needs a solution: say what fixed it", "solution")
    now = now or utcnow()
    try:
        workflow.check(incident.status, "resolved", "agent")
    except workflow.TransitionError as exc:
        raise IncidentError(str(exc), "status") from exc
    incident.solution_md = solution.strip()
    incident.solution_html = md.render(solution.strip())
    incident.no_article_reason = (no_article_reason or "").strip()
    for article_id in article_ids or []:
        link_article(incident, article_id, agent)
    draft = draft_article_from(incident, agent) if create_article else None
    if incident.assignee is None:  # whoever resolves it owns it
        assign(incident, agent, agent)
    _first_response(incident, now)
    _move(incident, "resolved", agent, "agent", now)
    incident.resolved_at = now
    mail.resolved(incident)
    return draft


def link_article(incident: Incident, article_id: int, agent: User, kind: str = "used") -> bool:
    """Link an article to the incident; reusing one counts towards its reuse count."""
    article = db.session.get(Article, article_id)
    if article is None:
        raise IncidentError(f"no article {article_id}", "article")
    # A link added in this session has no article_id until the flush: compare the article too.
    if any(
        link.article is article or link.article_id == article.id for link in incident.article_links
    ):
        return False
    incident.article_links.append(
        IncidentArticle(article=article, kind=kind, linked_by_id=agent.id)
    )
    if kind == "used":
        article.reuse_count = (article.reuse_count or 0) + 1
    _event(incident, agent, "article", kind, "", article.slug)
    return True


def draft_article_from(incident: Incident, agent: User) -> Article:
    """A draft in review, pre-filled from the incident and linked back to it.

    The whole company may read it once published, so it carries no one's words as typed:
    the symptom is the title in neutral words, then only the searches that belong to this
    problem (tried.scope), scrubbed of names and addresses; the placeholders it leaves are
    the ones publishing refuses (portal/articles/checks.py)."""
    names = _people_names(incident)
    symptoms = [f"- {tried.neutral(incident.title, names) or checks.SYMPTOMS_PLACEHOLDER}"]
    scoped = tried.scope(incident.search_context, incident.title, incident.description_md)
    queries = [tried.scrub(q["q"], names) for q in scoped.queries]
    queries = [q for q in dict.fromkeys(queries) if not tried.is_junk(q)]
    if queries:
        symptoms.append("- People searched for: " + ", ".join(f'"{q}"' for q in queries))
    steps = [line.strip() for line in incident.solution_md.splitlines() if line.strip()]
    steps = [re.sub(r"^(\d+[.)]|[-*])\s+", "", s) for s in steps]
    resolution = "\n".join(f"{n}. {s}" for n, s in enumerate(steps, 1))
    resolution += f"\n{len(steps) + 1}. If this did not help, raise an incident."
    body = (
        "## Symptoms\n\n" + "\n".join(symptoms) + "\n\n"
        f"## Applies to\n\n- {checks.APPLIES_TO_PLACEHOLDER}\n\n"
        f"## Cause\n\n{checks.CAUSE_PLACEHOLDER}\n\n"
        f"## Resolution\n\n{resolution}\n"
    )
    # Cut on a word boundary so the slug never ends in a hyphen (save_article refuses that).
    base = slugify(incident.title)[:100].rstrip("-") or "incident"
    slug, n = base, 2
    while db.session.scalar(select(Article.id).where(Article.slug == slug)):
        slug, n = f"{base}-{n}", n + 1
    try:
        article, _ = save_article(
            ArticleData(
                slug=slug,
                title=incident.title,
                summary=f"How the service desk solved: {incident.title}"[:300],
                body_md=body,
                category=incident.category.name if incident.category else "",
                subcategory=incident.subcategory.name if incident.subcategory else "",
                tags=[],
                visibility="everyone",
                status="review",
            ),
            agent,
            note=f"Created from {incident.ref}",
            new=True,
        )
    except ArticleError as exc:
        raise IncidentError(f"the draft article could not be saved: {exc}", "article") from exc
    link_article(incident, article.id, agent, kind="created")
    return article


def _people_names(incident: Incident) -> list[str]:
    """Everyone a draft must not name: the requester, the followers, and every user whose name
    a search of the incident mentions (one query, a few words)."""
    names = [incident.requester.name, *(f.user.name for f in incident.followers)]
    words = {
        w.lower()
        for q in (incident.search_context or {}).get("queries") or []
        for w in re.findall(r"[^\W\d_]{2,}", str(q.get("q", "")))
    }
    if words:
        known = db.session.scalars(select(User.name).where(User.name != "")).all()
        names += [n for n in known if words & {p.lower() for p in re.findall(r"\w+", n)}]
    return names


def confirm(incident: Incident, user: User, now: datetime | None = None) -> None:
    """The requester confirms the fix: the incident closes. Followers hear about it, but
    only the person who raised it says whether it is fixed."""
    role = actor_of(user, incident)
    _only_the_requester(incident, user, role, "confirm the fix")
    _move(incident, "closed", user, role, now or utcnow())


def self_solve(
    incident: Incident, user: User, article: Article, now: datetime | None = None
) -> bool:
    """The requester says an article solved it: closed as self-solved, the article credited.

    False when it was already closed (a second click changes nothing)."""
    if user.id != incident.requester_id:
        raise IncidentError("only the person who raised this incident can say it is solved")
    if incident.status == "closed":
        return False
    now = now or utcnow()
    link_article(incident, article.id, user)
    # Followers read the solution: it names the article, not the person who raised it.
    incident.solution_md = f'Solved by the requester with the article "{article.title}".'
    incident.solution_html = md.render(incident.solution_md)
    incident.is_self_solved = True
    incident.resolved_at = incident.resolved_at or now
    _move(incident, "closed", user, "system", now)
    _event(incident, user, "self_solved", new=article.slug, created_at=now)
    return True


def reopen(incident: Incident, user: User, reason: str = "", now: datetime | None = None) -> None:
    """The fix did not work: back to the service desk, within the reopen window. Only the
    requester (or the desk) says so: a follower whose problem is back raises their own."""
    role = actor_of(user, incident)
    _only_the_requester(incident, user, role, "reopen it")
    now = now or utcnow()
    days = int(settings.get("reopen_days"))
    resolved_at = as_utc(incident.resolved_at)
    if role == "requester" and resolved_at and now - resolved_at > timedelta(days=days):
        raise IncidentError(
            f"this incident was resolved more than {days} days ago; please raise a new one"
        )
    _move(incident, "reopened", user, role, now)
    incident.reopen_count += 1
    incident.resolved_at = None
    incident.closed_at = None
    if reason.strip():
        add_comment(incident, user, reason, now=now)


def autoclose(now: datetime | None = None) -> int:
    """Close incidents resolved more than N business days ago; idempotent, safe from cron.

    The rows are locked as they are read (SKIP LOCKED on PostgreSQL; SQLite's writer holds
    the one write lock), so two workers running it at once never close one incident twice."""
    now = now or utcnow()
    calendar = settings.calendar()
    days = int(settings.get("autoclose_business_days"))
    wait = calendar.day_length * days
    closed = 0
    due = (
        select(Incident)
        .where(Incident.status == "resolved")
        .order_by(Incident.id)
        .with_for_update(skip_locked=True)
    )
    for incident in db.session.scalars(due):
        resolved_at = as_utc(incident.resolved_at)
        if resolved_at and sla.add_business_time(resolved_at, wait, calendar) <= now:
            _move(incident, "closed", None, "system", now)
            closed += 1
    return closed


# -- internals -------------------------------------------------------------------------


def _move(incident: Incident, target: str, user: User | None, role: str, now: datetime) -> None:
    try:
        workflow.check(incident.status, target, role)
    except workflow.TransitionError as exc:
        raise IncidentError(str(exc), "status") from exc
    old = incident.status
    if old == "waiting":
        for pause in incident.pauses:
            if pause.ended_at is None:
                pause.ended_at = now
    if target == "waiting":
        incident.pauses.append(SlaPause(started_at=now))
    if target == "in_progress" and role == "agent":
        _first_response(incident, now)
    if target == "closed":
        incident.closed_at = now
    incident.status = target
    _event(incident, user, "status", "status", old, target, created_at=now)
    recompute_sla(incident)
    if target == "waiting":
        mail.waiting(incident)


def _first_response(incident: Incident, now: datetime) -> None:
    if incident.first_response_at is None:
        incident.first_response_at = now
        recompute_sla(incident)


def _pauses(incident: Incident) -> list[tuple[datetime, datetime | None]]:
    return [(as_utc(p.started_at), as_utc(p.ended_at)) for p in incident.pauses]


def sla_terms(incident: Incident) -> sla.Terms:
    """The targets an incident is held to: those in force when it was raised or last
    re-prioritised (snapshotted by recompute_sla); today's settings only for an incident
    whose snapshot is missing or for another priority, until its next recompute."""
    held = incident.sla_terms
    if held and held.get("priority") == incident.priority:
        return sla.Terms.from_json(held)
    return settings.sla_terms(incident.priority)


def recompute_sla(incident: Incident) -> None:
    """Due times from the terms the incident is held to, pauses excluded. Raising and
    re-prioritising (a priority other than the snapshot's) take today's terms; every other
    recompute (a status change, a pause, the first response) keeps the snapshot, so a later
    policy, business-hours or holiday edit never moves an open incident's targets."""
    terms = sla_terms(incident)
    start = as_utc(incident.created_at)
    held = incident.sla_terms
    if not held or held.get("priority") != incident.priority:
        incident.sla_terms = terms.to_json(since=start.date() - timedelta(days=1))
    calendar, policy = terms.calendar, terms.policy
    pauses = _pauses(incident)
    incident.response_due_at = sla.due_with_pauses(
        start, policy.response, calendar, policy.around_the_clock, pauses
    )
    incident.resolution_due_at = sla.due_with_pauses(
        start, policy.resolution, calendar, policy.around_the_clock, pauses
    )
    if incident.status not in OPEN_STATUSES:
        incident.next_due_at = None
    elif incident.first_response_at is None:
        incident.next_due_at = incident.response_due_at
    else:
        incident.next_due_at = incident.resolution_due_at


def sla_status(incident: Incident, now: datetime | None = None) -> dict[str, str]:
    """For each clock: met, missed, paused, ok, at_risk or breached, as agents see it, against
    the incident's own terms (the queue, its page, the API and the worker's warnings)."""
    now = now or utcnow()
    terms = sla_terms(incident)
    calendar, policy = terms.calendar, terms.policy
    start = as_utc(incident.created_at)
    pauses = _pauses(incident)
    result = {}
    for name, duration, done_at in (
        ("response", policy.response, incident.first_response_at),
        ("resolution", policy.resolution, incident.resolved_at or incident.closed_at),
    ):
        if done_at is not None:
            used = sla.elapsed(start, as_utc(done_at), calendar, policy.around_the_clock, pauses)
            result[name] = "met" if used <= duration else "missed"
        elif incident.status == "waiting":
            result[name] = "paused"
        else:
            result[name] = sla.state(
                start, duration, now, calendar, policy.around_the_clock, pauses
            )
    return result


def _event(
    incident: Incident,
    actor: User | None,
    kind: str,
    field: str = "",
    old: str = "",
    new: str = "",
    internal: bool = False,
    created_at: datetime | None = None,
) -> IncidentEvent:
    event = IncidentEvent(
        incident=incident,
        actor=actor,
        kind=kind,
        field=field,
        old_value=str(old or ""),
        new_value=str(new or ""),
        is_internal=internal,
        created_at=created_at or utcnow(),
    )
    db.session.add(event)
    return event


def record_event(
    incident: Incident, actor: User | None, kind: str, new: str = "", internal: bool = False
) -> IncidentEvent:
    """A line in the history that no verb above writes (files refused from a mail, a
    requester saying they still need help)."""
    return _event(incident, actor, kind, new=new[:2000], internal=internal)


def record_suggestion_click(incident: Incident, agent: User, article: Article, action: str) -> None:
    """Count a click on a suggested article (reported as how often suggestions help)."""
    _event(incident, agent, "suggestion", action, "", article.slug, internal=True)
