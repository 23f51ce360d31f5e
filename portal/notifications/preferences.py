"""Which notifications a person gets by mail: the defaults in one table, each person's own
choice on top (the profile page sets them through `set_choice`).

Staff always see their notifications in the top bar's inbox; the choice is only about mail.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from portal.extensions import db
from portal.notifications.models import NotificationPreference


@dataclass(frozen=True)
class Kind:
    label: str
    staff: bool  # sent to the service desk (and so also listed in the top bar)
    by_mail: bool  # the default


KINDS: dict[str, Kind] = {
    # To the people who raised or follow an incident
    "received": Kind("We received your incident", staff=False, by_mail=True),
    "public_reply": Kind("The service desk replied", staff=False, by_mail=True),
    "waiting": Kind("The service desk waits for your answer", staff=False, by_mail=True),
    "resolved": Kind("Your incident was resolved", staff=False, by_mail=True),
    # To the service desk
    "urgent_incident": Kind("A new P1 or P2 incident", staff=True, by_mail=True),
    "new_incident": Kind("A new P3 to P5 incident", staff=True, by_mail=False),
    "assigned": Kind("An incident was assigned to you", staff=True, by_mail=True),
    "requester_replied": Kind("A requester replied", staff=True, by_mail=True),
    "sla_at_risk": Kind("An incident is at risk of missing its SLA", staff=True, by_mail=True),
    "sla_breached": Kind("An incident missed its SLA", staff=True, by_mail=True),
    "quarantined": Kind("A mail to the desk was quarantined", staff=True, by_mail=False),
    "proposal_decided": Kind(
        "An editor approved or sent back your change to an article", staff=True, by_mail=True
    ),
}


def wants_mail(user, kind: str) -> bool:
    """The person's own choice for this kind, or its default; unknown kinds are mailed."""
    default = KINDS[kind].by_mail if kind in KINDS else True
    if user is None or getattr(user, "id", None) is None:
        return default
    row = db.session.get(NotificationPreference, (user.id, kind))
    return default if row is None else row.by_mail


def choices_for(user) -> list[tuple[str, Kind, bool]]:
    """(kind, what it is, mailed?) for every kind this person can receive: the profile page."""
    rows = {
        r.kind: r.by_mail
        for r in db.session.scalars(
            select(NotificationPreference).where(NotificationPreference.user_id == user.id)
        )
    }
    return [
        (name, kind, rows.get(name, kind.by_mail))
        for name, kind in KINDS.items()
        if user.is_staff or not kind.staff
    ]


def set_choice(user, kind: str, by_mail: bool) -> None:
    """Store a person's choice for one kind (the caller commits)."""
    if kind not in KINDS:
        raise KeyError(kind)
    row = db.session.get(NotificationPreference, (user.id, kind))
    if row is None:
        db.session.add(NotificationPreference(user_id=user.id, kind=kind, by_mail=bool(by_mail)))
    else:
        row.by_mail = bool(by_mail)
    db.session.flush()
