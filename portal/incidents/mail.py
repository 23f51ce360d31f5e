"""What the portal tells people about an incident, queued in the mail outbox."""

from __future__ import annotations

from flask import current_app

from portal.incidents.models import Comment, Incident


def _link(incident: Incident) -> str:
    base = current_app.config.get("PUBLIC_URL", "http://127.0.0.1:5000").rstrip("/")
    return f"{base}/incidents/{incident.ref}"


def _people(incident: Incident) -> list[str]:
    return [incident.requester.email, *(f.user.email for f in incident.followers)]


def _queue(to, incident: Incident, subject: str, text: str) -> None:
    from portal.notifications.services import queue_mail

    body = (
        f"{text}\n\nSee the incident: {_link(incident)}\n\n-- {current_app.config['PORTAL_NAME']}\n"
    )
    queue_mail(to, f"[{incident.ref}] {subject}", body, incident_id=incident.id)


def received(incident: Incident) -> None:
    _queue(
        _people(incident),
        incident,
        f"We received your incident: {incident.title}",
        f"Thank you. The service desk received your incident {incident.ref} "
        f"(priority {incident.priority}) and will get back to you.",
    )


def public_reply(incident: Incident, comment: Comment) -> None:
    author = comment.author.name if comment.author else "The service desk"
    _queue(
        _people(incident),
        incident,
        f"New reply: {incident.title}",
        f"{author} wrote:\n\n{comment.body_md}",
    )


def waiting(incident: Incident) -> None:
    _queue(
        _people(incident),
        incident,
        f"We need your answer: {incident.title}",
        "The service desk is waiting for your answer before it can go on. "
        "Please reply on the incident page.",
    )


def resolved(incident: Incident) -> None:
    _queue(
        _people(incident),
        incident,
        f"Resolved: {incident.title}",
        f"The service desk resolved your incident.\n\nSolution:\n{incident.solution_md}\n\n"
        "If this fixed it, confirm on the incident page; if not, reopen it there.",
    )


def assigned(incident: Incident, assignee) -> None:
    _queue(
        assignee.email,
        incident,
        f"Assigned to you: {incident.title}",
        f"{incident.ref} ({incident.priority}) was assigned to you.",
    )


def requester_replied(incident: Incident, comment: Comment) -> None:
    if incident.assignee is None:
        return
    _queue(
        incident.assignee.email,
        incident,
        f"The requester replied: {incident.title}",
        f"{comment.author.name if comment.author else incident.requester.name} wrote:\n\n"
        f"{comment.body_md}",
    )
