"""The incident pages as people use them: raise from a failed search, follow a known issue,
work the queue, talk, resolve, capture the fix as an article, confirm or reopen."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.articles import checks
from portal.articles.models import Article
from portal.articles.services import save_article, to_data
from portal.extensions import db
from portal.incidents import services
from portal.incidents.models import IncidentEvent
from portal.timeutil import utcnow
from tests.incidents.conftest import mails, reload

DESCRIPTION = "Since Monday the VPN disconnects every hour. Reconnecting works for a while."


def refs_in(html: str) -> list[str]:
    """Incident references in the order a page lists them."""
    return list(dict.fromkeys(re.findall(r">(INC-\d{6})<", html)))


def section(html: str, heading: str) -> str:
    """The HTML of the page section under a heading (empty when there is none)."""
    if heading not in html:
        return ""
    return html.split(heading, 1)[1].split("</section>", 1)[0]


def flashes(html: str) -> list[str]:
    return re.findall(r'<p class="flash flash-\w+">(.*?)</p>', html)


# -- raising from a search --------------------------------------------------------------


def test_raise_from_the_search_page_prefills_the_title(client, sign_in, employee):
    sign_in(employee)
    results = client.get("/search?q=VPN+drops+every+hour")
    assert "/incidents/new?q=VPN+drops+every+hour" in results.text
    page = client.get("/incidents/new?q=VPN+drops+every+hour")
    assert page.status_code == 200
    assert 'name="title" required type="text" value="VPN drops every hour"' in page.text


def test_raising_needs_sign_in(client):
    response = client.get("/incidents/new?q=printer")
    assert response.status_code == 302 and response.location.startswith("/login")


def test_the_incident_carries_what_the_requester_tried(
    client, sign_in, employee, agent, make_article
):
    make_article(
        title="Reset the VPN profile",
        slug="vpn-profile",
        symptoms="The VPN disconnects after a while",
    )
    client.get("/search?q=vpn disconnects")  # before signing in: the trail survives it
    sign_in(employee)
    client.get("/search?q=vpn disconnects hourly")
    client.get("/articles/vpn-profile")
    client.post("/articles/vpn-profile/vote", data={"no": "No"})

    form = client.get("/incidents/new")
    assert 'value="vpn disconnects hourly"' in form.text  # the last query is the title
    data = {"title": "VPN disconnects every hour", "description": DESCRIPTION}
    first = client.post("/incidents/new", data=data)
    assert first.status_code == 200 and services.get_by_ref("INC-000001") is None
    second = client.post("/incidents/new", data={**data, "checked": "1"})
    assert second.status_code == 302 and second.location == "/incidents/INC-000001"

    incident = services.get_by_ref("INC-000001")
    assert incident.requester_id == employee.id and incident.title == "VPN disconnects every hour"
    assert incident.search_context == {
        "queries": [
            {"q": "vpn disconnects", "total": 1},
            {"q": "vpn disconnects hourly", "total": 1},
        ],
        "articles": [{"slug": "vpn-profile", "title": "Reset the VPN profile"}],
        "votes": [{"slug": "vpn-profile", "helpful": False}],
    }
    assert "What the requester tried" not in client.get("/incidents/INC-000001").text
    assert 'value=""' in client.get("/incidents/new").text.split('name="title"')[1][:80]

    sign_in(agent)
    tried = section(client.get("/incidents/INC-000001").text, "What the requester tried")
    assert '“vpn disconnects” <span class="meta">1 result</span>' in tried
    assert "“vpn disconnects hourly”" in tried
    assert ">Reset the VPN profile</a>" in tried
    assert "vpn-profile: did not help" in tried


def test_a_live_suggestion_answered_late_does_not_lose_the_searches(
    app, client, sign_in, employee, agent, make_article
):
    """The home page's box asks for live suggestions while the person types, then the search
    page loads; if that suggestion answers last, whatever cookie it sends is the browser's."""
    make_article(title="Reset the VPN profile", slug="vpn-profile")
    with client.session_transaction() as cookie:  # what the home page's form leaves (CSRF on)
        cookie["csrf_token"] = "from-the-home-page"
    before = client.get_cookie("session").value  # what the typing's request carries
    client.get("/search?q=vpn disconnects")
    late = app.test_client()
    late.set_cookie("session", before)
    answer = late.get("/api/v1/search?source=live&per_page=5&q=vpn")
    assert answer.status_code == 200 and answer.json["total"] == 1
    for header in answer.headers.getlist("Set-Cookie"):  # the browser applies it, late
        client.set_cookie("session", header.split(";", 1)[0].split("=", 1)[1])

    sign_in(employee)
    data = {"title": "VPN disconnects every hour", "description": DESCRIPTION, "checked": "1"}
    assert client.post("/incidents/new", data=data).status_code == 302
    incident = services.get_by_ref("INC-000001")
    assert [q["q"] for q in incident.search_context["queries"]] == ["vpn disconnects"]


