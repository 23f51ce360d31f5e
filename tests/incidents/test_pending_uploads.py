"""A file chosen before the "before you send it" step (or before a mistake is pointed out)
arrives with the incident: the portal keeps it, so nobody chooses it twice."""

from __future__ import annotations

import io
import os
import re
from datetime import timedelta

from sqlalchemy import select

from portal.extensions import db
from portal.incidents import attachments, services
from portal.incidents.models import Attachment, PendingUpload
from portal.timeutil import utcnow
from tests.incidents.conftest import PNG

LOG = b"2026-11-27 17:55 spooler: queue stuck\n"


def held_tokens(html: str) -> dict[str, str]:
    """The files a form says it already holds: name -> token of each ticked checkbox."""
    found = {}
    for token, label in re.findall(
        r'<input checked id="held-\d+" name="held" type="checkbox" value="([0-9a-f]+)">\s*'
        r'<label for="held-\d+">([^<]+) \(',
        html,
    ):
        found[label] = token
    return found


def stored() -> list[Attachment]:
    db.session.rollback()
    return list(db.session.scalars(select(Attachment).order_by(Attachment.id)))


def first_press(client, **extra):
    data = {
        "title": "Printer offline",
        "description": "Nothing prints.",
        "attachments": [(io.BytesIO(LOG), "spool.log"), (io.BytesIO(PNG), "screen.png")],
        **extra,
    }
    return client.post("/incidents/new", data=data, content_type="multipart/form-data")


def second_press(client, tokens, **extra):
    data = {"title": "Printer offline", "description": "Nothing prints.", "checked": "1"}
    data = {**data, "held": list(tokens), **extra}
    return client.post("/incidents/new", data=data, content_type="multipart/form-data")


def test_files_chosen_before_the_confirmation_step_arrive_with_the_incident(
    client, sign_in, employee, make_article, app
):
    make_article(title="Printer offline", symptoms="Printer offline")
    sign_in(employee)

    first = first_press(client)

    assert first.status_code == 200 and "Before you send it" in first.text
    assert "your files are kept" in first.text
    tokens = held_tokens(first.text)
    assert set(tokens) == {"spool.log", "screen.png"}
    assert services.get_by_ref("INC-000001") is None and stored() == []

    second = second_press(client, tokens.values())

    assert second.status_code == 302 and second.location == "/incidents/INC-000001"
    files = {a.filename: a for a in stored()}
    assert set(files) == {"spool.log", "screen.png"}
    assert all(
        a.incident.ref == "INC-000001" and a.uploader_id == employee.id for a in files.values()
    )
    folder = app.config["ATTACHMENTS_DIR"]
    with open(os.path.join(folder, files["spool.log"].storage_name), "rb") as fh:
        assert fh.read() == LOG
    assert db.session.scalars(select(PendingUpload)).all() == []
    page = client.get("/incidents/INC-000001").text
    assert ">spool.log</a>" in page and ">screen.png</a>" in page


def test_an_unticked_file_is_left_out_and_a_new_one_added(client, sign_in, employee, make_article):
    make_article(title="Printer offline", symptoms="Printer offline")
    sign_in(employee)
    tokens = held_tokens(first_press(client).text)

    second_press(
        client, [tokens["screen.png"]], attachments=[(io.BytesIO(b"second log\n"), "more.log")]
    )

    assert sorted(a.filename for a in stored()) == ["more.log", "screen.png"]


def test_a_form_shown_again_for_a_mistake_keeps_the_files(client, sign_in, employee):
    sign_in(employee)
    response = first_press(client, description="")

    assert response.status_code == 400 and "This field is required." in response.text
    tokens = held_tokens(response.text)
    assert set(tokens) == {"spool.log", "screen.png"}

    raised = second_press(client, tokens.values(), title="Quokka console frozen")
    assert raised.status_code == 302
    assert sorted(a.filename for a in stored()) == ["screen.png", "spool.log"]


def test_a_refused_file_is_named_and_the_others_kept(client, sign_in, employee, make_article):
    make_article(title="Printer offline", symptoms="Printer offline")
    sign_in(employee)
    response = client.post(
        "/incidents/new",
        data={
            "title": "Printer offline",
            "description": "Nothing prints.",
            "attachments": [(io.BytesIO(LOG), "spool.log"), (io.BytesIO(b"MZ\x90"), "fix.exe")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "Not attached: fix.exe: this type of file is not accepted" in response.text
    assert set(held_tokens(response.text)) == {"spool.log"}


def test_nobody_else_can_claim_a_waiting_file(client, sign_in, employee, other, make_article):
    make_article(title="Printer offline", symptoms="Printer offline")
    sign_in(employee)
    tokens = held_tokens(first_press(client).text)

    sign_in(other)
    response = second_press(client, tokens.values())
    assert response.status_code == 302
    assert stored() == []  # Oscar's incident has no file of Erin's
    page = client.get(response.location).text
    assert "spool.log" not in page and "screen.png" not in page

    sign_in(employee)  # Erin's files still wait for her
    second_press(client, tokens.values())
    assert {a.incident.requester_id for a in stored()} == {employee.id}


def test_waiting_files_expire_and_leave_the_disk(client, sign_in, employee, make_article, app):
    make_article(title="Printer offline", symptoms="Printer offline")
    sign_in(employee)
    tokens = held_tokens(first_press(client).text)
    folder = app.config["ATTACHMENTS_DIR"]
    assert len(os.listdir(folder)) == 2

    later = utcnow() + attachments.PENDING_FOR + timedelta(minutes=1)
    assert attachments.held(employee, tokens.values(), now=later) == []
    assert attachments.purge_expired(later) == 2
    db.session.commit()
    assert os.listdir(folder) == [] and db.session.scalars(select(PendingUpload)).all() == []

    second_press(client, tokens.values())
    assert stored() == []


def test_suggestions_seen_while_typing_skip_the_confirmation_step(
    client, sign_in, employee, make_article
):
    make_article(title="Printer offline", symptoms="Printer offline")
    sign_in(employee)
    response = first_press(client, checked="live")  # set by the page's script
    assert response.status_code == 302
    assert sorted(a.filename for a in stored()) == ["screen.png", "spool.log"]


def test_a_similar_report_not_yet_shown_still_asks_first(
    client, sign_in, employee, other, make_incident
):
    make_incident(requester=other, title="Printer offline on floor 2")
    sign_in(employee)
    response = first_press(client, checked="live")
    assert response.status_code == 200 and "Others reported this" in response.text
    assert set(held_tokens(response.text)) == {"spool.log", "screen.png"}

    # Once the page has shown it, the live flag is enough.
    client.get("/incidents/new?q=Printer offline")
    assert first_press(client, checked="live").status_code == 302
