"""Acceptance: after a scripted session of searches (some finding nothing, one followed by an
incident), the knowledge-gap list shows the right groups with the right counts, and the
self-service rate on the reports page equals the figure computed by hand."""

from __future__ import annotations

import csv
import html
import io
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from portal.analytics.models import SearchEvent
from portal.extensions import db
from portal.incidents.models import Incident

PRINTER_BODY = """## Symptoms

- The printer appears offline

## Applies to

- Office printers

## Cause

The print queue stalled.

## Resolution

1. Restart the print spooler.
2. Raise an incident if this fails.
"""


def search(client, text: str) -> None:
    assert client.get("/search", query_string={"q": text}).status_code == 200


def figure(page: bytes, key: str) -> str:
    match = re.search(rf'data-figure="{key}">([^<]*)<', page.decode())
    assert match, f"no figure {key} on the page"
    return match.group(1).strip()


def csv_rows(response) -> list[dict[str, str]]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


@pytest.fixture
def scripted(app, browser, make_article, make_user, employee, agent):
    """Six browsers, five of them people with a problem; returns what the test expects."""
    make_article(title="Printer offline", slug="printer-offline", body=PRINTER_BODY)

    erin = browser(employee)  # fails twice, then raises an incident
    search(erin, "vpn not connecting")
    search(erin, "VPN  wont connect")
    response = erin.post(
        "/incidents/new",
        data={"title": "VPN will not connect", "description": "Tried twice.", "checked": "1"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]

    anonymous = browser()  # fails, then finds an article that does not help
    search(anonymous, "cant connect vpn")
    search(anonymous, "printer offline")
    anonymous.get("/articles/printer-offline")
    anonymous.post("/articles/printer-offline/vote", data={"no": "No", "comment": "still"})

    slow = browser()  # fails once and gives up
    search(slow, "vpn slow")

    oscar = browser(make_user("employee"))  # finds the article and it helps
    search(oscar, "printer offline")
    oscar.get("/articles/printer-offline")
    oscar.post("/articles/printer-offline/vote", data={"yes": "Yes"})

    found = browser()  # finds something and leaves
    search(found, "my printer is offline")

    staff = browser(agent)  # staff searching are not self-service
    search(staff, "vpn")

    # Only Oscar's vote says a session was solved; the others stopped without a word.
    return {"staff": staff, "sessions": 5, "escalated": 1, "self_served": 1}


def test_searches_were_logged_as_scripted(scripted):
    events = db.session.scalars(select(SearchEvent).order_by(SearchEvent.id)).all()
    nothing = {e.normalised for e in events if e.result_count == 0}
    assert nothing == {
        "vpn not connecting",
        "vpn wont connect",
        "cant connect vpn",
        "vpn slow",
        "vpn",
    }
    incident = db.session.scalars(select(Incident)).one()
    assert [e.normalised for e in events if e.incident_id == incident.id] == [
        "vpn not connecting",
        "vpn wont connect",
    ]
    assert [e.voted for e in events if e.normalised == "printer offline"] == [False, True]


def test_self_service_rate_on_the_reports_page_equals_the_hand_count(scripted):
    staff = scripted["staff"]
    sessions, escalated = scripted["sessions"], scripted["escalated"]
    expected = f"{scripted['self_served'] / sessions:.1%}"  # 1 of 5 sessions: 20.0%
    assert expected == "20.0%"
    assert figure(staff.get("/reports/").data, "self_service_rate") == expected
    assert figure(staff.get("/reports/self-service").data, "self_service_rate") == expected
    rows = csv_rows(staff.get("/reports/self-service?format=csv"))
    assert sum(int(r["Search sessions"]) for r in rows) == sessions
    assert sum(int(r["Ended in an incident"]) for r in rows) == escalated
    page = staff.get("/reports/self-service").get_data(as_text=True)
    assert "gave no signal either way and are not counted as solved" in page


def test_gap_list_groups_the_variants_with_the_right_counts(scripted):
    staff = scripted["staff"]
    rows = csv_rows(staff.get("/reports/gaps?format=csv"))
    got = [
        (
            r["Need (most common query)"],
            sorted(r["Queries"].split("; ")),
            int(r["Searches"]),
            int(r["Found nothing"]),
            int(r["Did not help"]),
            int(r["Incidents"]),
        )
        for r in rows
    ]
    assert got == [
        (
            "cant connect vpn",
            ["cant connect vpn", "vpn not connecting", "vpn wont connect"],
            3,
            3,
            0,
            1,
        ),
        ("printer offline", ["printer offline"], 2, 0, 1, 0),
        ("vpn", ["vpn"], 1, 1, 0, 0),  # in two needs at once: left on its own
        ("vpn slow", ["vpn slow"], 1, 1, 0, 0),
    ]
    incident = db.session.scalars(select(Incident)).one()
    assert rows[0]["Latest incidents"] == incident.ref


def test_gap_page_links_the_incidents_and_starts_a_draft(scripted):
    page = scripted["staff"].get("/reports/gaps").get_data(as_text=True)
    incident = db.session.scalars(select(Incident)).one()
    first_row = page.split('<tr class="gap">')[1]
    assert f'href="/incidents/{incident.ref}"' in first_row
    draft = html.unescape(re.search(r'href="(/articles/new\?[^"]+)"', first_row).group(1))
    args = parse_qs(urlsplit(draft).query)
    assert args["title"] == ["cant connect vpn"]
    assert sorted(args["q"]) == ["cant connect vpn", "vpn not connecting", "vpn wont connect"]
    editor = scripted["staff"].get(draft).get_data(as_text=True)
    assert "People searched for &#34;vpn wont connect&#34;" in editor or (
        "vpn wont connect" in editor
    )
