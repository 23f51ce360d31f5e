from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.accounts.services import create_token
from portal.extensions import db
from portal.incidents import services
from portal.incidents.models import Comment, Incident
from tests.incidents.conftest import mails


@pytest.fixture
def config_overrides():
    # Mail is queued in the outbox; nothing here should try to reach an SMTP server.
    return {"MAIL_SEND_AFTER_COMMIT": False}


@pytest.fixture
def categories(make_article):
    make_article(category="Hardware", subcategory="Laptops")


@pytest.fixture
def bearer():
    def headers(user):
        token = create_token(user)
        db.session.commit()
        return {"Authorization": f"Bearer {token}"}

    return headers


@pytest.fixture
def alice(make_user):
    return make_user("employee", name="Alice")


@pytest.fixture
def bob(make_user):
    return make_user("employee", name="Bob")


@pytest.fixture
def agent(make_user):
    return make_user("agent", name="Agnes")


@pytest.fixture
def make_incident(app):
    def make(requester, title="Laptop will not start", **kwargs):
        incident = services.raise_incident(requester, title, "It stays black.", **kwargs)
        db.session.commit()
        return incident

    return make


def _utc_time(text):
    value = datetime.fromisoformat(text)
    assert value.utcoffset() == timedelta(0), text
    return value


def _incident_count():
    db.session.rollback()
    return db.session.scalar(select(func.count(Incident.id)))


# -- raising ---------------------------------------------------------------------------


def test_raise_answers_201_with_the_incident_and_its_location(client, categories, alice, bearer):
    response = client.post(
        "/api/v1/incidents",
        json={
            "title": "  Laptop   will not start ",
            "description": "It stays **black**.",
            "category": "Hardware",
            "subcategory": "Laptops",
            "impact": "high",
            "urgency": "high",
        },
        headers=bearer(alice),
    )
    assert response.status_code == 201
    data = response.get_json()
    assert data["ref"] == "INC-000001"
    assert response.headers["Location"].endswith("/api/v1/incidents/INC-000001")
    assert data["title"] == "Laptop will not start"
    assert data["description"] == "It stays **black**."
    assert "<strong>black</strong>" in data["description_html"]
    assert (data["status"], data["priority"]) == ("new", "P1")
    assert (data["impact"], data["urgency"]) == ("high", "high")
    assert (data["category"], data["subcategory"]) == ("Hardware", "Laptops")
    assert data["requester"] == {"name": "Alice", "email": alice.email}
    assert data["assignee"] is None and data["solution"] is None
    assert data["url"].endswith("/incidents/INC-000001")
    assert "sla" not in data  # staff only
    created = _utc_time(data["created_at"])
    assert created < _utc_time(data["response_due_at"]) <= _utc_time(data["resolution_due_at"])
    again = client.get(response.headers["Location"], headers=bearer(alice))
    assert again.status_code == 200 and again.get_json()["ref"] == "INC-000001"


@pytest.mark.parametrize(
    ("levels", "priority"),
    [
        ({"impact": "high", "urgency": "high"}, "P1"),
        ({"impact": "high", "urgency": "medium"}, "P2"),
        ({}, "P3"),
        ({"impact": None, "urgency": "low"}, "P4"),
        ({"impact": "low", "urgency": "low"}, "P5"),
    ],
)
def test_priority_follows_impact_and_urgency(client, alice, bearer, levels, priority):
    body = {"title": "VPN drops", "description": "Every hour.", **levels}
    response = client.post("/api/v1/incidents", json=body, headers=bearer(alice))
    assert response.status_code == 201 and response.get_json()["priority"] == priority


def test_category_by_slug(client, categories, alice, bearer):
    body = {"title": "Fan", "description": "Loud.", "category": "hardware"}
    response = client.post("/api/v1/incidents", json=body, headers=bearer(alice))
    assert response.get_json()["category"] == "Hardware"


