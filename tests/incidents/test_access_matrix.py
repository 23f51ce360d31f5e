"""Who may open and change what, for every incident route, as one table.

Employees see only their own incidents and those they follow, never internal notes or their
files, not even by guessing a reference or a URL; staff routes answer 403 to employees before
they look anything up; agents may do everything. A refused request changes nothing."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.incidents import attachments, services
from portal.incidents.models import Incident
from tests.incidents.conftest import PNG

LOGIN = "login"  # redirected to the sign-in page
REFUSED = "refused"  # sent back to the incident with a "Not done" message
SECRET = "Quokka-7731"  # in an internal note and the name of a staff-only file

# Every incident route (under /incidents) and what it answers to another employee, the
# requester, a follower and an agent; the last column says whether an allowed request changes
# an incident (a refused one never does).
# fmt: off
ROUTES = [
    # name              method and path                     other requester follower agent changes
    ("detail",          "GET /{ref}",                       404, 200,     200,     200, False),
    ("comment",         "POST /{ref}/comments",             404, 302,     302,     302, True),
    ("triage",          "POST /{ref}/triage",               403, 403,     403,     302, True),
    ("assign",          "POST /{ref}/assign",               403, 403,     403,     302, True),
    ("assign-me",       "POST /{ref}/assign-me",            403, 403,     403,     302, True),
    ("confirm",         "POST /{resolved}/status",          404, 302,     REFUSED, 302, True),
    ("reopen",          "POST /{resolved}/status",          404, 302,     302,     302, True),
    ("move",            "POST /{ref}/status",               404, REFUSED, REFUSED, 302, True),
    ("resolve-form",    "GET /{ref}/resolve",               403, 403,     403,     200, False),
    ("resolve",         "POST /{ref}/resolve",              403, 403,     403,     302, True),
    ("suggestion-link", "POST /{ref}/suggestions/{a}/link", 403, 403,     403,     302, True),
    ("suggestion-send", "POST /{ref}/suggestions/{a}/send", 403, 403,     403,     302, True),
    ("file",            "GET /{ref}/attachments/{public}",  404, 200,     200,     200, False),
    ("staff-file",      "GET /{ref}/attachments/{staff}",   404, 404,     404,     200, False),
    ("follow-closed",   "POST /{closed}/follow",            404, 404,     404,     404, False),
    ("queue",           "GET /queue",                       403, 403,     403,     200, False),
    ("bulk-assign",     "POST /queue",                      403, 403,     403,     302, True),
    ("my-incidents",    "GET /",                            200, 200,     200,     200, False),
    ("raise-form",      "GET /new",                         200, 200,     200,     200, False),
]
# fmt: on
FORMS = {
    "comment": {"body": "Hello"},
    "triage": {"impact": "high", "urgency": "high"},
    "assign": {"assignee": "{agent}"},
    "confirm": {"status": "closed"},
    "reopen": {"status": "reopened"},
    "move": {"status": "waiting"},
    "resolve": {"solution": "Replaced the cable."},
    "bulk-assign": {"ids": "{id}", "assignee": "{agent}"},
}
ROLES = ["anonymous", "other", "requester", "follower", "agent"]
TABLE = [
    pytest.param(name, *route.split(" "), answers, changes, id=name)
    for name, route, *answers, changes in ROUTES
]


@pytest.fixture
def world(make_user, make_incident, make_article, employee, other, agent):
    """An open incident with a public and a staff-only file and an internal note, a resolved
    and a closed one, all raised by the requester; a follower of the first two."""
    article = make_article(title="Restart the laptop", symptoms="Laptop will not start")
    follower = make_user("employee", email="fay@example.com", name="Fay Follower")
    incident = make_incident(status="in_progress", agent=agent)
    resolved = make_incident(title="Resolved one", status="resolved", agent=agent)
    closed = make_incident(title="Closed one", status="closed", agent=agent)
    note = services.add_comment(incident, agent, f"Admin password {SECRET}", internal=True)
    db.session.flush()
    public = attachments.save(incident, employee, "screen.png", io.BytesIO(PNG))
    internal = attachments.save(
        incident, agent, f"{SECRET}.log", io.BytesIO(b"log\n"), comment_id=note.id, internal=True
    )
    services.follow(incident, follower)
    services.follow(resolved, follower)
    db.session.commit()
    people = {"other": other, "requester": employee, "follower": follower, "agent": agent}
    values = {
        "ref": incident.ref,
        "id": str(incident.id),
        "resolved": resolved.ref,
        "closed": closed.ref,
        "a": str(article.id),
        "public": str(public.id),
        "staff": str(internal.id),
        "agent": str(agent.id),
    }
    return people, values, (incident.id, resolved.id, closed.id)


def snapshot(ids) -> list[tuple]:
    """What a change to the incidents would show: status, people, counts."""
    db.session.rollback()
    found = db.session.scalars(select(Incident).where(Incident.id.in_(ids)).order_by(Incident.id))
    return [
        (
            i.status,
            i.assignee_id,
            i.priority,
            len(i.comments),
            len(i.events),
            len(i.article_links),
            len(i.followers),
        )
        for i in found
    ]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("route", "method", "path", "answers", "changes"), TABLE)
def test_access(client, sign_in, world, role, route, method, path, answers, changes):
    people, values, ids = world
    expected = LOGIN if role == "anonymous" else answers[ROLES.index(role) - 1]
    if role != "anonymous":
        sign_in(people[role])
    url = "/incidents" + path.format(**values)
    form = {k: v.format(**values) for k, v in FORMS.get(route, {}).items()}
    before = snapshot(ids)

    response = client.open(url, method=method, data=form if method == "POST" else None)
    response.get_data()
    response.close()

    if expected == LOGIN:
        assert response.status_code == 302
        assert response.location.startswith("/login?next=")
    elif expected == REFUSED:
        assert response.status_code == 302
        page = client.get(response.location).text
        assert '<p class="flash flash-error">Not done: ' in page
    else:
        assert response.status_code == expected
    allowed = expected in (200, 302)
    assert (snapshot(ids) != before) == (allowed and changes)
    if role != "agent":
        assert SECRET.encode() not in response.data
    if role in ("anonymous", "other"):
        assert b"Laptop will not start" not in response.data


def test_a_guessed_reference_looks_like_a_missing_one(client, sign_in, world):
    people, values, _ = world
    sign_in(people["other"])
    guessed = client.get(f"/incidents/{values['ref']}")
    missing = client.get("/incidents/INC-999999")
    assert guessed.status_code == missing.status_code == 404
    assert guessed.data == missing.data


@pytest.mark.parametrize("ref", ["INC%00", "INC-000001%00", "X" * 300, "%ED%A0%80", "inc-1"])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_malformed_reference_is_never_found(client, sign_in, world, ref, method):
    people, _, _ = world
    sign_in(people["agent"])
    path = f"/incidents/{ref}" if method == "GET" else f"/incidents/{ref}/follow"
    # a NUL may be refused for the whole portal before the route sees it; never a 500
    expected = (400, 404) if "%00" in ref else (404,)
    assert client.open(path, method=method).status_code in expected


def test_the_service_never_queries_a_malformed_reference(app):
    for ref in ("INC\x00", "X" * 300, ""):
        assert services.get_by_ref(ref) is None
