"""The MTA's way in, for real: each message piped to a `flask mail receive` process, whose
exit code tells the MTA to keep it (0) or to try again later (75)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.incidents.models import Incident
from tests.notifications import mails
from tests.notifications.test_mail import Inbox, start_server


@pytest.fixture
def relay():
    inbox = Inbox()
    controller = start_server(inbox)
    yield inbox
    controller.stop()


def pipe(raw: bytes, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603
        [sys.executable, "-m", "flask", "--app", "portal", "mail", "receive"],
        input=raw,
        env=env,
        capture_output=True,
        timeout=120,
    )


@pytest.fixture
def env(database_url, tmp_path, relay):
    values = {
        **os.environ,
        "PORTAL_SQLALCHEMY_DATABASE_URI": database_url,
        "PORTAL_SECRET_KEY": "test-secret",
        "PORTAL_SEARCH_INDEX_DIR": str(tmp_path / "index"),
        "PORTAL_ATTACHMENTS_DIR": str(tmp_path / "files"),
        "PORTAL_MAIL_SERVER": "127.0.0.1",
        "PORTAL_MAIL_PORT": str(relay.port),
        "PORTAL_PUBLIC_URL": "http://desk.example.com",
    }
    values.pop("DATABASE_URL", None)
    return values


def test_mail_piped_by_the_mta_is_answered_threaded_and_solved(
    app, client, env, relay, library, employee
):
    db.session.remove()  # the pipe processes write; this test only reads between them
    done = pipe(mails.thunderbird_new(subject="Printer shows as offline"), env)
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.decode().startswith("incident (raised INC-000001")

    # The acknowledgement left before the process ended, with the articles and their links.
    assert relay.wait_for(1, timeout=10)
    (to,), ack = relay.messages[0]
    assert to == "erin@example.com"
    text = ack.get_body(("plain",)).get_content()
    solved = re.search(r"This solved it: http://desk\.example\.com(\S+)", text).group(1)

    reply = mails.outlook_reply(
        str(ack["Message-ID"]), "Still offline after lunch.", ack["Subject"]
    )
    done = pipe(reply, env)
    assert done.returncode == 0 and done.stdout.decode().startswith("comment (added to INC-000001")

    before = len(relay.messages)
    done = pipe(mails.out_of_office(str(ack["Message-ID"]), str(ack["Subject"])), env)
    assert done.returncode == 0 and done.stdout.decode().startswith("ignored (automatic mail")
    assert pipe(mails.bounce(), env).returncode == 0
    assert len(relay.messages) == before, "no answer to an auto-reply or a bounce"

    assert client.post(solved).status_code == 200
    db.session.rollback()
    incident = db.session.scalars(select(Incident)).one()
    assert [c.body_md for c in incident.comments] == ["Still offline after lunch."]
    assert (incident.status, incident.is_self_solved) == ("closed", True)


def test_the_mta_is_asked_to_retry_when_the_database_is_unreachable(env, tmp_path):
    env["PORTAL_SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'missing' / 'nowhere.db'}"
    done = pipe(mails.thunderbird_new(), env)
    assert done.returncode == 75, done.stderr.decode()
    assert "try again later" in done.stderr.decode()
