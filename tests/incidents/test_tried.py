"""Which searches belong to an incident, and what a draft may carry of them: one rule
(portal/incidents/tried.py) for the agent's panel, the article draft and the reports."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from portal.articles.models import Article
from portal.extensions import db
from portal.incidents import tried
from portal.incidents.models import Incident
from tests.conftest import PASSWORD

VPN_TITLE = "VPN will not connect"
VPN_TEXT = "Since this morning I cannot connect to the VPN from home. My name is Erin."
REPEATED = " ".join(["outlook calendar"] * 150)  # a 300-word repeated query
UNRELATED = [
    "holiday allowance 2026",
    "phone number of Oscar Other",
    "*",
    "AND",
    "x" * 2000,
    REPEATED,
    "expenses form",
]
RELATED = ["vpn not connecting", "cisco anyconnect vpn error", "vpn wont connect from home"]


def test_junk_says_nothing_and_never_belongs():
    for junk in ("*", "AND", "x" * 2000, " ".join(["x"] * 2000), "", "not working please help"):
        assert tried.is_junk(junk), junk
    assert not tried.is_junk("vpn slow")


def test_only_the_last_few_searches_sharing_words_belong(app):
    queries = ["vpn", *UNRELATED[:3], *RELATED, *UNRELATED[3:]]
    keep = tried.belonging(VPN_TITLE, VPN_TEXT, queries)
    assert [queries[i] for i in keep] == RELATED  # the oldest "vpn" falls beyond the three
    assert len(keep) == tried.BELONGING_MAX
    # Words every complaint carries ("not", "working", "error") tie nothing together.
    assert tried.belonging("Printer not working", "", ["wifi not working", "error"]) == []


def test_meaning_counts_when_the_words_differ(app, monkeypatch):
    seen = {}

    def similarity(text, others):
        seen["asked"] = list(others)
        return [0.72 if o == "pc does not turn on" else 0.40 for o in others]

    monkeypatch.setattr(tried, "semantic_similarity", similarity)
    queries = ["pc does not turn on", "printer offline", "laptop battery"]
    keep = tried.belonging("Laptop will not start", "", queries)
    assert [queries[i] for i in keep] == ["pc does not turn on", "laptop battery"]
    assert seen["asked"] == ["pc does not turn on", "printer offline"]  # words decided the rest


def test_a_draft_never_carries_addresses_or_names():
    text = "call Oscar Other on +44 20 7946 0958, oscar@example.com, 12 Baker Street vpn"
    assert tried.scrub(text, ["Oscar Other"]) == "call on vpn"
    assert tried.scrub(REPEATED) == "outlook calendar"
    assert tried.neutral("My laptop won't start since I updated it") == (
        "The laptop won't start since updated it"
    )
    assert tried.neutral("I can't print, Erin", ["Erin Employee"]) == "Can't print"


def _search(client, text):
    assert client.get("/search", query_string={"q": text}).status_code == 200


@pytest.fixture
def two_requesters(app, make_user, employee):
    """Erin searches for many things, then raises a VPN incident; Oscar, in another browser at
    the same time, searches for the VPN too and raises nothing."""
    oscar = make_user("employee", email="oscar@example.com", name="Oscar Other")
    erin_browser, oscar_browser = app.test_client(), app.test_client()
    for browser, user in ((erin_browser, employee), (oscar_browser, oscar)):
        browser.post("/login", data={"email": user.email, "password": PASSWORD})
    for text in UNRELATED[:4]:
        _search(erin_browser, text)
    _search(oscar_browser, "vpn password for oscar")
    for text in RELATED:
        _search(erin_browser, text)
    for text in UNRELATED[4:]:
        _search(erin_browser, text)
    _search(oscar_browser, "vpn token oscar example")
    response = erin_browser.post(
        "/incidents/new", data={"title": VPN_TITLE, "description": VPN_TEXT, "checked": "1"}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return db.session.scalars(select(Incident)).one()


def _tried_panel(page: str) -> str:
    match = re.search(r'<section class="panel tried">(.*?)</section>', page, re.S)
    assert match, "no 'What the requester tried' panel"
    return html.unescape(match.group(1))


def test_the_agent_panel_shows_the_searches_for_this_problem_and_the_rest_behind_show_all(
    app, two_requesters, agent, employee
):
    ref = two_requesters.ref
    staff = app.test_client()
    staff.post("/login", data={"email": agent.email, "password": PASSWORD})
    panel = _tried_panel(staff.get(f"/incidents/{ref}").get_data(as_text=True))
    related, _, rest = panel.partition('<details class="searches-other">')
    for text in RELATED:
        assert f"“{text}”" in related and text not in rest
    assert "Show all: 7 other searches of the session" in rest
    assert "phone number of Oscar Other" in rest and "expenses form" in rest
    assert "oscar example" not in panel  # another person's searches never mix in

    requester = app.test_client()
    requester.post("/login", data={"email": employee.email, "password": PASSWORD})
    assert "What the requester tried" not in requester.get(f"/incidents/{ref}").get_data(
        as_text=True
    )


def test_the_draft_carries_only_the_searches_of_this_problem_in_neutral_words(
    app, two_requesters, agent
):
    from portal.incidents import services

    incident = two_requesters
    draft = services.resolve(incident, agent, "Reinstall the VPN client.", create_article=True)
    db.session.commit()
    body = db.session.get(Article, draft.id).body_md
    symptoms = body.split("## Symptoms", 1)[1].split("## Applies to", 1)[0]
    assert symptoms.strip().splitlines() == [
        "- VPN will not connect",
        '- People searched for: "vpn not connecting", "cisco anyconnect vpn error", '
        '"vpn wont connect from home"',
    ]
    for private in ("Erin", "Oscar", "My name", "cannot connect to the VPN from home", "xxx"):
        assert private not in body, private
    for other in UNRELATED:
        assert other[:20] not in body