def test_matching_articles_ask_for_a_second_press_without_javascript(
    client, sign_in, employee, make_article
):
    make_article(title="Printer offline", slug="printer-offline", symptoms="Printer offline")
    sign_in(employee)
    data = {"title": "Printer offline on floor 2", "description": "Nothing prints."}

    first = client.post("/incidents/new", data=data)

    assert first.status_code == 200
    assert "These articles may help" in first.text
    assert "press <strong>Raise the incident</strong> again" in first.text
    assert ">Printer offline</a>" in section(first.text, "These articles may help")
    assert '<input id="checked" name="checked" type="hidden" value="1">' in first.text
    assert services.get_by_ref("INC-000001") is None and mails() == []

    second = client.post("/incidents/new", data={**data, "checked": "1"})
    assert second.status_code == 302
    page = client.get(second.location)
    assert "Incident INC-000001 raised. We will get back to you." in flashes(page.text)
    assert [m.subject for m in mails(employee.email)] == [
        "[INC-000001] We received your incident: Printer offline on floor 2"
    ]


def test_without_matching_articles_one_press_raises_it(client, sign_in, employee):
    sign_in(employee)
    response = client.post(
        "/incidents/new", data={"title": "Quokka console frozen", "description": "It froze."}
    )
    assert response.status_code == 302 and services.get_by_ref("INC-000001") is not None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"title": "", "description": "x"}, "This field is required."),
        ({"title": "x" * 201, "description": "x"}, "Field cannot be longer than 200 characters."),
        ({"title": "Printer", "description": ""}, "This field is required."),
    ],
)
def test_a_bad_raise_form_says_what_is_wrong(client, sign_in, employee, data, message):
    sign_in(employee)
    response = client.post("/incidents/new", data=data)
    assert response.status_code == 400 and message in response.text
    assert services.get_by_ref("INC-000001") is None


def test_what_people_type_is_never_active_on_the_incident_page(client, sign_in, employee, agent):
    client.get("/search?q=<script>alert('q')</script>")
    sign_in(employee)
    client.post(
        "/incidents/new",
        data={
            "title": "<script>alert('t')</script>",
            "description": "<img src=x onerror=alert(1)> [x](javascript:alert(2))",
            "checked": "1",
        },
    )
    sign_in(agent)
    page = client.get("/incidents/INC-000001").text
    assert "<script>alert" not in page and "onerror" not in page and "javascript:" not in page
    assert "&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt;" in page
    assert "&lt;script&gt;alert(&#39;q&#39;)&lt;/script&gt;" in section(
        page, "What the requester tried"
    )


# -- known issues -----------------------------------------------------------------------


