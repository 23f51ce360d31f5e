"""The links in an acknowledgement: a page that asks, a button that acts. "This solved it"
closes the incident as self-solved and counts as a deflection by mail; "I still need help"
keeps it open, or raises it in answer-first mode. And `flask mail receive` on stdin."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal import settings
from portal.analytics import reports
from portal.analytics.models import SearchEvent
from portal.extensions import db
from portal.incidents.models import Incident
from portal.notifications import intake
from portal.notifications.models import InboundMail, MailMessage
from portal.timeutil import utcnow
from tests.notifications import mails
from tests.notifications.test_intake import PRINTER_TEXT

LINK = re.compile(r"(This solved it|I still need help): (http\S+)")


def acknowledgement(to: str = "erin@example.com") -> MailMessage:
    db.session.rollback()
    return db.session.scalars(
        select(MailMessage).where(MailMessage.to_address == to).order_by(MailMessage.id)
    ).first()


def links(mail: MailMessage) -> dict[str, str]:
    found = {}
    for label, url in LINK.findall(mail.body):
        found.setdefault(label, url.replace("http://127.0.0.1:5000", ""))
    return found


@pytest.fixture
def mailed(app, library, employee):
    outcome = intake.receive(mails.thunderbird_new(text=PRINTER_TEXT))
    assert outcome.status in ("incident", "answered")
    return outcome


def test_this_solved_it_asks_first_then_closes_the_incident_as_self_solved(
    client, mailed, employee
):
    solved = links(acknowledgement())["This solved it"]

    page = client.get(solved)  # opening the link (or a scanner following it) changes nothing
    assert page.status_code == 200
    assert "Did this article solve your problem?" in page.text
    assert "Yes, this solved it: close INC-000001" in page.text
    db.session.rollback()
    incident = db.session.scalars(select(Incident)).one()
    assert incident.status == "new"

    done = client.post(solved)
    assert done.status_code == 200 and "We closed INC-000001 as solved" in done.text
    db.session.rollback()
    incident = db.session.scalars(select(Incident)).one()
    assert (incident.status, incident.is_self_solved) == ("closed", True)
    assert [link.article.slug for link in incident.article_links] == ["printer-offline"]
    assert incident.article_links[0].article.helpful_count == 1

    again = client.post(solved)
    assert "is closed" in again.text and again.status_code == 200

    # The mail counts in the self-service rate as a session that needed no incident.
    event = db.session.scalars(select(SearchEvent).where(SearchEvent.source == "mail")).one()
    assert event.incident_id is None and event.voted is True
    today = utcnow().date()
    total = reports.self_service(reports.Period(today, today))["total"]
    assert (total["sessions"], total["self_served"], total["by_mail"]) == (1, 1, 1)


def test_i_still_need_help_keeps_the_incident_open(client, mailed):
    help_link = links(acknowledgement())["I still need help"]
    assert "Do you still need help?" in client.get(help_link).text
    done = client.post(help_link)
    assert "INC-000001 stays open" in done.text
    db.session.rollback()
    incident = db.session.scalars(select(Incident)).one()
    assert incident.status == "new"
    assert any(e.kind == "still_needs_help" for e in incident.events)


def test_in_answer_first_mode_the_links_record_a_deflection_or_raise_the_incident(
    app, client, library, employee
):
    settings.put("mail_answer_first", True)
    db.session.commit()
    outcome = intake.receive(mails.thunderbird_new(text=PRINTER_TEXT))
    assert outcome.status == "answered"
    answer = acknowledgement()
    assert db.session.scalars(select(Incident)).all() == []

    done = client.post(links(answer)["This solved it"])
    assert "no incident was raised" in done.text
    db.session.rollback()
    assert db.session.get(InboundMail, outcome.inbound_id).status == "solved"

    again = mails.thunderbird_new(subject="Printer offline again", text=PRINTER_TEXT)
    second = intake.receive(again)
    assert second.status == "answered"
    latest = db.session.scalars(select(MailMessage).order_by(MailMessage.id.desc())).first()
    done = client.post(links(latest)["I still need help"])
    assert "We raised INC-000001" in done.text
    db.session.rollback()
    (incident,) = db.session.scalars(select(Incident)).all()
    assert incident.source == "mail" and incident.description_md.startswith("Since this morning")


def test_a_forged_or_broken_link_is_refused(client, mailed):
    solved = links(acknowledgement())["This solved it"]
    assert client.get(solved[:-3] + "xyz").status_code == 404
    assert client.post(solved[:-3] + "xyz").status_code == 404
    db.session.rollback()
    assert db.session.scalars(select(Incident)).one().status == "new"


# -- flask mail receive ----------------------------------------------------------------


def test_mail_receive_takes_a_message_on_stdin(runner, library, employee):
    result = runner.invoke(args=["mail", "receive"], input=mails.thunderbird_new())
    assert result.exit_code == 0, result.output
    assert result.output.startswith("incident (raised INC-000001")
    db.session.rollback()
    assert db.session.scalars(select(Incident)).one().source == "mail"

    ack = acknowledgement()
    result = runner.invoke(
        args=["mail", "receive"], input=mails.out_of_office(ack.message_id, ack.subject)
    )
    assert result.exit_code == 0 and result.output.startswith("ignored (automatic mail")
    result = runner.invoke(args=["mail", "receive"], input=b"")
    assert result.exit_code == 0 and "empty" in result.output


def test_mail_receive_asks_the_mta_to_retry_when_the_database_fails(runner, monkeypatch):
    from sqlalchemy.exc import OperationalError

    def broken(*args, **kwargs):
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(intake, "receive", broken)
    result = runner.invoke(args=["mail", "receive"], input=mails.thunderbird_new())
    assert result.exit_code == 75