GOOD = {"title": "Printer jams", "description": "On every page."}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"description": "x"}, "title"),
        ({**GOOD, "title": None}, "title"),
        ({**GOOD, "title": ""}, "title"),
        ({**GOOD, "title": "   "}, "title"),
        ({**GOOD, "title": "x" * 201}, "title"),
        ({**GOOD, "title": 42}, "title"),
        ({**GOOD, "title": ["a"]}, "title"),
        ({**GOOD, "title": "bad\x00byte"}, "title"),
        ({**GOOD, "title": "lone \ud800 surrogate"}, "title"),
        ({"title": "t"}, "description"),
        ({**GOOD, "description": ""}, "description"),
        ({**GOOD, "description": " \n "}, "description"),
        ({**GOOD, "description": {"text": "x"}}, "description"),
        ({**GOOD, "category": "Nope"}, "category"),
        ({**GOOD, "category": 3}, "category"),
        ({**GOOD, "category": "Hardware", "subcategory": "Nope"}, "subcategory"),
        ({**GOOD, "category": "Laptops"}, "category"),  # a subcategory is not a category
        ({**GOOD, "impact": "critical"}, "impact"),
        ({**GOOD, "urgency": "urgent"}, "urgency"),
        ({**GOOD, "urgency": 1}, "urgency"),
        # what the document enumerates, exactly
        ({**GOOD, "urgency": "HIGH"}, "urgency"),
        ({**GOOD, "impact": ""}, "impact"),
        ({**GOOD, "category": ""}, "category"),
        ({**GOOD, "category": "hardware "}, "category"),
        ({**GOOD, "title": " \t "}, "title"),
        ({**GOOD, "title": "a" + " " * 200}, "title"),
        ({**GOOD, "priority": "P1"}, "priority"),
        ({**GOOD, "status": "resolved"}, "status"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(client, categories, alice, bearer, body, field):
    response = client.post("/api/v1/incidents", json=body, headers=bearer(alice))
    assert response.status_code == 400
    data = response.get_json()
    assert data["field"] == field and data["error"]
    assert _incident_count() == 0


def test_subcategory_without_category_names_the_subcategory(client, categories, alice, bearer):
    body = {**GOOD, "subcategory": "Laptops"}
    response = client.post("/api/v1/incidents", json=body, headers=bearer(alice))
    assert response.status_code == 400 and response.get_json()["field"] == "subcategory"


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        ("title=x&description=y", "application/x-www-form-urlencoded"),
        ('{"title": "x", "description": "y"}', "text/plain"),
        ('{"title": "x",', "application/json"),
        ("", "application/json"),
        ("null", "application/json"),
        ('["title", "description"]', "application/json"),
        ('"a string"', "application/json"),
        ("[" * 100_000 + "]" * 100_000, "application/json"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_a_400(client, alice, bearer, data, content_type):
    response = client.post(
        "/api/v1/incidents",
        data=data,
        headers={**bearer(alice), "Content-Type": content_type},
    )
    assert response.status_code == 400 and "JSON object" in response.get_json()["error"]
    assert _incident_count() == 0


# -- authentication --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/v1/incidents"),
        ("get", "/api/v1/incidents"),
        ("get", "/api/v1/incidents/INC-000001"),
        ("get", "/api/v1/incidents/INC-000001/comments"),
        ("post", "/api/v1/incidents/INC-000001/comments"),
    ],
)
def test_incidents_need_a_token(client, alice, make_incident, method, path):
    make_incident(alice)
    response = getattr(client, method)(path, json={"title": "t", "description": "d", "body": "b"})
    assert response.status_code == 401 and "token" in response.get_json()["message"].lower()
    wrong = getattr(client, method)(path, headers={"Authorization": "Bearer ff_nope"})
    assert wrong.status_code == 401
    assert _incident_count() == 1


def test_a_signed_in_session_is_not_enough(client, auth, alice, bob, bearer):
    # The API is CSRF-exempt, so a browser's session cookie must not raise incidents.
    auth.login(alice)
    assert client.post("/api/v1/incidents", json=GOOD).status_code == 401
    assert client.get("/api/v1/incidents").status_code == 401
    mixed = client.post("/api/v1/incidents", json=GOOD, headers=bearer(bob))
    assert mixed.status_code == 401
    assert _incident_count() == 0


# -- who sees what ---------------------------------------------------------------------


def test_an_employee_cannot_reach_another_employees_incident(
    client, alice, bob, make_incident, bearer
):
    ref = make_incident(alice).ref
    headers = bearer(bob)
    for path in (f"/api/v1/incidents/{ref}", f"/api/v1/incidents/{ref}/comments"):
        response = client.get(path, headers=headers)
        assert response.status_code == 404 and ref in response.get_json()["message"]
    response = client.post(
        f"/api/v1/incidents/{ref}/comments", json={"body": "Me too"}, headers=headers
    )
    assert response.status_code == 404
    assert client.get("/api/v1/incidents", headers=headers).get_json()["total"] == 0
    assert db.session.scalar(select(func.count(Comment.id))) == 0


