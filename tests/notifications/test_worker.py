"""The background worker: SLA warnings to the right people exactly once, autoclose, and a
real `flask worker` process that mails the desk about a P1 past its response target with
no cron job anywhere."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.incidents import services
from portal.notifications import worker
from portal.notifications.models import MailMessage, Notification, SlaAlert, WorkerJob
from portal.timeutil import utcnow
from tests.notifications.test_mail import Inbox, start_server

P1_TITLE = "Core switch down: the whole floor is offline"


@pytest.fixture
def desk(make_user):
    return [
        make_user("agent", email="alex@example.com", name="Alex Agent"),
        make_user("agent", email="bea@example.com", name="Bea Agent"),
    ]


def raise_p1(employee, minutes_ago: int = 20):
    incident = services.raise_incident(
        employee,
        P1_TITLE,
        "Nothing on floor 2 reaches the network.",
        impact="high",
        urgency="high",
        now=utcnow() - timedelta(minutes=minutes_ago),
    )
    db.session.commit()
    assert incident.priority == "P1"
    return incident


def sla_mails() -> list[MailMessage]:
    db.session.rollback()
    return list(
        db.session.scalars(
            select(MailMessage)
            .where(MailMessage.kind.in_(("sla_breached", "sla_at_risk")))
            .order_by(MailMessage.id)
        )
    )


def test_a_p1_past_its_response_target_mails_the_desk_once(app, runner, employee, desk):
    raise_p1(employee)
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "sla: warned 1" in result.output

    mails = sla_mails()
    assert sorted(m.to_address for m in mails) == ["alex@example.com", "bea@example.com"]
    assert mails[0].subject == f"[INC-000001] P1 missed its first-response target: {P1_TITLE}"
    assert "Nobody is assigned" in mails[0].body

    runner.invoke(args=["worker", "--once"])
    assert len(sla_mails()) == 2, "warned once, however often the worker looks"


def test_an_assigned_incident_at_risk_warns_only_its_assignee(app, employee, desk):
    incident = raise_p1(employee, minutes_ago=13)  # 2 of 15 minutes left: at risk
    services.assign(incident, desk[1], desk[0])
    db.session.commit()
    worker.check_sla(utcnow())
    mails = sla_mails()
    assert [(m.to_address, m.kind) for m in mails] == [("bea@example.com", "sla_at_risk")]
    assert db.session.scalars(select(Notification.kind).where(Notification.user_id == desk[1].id))


def test_two_workers_checking_at_once_warn_once(app, employee, desk):
    raise_p1(employee)
    results = []

    def check():
        with app.app_context():
            results.append(worker.check_sla(utcnow()))

    threads = [threading.Thread(target=check) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == ["warned 0", "warned 0", "warned 1"]
    assert len(sla_mails()) == 2
    alerts = db.session.scalars(select(SlaAlert)).all()
    assert {(a.clock, a.level) for a in alerts} == {
        ("response", "at_risk"),
        ("response", "breached"),
    }


def test_a_leased_job_runs_in_one_worker_at_a_time(app):
    now = utcnow()
    assert worker.claim("autoclose", 3600, now, "one") is True
    assert worker.claim("autoclose", 3600, now, "two") is False, "held by the first"
    worker.release("autoclose", "one")
    assert worker.claim("autoclose", 3600, now, "two") is False, "not due again for an hour"
    assert worker.claim("autoclose", 3600, now + timedelta(hours=1, seconds=1), "two") is True
    job = db.session.get(WorkerJob, "autoclose")
    assert job.holder == "two"


def test_autoclose_runs_from_the_worker(app, runner, employee, desk):
    incident = services.raise_incident(employee, "Mouse broken", "It does not click.")
    services.resolve(incident, desk[0], "New mouse.", now=utcnow() - timedelta(days=30))
    db.session.commit()
    result = runner.invoke(args=["worker", "--once"])
    assert "autoclose: closed 1" in result.output
    db.session.rollback()
    assert db.session.get(type(incident), incident.id).status == "closed"


def test_a_real_worker_process_mails_the_desk_about_a_p1_without_cron(
    app, database_url, tmp_path, employee, desk
):
    inbox = Inbox()
    smtp = start_server(inbox)
    raise_p1(employee)
    db.session.remove()
    env = {
        **os.environ,
        "PORTAL_SQLALCHEMY_DATABASE_URI": database_url,
        "PORTAL_SECRET_KEY": "test-secret",
        "PORTAL_SEARCH_INDEX_DIR": str(tmp_path / "index"),
        "PORTAL_ATTACHMENTS_DIR": str(tmp_path / "files"),
        "PORTAL_MAIL_SERVER": "127.0.0.1",
        "PORTAL_MAIL_PORT": str(inbox.port),
        "PORTAL_WORKER_SLA_INTERVAL": "0.5",
        "PORTAL_WORKER_SEND_INTERVAL": "0.5",
    }
    env.pop("DATABASE_URL", None)
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "flask", "--app", "portal", "worker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        subject = f"[INC-000001] P1 missed its first-response target: {P1_TITLE}"

        def warnings():
            return sorted(to for (to,), m in inbox.messages if m["Subject"] == subject)

        deadline = time.monotonic() + 60
        while len(warnings()) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert warnings() == ["alex@example.com", "bea@example.com"]
        # What the outbox held when the P1 was raised went out too: the worker sends mail.
        assert {str(m["Subject"]) for _, m in inbox.messages} >= {
            f"[INC-000001] We received your incident: {P1_TITLE}",
            f"[INC-000001] New P1 incident: {P1_TITLE}",
        }
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=30)[0].decode()
        smtp.stop()
    assert process.returncode == 0, output
