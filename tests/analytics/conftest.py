"""Fixtures for the reports: people in their roles, browsers with their own sessions, and
incidents placed at known times."""

from __future__ import annotations

from datetime import datetime

import pytest

from portal.extensions import db
from portal.incidents import services
from portal.incidents.models import Incident
from tests.conftest import PASSWORD, Client


@pytest.fixture
def browser(app):
    """A new browser: its own cookies, so its own search session; optionally signed in."""

    def open_browser(user=None) -> Client:
        client = app.test_client()
        if user is not None:
            response = client.post("/login", data={"email": user.email, "password": PASSWORD})
            assert response.status_code == 302, "sign-in failed"
        return client

    return open_browser


@pytest.fixture
def staff_client(browser, agent) -> Client:
    return browser(agent)


@pytest.fixture
def place_incident(app, employee):
    """An incident raised through the service, then given exact times and a status, so the
    report figures can be computed by hand (the SLA clock itself has its own tests)."""

    def place(
        created_at: datetime,
        *,
        priority: str = "P3",
        status: str = "new",
        first_response_at: datetime | None = None,
        response_due_at: datetime | None = None,
        resolved_at: datetime | None = None,
        resolution_due_at: datetime | None = None,
        title: str = "Laptop will not start",
        **fields,
    ) -> Incident:
        incident = services.raise_incident(
            employee, title, "The screen stays black.", now=created_at, **fields
        )
        incident.priority = priority
        incident.status = status
        incident.first_response_at = first_response_at
        incident.resolved_at = resolved_at
        if response_due_at is not None:
            incident.response_due_at = response_due_at
        if resolution_due_at is not None:
            incident.resolution_due_at = resolution_due_at
        db.session.commit()
        return incident

    return place