@pytest.mark.parametrize("ref", ["INC-999999", "nope", "%ED%A0%80"])
def test_unknown_incident_is_a_json_404(client, alice, bearer, ref):
    response = client.get(f"/api/v1/incidents/{ref}", headers=bearer(alice))
    assert response.status_code == 404 and response.get_json()["error"] == "Not Found"


def test_a_nul_in_the_reference_is_a_json_400(client, alice, bearer):
    response = client.get("/api/v1/incidents/INC%00", headers=bearer(alice))
    assert response.status_code == 400 and "NUL" in response.get_json()["message"]


def test_the_reference_is_case_insensitive(client, alice, make_incident, bearer):
    make_incident(alice)
    response = client.get("/api/v1/incidents/inc-000001", headers=bearer(alice))
    assert response.get_json()["ref"] == "INC-000001"


def test_a_follower_reads_the_public_view_and_writes_nothing(
    client, alice, bob, agent, make_incident, bearer
):
    incident = make_incident(alice)
    services.follow(incident, bob)
    services.add_comment(incident, alice, "My badge is 4471")
    services.add_comment(incident, agent, "Alice, try the other dock")
    services.add_comment(incident, agent, "A fix is rolling out", for_followers=True)
    db.session.commit()
    headers = bearer(bob)
    data = client.get("/api/v1/incidents/INC-000001", headers=headers).get_json()
    assert data["view"] == "public" and data["title"] == incident.title
    assert "description" not in data and "requester" not in data and "priority" not in data
    assert alice.email not in str(data)
    listed = client.get("/api/v1/incidents", headers=headers).get_json()
    assert [i["ref"] for i in listed["results"]] == ["INC-000001"]
    assert listed["results"][0] == data
    comments = client.get("/api/v1/incidents/INC-000001/comments", headers=headers).get_json()
    assert [c["body"] for c in comments["results"]] == ["A fix is rolling out"]
    response = client.post(
        "/api/v1/incidents/INC-000001/comments", json={"body": "Same here"}, headers=headers
    )
    assert response.status_code == 403
    assert "only the person who raised it" in response.get_json()["error"]
    assert len(reload_comments(incident)) == 3
    mine = client.get("/api/v1/incidents/INC-000001", headers=bearer(alice)).get_json()
    assert mine["view"] == "full" and mine["description"] == incident.description_md


def reload_comments(incident):
    db.session.rollback()
    return db.session.get(type(incident), incident.id).comments


def test_staff_see_every_incident_with_its_sla(client, alice, agent, make_incident, bearer):
    make_incident(alice)
    data = client.get("/api/v1/incidents/INC-000001", headers=bearer(agent)).get_json()
    assert data["sla"] == {"response": "ok", "resolution": "ok"}
    listed = client.get("/api/v1/incidents", headers=bearer(agent)).get_json()
    assert listed["total"] == 1 and "sla" in listed["results"][0]


# -- lists -----------------------------------------------------------------------------


def test_list_is_paginated_newest_first(client, alice, make_incident, bearer):
    for n in range(3):
        make_incident(alice, title=f"Problem {n}")
    headers = bearer(alice)
    first = client.get("/api/v1/incidents?per_page=2", headers=headers).get_json()
    assert (first["total"], first["page"], first["per_page"]) == (3, 1, 2)
    assert [i["title"] for i in first["results"]] == ["Problem 2", "Problem 1"]
    second = client.get("/api/v1/incidents?per_page=2&page=2", headers=headers).get_json()
    assert [i["title"] for i in second["results"]] == ["Problem 0"]
    beyond = client.get("/api/v1/incidents?page=9", headers=headers).get_json()
    assert beyond["results"] == [] and beyond["total"] == 3


def test_an_employee_lists_only_their_own_even_without_mine(
    client, alice, bob, make_incident, bearer
):
    make_incident(alice, title="Alice's")
    make_incident(bob, title="Bob's")
    for query in ("", "?mine=1", "?mine=0"):
        data = client.get(f"/api/v1/incidents{query}", headers=bearer(bob)).get_json()
        assert [i["title"] for i in data["results"]] == ["Bob's"]


