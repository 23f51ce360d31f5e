"""Mail in, through the one intake function, with messages shaped as real clients send them:
new mail becomes an incident with its files and an acknowledgement offering the matching
articles; replies thread into the right incident without their quoted history; noise gets
no answer; strangers, spoofed senders and duplicates are handled as a desk would."""

from __future__ import annotations

from email import message_from_bytes, policy

import pytest
from sqlalchemy import select

from portal import settings, transactions
from portal.accounts.services import find_user
from portal.analytics.models import SearchEvent
from portal.extensions import db
from portal.incidents import services
from portal.incidents.models import Attachment, Comment, Incident
from portal.notifications import intake
from portal.notifications.models import InboundMail, MailMessage, Notification
from tests.notifications import mails

PRINTER_TEXT = (
    "Since this morning the printer on floor 3 is listed as offline and my print jobs stay "
    "in the queue. I attached a screenshot."
)


@pytest.fixture
def desk(make_user):
    return [
        make_user("agent", email="alex@example.com", name="Alex Agent"),
        make_user("agent", email="bea@example.com", name="Bea Agent"),
    ]


def take(raw: bytes, source: str = "pipe") -> intake.Outcome:
    outcome = intake.receive(raw, source=source)
    db.session.rollback()  # see what intake committed
    return outcome


def outbox(to: str | None = None) -> list[MailMessage]:
    stmt = select(MailMessage).order_by(MailMessage.id)
    if to:
        stmt = stmt.where(MailMessage.to_address == to)
    return list(db.session.scalars(stmt))


def incidents() -> list[Incident]:
    return list(db.session.scalars(select(Incident).order_by(Incident.id)))


# -- a new mail ------------------------------------------------------------------------


def test_a_new_mail_becomes_an_incident_with_its_files_and_an_answering_acknowledgement(
    app, library, employee, desk
):
    outcome = take(mails.thunderbird_new(subject="Printer shows as offline", text=PRINTER_TEXT))

    assert outcome.status == "incident", outcome
    (incident,) = incidents()
    assert outcome.incident_ref == incident.ref == "INC-000001"
    assert incident.requester_id == employee.id and incident.source == "mail"
    assert incident.title == "Printer shows as offline"
    assert incident.description_md.startswith("Since this morning the printer on floor 3")
    # The inline screenshot and the PDF are kept; the .exe fails the web form's checks.
    files = db.session.scalars(select(Attachment).where(Attachment.incident_id == incident.id))
    assert sorted((f.filename, f.content_type) for f in files) == [
        ("error-report.pdf", "application/pdf"),
        ("screenshot.png", "image/png"),
    ]
    refused = [e for e in incident.events if e.kind == "files_refused"]
    assert refused and "fixer.exe" in refused[0].new_value and refused[0].is_internal

    (ack,) = outbox("erin@example.com")
    assert ack.subject == "[INC-000001] We received your incident: Printer shows as offline"
    assert "Printer shows as offline" in ack.body and "This solved it: http" in ack.body
    assert "I still need help: http" in ack.body
    assert "Printer staff procedure" not in ack.body, "staff-only articles stay staff-only"
    assert 'href="http://127.0.0.1:5000/articles/printer-offline"' in ack.html
    assert ack.in_reply_to.endswith("@mail.example.com>"), "threads under the sender's mail"
    assert "<INC-000001.incident@example.com>" in ack.thread_references

    # The desk hears: each agent has it in the top bar; P3 is not mailed by default.
    notes = db.session.scalars(select(Notification).order_by(Notification.user_id)).all()
    assert [(n.user_id, n.kind) for n in notes] == [(a.id, "new_incident") for a in desk]
    assert outbox("alex@example.com") == []

    row = db.session.scalars(select(InboundMail)).one()
    assert (row.status, row.incident_id, row.raw) == ("incident", incident.id, None)
    event = db.session.scalars(select(SearchEvent).where(SearchEvent.source == "mail")).one()
    assert event.incident_id == incident.id and event.result_count >= 1


def test_an_urgent_incident_mails_every_agent_at_once(app, employee, desk):
    take(mails.thunderbird_new(subject="Whole floor offline"))
    (incident,) = incidents()
    services.triage(incident, desk[0], impact="high", urgency="high")
    db.session.commit()
    assert incident.priority == "P1"
    assert [m.subject for m in outbox("bea@example.com")] == [
        "[INC-000001] Priority raised to P1: Whole floor offline"
    ]
    assert outbox("alex@example.com") == [], "the agent who raised it knows"


def test_the_same_message_twice_is_taken_once(app, employee):
    raw = mails.thunderbird_new(message_id="same-one@mail.example.com")
    assert take(raw).status == "incident"
    assert take(raw).status == "duplicate"
    assert len(incidents()) == 1 and len(outbox("erin@example.com")) == 1