def test_following_a_known_issue_instead_of_raising_it(
    client, sign_in, make_incident, employee, other, agent
):
    make_incident(title="VPN drops every hour", description=DESCRIPTION)
    sign_in(other)
    assert client.get("/incidents/INC-000001").status_code == 404

    form = client.get("/incidents/new?q=The VPN drops all the time")
    known = section(form.text, "Others reported this")
    assert "VPN drops every hour" in known and "INC-000001 · New" in known
    assert 'action="/incidents/INC-000001/follow"' in known

    followed = client.post("/incidents/INC-000001/follow")
    assert followed.status_code == 302 and followed.location == "/incidents/INC-000001"
    page = client.get("/incidents/INC-000001")
    assert page.status_code == 200
    assert "You now follow INC-000001; we will tell you when it changes." in flashes(page.text)
    assert "public view of someone else's incident" in page.text
    assert DESCRIPTION not in page.text and employee.name not in page.text
    assert refs_in(client.get("/incidents/").text) == ["INC-000001"]
    assert services.get_by_ref("INC-000001") is not None
    assert len(db.session.scalars(select(IncidentEvent)).all()) == 2  # raised, followed

    sign_in(agent)
    assert "Oscar Other:\n              follows this incident" in (
        client.get("/incidents/INC-000001").text
    )
    client.post("/incidents/INC-000001/comments", data={"body": "Which laptop is it?"})
    client.post(
        "/incidents/INC-000001/comments",
        data={"body": "The gateway is being replaced.", "for_followers": "y"},
    )
    client.post("/incidents/INC-000001/resolve", data={"solution": "Replaced the VPN gateway."})
    requester = [m.subject for m in mails(employee.email)]
    assert "[INC-000001] New reply: VPN drops every hour" in requester
    assert [m.subject for m in mails(other.email)] == [
        "[INC-000001] Update: VPN drops every hour",
        "[INC-000001] Resolved: VPN drops every hour",
    ]
    sign_in(other)
    page = client.get("/incidents/INC-000001").text
    assert "The gateway is being replaced." in page and "Replaced the VPN gateway." in page
    assert "Which laptop is it?" not in page


def test_a_guessed_reference_cannot_be_followed(client, sign_in, make_incident, employee, other):
    make_incident(title="VPN drops every hour", description="Private details")
    sign_in(other)
    assert client.post("/incidents/INC-000001/follow").status_code == 404
    assert client.get("/incidents/INC-000001").status_code == 404
    client.get("/incidents/new?q=VPN drops all the time")  # offered as a known issue now
    page = client.post("/incidents/INC-000001/follow", follow_redirects=True).text
    assert "VPN drops every hour" in page and "Private details" not in page
    page = client.post("/incidents/INC-000001/follow", follow_redirects=True).text
    assert flashes(page) == ["You already hear about INC-000001 when it changes."]
    sign_in(employee)  # the requester already hears about it
    page = client.post("/incidents/INC-000001/follow", follow_redirects=True).text
    assert flashes(page) == ["You already hear about INC-000001 when it changes."]
    assert len(reload(services.get_by_ref("INC-000001")).followers) == 1


def test_a_known_issue_also_asks_for_a_second_press(client, sign_in, make_incident, other):
    make_incident(title="VPN drops every hour")
    sign_in(other)
    data = {"title": "VPN drops all the time", "description": "Same here."}
    first = client.post("/incidents/new", data=data)
    assert first.status_code == 200 and "Others reported this" in first.text
    assert services.get_by_ref("INC-000002") is None
    assert client.post("/incidents/new", data={**data, "checked": "1"}).status_code == 302
    assert services.get_by_ref("INC-000002").requester_id == other.id


# -- the queue --------------------------------------------------------------------------


@pytest.fixture
def queue_incidents(make_incident, make_article, agent, other):
    """Three open incidents, one per SLA state, and one closed."""
    make_article(category="Network", subcategory="VPN")
    now = utcnow()
    ok = make_incident(title="Ok: new monitor", now=now)  # P3, untouched
    risky = make_incident(
        title="At risk: payroll down",
        impact="high",
        urgency="high",
        category="Network",
        now=now - timedelta(hours=3, minutes=30),
    )  # P1: 30 minutes of 4 hours left
    services.add_comment(risky, agent, "On it.", now=now - timedelta(hours=3, minutes=20))
    services.assign(risky, agent, agent)
    late = make_incident(
        title="Breached: mail bounces", requester=other, now=now - timedelta(days=10)
    )
    services.change_status(late, "waiting", agent, now=now - timedelta(days=9))
    services.change_status(late, "in_progress", agent, now=now - timedelta(days=8))
    done = make_incident(title="Closed: mouse", status="closed", agent=agent)
    db.session.commit()
    return ok, risky, late, done


