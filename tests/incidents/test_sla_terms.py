"""An incident keeps the SLA targets in force when it was raised or re-prioritised: a later
policy, business-hours or holiday edit applies to incidents raised from then on, and the
queue, the incident page, the API and the SLA report agree on it."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta

import pytest

from portal import settings
from portal.accounts.services import create_token
from portal.admin import services as admin
from portal.analytics import reports
from portal.extensions import db
from portal.incidents import services
from portal.timeutil import as_utc, utcnow
from tests.conftest import PASSWORD

MONDAY_9 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)  # the test portal runs on UTC


def policies(**changes: dict) -> dict:
    """Every priority's policy as stored, with some replaced."""
    return {**settings.get("sla_policies"), **changes}


def around_the_clock(response: int, resolution: int) -> dict:
    return {
        "response_minutes": response,
        "response_days": 0,
        "resolution_minutes": resolution,
        "resolution_days": 0,
        "around_the_clock": True,
    }


@pytest.fixture
def admin_user(make_user):
    return make_user("admin", email="ada@example.com", name="Ada Admin")


def test_a_holiday_or_new_hours_added_later_do_not_move_an_open_incident(
    app, employee, agent, admin_user
):
    old = services.raise_incident(employee, "Laptop will not start", "Black.", now=MONDAY_9)
    db.session.commit()
    due = (as_utc(old.response_due_at), as_utc(old.resolution_due_at))
    assert due == (MONDAY_9 + timedelta(hours=4), datetime(2025, 3, 6, 9, tzinfo=UTC))

    admin.add_holiday(admin_user, date(2025, 3, 4))
    admin.set_business_hours(admin_user, [0, 1, 2, 3, 4], "10:00", "16:00")
    admin.set_sla_policies(
        admin_user, policies(P3={**settings.get("sla_policies")["P3"], "response_minutes": 30})
    )
    db.session.commit()

    # Its next status change recomputes its due times: with its own terms, not today's.
    services.change_status(old, "in_progress", agent, now=MONDAY_9 + timedelta(minutes=45))
    db.session.commit()
    assert (as_utc(old.response_due_at), as_utc(old.resolution_due_at)) == due
    # Thursday 08:30: 29.5 of its 30 business hours used (Monday 9-18, Tuesday, Wednesday);
    # today's terms would count 12 of 18 and call it fine.
    thursday = datetime(2025, 3, 6, 8, 30, tzinfo=UTC)
    assert services.sla_status(old, thursday)["resolution"] == "at_risk"

    new = services.raise_incident(employee, "Laptop will not start", "Black.", now=MONDAY_9)
    db.session.commit()
    # Opens at 10:00, 30 minutes to respond; Tuesday off, six-hour days: 18 h of resolution
    # runs Monday 10-16, Wednesday and Thursday.
    assert as_utc(new.response_due_at) == datetime(2025, 3, 3, 10, 30, tzinfo=UTC)
    assert as_utc(new.resolution_due_at) == datetime(2025, 3, 6, 16, tzinfo=UTC)


def test_re_prioritising_takes_the_terms_in_force_then(app, employee, agent, admin_user):
    incident = services.raise_incident(employee, "Laptop will not start", "Black.", now=MONDAY_9)
    db.session.commit()
    admin.set_sla_policies(admin_user, policies(P1=around_the_clock(5, 60)))
    db.session.commit()
    services.triage(incident, agent, impact="high", urgency="high")
    db.session.commit()
    assert incident.priority == "P1"
    assert as_utc(incident.response_due_at) == MONDAY_9 + timedelta(minutes=5)
    assert incident.sla_terms["priority"] == "P1"
    from portal.incidents.sla import Terms

    assert Terms.from_json(incident.sla_terms).policy.resolution == timedelta(minutes=60)


def test_queue_page_api_and_report_agree_after_a_policy_edit(app, employee, agent, admin_user):
    admin.set_sla_policies(admin_user, policies(P3=around_the_clock(60, 600)))
    db.session.commit()
    raised_at = utcnow() - timedelta(minutes=30)
    old = services.raise_incident(employee, "Printer offline", "Nothing prints.", now=raised_at)
    db.session.commit()
    admin.set_sla_policies(admin_user, policies(P3=around_the_clock(15, 600)))
    db.session.commit()
    late = services.raise_incident(employee, "Scanner offline", "Nothing scans.", now=raised_at)
    db.session.commit()

    staff = app.test_client()
    staff.post("/login", data={"email": agent.email, "password": PASSWORD})
    queue = html.unescape(staff.get("/incidents/queue").get_data(as_text=True))
    rows = {ref: row for ref, row in re.findall(r"(INC-\d{6})(.*?)</tr>", queue, re.S)}
    assert "Breached" not in rows[old.ref]  # raised under 60 minutes, 30 used
    assert "Breached" in rows[late.ref]  # raised under 15 minutes

    page = html.unescape(staff.get(f"/incidents/{old.ref}").get_data(as_text=True))
    due = as_utc(old.response_due_at)
    assert abs(due - (raised_at + timedelta(minutes=60))) < timedelta(seconds=1)
    assert "Breached" not in page.split("<h2>History</h2>")[0]

    token = {"Authorization": f"Bearer {create_token(agent)}"}
    db.session.commit()
    for incident, state in ((old, "ok"), (late, "breached")):
        body = app.test_client().get(f"/api/v1/incidents/{incident.ref}", headers=token)
        assert body.status_code == 200 and body.get_json()["sla"]["response"] == state
    assert services.sla_status(old)["response"] == "ok"
    assert services.sla_status(late)["response"] == "breached"

    today = utcnow().date()
    report = reports.sla_compliance(reports.Period(today - timedelta(days=1), today), utcnow())
    p3 = next(r for r in report.rows if r["priority"] == "P3")
    assert (p3["response_missed"], p3["response_pending"]) == (1, 1)