# -- noise -----------------------------------------------------------------------------


def test_an_out_of_office_reply_gets_no_answer_and_changes_nothing(app, employee):
    take(mails.thunderbird_new())
    (ack,) = outbox("erin@example.com")
    before = len(outbox())

    outcome = take(mails.out_of_office(ack.message_id, ack.subject))

    assert outcome.status == "ignored" and "Auto-Submitted" in outcome.reason
    assert len(outbox()) == before
    (incident,) = incidents()
    assert incident.comments == []


def test_a_bounce_gets_no_answer(app, employee):
    outcome = take(mails.bounce())
    assert outcome.status == "ignored"
    assert outbox() == [] and incidents() == []


@pytest.mark.parametrize(
    ("header", "value"),
    [("Precedence", "bulk"), ("Precedence", "list"), ("List-Id", "<news.example.com>")],
)
def test_bulk_and_list_mail_is_not_an_incident(app, employee, header, value):
    raw = mails.thunderbird_new().replace(b"Subject:", f"{header}: {value}\r\nSubject:".encode())
    assert take(raw).status == "ignored"
    assert incidents() == [] and outbox() == []


def test_mail_from_the_portals_own_address_is_a_loop(app):
    raw = mails.thunderbird_new(from_addr="servicedesk@example.com", from_name="Firstfix")
    outcome = take(raw)
    assert (outcome.status, outcome.reason) == ("ignored", "our own address")
    assert outbox() == []


def test_a_sender_over_the_hourly_cap_is_not_answered(app, employee):
    settings.put("mail_sender_hourly_cap", 2)
    db.session.commit()
    statuses = [take(mails.thunderbird_new(subject=f"Problem {n}")).status for n in range(3)]
    assert statuses == ["incident", "incident", "ignored"]
    assert len(outbox("erin@example.com")) == 2


# -- who wrote -------------------------------------------------------------------------


def test_an_unknown_sender_gets_a_polite_refusal(app):
    outcome = take(mails.thunderbird_new(from_addr="someone@elsewhere.test", from_name="Sam"))
    assert outcome.status == "refused"
    (refusal,) = outbox("someone@elsewhere.test")
    assert "could not take your mail" in refusal.body
    assert refusal.subject == "Re: Printer shows as offline"
    assert incidents() == [] and find_user("someone@elsewhere.test") is None


def test_an_allow_listed_domain_gets_an_account(app):
    settings.put("mail_allowed_domains", ["corp.example.org"])
    db.session.commit()
    outcome = take(mails.thunderbird_new(from_addr="nina@corp.example.org", from_name="Nina N"))
    assert outcome.status == "incident"
    user = find_user("nina@corp.example.org")
    assert user.name == "Nina N" and user.roles == {"employee"} and not user.password_hash
    assert incidents()[0].requester_id == user.id


def test_guests_are_accepted_when_the_admin_chose_so(app):
    settings.put("mail_unknown_senders", "guest")
    db.session.commit()
    assert take(mails.thunderbird_new(from_addr="visitor@elsewhere.test")).status == "incident"


def test_a_mail_failing_dmarc_is_quarantined_until_an_agent_lets_it_through(app, employee, desk):
    raw = mails.gmail_reply("My laptop will not boot.", "Laptop broken", dmarc="fail")
    outcome = take(raw)
    assert (outcome.status, outcome.reason) == ("quarantined", "dmarc=fail")
    assert incidents() == [] and outbox() == []
    row = db.session.get(InboundMail, outcome.inbound_id)
    assert row.raw == raw, "kept whole for the agent"
    assert {n.kind for n in db.session.scalars(select(Notification))} == {"quarantined"}

    released = intake.receive(row.raw, release=row)
    db.session.rollback()
    assert released.status == "incident"
    assert incidents()[0].description_md == "My laptop will not boot."


def test_spf_fail_from_another_server_than_ours_is_not_believed(app, employee):
    app.config["MAIL_AUTHSERV_ID"] = "mx.example.com"
    forged = mails.gmail_reply("Hello", "Hi", spf="fail", authserv="attacker.example.net")
    assert take(forged).status == "incident"
    ours = mails.gmail_reply("Hello again", "Hi again", spf="fail")
    assert take(ours).status == "quarantined"


# -- replies ---------------------------------------------------------------------------


@pytest.fixture
def raised(app, employee, desk):
    """An incident raised by mail, with the agent's public reply mailed to the requester."""
    take(mails.thunderbird_new(subject="Printer shows as offline", text=PRINTER_TEXT))
    incident = incidents()[0]
    services.add_comment(incident, desk[0], "Did you restart the laptop?")
    db.session.commit()
    return incident