def test_the_queue_puts_the_most_urgent_due_time_first(client, sign_in, agent, queue_incidents):
    ok, risky, late, done = queue_incidents
    sign_in(agent)
    page = client.get("/incidents/queue")
    assert page.status_code == 200
    assert refs_in(page.text) == [late.ref, risky.ref, ok.ref]
    rows = {ref: row for row in page.text.split("<tr")[1:] for ref in refs_in(row)}
    assert rows[late.ref].startswith(' class="breached"') and "Breached</span>" in rows[late.ref]
    assert rows[risky.ref].startswith(' class="at_risk"') and "At risk</span>" in rows[risky.ref]
    assert rows[ok.ref].startswith(' class=""') and "badge" not in rows[ok.ref]
    assert "Queue (3)" in page.text


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=in_progress", ["late", "risky"]),  # the P1's first reply put it In progress
        ("status=new", ["ok"]),
        ("status=closed", ["done"]),
        ("status=all", ["late", "risky", "ok", "done"]),
        ("priority=P1", ["risky"]),
        ("priority=P3", ["late", "ok"]),
        ("category=network", ["risky"]),
        ("assignee=mine", ["risky"]),
        ("assignee=unassigned", ["late", "ok"]),
        ("priority=P3&assignee=unassigned&status=new", ["ok"]),
        ("priority=P1&status=new", []),
    ],
)
def test_queue_filters(client, sign_in, agent, queue_incidents, query, expected):
    named = dict(zip(["ok", "risky", "late", "done"], queue_incidents, strict=True))
    sign_in(agent)
    page = client.get(f"/incidents/queue?{query}")
    assert refs_in(page.text) == [named[name].ref for name in expected]


def test_bulk_assign_from_the_queue(client, sign_in, agent, make_user, queue_incidents):
    ok, risky, late, _ = queue_incidents
    bea = make_user("agent", email="bea@example.com", name="Bea Agent")
    sign_in(agent)
    response = client.post(
        "/incidents/queue?assignee=unassigned",
        data={"ids": [str(ok.id), str(late.id)], "assignee": str(bea.id)},
    )
    assert response.status_code == 302
    assert response.location == "/incidents/queue?assignee=unassigned"
    page = client.get(response.location)
    assert "2 incidents assigned." in flashes(page.text)
    assert refs_in(page.text) == []
    assert [reload(i).assignee_id for i in (ok, late, risky)] == [bea.id, bea.id, agent.id]
    assert len(mails("bea@example.com")) == 2


def test_the_bulk_assignment_is_hidden_while_the_queue_is_empty(
    client, sign_in, agent, queue_incidents
):
    sign_in(agent)
    empty = client.get("/incidents/queue?priority=P5").text
    assert '<div class="row bulk" id="queue-bulk" hidden>' in empty  # drawn, for the refresh
    full = client.get("/incidents/queue").text
    assert '<div class="row bulk" id="queue-bulk">' in full and "Assign selected" in full


def test_bulk_assign_needs_a_selection(client, sign_in, agent, queue_incidents):
    sign_in(agent)
    page = client.post(
        "/incidents/queue", data={"assignee": str(agent.id)}, follow_redirects=True
    ).text
    assert flashes(page) == ["Select the incidents to assign first."]
    page = client.post(
        "/incidents/queue",
        data={"ids": [str(queue_incidents[0].id)], "assignee": "424242"},
        follow_redirects=True,
    ).text
    assert flashes(page) == ["Choose an agent to assign them to."]
    assert reload(queue_incidents[0]).assignee_id is None


def test_assign_to_me_and_to_another_agent(
    client, sign_in, agent, employee, make_user, make_incident
):
    bea = make_user("agent", email="bea@example.com", name="Bea Agent")
    incident = make_incident()
    sign_in(agent)
    page = client.post(f"/incidents/{incident.ref}/assign-me", follow_redirects=True)
    assert "Assigned to you." in flashes(page.text) and "Assigned to Alex Agent" in page.text
    page = client.post(
        f"/incidents/{incident.ref}/assign", data={"assignee": str(bea.id)}, follow_redirects=True
    )
    assert "Assigned to Bea Agent." in flashes(page.text)
    assert "assignee Alex Agent → Bea Agent" in page.text
    assert reload(incident).assignee_id == bea.id
    page = client.post(f"/incidents/{incident.ref}/assign", data={"assignee": str(employee.id)})
    assert flashes(client.get(page.location).text) == ["Choose an agent from the list."]
    assert reload(incident).assignee_id == bea.id


def test_my_incidents_lists_only_mine(client, sign_in, make_incident, employee, other):
    mine = make_incident(title="Mine")
    make_incident(title="Theirs", requester=other)
    sign_in(employee)
    page = client.get("/incidents/")
    assert refs_in(page.text) == [mine.ref] and "Theirs" not in page.text