def test_staff_mine_means_raised_by_or_assigned_to_them(
    client, alice, agent, make_user, make_incident, bearer
):
    other_agent = make_user("agent")
    assigned = make_incident(alice, title="Assigned to Agnes")
    make_incident(alice, title="Nobody's")
    make_incident(agent, title="Raised by Agnes")
    services.assign(make_incident(alice, title="Someone else's"), other_agent, other_agent)
    services.assign(assigned, agent, agent)
    db.session.commit()
    headers = bearer(agent)
    everything = client.get("/api/v1/incidents", headers=headers).get_json()
    assert everything["total"] == 4
    mine = client.get("/api/v1/incidents?mine=1", headers=headers).get_json()
    assert [i["title"] for i in mine["results"]] == ["Raised by Agnes", "Assigned to Agnes"]
    assert mine["results"][1]["assignee"] == {"name": "Agnes", "email": agent.email}


def test_status_filter(client, alice, agent, make_incident, bearer):
    waiting = make_incident(alice, title="Waiting")
    make_incident(alice, title="New")
    services.change_status(waiting, "waiting", agent)
    db.session.commit()
    headers = bearer(alice)
    data = client.get("/api/v1/incidents?status=waiting", headers=headers).get_json()
    assert [i["title"] for i in data["results"]] == ["Waiting"]
    assert client.get("/api/v1/incidents?status=open", headers=headers).get_json()["total"] == 2
    assert client.get("/api/v1/incidents?status=closed", headers=headers).get_json()["total"] == 0


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=done", "status"),
        ("status=NEW", "status"),
        ("page=0", "page"),
        ("page=x", "page"),
        ("per_page=101", "per_page"),
        ("per_page=-1", "per_page"),
        ("mine=maybe", "mine"),
    ],
)
def test_bad_list_parameters_are_a_400(client, alice, bearer, query, field):
    response = client.get(f"/api/v1/incidents?{query}", headers=bearer(alice))
    assert response.status_code == 400 and response.get_json()["field"] == field


# -- comments --------------------------------------------------------------------------


def test_internal_notes_are_for_staff_only(client, alice, agent, make_incident, bearer):
    make_incident(alice)
    staff = bearer(agent)
    url = "/api/v1/incidents/INC-000001/comments"
    note = client.post(url, json={"body": "Check the **PSU**", "internal": True}, headers=staff)
    assert note.status_code == 201
    data = note.get_json()
    assert data["internal"] is True and data["body"] == "Check the **PSU**"
    assert data["author"] == {"name": "Agnes", "email": agent.email}
    assert "<strong>PSU</strong>" in data["body_html"]
    _utc_time(data["created_at"])
    reply = client.post(url, json={"body": "Does it charge?", "internal": False}, headers=staff)
    assert reply.status_code == 201 and reply.get_json()["internal"] is False
    seen_by_alice = client.get(url, headers=bearer(alice)).get_json()["results"]
    assert [c["body"] for c in seen_by_alice] == ["Does it charge?"]
    seen_by_staff = client.get(url, headers=staff).get_json()["results"]
    assert [c["body"] for c in seen_by_staff] == ["Check the **PSU**", "Does it charge?"]


def test_an_employee_cannot_write_an_internal_note(client, alice, make_incident, bearer):
    make_incident(alice)
    response = client.post(
        "/api/v1/incidents/INC-000001/comments",
        json={"body": "psst", "internal": True},
        headers=bearer(alice),
    )
    assert response.status_code == 403 and response.get_json()["field"] == "internal"
    assert db.session.scalar(select(func.count(Comment.id))) == 0


