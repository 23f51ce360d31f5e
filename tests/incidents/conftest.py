"""Factories for the incidents domain: people in their roles, incidents in any status, files."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.incidents import services
from portal.incidents.models import Incident
from portal.notifications.models import MailMessage

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


@pytest.fixture
def other(make_user):
    return make_user("employee", email="oscar@example.com", name="Oscar Other")


@pytest.fixture
def sign_in(client, auth):
    """Sign in as someone else, and read the "Signed in as" message so it is out of the way."""

    def sign_in(user) -> None:
        auth.logout()
        response = auth.login(user)
        assert response.status_code == 302, "sign-in failed"
        client.get(response.location)

    return sign_in


@pytest.fixture
def make_incident(app, employee):
    """Raise an incident through the service and move it to `status` the way people would."""

    def make(
        title: str = "Laptop will not start",
        description: str = "The screen stays black after the logo.",
        requester=None,
        status: str = "new",
        agent=None,
        now: datetime | None = None,
        **fields,
    ) -> Incident:
        requester = requester or employee
        incident = services.raise_incident(requester, title, description, now=now, **fields)
        if status != "new":
            move_to(incident, status, agent, now=now)
        db.session.commit()
        return incident

    return make


def move_to(incident: Incident, status: str, agent, now: datetime | None = None) -> None:
    """Walk an incident to a status along allowed transitions (the caller commits)."""
    assert agent is not None, "moving an incident needs an agent"
    requester = incident.requester
    if status in ("in_progress", "waiting"):
        services.change_status(incident, status, agent, now=now)
    elif status in ("resolved", "closed", "reopened"):
        services.resolve(incident, agent, "Restarted the laptop.", now=now)
        if status == "closed":
            services.confirm(incident, requester, now=now)
        elif status == "reopened":
            services.reopen(incident, requester, now=now)
    elif status != "new":
        raise ValueError(status)


def mails(to: str | None = None) -> list[MailMessage]:
    """The outbox, oldest first, optionally for one address."""
    stmt = select(MailMessage).order_by(MailMessage.id)
    if to:
        stmt = stmt.where(MailMessage.to_address == to)
    return list(db.session.scalars(stmt))


def upload(data: bytes, name: str) -> tuple[io.BytesIO, str]:
    """A file as the test client posts it."""
    return io.BytesIO(data), name


def reload(incident: Incident) -> Incident:
    """The incident as the database holds it now (after requests in their own sessions)."""
    db.session.rollback()
    return db.session.scalars(select(Incident).where(Incident.id == incident.id)).one()