# -- triage and status ------------------------------------------------------------------


def test_triage_sets_priority_and_due_times(client, sign_in, agent, make_incident, make_article):
    make_article(category="Network", subcategory="VPN")
    incident = make_incident()
    sign_in(agent)
    page = client.post(
        f"/incidents/{incident.ref}/triage",
        data={
            "category": "network",
            "subcategory": "network-vpn",
            "impact": "high",
            "urgency": "high",
        },
        follow_redirects=True,
    )
    assert "Triage saved: priority P1." in flashes(page.text)
    assert '<span class="prio prio-P1">P1</span>' in page.text
    assert "Network › VPN" in page.text and "priority P3 → P1" in page.text
    incident = reload(incident)
    assert incident.priority == "P1"
    assert incident.resolution_due_at - incident.created_at == timedelta(hours=4)


def test_a_bad_subcategory_is_refused_with_a_message(client, sign_in, agent, make_incident):
    incident = make_incident()
    sign_in(agent)
    page = client.post(
        f"/incidents/{incident.ref}/triage",
        data={"category": "", "subcategory": "", "impact": "huge", "urgency": "high"},
        follow_redirects=True,
    )
    assert "Triage not saved: impact: Not a valid choice." in flashes(page.text)
    assert reload(incident).priority == "P3"


@pytest.mark.parametrize(
    ("who", "status", "target", "message"),
    [
        ("agent", "new", "in_progress", "Status: In progress."),
        ("agent", "in_progress", "waiting", "Status: Waiting on requester."),
        ("agent", "resolved", "closed", "Status: Closed."),
        (
            "agent",
            "new",
            "closed",
            "Not done: An incident that is New cannot be moved to Closed by the service desk.",
        ),
        ("agent", "new", "new", "Not done: The incident is already New."),
        (
            "requester",
            "new",
            "in_progress",
            "Not done: An incident that is New cannot be moved to In progress by you.",
        ),
        (
            "requester",
            "in_progress",
            "closed",
            "Not done: An incident that is In progress cannot be moved to Closed by you.",
        ),
        ("requester", "resolved", "closed", "Status: Closed."),
        ("requester", "resolved", "reopened", "Status: Reopened."),
        ("requester", "closed", "reopened", "Status: Reopened."),
    ],
)
def test_status_changes_through_the_page(
    client, sign_in, agent, employee, make_incident, who, status, target, message
):
    incident = make_incident(status=status, agent=agent)
    sign_in(agent if who == "agent" else employee)
    page = client.post(
        f"/incidents/{incident.ref}/status", data={"status": target}, follow_redirects=True
    )
    assert flashes(page.text) == [message]
    expected = target if message.startswith("Status") else status
    assert reload(incident).status == expected


def test_resolved_is_not_a_status_choice(client, sign_in, agent, make_incident):
    incident = make_incident()
    sign_in(agent)
    page = client.post(
        f"/incidents/{incident.ref}/status", data={"status": "resolved"}, follow_redirects=True
    )
    assert flashes(page.text) == ["Choose a status."] and reload(incident).status == "new"


def test_the_agent_only_sees_allowed_moves(client, sign_in, agent, make_incident):
    incident = make_incident(status="in_progress", agent=agent)
    sign_in(agent)
    page = client.get(f"/incidents/{incident.ref}").text
    options = re.findall(r'<option value="(\w+)">', section(page, "<h2>Status</h2>"))
    assert options == ["waiting"] and "Resolve…" in page


def test_a_requester_reply_puts_a_waiting_incident_back_to_work(
    client, sign_in, agent, employee, make_incident
):
    incident = make_incident(status="waiting", agent=agent)
    services.assign(incident, agent, agent)
    db.session.commit()
    sign_in(employee)
    page = client.get(f"/incidents/{incident.ref}")
    assert "The clock is paused while we wait for the requester." in page.text
    page = client.post(
        f"/incidents/{incident.ref}/comments",
        data={"body": "It is the built-in client."},
        follow_redirects=True,
    )
    assert "Reply sent." in flashes(page.text)
    assert '<span class="status status-in_progress">In progress</span>' in page.text
    assert reload(incident).status == "in_progress"
    assert mails(agent.email)[-1].subject.startswith("[INC-000001] The requester replied")