def test_the_requester_replies(client, alice, make_incident, bearer):
    make_incident(alice)
    response = client.post(
        "/api/v1/incidents/INC-000001/comments",
        json={"body": "It beeps twice."},
        headers=bearer(alice),
    )
    assert response.status_code == 201
    data = response.get_json()
    assert set(data) >= {"id", "author", "body", "internal", "created_at"}
    assert data["internal"] is False and data["author"]["name"] == "Alice"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "body"),
        ({"body": ""}, "body"),
        ({"body": "   "}, "body"),
        ({"body": 7}, "body"),
        ({"body": "x", "internal": "yes"}, "internal"),
        ({"body": "x", "internal": 1}, "internal"),
        ({"body": "x", "attachments": []}, "attachments"),
    ],
)
def test_bad_comment_is_a_400(client, agent, alice, make_incident, bearer, body, field):
    make_incident(alice)
    response = client.post(
        "/api/v1/incidents/INC-000001/comments", json=body, headers=bearer(agent)
    )
    assert response.status_code == 400 and response.get_json()["field"] == field


def test_replying_to_a_closed_incident_is_a_conflict(client, alice, agent, make_incident, bearer):
    incident = make_incident(alice)
    services.resolve(incident, agent, "Replaced the charger.")
    services.confirm(incident, alice)
    db.session.commit()
    response = client.post(
        "/api/v1/incidents/INC-000001/comments", json={"body": "Again"}, headers=bearer(alice)
    )
    assert response.status_code == 409 and "reopen" in response.get_json()["error"]
    resolved = client.get("/api/v1/incidents/INC-000001", headers=bearer(alice)).get_json()
    assert resolved["status"] == "closed" and resolved["solution"] == "Replaced the charger."
    _utc_time(resolved["resolved_at"])
    _utc_time(resolved["closed_at"])


# -- updates for followers ---------------------------------------------------------------


def test_an_agent_posts_an_update_that_followers_read(
    client, alice, bob, agent, make_user, make_incident, bearer
):
    incident = make_incident(alice)
    services.follow(incident, bob)
    db.session.commit()
    carol = make_user("employee", name="Carol")
    response = client.post(
        "/api/v1/incidents/inc-000001/updates",
        json={"body": "A fix is **rolling out** tonight."},
        headers=bearer(agent),
    )
    assert response.status_code == 201
    data = response.get_json()
    assert data["for_followers"] is True and data["internal"] is False
    assert data["author"]["name"] == "Agnes" and "<strong>rolling out</strong>" in data["body_html"]
    url = "/api/v1/incidents/INC-000001/comments"
    for reader in (bob, alice):
        seen = client.get(url, headers=bearer(reader)).get_json()["results"]
        assert [c["body"] for c in seen] == ["A fix is **rolling out** tonight."]
    assert client.get(url, headers=bearer(carol)).status_code == 404
    listed = client.get("/api/v1/incidents", headers=bearer(carol)).get_json()
    assert listed["total"] == 0
    assert [m.subject for m in mails(bob.email)] == ["[INC-000001] Update: Laptop will not start"]
    assert mails(carol.email) == []


def test_only_the_service_desk_posts_updates(client, alice, bob, agent, make_incident, bearer):
    incident = make_incident(alice)
    services.follow(incident, bob)
    db.session.commit()
    for who in (alice, bob):
        response = client.post(
            "/api/v1/incidents/INC-000001/updates", json={"body": "Fixed?"}, headers=bearer(who)
        )
        assert response.status_code == 403
        assert response.get_json() == {"error": "only the service desk posts updates for followers"}
    assert reload_comments(incident) == []
    missing = client.post(
        "/api/v1/incidents/INC-999999/updates", json={"body": "Hello"}, headers=bearer(agent)
    )
    assert missing.status_code == 404 and missing.get_json()["error"] == "Not Found"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "body"),
        ({"body": ""}, "body"),
        ({"body": "  \n "}, "body"),
        ({"body": 7}, "body"),
        ({"body": "x", "internal": True}, "internal"),
        ([], None),
    ],
)
def test_a_bad_update_is_a_400_with_a_message(
    client, alice, agent, make_incident, bearer, body, field
):
    incident = make_incident(alice)
    response = client.post("/api/v1/incidents/INC-000001/updates", json=body, headers=bearer(agent))
    assert response.status_code == 400
    data = response.get_json()
    assert data["error"] and data.get("field") == field
    assert reload_comments(incident) == []


def test_an_update_must_be_json(client, alice, agent, make_incident, bearer):
    make_incident(alice)
    response = client.post(
        "/api/v1/incidents/INC-000001/updates", data="Hello", headers=bearer(agent)
    )
    assert response.status_code == 400
    assert response.get_json() == {
        "error": "send a JSON object with 'Content-Type: application/json'"
    }
