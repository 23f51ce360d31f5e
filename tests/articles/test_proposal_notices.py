"""The agent who proposed a change to a published article hears the editor's decision: in
their inbox and by mail (unless they chose otherwise), and nobody else does."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.articles import proposals
from portal.articles.services import to_data
from portal.extensions import db
from portal.notifications import preferences
from portal.notifications.models import MailMessage, Notification
from tests.conftest import PASSWORD


@pytest.fixture
def people(make_user):
    return {
        "author": make_user("agent", email="ada@example.com", name="Ada Agent"),
        "other": make_user("agent", email="otto@example.com", name="Otto Agent"),
        "editor": make_user("editor", email="eddie@example.com", name="Eddie Editor"),
        "employee": make_user("employee", email="erin@example.com"),
    }


def _as(app, user):
    c = app.test_client()
    assert c.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    return c


def _propose(article, author, title: str):
    data = to_data(article)
    data.title = title
    revision = proposals.propose(article, data, author, note="clearer title")
    db.session.commit()
    return revision


def _notices() -> list[tuple[int, str]]:
    db.session.rollback()
    return [(n.user_id, n.text) for n in db.session.scalars(select(Notification))]


def _mails() -> list[MailMessage]:
    db.session.rollback()
    return list(db.session.scalars(select(MailMessage).where(MailMessage.kind != "")))


def test_the_author_hears_an_approval_with_the_editors_comment(app, people, make_article):
    article = make_article(title="Printer offline", slug="printer-offline")
    revision = _propose(article, people["author"], "Printer shows offline")
    url = f"/articles/printer-offline/proposals/{revision.number}"
    response = _as(app, people["editor"]).post(
        url, data={"approve": "Approve", "comment": "Much clearer, thanks"}
    )
    assert response.status_code == 302

    text = "Eddie Editor approved your change to “Printer shows offline”: Much clearer, thanks"
    assert _notices() == [(people["author"].id, text)]
    author = _as(app, people["author"])
    inbox = author.get("/notifications").text
    assert f'<a href="{url}">{text}</a>' in inbox

    [mail] = _mails()
    assert mail.to_address == "ada@example.com" and mail.kind == "proposal_decided"
    assert mail.subject == "Your change to “Printer shows offline” was approved"
    assert "Eddie Editor approved revision 2" in mail.body
    assert "Much clearer, thanks" in mail.body and "Much clearer, thanks" in mail.html
    assert f"http://127.0.0.1:5000{url}" in mail.body
    assert "Please type your reply above this line" not in mail.body

    # Nobody else is told: not another agent, not the editor, not an employee.
    for who in ("other", "editor"):
        assert "Printer shows offline" not in _as(app, people[who]).get("/notifications").text
    assert _as(app, people["employee"]).get("/notifications").status_code == 403

    # Opening the proposal's page reads the notice.
    author.get(url)
    db.session.rollback()
    assert db.session.scalars(select(Notification)).one().read_at is not None


def test_the_author_hears_a_send_back_and_why(app, people, make_article):
    article = make_article(title="Badge reader", slug="badge-reader")
    revision = _propose(article, people["author"], "Badge reader broken")
    _as(app, people["editor"]).post(
        f"/articles/badge-reader/proposals/{revision.number}",
        data={"send_back": "Send back", "comment": "Name the **reader model**"},
    )
    text = "Eddie Editor sent back your change to “Badge reader”: Name the **reader model**"
    assert _notices() == [(people["author"].id, text)]
    [mail] = _mails()
    assert mail.to_address == "ada@example.com"
    assert mail.subject == "Your change to “Badge reader” was sent back"
    assert "Readers keep seeing the published text" in mail.body
    assert "<strong>reader model</strong>" in mail.html  # the comment, rendered and sanitised
    inbox = _as(app, people["author"]).get("/notifications").text
    assert f"/articles/badge-reader/proposals/{revision.number}" in inbox


def test_an_author_who_chose_no_mail_sees_it_in_the_inbox_only(app, people, make_article):
    preferences.set_choice(people["author"], "proposal_decided", False)
    db.session.commit()
    article = make_article(title="Wifi drops", slug="wifi-drops")
    revision = _propose(article, people["author"], "Wifi drops every hour")
    _as(app, people["editor"]).post(
        f"/articles/wifi-drops/proposals/{revision.number}", data={"approve": "Approve"}
    )
    assert _notices() == [
        (people["author"].id, "Eddie Editor approved your change to “Wifi drops every hour”")
    ]
    assert _mails() == []
    profile = _as(app, people["author"]).get("/profile").text
    assert "An editor approved or sent back your change to an article" in profile


def test_an_editor_deciding_on_their_own_proposal_is_not_told(app, people, make_article):
    article = make_article(title="VPN times out", slug="vpn-times-out")
    author = people["author"]
    revision = _propose(article, author, "VPN client times out")
    author.set_roles({"agent", "editor"})  # promoted while the proposal waited
    db.session.commit()
    response = _as(app, author).post(
        f"/articles/vpn-times-out/proposals/{revision.number}", data={"approve": "Approve"}
    )
    assert response.status_code == 302
    assert proposals.waiting_count() == 0
    assert _notices() == []
    assert _mails() == []