def test_an_empty_reply_is_refused(client, sign_in, employee, make_incident):
    incident = make_incident()
    sign_in(employee)
    page = client.post(
        f"/incidents/{incident.ref}/comments", data={"body": " "}, follow_redirects=True
    )
    assert flashes(page.text) == ["Write a message before sending."]
    assert reload(incident).comments == []


# -- conversation -----------------------------------------------------------------------


def test_internal_notes_never_reach_the_requester(client, sign_in, agent, employee, make_incident):
    incident = make_incident()
    sign_in(agent)
    client.post(
        f"/incidents/{incident.ref}/comments",
        data={"body": "Local admin password is Quokka-7731", "internal": "y"},
    )
    client.post(f"/incidents/{incident.ref}/comments", data={"body": "Please restart it."})
    staff_page = client.get(f"/incidents/{incident.ref}").text
    assert "Quokka-7731" in staff_page and "Internal note</span>" in staff_page

    sign_in(employee)
    page = client.get(f"/incidents/{incident.ref}").text
    assert "Please restart it." in page
    assert "Quokka-7731" not in page and "Internal note" not in page
    assert "added an internal note" not in page
    assert 'name="internal"' not in page
    # the mail carries the reply, never the note
    assert all("Quokka" not in m.body for m in mails(employee.email))
    # an employee cannot write an internal note by adding the field
    client.post(f"/incidents/{incident.ref}/comments", data={"body": "hidden?", "internal": "y"})
    assert [c.is_internal for c in reload(incident).comments] == [True, False, False]


# -- resolving --------------------------------------------------------------------------


def test_resolving_without_a_solution_is_refused(client, sign_in, agent, employee, make_incident):
    incident = make_incident(status="in_progress", agent=agent)
    sign_in(agent)
    response = client.post(f"/incidents/{incident.ref}/resolve", data={"solution": "  "})
    assert response.status_code == 400
    assert "Resolving needs a solution." in response.text
    incident = reload(incident)
    assert (incident.status, incident.solution_md, incident.resolved_at) == (
        "in_progress",
        "",
        None,
    )
    assert not [m for m in mails(employee.email) if "Resolved" in m.subject]


def test_resolving_an_already_resolved_incident_says_why(client, sign_in, agent, make_incident):
    incident = make_incident(status="resolved", agent=agent)
    sign_in(agent)
    response = client.post(f"/incidents/{incident.ref}/resolve", data={"solution": "Again"})
    assert response.status_code == 400
    assert "Not done: The incident is already Resolved." in flashes(response.text)
    assert reload(incident).solution_md == "Restarted the laptop."


def test_resolve_by_linking_an_article(
    client, sign_in, agent, employee, make_incident, make_article
):
    article = make_article(
        title="Reset the VPN profile", slug="vpn-profile", symptoms="VPN disconnects"
    )
    incident = make_incident(title="VPN disconnects every hour")
    sign_in(agent)
    form = client.get(f"/incidents/{incident.ref}/resolve")
    assert form.status_code == 200
    assert f'name="article_ids" value="{article.id}"' in form.text
    found = client.get(f"/incidents/{incident.ref}/resolve?aq=profile")
    assert "Reset the VPN profile" in found.text

    response = client.post(
        f"/incidents/{incident.ref}/resolve",
        data={"solution": "Reset the VPN profile as described.", "article_ids": [str(article.id)]},
    )
    assert response.status_code == 302 and response.location == f"/incidents/{incident.ref}"
    db.session.rollback()
    assert db.session.get(Article, article.id).reuse_count == 1

    sign_in(employee)
    page = client.get(f"/incidents/{incident.ref}").text
    assert "Reset the VPN profile as described." in section(page, "<h2>Solution</h2>")
    linked = section(page, "Articles for this incident")
    assert '<a href="/articles/vpn-profile">Reset the VPN profile</a>' in linked
    assert "Yes, it is fixed: close it" in page