def test_an_outlook_reply_to_a_notification_lands_as_a_comment_without_its_history(
    app, raised, employee, desk
):
    notification = outbox("erin@example.com")[-1]
    assert notification.subject.startswith("[INC-000001] New reply")

    outcome = take(
        mails.outlook_reply(
            notification.message_id,
            "Yes, I restarted it twice. It is still offline.",
            subject=notification.subject,
        )
    )

    assert (outcome.status, outcome.incident_ref) == ("comment", "INC-000001")
    comment = db.session.scalars(select(Comment).order_by(Comment.id.desc())).first()
    assert comment.author_id == employee.id and not comment.is_internal
    assert comment.body_md == "Yes, I restarted it twice. It is still offline."
    # Nobody is assigned: the whole desk hears of the reply.
    assert {m.to_address for m in outbox() if m.kind == "requester_replied"} == {
        "alex@example.com",
        "bea@example.com",
    }


def test_a_gmail_reply_found_by_the_reference_in_its_subject(app, raised, employee):
    outcome = take(mails.gmail_reply("Here is more detail.", "[INC-000001] New reply"))
    assert outcome.status == "comment"
    assert raised.comments[-1].body_md == "Here is more detail."


def test_an_agents_reply_by_mail_is_a_public_reply(app, raised, desk):
    notification = outbox("bea@example.com") or outbox("alex@example.com")
    text = "Please try the print portal: remove the printer and add it again."
    take(mails.gmail_reply(text, "[INC-000001] hi", from_addr="bea@example.com"))
    comment = raised.comments[-1]
    assert comment.author_id == desk[1].id and not comment.is_internal
    assert outbox("erin@example.com")[-1].subject == "[INC-000001] New reply: " + raised.title
    assert notification is not None


def test_someone_else_cannot_write_into_an_incident_by_naming_it(app, raised, make_user):
    make_user("employee", email="oscar@example.com", name="Oscar Other")
    outcome = take(
        mails.gmail_reply("Ha, I can add to it", "[INC-000001]", from_addr="oscar@example.com")
    )
    assert outcome.status == "refused"
    assert all("Ha, I can" not in c.body_md for c in raised.comments)
    (refusal,) = outbox("oscar@example.com")
    assert "Printer" not in refusal.body and "INC-000001" not in refusal.body


def test_a_reply_to_a_resolved_incident_reopens_it_only_when_it_says_so(app, raised, desk):
    services.resolve(raised, desk[0], "Re-added the printer.")
    db.session.commit()
    take(mails.gmail_reply("Thank you, that was quick!", "[INC-000001] Resolved"))
    assert raised.status == "resolved" and raised.comments[-1].body_md.startswith("Thank you")

    take(mails.gmail_reply("Sorry, it is still not working today.", "[INC-000001] Resolved"))
    assert raised.status == "reopened" and raised.reopen_count == 1


def test_a_reply_to_a_closed_incident_without_reopening_words_raises_a_new_one(
    app, raised, desk, employee
):
    services.resolve(raised, desk[0], "Re-added the printer.")
    services.confirm(raised, employee)
    db.session.commit()
    text = "A different question: can I get a new mouse?"
    outcome = take(mails.gmail_reply(text, "[INC-000001]"))
    assert outcome.status == "incident" and outcome.incident_ref == "INC-000002"
    assert incidents()[1].description_md.startswith("Follows up INC-000001")


def test_reply_text_cuts_the_marker_quotes_and_signature():
    text = (
        "It works now.\n\nBest regards,\nErin\n\n"
        "On Thu, 3 Dec 2026 at 10:01, Firstfix <servicedesk@example.com> wrote:\n"
        "> ##- Please type your reply above this line -##\n> Did you restart?\n"
    )
    assert intake.reply_text(text) == "It works now."
    assert intake.reply_text("##- Please type your reply above this line -##\nold") == ""


# -- answer first ----------------------------------------------------------------------


def test_answer_first_sends_articles_and_raises_nothing_until_asked(app, library, employee):
    settings.put("mail_answer_first", True)
    db.session.commit()

    outcome = take(mails.thunderbird_new(subject="Printer shows as offline", text=PRINTER_TEXT))

    assert outcome.status == "answered" and incidents() == []
    (answer,) = outbox("erin@example.com")
    assert answer.kind == "answer" and "This solved it: http" in answer.body
    row = db.session.get(InboundMail, outcome.inbound_id)
    assert row.raw, "kept to raise the incident later"

    # A reply to the answer means the sender needs help: the incident is raised, with it.
    reply = mails.gmail_reply(
        "None of these helped, sorry.", answer.subject, in_reply_to=answer.in_reply_to
    )
    outcome = take(reply)
    assert outcome.status == "comment" and outcome.incident_ref == "INC-000001"
    (incident,) = incidents()
    assert incident.description_md.startswith("Since this morning the printer")
    assert [c.body_md for c in incident.comments] == ["None of these helped, sorry."]
    assert {a.filename for a in incident.attachments} == {"screenshot.png", "error-report.pdf"}


