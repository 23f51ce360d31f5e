"""The agents' queue (issue 13, item 5): requester, age and last-updated columns, a text
search over reference, title and requester, and rows and counts that refresh in place."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from portal.extensions import db
from portal.incidents import queue, services
from portal.timeutil import utcnow


def refs_in(html: str) -> list[str]:
    return list(dict.fromkeys(re.findall(r">(INC-\d{6})<", html)))


def found(text: str, agent) -> list[str]:
    stmt = queue.statement(queue.Filters.from_args({"q": text, "status": "all"}), agent.id)
    return [i.title for i in db.session.scalars(stmt)]


@pytest.fixture
def three(make_incident, employee, other, agent):
    vpn = make_incident(title="VPN drops every hour", requester=employee)
    printer = make_incident(title="Printer 100% offline", requester=other)
    mail = make_incident(title="Mail_box full", requester=other)
    return vpn, printer, mail


def test_text_search_matches_title_reference_and_requester(three, agent):
    vpn, printer, mail = three
    assert found("vpn", agent) == ["VPN drops every hour"]
    assert found(printer.ref.lower(), agent) == ["Printer 100% offline"]
    assert found("000003", agent) == ["Mail_box full"]
    assert found("oscar", agent) == ["Printer 100% offline", "Mail_box full"]  # by name
    assert found("erin@example", agent) == ["VPN drops every hour"]  # by address
    assert found("oscar printer", agent) == ["Printer 100% offline"]  # every word must match


def test_like_wildcards_in_the_search_are_taken_literally(three, agent):
    assert found("100%", agent) == ["Printer 100% offline"]
    assert found("l_b", agent) == ["Mail_box full"]
    assert found("%", agent) == ["Printer 100% offline"]
    assert found("_", agent) == ["Mail_box full"]


def test_age_reads_in_whole_units():
    now = utcnow()
    assert [
        queue.age(now - timedelta(seconds=s), now) for s in (5, 300, 3 * 3600 + 5, 2 * 86400 + 10)
    ] == ["now", "5 min", "3 h", "2 d"]
    assert queue.age(None, now) == ""


def test_last_activity_is_the_newest_line_in_the_history(make_incident, agent):
    now = utcnow()
    quiet = make_incident(title="Quiet", now=now - timedelta(days=3))
    busy = make_incident(title="Busy", now=now - timedelta(days=3))
    services.add_comment(busy, agent, "On it.", now=now - timedelta(hours=2))
    db.session.commit()
    last = queue.last_activity([quiet, busy])
    assert last[busy.id] >= now - timedelta(hours=2, minutes=1)
    assert queue.age(last[busy.id], now) == "2 h"


def test_the_queue_shows_requester_age_and_updated(client, sign_in, agent, three):
    sign_in(agent)
    page = client.get("/incidents/queue").text
    head = page.split("<thead>", 1)[1].split("</thead>", 1)[0]
    for heading in ("Requester", "Age", "Updated"):
        assert f'<th scope="col">{heading}</th>' in head
    row = next(r for r in page.split("<tr")[1:] if "VPN drops every hour" in r)
    assert '<td data-label="Requester">Erin Employee</td>' in row
    assert re.search(r'data-label="Age" class="age"><time [^>]+>now</time>', row)
    assert re.search(r'data-label="Updated" class="age"><time [^>]+>just now</time>', row)
    assert "3 incidents match these filters" in page


def test_the_search_box_narrows_the_queue_and_keeps_its_text(client, sign_in, agent, three):
    vpn, printer, mail = three
    sign_in(agent)
    page = client.get("/incidents/queue?q=Oscar+Other").text
    assert refs_in(page) == [printer.ref, mail.ref]
    assert 'name="q" value="Oscar Other"' in page
    assert "2 incidents match these filters" in page
    assert 'id="top-q" type="search" name="q" value=""' in page  # the header box stays empty
    nothing = client.get("/incidents/queue?q=zebra").text
    assert "Nothing in the queue for these filters." in nothing
    assert "0 incidents match these filters" in nothing


def test_the_live_rows_follow_the_same_filters(client, sign_in, agent, three, make_incident):
    vpn, printer, mail = three
    sign_in(agent)
    page = client.get("/incidents/queue?q=oscar").text
    assert 'data-live-queue="/incidents/queue/live?q=oscar"' in page
    late = make_incident(title="Oscar's monitor flickers")
    live = client.get("/incidents/queue/live?q=oscar")
    assert live.status_code == 200 and live.headers["Cache-Control"] == "private, no-store"
    data = live.get_json()
    assert (data["count"], data["open"]) == (3, 4)
    assert data["summary"] == "3 incidents match these filters"
    assert refs_in(data["rows"]) == [printer.ref, mail.ref, late.ref]
    assert "<script" not in data["rows"]


def test_titles_in_the_live_rows_are_escaped(client, sign_in, agent, make_incident):
    make_incident(title="<img src=x onerror=alert(1)> broken")
    sign_in(agent)
    rows = client.get("/incidents/queue/live").get_json()["rows"]
    assert "&lt;img src=x onerror=alert(1)&gt; broken" in rows and "<img" not in rows


def test_employees_get_no_queue_and_no_live_rows(client, sign_in, employee, three):
    sign_in(employee)
    assert client.get("/incidents/queue").status_code == 403
    live = client.get("/incidents/queue/live")
    assert live.status_code == 403 and "VPN" not in live.text


def test_no_refresh_attribute_when_turned_off(app, client, sign_in, agent, three):
    app.config["QUEUE_REFRESH_SECONDS"] = 0
    sign_in(agent)
    assert "data-live-queue" not in client.get("/incidents/queue").text