def test_create_an_article_from_the_incident(client, sign_in, agent, employee, make_incident):
    client.get("/search?q=vpn disconnects hourly")
    sign_in(employee)
    client.post(
        "/incidents/new",
        data={"title": "VPN drops every hour", "description": DESCRIPTION, "checked": "1"},
    )
    sign_in(agent)
    response = client.post(
        "/incidents/INC-000001/resolve",
        data={"solution": "Update the VPN client to 5.2.", "create_article": "y"},
    )
    assert response.status_code == 302
    assert response.location == "/articles/vpn-drops-every-hour/edit"
    page = client.get(response.location)
    assert "Draft article &#39;VPN drops every hour&#39; created and waiting for an editor." in (
        flashes(page.text)
    )

    db.session.rollback()
    draft = db.session.scalars(select(Article).where(Article.slug == "vpn-drops-every-hour")).one()
    assert draft.status == "review"
    symptoms = draft.body_md.split("## Symptoms", 1)[1].split("## Applies to", 1)[0]
    assert DESCRIPTION not in symptoms and '"vpn disconnects hourly"' in symptoms
    assert "1. Update the VPN client to 5.2." in draft.body_md.split("## Resolution", 1)[1]
    staff_view = client.get("/incidents/INC-000001").text
    assert "created from this incident · review" in section(staff_view, "Articles for this")

    sign_in(employee)  # the draft is not theirs to read, not even its slug in the history
    assert "vpn-drops-every-hour" not in client.get("/incidents/INC-000001").text
    assert "VPN drops every hour" not in client.get("/search?q=vpn disconnects hourly").text

    data = to_data(draft)
    data.status = "published"
    data.category = "Network"  # an untriaged incident's draft has none; publishing needs one
    data.body_md = data.body_md.replace(checks.CAUSE_PLACEHOLDER, "An old client.").replace(
        checks.APPLIES_TO_PLACEHOLDER, "The VPN client on laptops"
    )
    save_article(data, agent, note="reviewed")
    db.session.commit()

    results = client.get("/search?q=vpn disconnects hourly").text
    assert 'href="/articles/vpn-drops-every-hour?' in results
    linked = section(client.get("/incidents/INC-000001").text, "Articles for this incident")
    assert '<a href="/articles/vpn-drops-every-hour">VPN drops every hour</a>' in linked
    assert "solved 1 incident" not in client.get("/articles/vpn-drops-every-hour").text
    sign_in(agent)
    assert "· solved 1 incident\n" in client.get("/articles/vpn-drops-every-hour").text


# -- confirm and reopen -----------------------------------------------------------------


def test_the_requester_confirms_the_fix(client, sign_in, agent, employee, make_incident):
    incident = make_incident(status="resolved", agent=agent)
    sign_in(employee)
    page = client.get(f"/incidents/{incident.ref}").text
    assert "Yes, it is fixed: close it" in page and "It is not fixed: reopen" in page
    page = client.post(
        f"/incidents/{incident.ref}/status", data={"status": "closed"}, follow_redirects=True
    ).text
    assert "Status: Closed." in flashes(page)
    assert "Yes, it is fixed" not in page and 'name="body"' not in page  # no replies when closed
    assert reload(incident).closed_at is not None


def test_a_follower_cannot_close_the_requesters_incident(
    client, sign_in, agent, other, make_incident
):
    incident = make_incident(status="resolved", agent=agent)
    services.follow(incident, other)
    db.session.commit()
    sign_in(other)
    page = client.get(f"/incidents/{incident.ref}").text
    assert "Yes, it is fixed" not in page and "It is not fixed: reopen" not in page
    page = client.post(
        f"/incidents/{incident.ref}/status", data={"status": "closed"}, follow_redirects=True
    ).text
    assert flashes(page) == [
        "Not done: only the person who raised this incident can confirm the fix"
    ]
    page = client.post(
        f"/incidents/{incident.ref}/status", data={"status": "reopened"}, follow_redirects=True
    ).text
    assert flashes(page) == ["Not done: only the person who raised this incident can reopen it"]
    assert reload(incident).status == "resolved"


def test_the_requester_reopens_with_a_reason(client, sign_in, agent, employee, make_incident):
    incident = make_incident(status="resolved", agent=agent)
    sign_in(employee)
    page = client.post(
        f"/incidents/{incident.ref}/status",
        data={"status": "reopened", "reason": "Still black after lunch."},
        follow_redirects=True,
    ).text
    assert "Status: Reopened." in flashes(page) and "Still black after lunch." in page
    incident = reload(incident)
    assert incident.status == "reopened" and incident.reopen_count == 1