def test_answer_first_without_a_matching_article_raises_at_once(app, library, employee):
    settings.put("mail_answer_first", True)
    db.session.commit()
    outcome = take(mails.thunderbird_new(subject="Chair squeaks", text="My office chair squeaks."))
    assert outcome.status == "incident"


# -- outgoing mail ---------------------------------------------------------------------


def test_notifications_are_html_with_a_plain_alternative_and_thread_headers(app, raised):
    from portal.notifications.sender import build_message

    services.add_comment(raised, raised.comments[0].author, "Try **this**: <script>x()</script>")
    db.session.commit()
    row = outbox("erin@example.com")[-1]
    message = message_from_bytes(
        build_message(row, app.config["MAIL_FROM"]).as_bytes(), policy=policy.default
    )
    assert message.get_content_type() == "multipart/alternative"
    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert plain.startswith("##- Please type your reply above this line -##")
    assert "Try **this**" in plain
    assert "<strong>this</strong>" in html and "<script>" not in html
    assert message["Subject"] == "[INC-000001] New reply: Printer shows as offline"
    assert message["In-Reply-To"] == row.in_reply_to
    assert "<INC-000001.incident@example.com>" in message["References"]
    assert message["Message-ID"] == row.message_id
    assert "http://127.0.0.1:5000/incidents/INC-000001" in plain


@pytest.mark.parametrize(
    "subject",
    [
        "[INC-000001] Résolu : " + "l’imprimante du troisième étage " * 6,
        # 75 characters: Python's folder would put it on a line of its own after "Subject:"
        "[INC-000001] New P1 incident: Core switch down: the whole floor is offline",
        "[INC-000001] " + "x" * 120,
    ],
)
def test_long_subjects_fold_into_well_formed_headers(app, subject):
    from portal.notifications.sender import build_message
    from portal.notifications.services import queue_mail

    (row,) = queue_mail("ana@example.com", subject, "Body")
    raw = build_message(row, app.config["MAIL_FROM"]).as_bytes()
    head = raw.split(b"\r\n\r\n", 1)[0]
    lines = head.split(b"\r\n")
    assert all(len(line) <= 90 for line in lines), "folded near 78, far below 998"
    subject_line = next(line for line in lines if line.startswith(b"Subject:"))
    assert subject_line.startswith(b"Subject: ") and subject_line[9:10] not in (b"", b" ")
    for parser in (policy.default, policy.compat32):
        parsed = message_from_bytes(raw, policy=parser)
        assert not str(parsed["Subject"]).startswith(" ")
    assert message_from_bytes(raw, policy=policy.default)["Subject"] == " ".join(subject.split())


def test_two_workers_taking_the_same_message_at_once_make_one_incident(app, employee):
    import threading

    raw = mails.thunderbird_new(message_id="raced@mail.example.com")
    outcomes = []

    def take_it():
        with app.app_context(), transactions.writing():
            outcomes.append(intake.receive(raw, source="imap").status)
            db.session.remove()

    threads = [threading.Thread(target=take_it) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["duplicate", "duplicate", "incident"]
    assert len(incidents()) == 1 and len(outbox("erin@example.com")) == 1


def test_an_html_only_mail_in_latin_1_keeps_its_words(app, employee):
    html = (
        "<html><head><style>p{color:red}</style><script>alert(1)</script></head><body>"
        "<p>Bonjour,</p><p>l'&eacute;cran reste <b>noir</b> apr\xe8s la mise \xe0 jour.</p>"
        "<ul><li>red\xe9marr\xe9</li><li>c\xe2ble chang\xe9</li></ul></body></html>"
    )
    raw = (
        "From: Erin Employee <erin@example.com>\r\nTo: servicedesk@example.com\r\n"
        "Subject: =?iso-8859-1?q?=C9cran_noir?=\r\nMessage-ID: <latin1@mail.example.com>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/html; charset=iso-8859-1\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n" + html + "\r\n"
    ).encode("latin-1")
    assert take(raw).status == "incident"
    (incident,) = incidents()
    assert incident.title == "Écran noir"
    assert incident.description_md == (
        "Bonjour,\n\nl'écran reste noir après la mise à jour.\n\n- redémarré\n- câble changé"
    )
    assert "alert" not in incident.description_md and "color" not in incident.description_md


def test_a_mail_without_text_or_sender_is_handled_without_an_error(app, employee):
    raw = b"To: servicedesk@example.com\r\nSubject: hello\r\n\r\n"
    assert take(raw).status == "ignored"
    only_files = mails.thunderbird_new(text="")
    assert take(only_files).status == "incident"
    assert incidents()[-1].description_md == "(no text; see the attached files)"
