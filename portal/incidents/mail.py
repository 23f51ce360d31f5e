"""Who hears what about an incident, and what the mail says.

Requesters (and colleagues they shared an incident with) hear of their incident's progress;
followers hear only what their public view shows (the desk's updates for followers and the
resolution), in mails of their own that carry none of the requester's words or address. The
service desk hears of new incidents (P1 and P2 by mail at once), replies on incidents nobody
has taken, assignments and SLA warnings. Staff notifications are always listed in the top
bar's inbox; whether they are also mailed is each person's choice
(portal.notifications.preferences). Every mail of one incident carries the same thread root
in References, so mail clients keep them together and a reply finds its way back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import select

from portal import settings
from portal.accounts.models import User, UserRole
from portal.extensions import db
from portal.incidents.models import Comment, Incident
from portal.notifications import preferences
from portal.notifications.compose import ArticleOffer, Content, compose, public_url
from portal.notifications.models import Notification
from portal.notifications.services import mail_domain, queue_mail

URGENT = ("P1", "P2")
_ROOT = re.compile(r"^<?(INC-\d{6,})\.incident@", re.IGNORECASE)


# -- threading -------------------------------------------------------------------------


def thread_id(incident: Incident) -> str:
    """The Message-ID every mail of this incident refers to (no mail carries it itself)."""
    return f"<{incident.ref}.incident@{mail_domain()}>"


def ref_from_thread_id(message_id: str) -> str | None:
    """INC-000123 from a thread root found in a reply's References, else None."""
    found = _ROOT.match((message_id or "").strip())
    return found.group(1).upper() if found else None


def _references(incident: Incident) -> list[str]:
    origin = (incident.search_context or {}).get("mail_message_id")
    return [r for r in (origin, thread_id(incident)) if r]


def link(incident: Incident) -> str:
    return public_url(f"/incidents/{incident.ref}")


# -- who -------------------------------------------------------------------------------


def _people(incident: Incident) -> list[User]:
    """Those who read the whole incident: the requester and the colleagues it is shared with."""
    return [incident.requester, *(s.user for s in incident.shares)]


def _followers(incident: Incident) -> list[User]:
    """Those who follow it with the same problem: they get the public view's mails only."""
    return [f.user for f in incident.followers]


def _follower_note(incident: Incident) -> str:
    return (
        f"You follow {incident.ref} because you have the same problem. You hear of its "
        "progress, not of the conversation with the person who raised it."
    )


def desk() -> list[User]:
    """The service desk: every active agent."""
    return list(
        db.session.scalars(
            select(User)
            .join(UserRole)
            .where(UserRole.role == "agent", User.is_active_account.is_(True))
            .order_by(User.id)
        ).unique()
    )


def _assignee_or_desk(incident: Incident) -> list[User]:
    return [incident.assignee] if incident.assignee is not None else desk()


# -- sending ---------------------------------------------------------------------------


def _mail(
    users: Iterable[User], incident: Incident, kind: str, subject: str, content: Content
) -> None:
    """Queue one mail per person who wants this kind by mail."""
    to = [u.email for u in users if u is not None and preferences.wants_mail(u, kind)]
    if not to:
        return
    content.reference = incident.ref or ""
    composed = compose(f"[{incident.ref}] {subject}", content)
    refs = _references(incident)
    queue_mail(
        to,
        composed.subject,
        composed.text,
        incident_id=incident.id,
        html=composed.html,
        kind=kind,
        in_reply_to=refs[0],
        references=refs,
    )


def _tell_staff(
    users: Iterable[User],
    incident: Incident,
    kind: str,
    subject: str,
    content: Content,
    actor: User | None = None,
) -> None:
    """List it in each person's inbox, and mail those who chose so; never the actor."""
    users = [u for u in dict.fromkeys(users) if u is not None and u != actor]
    text = f"{incident.ref}: {subject}"[:300]
    for user in users:
        db.session.add(Notification(user_id=user.id, kind=kind, text=text, incident_id=incident.id))
    _mail(users, incident, kind, subject, content)


def _open_link(incident: Incident) -> dict:
    return {"action_label": "Open the incident", "action_url": link(incident)}


# -- the requester's side --------------------------------------------------------------


def received(incident: Incident, answers: list[ArticleOffer] | None = None) -> None:
    """Acknowledge a new incident (with the articles that may answer it) and tell the desk."""
    priority = f" (priority {incident.priority})" if settings.get("requesters_see_priority") else ""
    paragraphs = [
        f"Thank you. The service desk received your incident {incident.ref}{priority} "
        "and will get back to you.",
    ]
    content = Content(
        heading=f"We received your incident: {incident.title}",
        paragraphs=paragraphs,
        **_open_link(incident),
    )
    if answers:
        content.articles = answers
        content.articles_intro = (
            "While you wait, these articles may already answer it. If one does, click "
            '"This solved it" and we close the incident for you.'
        )
    subject = f"We received your incident: {incident.title}"
    _mail(_people(incident), incident, "received", subject, content)
    _desk_new(incident)


def _desk_new(incident: Incident, raised_to: str | None = None, actor: User | None = None) -> None:
    urgent = incident.priority in URGENT
    kind = "urgent_incident" if urgent else "new_incident"
    if raised_to:
        subject = f"Priority raised to {raised_to}: {incident.title}"
    else:
        subject = f"New {incident.priority} incident: {incident.title}"
    content = Content(
        heading=subject,
        paragraphs=[
            f"{incident.requester.name} <{incident.requester.email}> raised {incident.ref}"
            f" by {'mail' if incident.source == 'mail' else incident.source or 'web'}.",
            f"Priority {incident.priority}; respond by the SLA's first-response target.",
        ],
        quote_author=incident.requester.name,
        quote_md=incident.description_md[:4000],
        **_open_link(incident),
    )
    _tell_staff(desk(), incident, kind, subject, content, actor=actor or incident.requester)