def test_reopening_after_14_days_is_refused(client, sign_in, agent, employee, make_incident):
    incident = make_incident(status="closed", agent=agent, now=utcnow() - timedelta(days=15))
    sign_in(employee)
    page = client.post(
        f"/incidents/{incident.ref}/status", data={"status": "reopened"}, follow_redirects=True
    ).text
    assert flashes(page) == [
        "Not done: this incident was resolved more than 14 days ago; please raise a new one"
    ]
    assert reload(incident).status == "closed"


# -- suggested articles for agents ------------------------------------------------------


@pytest.fixture
def suggested(make_article, make_incident):
    article = make_article(
        title="Reset the VPN profile", slug="vpn-profile", symptoms="VPN disconnects every hour"
    )
    incident = make_incident(title="VPN disconnects every hour", description=DESCRIPTION)
    return incident, article


def test_agents_see_suggested_articles(client, sign_in, agent, employee, suggested):
    incident, article = suggested
    sign_in(agent)
    box = section(client.get(f"/incidents/{incident.ref}").text, "Suggested articles")
    assert ">Reset the VPN profile</a>" in box
    assert f"/incidents/{incident.ref}/suggestions/{article.id}/link" in box
    assert f"/incidents/{incident.ref}/suggestions/{article.id}/send" in box
    sign_in(employee)
    assert "Suggested articles" not in client.get(f"/incidents/{incident.ref}").text


def test_one_click_links_a_suggestion(client, sign_in, agent, suggested):
    incident, article = suggested
    sign_in(agent)
    page = client.post(
        f"/incidents/{incident.ref}/suggestions/{article.id}/link", follow_redirects=True
    ).text
    assert "Article linked." in flashes(page)
    assert "Reset the VPN profile" not in section(page, "Suggested articles")
    assert ">Reset the VPN profile</a>" in section(page, "Articles for this incident")
    db.session.rollback()
    assert db.session.get(Article, article.id).reuse_count == 1
    clicks = db.session.scalars(select(IncidentEvent).where(IncidentEvent.kind == "suggestion"))
    assert [(e.field, e.new_value, e.actor_id) for e in clicks] == [
        ("link", "vpn-profile", agent.id)
    ]


def test_one_click_sends_a_suggestion_to_the_requester(client, sign_in, agent, employee, suggested):
    incident, article = suggested
    sign_in(agent)
    page = client.post(
        f"/incidents/{incident.ref}/suggestions/{article.id}/send", follow_redirects=True
    ).text
    assert "Article sent to the requester." in flashes(page)
    clicks = db.session.scalars(select(IncidentEvent).where(IncidentEvent.kind == "suggestion"))
    assert [e.field for e in clicks] == ["send"]
    assert reload(incident).first_response_at is not None
    assert "/articles/vpn-profile" in mails(employee.email)[-1].body

    sign_in(employee)
    page = client.get(f"/incidents/{incident.ref}").text
    assert (
        'This article should fix it: <a href="http://localhost/articles/vpn-profile" '
        'rel="noopener noreferrer nofollow">Reset the VPN profile</a>'
    ) in section(page, "Conversation")
    assert "used a suggested article" not in page  # the click is counted for staff only


def test_a_staff_only_article_is_not_sent_to_the_requester(
    client, sign_in, agent, make_article, make_incident
):
    article = make_article(title="Unlock in the directory", visibility="staff")
    incident = make_incident(title="Account locked")
    sign_in(agent)
    page = client.post(
        f"/incidents/{incident.ref}/suggestions/{article.id}/send", follow_redirects=True
    ).text
    assert flashes(page) == [
        "Not done: this article is for staff only; the requester could not open it"
    ]
    assert reload(incident).comments == []
    ok = client.post(f"/incidents/{incident.ref}/suggestions/{article.id}/link")
    assert ok.status_code == 302 and len(reload(incident).article_links) == 1


def test_an_unknown_suggestion_action_is_a_400(client, sign_in, agent, suggested):
    incident, article = suggested
    sign_in(agent)
    response = client.post(f"/incidents/{incident.ref}/suggestions/{article.id}/delete")
    assert response.status_code == 400
    assert client.post(f"/incidents/{incident.ref}/suggestions/9999/link").status_code == 404
