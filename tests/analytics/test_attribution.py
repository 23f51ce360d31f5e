"""Reports credit an incident only with the searches that belong to it (the rule of
portal/incidents/tried.py); junk queries are no gaps; a vote "helped" is no gap."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from portal.analytics.models import SearchEvent
from portal.extensions import db
from portal.incidents.models import Incident

EXPENSES_BODY = """## Symptoms

- The expenses form will not submit

## Applies to

- The expenses portal

## Cause

A required field is empty.

## Resolution

1. Fill in the cost centre.
"""

UNRELATED = [
    "expenses form",
    "holiday allowance",
    "*",
    "AND",
    "x" * 2000,
    "meeting room booking",
    "parking permit",
    "canteen menu",
    "payslip download",
    "new starter laptop order",
    "printer toner",
    "teams background",
    "desk booking",
    "pension scheme",
    "fire drill",
    "wifi guest password",
]
RELATED = ["vpn not connecting", "vpn wont connect"]


def search(client, text: str) -> None:
    assert client.get("/search", query_string={"q": text}).status_code == 200


def rows(response) -> list[dict[str, str]]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_only_the_searches_of_the_problem_are_credited_to_the_incident(
    app, browser, make_article, make_user, employee, agent
):
    make_article(title="Expenses form will not submit", slug="expenses-form", body=EXPENSES_BODY)
    erin = browser(employee)
    oscar = browser(make_user("employee", email="oscar@example.com", name="Oscar Other"))
    search(erin, UNRELATED[0])
    erin.get("/articles/expenses-form")
    erin.post("/articles/expenses-form/vote", data={"yes": "Yes"})  # it helped
    for text in UNRELATED[1:]:
        search(erin, text)
        search(oscar, "vpn slow")  # another person, the same minutes, a VPN word
    for text in RELATED:
        search(erin, text)
    response = erin.post(
        "/incidents/new",
        data={"title": "VPN will not connect", "description": "From home.", "checked": "1"},
    )
    assert response.status_code == 302
    incident = db.session.scalars(select(Incident)).one()

    credited = db.session.scalars(
        select(SearchEvent.query).where(SearchEvent.incident_id == incident.id)
    ).all()
    assert sorted(credited) == sorted(RELATED)

    staff = browser(agent)
    top = rows(staff.get("/reports/searches?format=csv&table=top"))
    assert sum(int(r["Followed by an incident"]) for r in top) == len(RELATED)

    gaps = rows(staff.get("/reports/gaps?format=csv"))
    with_incident = [r for r in gaps if int(r["Incidents"])]
    assert [sorted(r["Queries"].split("; ")) for r in with_incident] == [sorted(RELATED)]
    assert with_incident[0]["Latest incidents"] == incident.ref
    queries = {q for r in gaps for q in r["Queries"].split("; ")}
    assert "expenses form" not in queries  # voted "helped": no gap
    for junk in ("*", "and", "x" * 10):
        assert not any(q.startswith(junk) for q in queries), junk
    assert "vpn slow" in queries  # Oscar's failed search is a gap of its own, no incident
    assert int(next(r for r in gaps if r["Queries"] == "vpn slow")["Incidents"]) == 0