def priority_raised(incident: Incident, old: str, actor: User) -> None:
    """A triage made an incident P1 or P2: the desk hears at once, as for a new one."""
    if incident.priority in URGENT and old not in URGENT:
        _desk_new(incident, raised_to=incident.priority, actor=actor)


def public_reply(incident: Incident, comment: Comment) -> None:
    """A reply goes to those who read the conversation; an update for followers also goes to
    each follower, in a mail of its own."""
    author = comment.author.name if comment.author else "The service desk"
    if comment.for_followers:
        _mail(
            _followers(incident),
            incident,
            "public_reply",
            f"Update: {incident.title}",
            Content(
                heading=f"Update on {incident.ref}: {incident.title}",
                quote_author=author,
                quote_md=comment.body_md,
                paragraphs=[_follower_note(incident)],
                replyable=False,
                **_open_link(incident),
            ),
        )
    _mail(
        _people(incident),
        incident,
        "public_reply",
        f"New reply: {incident.title}",
        Content(
            heading=f"New reply on {incident.ref}: {incident.title}",
            quote_author=author,
            quote_md=comment.body_md,
            paragraphs=["Answer by replying to this mail, or on the incident page."],
            **_open_link(incident),
        ),
    )


def waiting(incident: Incident) -> None:
    _mail(
        _people(incident),
        incident,
        "waiting",
        f"We need your answer: {incident.title}",
        Content(
            heading=f"We need your answer: {incident.title}",
            paragraphs=[
                "The service desk is waiting for your answer before it can go on. "
                "Reply to this mail, or answer on the incident page."
            ],
            **_open_link(incident),
        ),
    )


def resolved(incident: Incident) -> None:
    _mail(
        _people(incident),
        incident,
        "resolved",
        f"Resolved: {incident.title}",
        Content(
            heading=f"Resolved: {incident.title}",
            paragraphs=[
                "The service desk resolved your incident. If it still does not work, reply "
                '"reopen" to this mail, or reopen it on the incident page.'
            ],
            solution_md=incident.solution_md,
            action_label="Confirm the fix, or reopen it",
            action_url=link(incident),
        ),
    )
    _mail(
        _followers(incident),
        incident,
        "resolved",
        f"Resolved: {incident.title}",
        Content(
            heading=f"Resolved: {incident.title}",
            paragraphs=[
                f"The service desk resolved {incident.ref}. If your problem is still there, "
                "raise an incident of your own.",
                _follower_note(incident),
            ],
            solution_md=incident.solution_md,
            replyable=False,
            **_open_link(incident),
        ),
    )


def shared(incident: Incident, colleague: User, by: User) -> None:
    """A colleague the requester shared the incident with hears of it."""
    _mail(
        [colleague],
        incident,
        "received",
        f"{by.name} shared an incident with you: {incident.title}",
        Content(
            heading=f"{by.name} shared {incident.ref} with you",
            paragraphs=[
                f"You can now read and answer {incident.ref}, {incident.title}, as "
                f"{by.name} does. You will hear of its progress."
            ],
            **_open_link(incident),
        ),
    )


# -- the service desk's side -----------------------------------------------------------


def assigned(incident: Incident, assignee: User) -> None:
    subject = f"Assigned to you: {incident.title}"
    _tell_staff(
        [assignee],
        incident,
        "assigned",
        subject,
        Content(
            heading=subject,
            paragraphs=[f"{incident.ref} ({incident.priority}) was assigned to you."],
            quote_author=incident.requester.name,
            quote_md=incident.description_md[:4000],
            **_open_link(incident),
        ),
    )


def requester_replied(incident: Incident, comment: Comment) -> None:
    """The assignee hears of a requester's reply; nobody assigned: the whole desk does."""
    author = comment.author.name if comment.author else incident.requester.name
    subject = f"The requester replied: {incident.title}"
    _tell_staff(
        _assignee_or_desk(incident),
        incident,
        "requester_replied",
        subject,
        Content(
            heading=subject,
            paragraphs=[]
            if incident.assignee
            else [f"Nobody is assigned to {incident.ref} yet: take it from the queue."],
            quote_author=author,
            quote_md=comment.body_md,
            **_open_link(incident),
        ),
        actor=comment.author,
    )


SLA_WORDS = {
    ("response", "at_risk"): "will soon miss its first-response target",
    ("response", "breached"): "missed its first-response target",
    ("resolution", "at_risk"): "will soon miss its resolution target",
    ("resolution", "breached"): "missed its resolution target",
}


def sla_alert(incident: Incident, clock: str, level: str) -> None:
    """At risk or breached: the assignee hears, or the whole desk when nobody is assigned."""
    what = SLA_WORDS[(clock, level)]
    subject = f"{incident.priority} {what}: {incident.title}"
    _tell_staff(
        _assignee_or_desk(incident),
        incident,
        "sla_breached" if level == "breached" else "sla_at_risk",
        subject,
        Content(
            heading=f"{incident.ref} {what}",
            paragraphs=[
                f"{incident.title} ({incident.priority}, {incident.status_label}).",
                "Nobody is assigned: take it from the queue."
                if incident.assignee is None
                else f"Assigned to {incident.assignee.name}.",
            ],
            **_open_link(incident),
        ),
    )
