"""Who may open and change what, for every incident route, as one table; and what each
person reads of an incident on every surface (page, history, API, list, mail, CSV).

Employees see only their own incidents, those shared with them and, as a public view, those
they follow: never internal notes or their files, not even by guessing a reference or a URL.
A follower reads the title, status, the desk's updates for followers and the solution, never
the requester's words, files, address or conversation, and writes nothing. Staff routes
answer 403 to employees before they look anything up; agents and editors may do everything.
A refused request changes nothing."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from portal.accounts.services import create_token
from portal.extensions import db
from portal.incidents import attachments, services
from portal.incidents.models import Incident
from tests.incidents.conftest import PNG, mails

LOGIN = "login"  # redirected to the sign-in page
REFUSED = NOT = "refused"  # sent back to the incident with a "Not done" message
SECRET = "Quokka-7731"  # in an internal note and the name of a staff-only file

# Every incident route (under /incidents) and what it answers to another employee, the
# requester, a follower, a colleague the requester shared it with, an agent and an editor
# (NOT: refused with a message); the last column says whether an allowed request changes
# an incident (a refused one never does).
# fmt: off
ROUTES = [
    # name             method and path                    other req  fol  shar agt  edit changes
    ("detail",         "GET /{ref}",                      404, 200, 200, 200, 200, 200, False),
    ("comment",        "POST /{ref}/comments",            404, 302, NOT, 302, 302, 302, True),
    ("triage",         "POST /{ref}/triage",              403, 403, 403, 403, 302, 302, True),
    ("assign",         "POST /{ref}/assign",              403, 403, 403, 403, 302, 302, True),
    ("assign-me",      "POST /{ref}/assign-me",           403, 403, 403, 403, 302, 302, True),
    ("confirm",        "POST /{resolved}/status",         404, 302, NOT, NOT, 302, 302, True),
    ("reopen",         "POST /{resolved}/status",         404, 302, NOT, NOT, 302, 302, True),
    ("move",           "POST /{ref}/status",              404, NOT, NOT, NOT, 302, 302, True),
    ("resolve-form",   "GET /{ref}/resolve",              403, 403, 403, 403, 200, 200, False),
    ("resolve",        "POST /{ref}/resolve",             403, 403, 403, 403, 302, 302, True),
    ("suggestion-link","POST /{ref}/suggestions/{a}/link",403, 403, 403, 403, 302, 302, True),
    ("suggestion-send","POST /{ref}/suggestions/{a}/send",403, 403, 403, 403, 302, 302, True),
    ("file",           "GET /{ref}/attachments/{public}", 404, 200, 404, 200, 200, 200, False),
    ("staff-file",     "GET /{ref}/attachments/{staff}",  404, 404, 404, 404, 200, 200, False),
    ("follow-closed",  "POST /{closed}/follow",           404, 404, 404, 404, 404, 404, False),
    ("share",          "POST /{ref}/share",               404, 302, NOT, NOT, NOT, NOT, True),
    ("unshare",        "POST /{ref}/unshare/{shared}",    404, 302, NOT, NOT, NOT, NOT, True),
    ("queue",          "GET /queue",                      403, 403, 403, 403, 200, 200, False),
    ("bulk-assign",    "POST /queue",                     403, 403, 403, 403, 302, 302, True),
    ("my-incidents",   "GET /",                           200, 200, 200, 200, 200, 200, False),
    ("raise-form",     "GET /new",                        200, 200, 200, 200, 200, 200, False),
]
# fmt: on
FORMS = {
    "comment": {"body": "Hello"},
    "triage": {"impact": "low", "urgency": "low"},
    "assign": {"assignee": "{agent}"},
    "confirm": {"status": "closed"},
    "reopen": {"status": "reopened"},
    "move": {"status": "waiting"},
    "resolve": {"solution": "Replaced the cable."},
    "bulk-assign": {"ids": "{id}", "assignee": "{agent}"},
    "share": {"email": "oscar@example.com"},
}
ROLES = ["anonymous", "other", "requester", "follower", "shared", "agent", "editor"]
TABLE = [
    pytest.param(name, *route.split(" "), answers, changes, id=name)
    for name, route, *answers, changes in ROUTES
]

# What the world below holds, each in one place only.
MARKS = {
    "title": "Laptop will not start",  # the incident's title
    "description": "The screen stays black",  # the requester's description
    "address": "erin@example.com",  # the requester's mail address
    "name": "Erin Employee",  # the requester's name
    "words": "Wombat-4471",  # the requester's reply
    "reply": "Koala-dock",  # the desk's reply to the requester
    "update": "Platypus-tonight",  # the desk's update for followers
    "note": SECRET,  # an internal note
    "file": "screen.png",  # the requester's file
    "staff-article": "staff-mfa-reset",  # a staff-only article linked to it
    "triage": "impact medium",  # the history line of a triage change
}
FULL = {"title", "description", "words", "reply", "update", "file"}
# What each person reads on the incident page, and what must reach them on no surface.
SEES = {
    "requester": FULL,
    "follower": {"title", "update"},
    "shared": FULL,
    "agent": set(MARKS) - {"address"},  # the page names the requester; the API has the address
    "editor": set(MARKS) - {"address"},
}
NEVER = {
    "anonymous": set(MARKS),
    "other": set(MARKS),
    "requester": {"note", "staff-article", "triage"},
    "follower": set(MARKS) - {"title", "update"},
    "shared": {"note", "staff-article", "triage"},
    "agent": set(),
    "editor": set(),
}
# What each person is mailed (every mail they got, bodies and HTML).
MAILED = {
    "requester": {"reply", "update"},
    "follower": {"update"},
    "shared": {"reply", "update"},
}


@pytest.fixture
def world(make_user, make_incident, make_article, employee, other, agent):
    """An open incident with a public and a staff-only file, an internal note, a requester's
    reply, a desk's reply and update for followers, a triage change and a linked staff-only
    article; a resolved and a closed one, all raised by the requester. A follower follows
    the first two, a colleague has them shared."""
    article = make_article(title="Restart the laptop", symptoms="Laptop will not start")
    staff_only = make_article(
        title="Reset MFA for a user", slug=MARKS["staff-article"], visibility="staff"
    )
    follower = make_user("employee", email="fay@example.com", name="Fay Follower")
    shared = make_user("employee", email="sam@example.com", name="Sam Shared")
    editor = make_user("editor", email="eddie@example.com", name="Eddie Editor")
    incident = make_incident(status="in_progress", agent=agent)
    resolved = make_incident(title="Resolved one", status="resolved", agent=agent)
    closed = make_incident(title="Closed one", status="closed", agent=agent)
    services.follow(incident, follower)
    services.follow(resolved, follower)
    services.share(incident, employee, shared.email)
    services.share(resolved, employee, shared.email)
    note = services.add_comment(incident, agent, f"Admin password {SECRET}", internal=True)
    services.add_comment(incident, employee, f"My badge number is {MARKS['words']}")
    services.add_comment(incident, agent, f"Erin, try the other dock ({MARKS['reply']})")
    services.add_comment(
        incident, agent, f"A fix rolls out ({MARKS['update']})", for_followers=True
    )
    services.triage(incident, agent, impact="high")
    services.link_article(incident, staff_only.id, agent)
    db.session.flush()
    public = attachments.save(incident, employee, MARKS["file"], io.BytesIO(PNG))
    internal = attachments.save(
        incident, agent, f"{SECRET}.log", io.BytesIO(b"log\n"), comment_id=note.id, internal=True
    )
    db.session.commit()
    people = {
        "other": other,
        "requester": employee,
        "follower": follower,
        "shared": shared,
        "agent": agent,
        "editor": editor,
    }
    values = {
        "ref": incident.ref,
        "id": str(incident.id),
        "resolved": resolved.ref,
        "closed": closed.ref,
        "a": str(article.id),
        "public": str(public.id),
        "staff": str(internal.id),
        "agent": str(agent.id),
        "shared": str(shared.id),
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
            len(i.shares),
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
    for mark in NEVER[role]:
        assert MARKS[mark].encode() not in response.data, mark


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


# -- what each person reads, surface by surface ----------------------------------------


def _read(client, role, people, values, surface) -> str:
    """Everything one surface shows this person of the incident."""
    ref = values["ref"]
    if surface == "page":
        return client.get(f"/incidents/{ref}").text
    if surface == "history":
        page = client.get(f"/incidents/{ref}").text
        return (
            page.split("<h2>History</h2>", 1)[1].split("</section>", 1)[0]
            if ("<h2>History</h2>" in page)
            else ""
        )
    if surface == "list":
        return client.get("/incidents/").text
    if surface == "api":
        user = people.get(role)
        headers = {"Authorization": f"Bearer {create_token(user)}"} if user else {}
        db.session.commit()
        return "".join(
            client.get(url, headers=headers).get_data(as_text=True)
            for url in (
                f"/api/v1/incidents/{ref}",
                f"/api/v1/incidents/{ref}/comments",
                "/api/v1/incidents",
            )
        )
    if surface == "mail":
        user = people.get(role)
        return "".join(m.body + m.html for m in mails(user.email)) if user else ""
    if surface == "csv":
        return client.get("/reports/categories?format=csv").get_data(as_text=True)
    raise ValueError(surface)


SURFACES = ["page", "history", "list", "api", "mail", "csv"]


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize("role", ROLES)
def test_what_each_person_reads(client, sign_in, world, role, surface):
    people, values, _ = world
    if role != "anonymous":
        sign_in(people[role])
    text = _read(client, role, people, values, surface)
    for mark in NEVER[role]:
        assert MARKS[mark] not in text, f"{role} reads {mark} on the {surface}"
    if surface == "page":
        for mark in SEES.get(role, ()):
            assert MARKS[mark] in text, f"{role} misses {mark} on the page"
    if surface == "mail":
        for mark in MAILED.get(role, ()):
            assert MARKS[mark] in text, f"{role} was not mailed {mark}"


def test_a_follower_sees_the_public_view_only(client, sign_in, world):
    people, values, _ = world
    sign_in(people["follower"])
    page = client.get(f"/incidents/{values['ref']}").text
    assert "public view of someone else's incident" in page
    assert 'name="body"' not in page  # nothing to write into the requester's conversation
    assert "Stop following" in page and "Shared with" not in page
    assert "It is not fixed: reopen" not in client.get(f"/incidents/{values['resolved']}").text
    listed = client.get("/incidents/").text
    assert "You follow it" in listed and "waiting for you" not in listed


def test_the_requesters_history_keeps_triage_and_staff_articles_with_staff(client, sign_in, world):
    people, values, _ = world
    ref = values["ref"]
    sign_in(people["requester"])
    history = _read(client, "requester", people, values, "history")
    assert "status New → In progress" in history
    assert history.count("replied") == 2 and "posted an update" in history
    for hidden in ("impact", "priority", "linked article", "internal note", "Fay Follower"):
        assert hidden not in history, hidden
    sign_in(people["follower"])
    history = _read(client, "follower", people, values, "history")
    assert "status New → In progress" in history and "posted an update" in history
    assert "replied" not in history and "Erin" not in history
    sign_in(people["agent"])
    history = _read(client, "agent", people, values, "history")
    for shown in ("impact medium → high", "linked article staff-mfa-reset", "added an internal"):
        assert shown in history, shown
    assert client.get(f"/incidents/{ref}").status_code == 200


def test_a_readable_linked_article_shows_in_the_requesters_history(
    client, sign_in, world, make_article, agent
):
    people, values, _ = world
    public = make_article(title="Dock firmware update", slug="dock-firmware-update")
    incident = db.session.get(Incident, int(values["id"]))
    services.link_article(incident, public.id, agent)
    db.session.commit()
    for role in ("requester", "follower", "shared"):
        sign_in(people[role])
        assert "dock-firmware-update" in _read(client, role, people, values, "history"), role


def test_a_follower_of_a_self_solved_incident_does_not_read_who_raised_it(
    client, sign_in, make_user, make_incident, make_article, employee
):
    article = make_article(title="Restart the dock", symptoms="Dock does not charge")
    incident = make_incident(title="Dock does not charge")
    follower = make_user("employee", email="fay@example.com", name="Fay Follower")
    services.follow(incident, follower)
    assert services.self_solve(incident, employee, article)
    db.session.commit()
    sign_in(follower)
    page = client.get(f"/incidents/{incident.ref}").text
    assert "Restart the dock" in page  # the solution a follower may read
    assert "Erin" not in page
