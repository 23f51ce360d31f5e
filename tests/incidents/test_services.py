"""The verbs of an incident as the service desk and the requester notice them: references,
priorities and due times, the status table, the clock, resolving, capturing, closing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from portal import search, settings
from portal.access import STAFF
from portal.articles import checks
from portal.articles.models import Article
from portal.articles.services import save_article, to_data
from portal.extensions import db
from portal.incidents import services
from portal.incidents.models import STATUSES, IncidentEvent
from portal.incidents.services import IncidentError
from portal.incidents.similar import similar_open
from portal.timeutil import as_utc, utcnow
from tests.incidents.conftest import mails

FRIDAY_1755 = datetime(2026, 11, 27, 17, 55, tzinfo=UTC)
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
H = timedelta(hours=1)


# -- raising ----------------------------------------------------------------------------


def test_references_are_sequential_and_unique(make_incident):
    refs = [make_incident(title=f"Problem {n}").ref for n in range(3)]
    assert refs == ["INC-000001", "INC-000002", "INC-000003"]
    assert services.get_by_ref("inc-000002").title == "Problem 1"


def test_raising_tells_the_requester(make_incident, employee):
    incident = make_incident(title="VPN drops every hour")
    [mail] = mails(employee.email)
    assert mail.subject == "[INC-000001] We received your incident: VPN drops every hour"
    assert mail.incident_id == incident.id and "/incidents/INC-000001" in mail.body


@pytest.mark.parametrize(
    ("title", "description", "fields", "field", "message"),
    [
        ("   ", "text", {}, "title", "a title is required"),
        ("x" * 201, "text", {}, "title", "longer than 200"),
        ("Printer", "  ", {}, "description", "a description is required"),
        ("Printer", "text", {"category": "Nope"}, "category", "unknown category 'Nope'"),
        ("Printer", "text", {"impact": "huge"}, "impact", "high, medium, low"),
        ("Printer", "text", {"subcategory": "Toner"}, "subcategory", "needs a category"),
    ],
)
def test_raising_refuses_bad_input_naming_the_field(
    app, employee, title, description, fields, field, message
):
    with pytest.raises(IncidentError, match=message) as caught:
        services.raise_incident(employee, title, description, **fields)
    assert caught.value.field == field


def test_raising_keeps_category_and_subcategory(make_article, make_incident):
    make_article(category="Network", subcategory="VPN")
    incident = make_incident(category="network", subcategory="VPN")
    assert (incident.category.name, incident.subcategory.name) == ("Network", "VPN")


# -- priority and due times -------------------------------------------------------------


PRODUCT_MATRIX = {
    ("high", "high"): "P1",
    ("high", "medium"): "P2",
    ("high", "low"): "P3",
    ("medium", "high"): "P2",
    ("medium", "medium"): "P3",
    ("medium", "low"): "P4",
    ("low", "high"): "P3",
    ("low", "medium"): "P4",
    ("low", "low"): "P5",
}


@pytest.mark.parametrize(("impact", "urgency"), list(PRODUCT_MATRIX))
def test_triage_sets_the_priority_from_the_matrix(make_incident, agent, impact, urgency):
    incident = make_incident()
    services.triage(incident, agent, impact=impact, urgency=urgency)
    assert incident.priority == PRODUCT_MATRIX[(impact, urgency)]


def test_triage_records_who_changed_what(make_incident, make_article, agent):
    make_article(category="Network", subcategory="VPN")
    incident = make_incident()
    services.triage(
        incident, agent, category="network", subcategory="network-vpn", impact="high", urgency="low"
    )
    db.session.commit()
    changes = {
        e.field: (e.old_value, e.new_value, e.actor.name) for e in incident.events if e.field
    }
    assert changes == {
        "category": ("", "Network", "Alex Agent"),
        "subcategory": ("", "VPN", "Alex Agent"),
        "impact": ("medium", "high", "Alex Agent"),
        "urgency": ("medium", "low", "Alex Agent"),
    }  # the priority stays P3: high impact and low urgency is P3 too


def test_an_admins_matrix_is_used(make_incident, agent):
    changed = settings.get("priority_matrix")
    changed["low"]["low"] = "P4"
    settings.put("priority_matrix", changed)
    db.session.commit()
    incident = make_incident()
    services.triage(incident, agent, impact="low", urgency="low")
    assert incident.priority == "P4"


def test_p1_raised_friday_1755_is_due_the_same_evening(make_incident):
    incident = make_incident(impact="high", urgency="high", now=FRIDAY_1755)
    assert incident.priority == "P1"
    assert as_utc(incident.response_due_at) == datetime(2026, 11, 27, 18, 10, tzinfo=UTC)
    assert as_utc(incident.resolution_due_at) == datetime(2026, 11, 27, 21, 55, tzinfo=UTC)


def test_p3_raised_friday_1755_is_due_wednesday(make_incident):
    incident = make_incident(now=FRIDAY_1755)
    assert incident.priority == "P3"
    assert as_utc(incident.response_due_at) == datetime(2026, 11, 30, 11, 55, tzinfo=UTC)
    assert as_utc(incident.resolution_due_at) == datetime(2026, 12, 2, 17, 55, tzinfo=UTC)
    assert as_utc(incident.next_due_at) == as_utc(incident.response_due_at)


def test_a_holiday_moves_the_p3_to_thursday(make_incident):
    settings.put("holidays", ["2026-11-30"])
    db.session.commit()
    incident = make_incident(now=FRIDAY_1755)
    assert as_utc(incident.resolution_due_at) == datetime(2026, 12, 3, 17, 55, tzinfo=UTC)


def test_business_hours_are_the_portals_local_hours(make_incident):
    settings.put("timezone", "Europe/Berlin")
    db.session.commit()
    friday_1755_berlin = datetime(2026, 11, 27, 16, 55, tzinfo=UTC)
    incident = make_incident(now=friday_1755_berlin)
    assert as_utc(incident.resolution_due_at) == datetime(2026, 12, 2, 16, 55, tzinfo=UTC)


def test_triage_to_p1_brings_the_due_times_forward(make_incident, agent):
    incident = make_incident(now=FRIDAY_1755)
    services.triage(incident, agent, impact="high", urgency="high")
    db.session.commit()
    assert as_utc(incident.resolution_due_at) == datetime(2026, 11, 27, 21, 55, tzinfo=UTC)
    assert [(e.old_value, e.new_value) for e in incident.events if e.field == "priority"] == [
        ("P3", "P1")
    ]


# -- the status table -------------------------------------------------------------------

# Which status may follow which, and who may move it (PRODUCT.md, "Work" and "Resolve").
ALLOWED = {
    "agent": {
        "new": {"in_progress", "waiting", "resolved"},
        "in_progress": {"waiting", "resolved"},
        "waiting": {"in_progress", "resolved"},
        "reopened": {"in_progress", "waiting", "resolved"},
        "resolved": {"closed", "reopened"},
        "closed": {"reopened"},
    },
    "requester": {
        "resolved": {"closed", "reopened"},
        "closed": {"reopened"},
    },
}
LABELS = {
    "new": "New",
    "in_progress": "In progress",
    "waiting": "Waiting on requester",
    "resolved": "Resolved",
    "closed": "Closed",
    "reopened": "Reopened",
}


def _try(incident, target, user):
    if target == "resolved":
        services.resolve(incident, user, "Replaced the cable.")
    else:
        services.change_status(incident, target, user)


@pytest.mark.parametrize("actor", ["agent", "requester"])
@pytest.mark.parametrize("target", STATUSES)
@pytest.mark.parametrize("current", STATUSES)
def test_the_transition_table(make_incident, agent, employee, current, target, actor):
    incident = make_incident(status=current, agent=agent)
    user = agent if actor == "agent" else employee
    if target in ALLOWED[actor].get(current, set()):
        _try(incident, target, user)
        db.session.commit()
        assert incident.status == target
        moves = [e for e in incident.events if e.kind == "status"]
        assert (moves[-1].old_value, moves[-1].new_value) == (current, target)
        assert moves[-1].actor_id == user.id
        return
    before = len(incident.events)
    with pytest.raises(IncidentError) as caught:
        _try(incident, target, user)
    message = str(caught.value)
    if target == "resolved" and actor == "requester":
        assert message == "only the service desk resolves incidents"
    elif current == target:
        assert message == f"The incident is already {LABELS[target]}."
    else:
        who = "the service desk" if actor == "agent" else "you"
        assert message == (
            f"An incident that is {LABELS[current]} cannot be moved to {LABELS[target]} by {who}."
        )
    db.session.rollback()
    assert incident.status == current and len(incident.events) == before


def test_change_status_sends_resolving_to_the_resolve_form(make_incident, agent):
    incident = make_incident()
    with pytest.raises(IncidentError, match="resolving needs a solution") as caught:
        services.change_status(incident, "resolved", agent)
    assert caught.value.field == "solution" and incident.status == "new"


def test_another_employee_cannot_touch_the_incident(make_incident, other, agent):
    incident = make_incident(status="resolved", agent=agent)
    for attempt in (
        lambda: services.change_status(incident, "closed", other),
        lambda: services.confirm(incident, other),
        lambda: services.reopen(incident, other),
        lambda: services.add_comment(incident, other, "me too"),
    ):
        with pytest.raises(IncidentError, match="you cannot"):
            attempt()
    assert incident.status == "resolved"


# -- the clock --------------------------------------------------------------------------


def test_waiting_pauses_the_clock_and_a_reply_restarts_it(make_incident, agent, employee):
    incident = make_incident(impact="high", urgency="high", now=MONDAY_10)  # P1, 4 h
    services.add_comment(incident, agent, "Which VPN client?", now=MONDAY_10 + timedelta(minutes=5))
    services.change_status(incident, "waiting", agent, now=MONDAY_10 + H)
    db.session.commit()
    assert incident.resolution_due_at is None and incident.next_due_at is None
    assert services.sla_status(incident, now=MONDAY_10 + 10 * H)["resolution"] == "paused"
    assert mails(employee.email)[-1].subject.startswith("[INC-000001] We need your answer")

    services.add_comment(incident, employee, "The built-in one.", now=MONDAY_10 + 3 * H)
    db.session.commit()

    assert incident.status == "in_progress"
    # Due at 14:00 without the pause; the two hours waiting move it to 16:00.
    assert as_utc(incident.resolution_due_at) == MONDAY_10 + 6 * H
    assert as_utc(incident.next_due_at) == MONDAY_10 + 6 * H
    [pause] = incident.pauses
    assert (as_utc(pause.started_at), as_utc(pause.ended_at)) == (MONDAY_10 + H, MONDAY_10 + 3 * H)
    move = [e for e in incident.events if e.kind == "status"][-1]
    assert (move.old_value, move.new_value, move.actor) == ("waiting", "in_progress", None)


def test_a_pause_on_business_hours_moves_the_due_time_by_business_time(make_incident, agent):
    incident = make_incident(now=MONDAY_10)  # P3: 3 business days, due Thursday 10:00
    assert as_utc(incident.resolution_due_at) == datetime(2026, 11, 26, 10, tzinfo=UTC)
    services.change_status(incident, "waiting", agent, now=MONDAY_10 + H)
    # Waiting from Monday 11:00 to Tuesday 11:00 is one business day of pause.
    services.change_status(incident, "in_progress", agent, now=MONDAY_10 + 25 * H)
    assert as_utc(incident.resolution_due_at) == datetime(2026, 11, 27, 10, tzinfo=UTC)


def test_first_response_is_the_first_public_reply(make_incident, agent, employee):
    incident = make_incident(now=MONDAY_10)
    services.add_comment(incident, employee, "It is urgent.", now=MONDAY_10 + H)
    services.add_comment(incident, agent, "Looks like the disk.", internal=True, now=MONDAY_10 + H)
    assert incident.first_response_at is None
    assert as_utc(incident.next_due_at) == as_utc(incident.response_due_at)
    services.add_comment(incident, agent, "We are on it.", now=MONDAY_10 + 2 * H)
    services.add_comment(incident, agent, "Still on it.", now=MONDAY_10 + 3 * H)
    assert as_utc(incident.first_response_at) == MONDAY_10 + 2 * H
    assert as_utc(incident.next_due_at) == as_utc(incident.resolution_due_at)
    assert services.sla_status(incident, now=MONDAY_10 + 3 * H)["response"] == "met"


def test_first_response_is_a_move_to_in_progress_by_an_agent(make_incident, agent):
    incident = make_incident(now=MONDAY_10)
    services.change_status(incident, "in_progress", agent, now=MONDAY_10 + 5 * H)
    assert as_utc(incident.first_response_at) == MONDAY_10 + 5 * H
    assert services.sla_status(incident, now=MONDAY_10 + 5 * H)["response"] == "missed"


def test_breached_and_at_risk(make_incident, agent):
    incident = make_incident(impact="high", urgency="high", now=MONDAY_10)  # P1
    assert services.sla_status(incident, now=MONDAY_10 + timedelta(minutes=5)) == {
        "response": "ok",
        "resolution": "ok",
    }
    assert services.sla_status(incident, now=MONDAY_10 + timedelta(minutes=13))["response"] == (
        "at_risk"
    )
    services.add_comment(incident, agent, "On it.", now=MONDAY_10 + timedelta(minutes=10))
    assert services.sla_status(incident, now=MONDAY_10 + 3.5 * H)["resolution"] == "at_risk"
    assert services.sla_status(incident, now=MONDAY_10 + 4 * H)["resolution"] == "breached"


# -- conversation and mail --------------------------------------------------------------


def test_internal_notes_are_staff_only_and_mail_nobody(make_incident, agent, employee):
    incident = make_incident()
    before = len(mails())
    note = services.add_comment(incident, agent, "Password reset log attached.", internal=True)
    assert note.is_internal and len(mails()) == before
    assert [e.is_internal for e in incident.events if e.kind == "note"] == [True]
    with pytest.raises(IncidentError, match="only the service desk writes internal notes"):
        services.add_comment(incident, employee, "secret", internal=True)


def test_public_reply_mails_requester_and_assignee_hears_back(make_incident, agent, employee):
    incident = make_incident()
    services.assign(incident, agent, agent)
    services.add_comment(incident, agent, "Please restart the laptop.")
    services.add_comment(incident, employee, "Done, still black.")
    db.session.commit()
    subjects = {(m.to_address, m.subject.split(":")[0]) for m in mails()}
    assert (employee.email, "[INC-000001] New reply") in subjects
    assert (agent.email, "[INC-000001] The requester replied") in subjects


def test_assigning_tells_the_assignee_unless_they_took_it(make_incident, agent, make_user):
    other_agent = make_user("agent", email="bea@example.com")
    incident = make_incident()
    services.assign(incident, agent, agent)
    assert mails(agent.email) == []
    services.assign(incident, other_agent, agent)
    assert [m.subject for m in mails("bea@example.com")] == [
        "[INC-000001] Assigned to you: Laptop will not start"
    ]


def test_only_staff_can_be_assigned(make_incident, agent, other):
    incident = make_incident()
    with pytest.raises(IncidentError, match="is not on the service desk"):
        services.assign(incident, other, agent)


def test_a_requester_cannot_reply_on_a_closed_incident(make_incident, agent, employee):
    incident = make_incident(status="closed", agent=agent)
    with pytest.raises(IncidentError, match="closed; reopen it"):
        services.add_comment(incident, employee, "One more thing")


def test_followers_hear_of_updates_and_the_solution_not_the_conversation(
    make_incident, agent, employee, other
):
    incident = make_incident(title="VPN drops every hour")
    assert services.follow(incident, other) is True
    assert services.follow(incident, other) is False
    assert services.follow(incident, employee) is False  # the requester already hears
    services.add_comment(incident, agent, "Erin, which laptop do you use?")
    services.add_comment(incident, agent, "A new gateway goes in tonight.", for_followers=True)
    services.change_status(incident, "waiting", agent)
    services.change_status(incident, "in_progress", agent)
    services.resolve(incident, agent, "Replaced the gateway.")
    db.session.commit()
    requester = [m.subject for m in mails(employee.email)]
    assert "[INC-000001] New reply: VPN drops every hour" in requester
    assert "[INC-000001] We need your answer: VPN drops every hour" in requester
    assert "[INC-000001] Resolved: VPN drops every hour" in requester
    follower = mails(other.email)
    assert [m.subject for m in follower] == [
        "[INC-000001] Update: VPN drops every hour",
        "[INC-000001] Resolved: VPN drops every hour",
    ]
    assert "A new gateway goes in tonight." in follower[0].body
    assert "Replaced the gateway." in follower[1].body
    for mail in follower:
        assert "Erin" not in mail.body and "erin@example.com" not in mail.body + mail.html
        assert "reopen" not in mail.body.lower()


def test_similar_open_incidents_are_known_issues(make_incident, agent):
    vpn = make_incident(title="VPN drops every hour")
    make_incident(title="Printer jams on floor 3")
    make_incident(title="VPN drops after an hour", status="closed", agent=agent)
    found = similar_open("The VPN drops all the time")
    assert found == [vpn]  # the closed one is not a known issue any more
    assert similar_open("printer jams")[0].title == "Printer jams on floor 3"
    assert similar_open("keyboard missing keys") == []
    assert similar_open("") == []


# -- resolving and capturing ------------------------------------------------------------


def test_resolving_needs_a_solution(make_incident, agent):
    incident = make_incident()
    with pytest.raises(IncidentError, match="resolving needs a solution") as caught:
        services.resolve(incident, agent, "   ")
    assert caught.value.field == "solution"
    assert incident.status == "new" and incident.resolved_at is None


@pytest.mark.parametrize(
    ("status", "message"),
    [
        ("resolved", "The incident is already Resolved."),
        ("closed", "An incident that is Closed cannot be moved to Resolved by the service desk."),
    ],
)
def test_resolving_twice_is_refused_with_a_message(make_incident, agent, status, message):
    incident = make_incident(status=status, agent=agent)
    with pytest.raises(IncidentError) as caught:
        services.resolve(incident, agent, "Again.")
    assert str(caught.value) == message and incident.solution_md == "Restarted the laptop."


def test_resolving_with_an_article_counts_a_reuse(make_incident, make_article, agent, employee):
    article = make_article(title="Restart the VPN client")
    incident = make_incident()
    services.resolve(incident, agent, "Restarted the client.", article_ids=[article.id])
    db.session.commit()
    assert article.reuse_count == 1
    assert [(link.article_id, link.kind) for link in incident.article_links] == [
        (article.id, "used")
    ]
    assert services.solved_count(article) == 1
    assert incident.status == "resolved" and incident.resolved_at is not None
    assert mails(employee.email)[-1].subject == "[INC-000001] Resolved: Laptop will not start"
    assert "Restarted the client." in mails(employee.email)[-1].body


def test_linking_the_same_article_again_counts_once(make_incident, make_article, agent):
    article = make_article()
    incident = make_incident()
    assert services.link_article(incident, article.id, agent) is True
    assert services.link_article(incident, article.id, agent) is False
    services.resolve(incident, agent, "Fixed.", article_ids=[article.id])
    db.session.commit()
    assert article.reuse_count == 1


def test_resolving_with_the_same_article_twice_links_it_once(make_incident, make_article, agent):
    article = make_article()
    incident = make_incident()
    services.resolve(incident, agent, "Fixed.", article_ids=[article.id, article.id])
    db.session.commit()
    assert article.reuse_count == 1 and len(incident.article_links) == 1


def test_linking_a_missing_article_is_refused(make_incident, agent):
    with pytest.raises(IncidentError, match="no article 999"):
        services.resolve(make_incident(), agent, "Fixed.", article_ids=[999])


def test_an_article_created_from_the_incident(make_article, make_incident, agent, make_user):
    editor = make_user("editor")
    make_article(category="Network", subcategory="VPN", title="Something else entirely")
    incident = make_incident(
        title="VPN drops every hour",
        description="The VPN disconnects every hour.\nReconnecting works for a while.",
        category="Network",
        subcategory="VPN",
        search_context={
            "queries": [{"q": "vpn disconnects", "total": 0}, {"q": "vpn hourly", "total": 2}],
            "articles": [],
            "votes": [],
        },
    )
    draft = services.resolve(
        incident, agent, "1. Update the VPN client\n2. Reboot", create_article=True
    )
    db.session.commit()

    assert draft.status == "review" and draft.title == "VPN drops every hour"
    assert draft.slug == "vpn-drops-every-hour"
    assert (draft.category.name, draft.subcategory.name) == ("Network", "VPN")
    symptoms = draft.body_md.split("## Symptoms", 1)[1].split("## Applies to", 1)[0]
    assert symptoms.strip().splitlines()[0] == "- VPN drops every hour"
    assert "The VPN disconnects every hour." not in symptoms  # the requester's own text
    assert '"vpn disconnects", "vpn hourly"' in symptoms
    resolution = draft.body_md.split("## Resolution", 1)[1]
    assert "1. Update the VPN client\n2. Reboot\n3. If this did not help" in resolution
    [link] = incident.article_links
    assert (link.article_id, link.kind) == (draft.id, "created")
    assert draft.reuse_count == 0 and services.solved_count(draft) == 1
    assert draft.revisions[0].note == "Created from INC-000001"
    # a draft is not found by search until an editor publishes it
    assert draft.slug not in [h.slug for h in search.search("vpn disconnects", STAFF).hits]

    data = to_data(draft)
    data.status = "published"
    data.body_md = data.body_md.replace(checks.CAUSE_PLACEHOLDER, "An old client.").replace(
        checks.APPLIES_TO_PLACEHOLDER, "The VPN client on laptops"
    )
    save_article(data, editor, note="reviewed")
    db.session.commit()
    hits = search.search("vpn disconnects", STAFF).hits
    assert hits and hits[0].slug == "vpn-drops-every-hour"


def test_drafts_from_incidents_with_the_same_title_get_their_own_slug(make_incident, agent):
    first = services.resolve(
        make_incident(title="Teams crashes"), agent, "Fix", create_article=True
    )
    second = services.resolve(
        make_incident(title="Teams crashes"), agent, "Fix", create_article=True
    )
    assert (first.slug, second.slug) == ("teams-crashes", "teams-crashes-2")


@pytest.mark.parametrize(
    "title",
    [
        "a" * 99 + " b is a very long title that goes on and on past a hundred characters",
        "Écran noir après la mise à jour",
        "打印机无法连接",
    ],
)
def test_a_draft_gets_a_valid_slug_from_any_title(make_incident, agent, title):
    draft = services.resolve(make_incident(title=title), agent, "Fixed.", create_article=True)
    db.session.commit()
    assert draft.slug and not draft.slug.endswith("-") and len(draft.slug) <= 100
    assert db.session.scalar(select(Article.id).where(Article.slug == draft.slug)) == draft.id


# -- confirming, reopening, closing -----------------------------------------------------


def test_the_requester_confirms_and_the_incident_closes(make_incident, agent, employee):
    incident = make_incident(status="resolved", agent=agent)
    services.change_status(incident, "closed", employee)
    assert incident.status == "closed" and incident.closed_at is not None
    assert incident.next_due_at is None


def test_the_requester_reopens_within_14_days(make_incident, agent, employee):
    resolved_at = utcnow() - timedelta(days=13)
    incident = make_incident(status="resolved", agent=agent, now=resolved_at)
    services.reopen(incident, employee, "Still black after a day.")
    db.session.commit()
    assert incident.status == "reopened" and incident.reopen_count == 1
    assert incident.resolved_at is None
    assert incident.comments[-1].body_md == "Still black after a day."


def test_only_the_requester_confirms_the_fix(make_incident, agent, employee, other):
    incident = make_incident(status="resolved", agent=agent)
    services.follow(incident, other)
    db.session.commit()
    with pytest.raises(IncidentError, match="only the person who raised this incident can"):
        services.change_status(incident, "closed", other)
    assert incident.status == "resolved"
    with pytest.raises(IncidentError, match="only the person who raised this incident can"):
        services.reopen(incident, other, "Not fixed for me either.")  # nor reopen it
    with pytest.raises(IncidentError, match="only the person who raised this incident can"):
        services.change_status(incident, "reopened", other)
    assert incident.status == "resolved" and incident.comments == []


@pytest.mark.parametrize("status", ["resolved", "closed"])
def test_reopening_after_14_days_is_refused(make_incident, agent, employee, status):
    incident = make_incident(status=status, agent=agent, now=utcnow() - timedelta(days=15))
    with pytest.raises(IncidentError, match="more than 14 days ago; please raise a new one"):
        services.change_status(incident, "reopened", employee)
    assert incident.status == status
    services.reopen(incident, agent)  # the service desk still can
    assert incident.status == "reopened"


def test_autoclose_after_five_business_days(make_incident, agent):
    resolved = datetime(2026, 11, 20, 10, tzinfo=UTC)  # a Friday
    incident = make_incident(status="resolved", agent=agent, now=resolved)
    assert services.autoclose(now=datetime(2026, 11, 27, 9, 59, tzinfo=UTC)) == 0
    assert incident.status == "resolved"
    assert services.autoclose(now=datetime(2026, 11, 27, 10, tzinfo=UTC)) == 1
    db.session.commit()
    assert incident.status == "closed"
    assert services.autoclose(now=datetime(2026, 11, 30, 10, tzinfo=UTC)) == 0
    move = [e for e in incident.events if e.kind == "status"][-1]
    assert (move.new_value, move.actor_id) == ("closed", None)


def test_autoclose_command_is_idempotent(runner, make_incident, agent):
    old = make_incident(status="resolved", agent=agent, now=utcnow() - timedelta(days=10))
    recent = make_incident(status="resolved", agent=agent, now=utcnow() - timedelta(hours=1))
    first = runner.invoke(args=["incidents", "autoclose"])
    second = runner.invoke(args=["incidents", "autoclose"])
    assert first.exit_code == 0 and first.output.strip() == "closed 1 incidents"
    assert second.exit_code == 0 and second.output.strip() == "closed 0 incidents"
    db.session.rollback()
    assert (old.status, recent.status) == ("closed", "resolved")


def test_suggestion_clicks_are_counted(make_incident, make_article, agent):
    article = make_article()
    incident = make_incident()
    services.record_suggestion_click(incident, agent, article, "send")
    db.session.commit()
    [event] = db.session.scalars(select(IncidentEvent).where(IncidentEvent.kind == "suggestion"))
    assert (event.field, event.new_value, event.is_internal) == ("send", article.slug, True)
