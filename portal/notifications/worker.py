"""The background worker: one process (`flask worker`) that sends mail, polls the desk's
mailbox, warns of SLA risks and breaches, and closes long-resolved incidents.

`make run` starts it beside gunicorn; production runs it as its own process, as many as
wanted on as many nodes: each job claims its work in the database, so no two workers ever
do the same work twice.

- send: outbox rows are claimed one by one (FOR UPDATE SKIP LOCKED on PostgreSQL).
- poll, autoclose: a lease row in worker_jobs; only the worker holding it runs the round,
  and the next round is due for everyone at the same time.
- sla: open incidents are locked as they are checked (SKIP LOCKED), and a warning is one
  unique sla_alerts row, so it is sent once whoever finds it first.

The rules of portal/transactions.py hold: every job is a writer, and no transaction is open
while a mail server is talked to (send and poll commit before each network call).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.incidents import mail as incident_mail
from portal.incidents import services as incident_services
from portal.incidents.models import Incident
from portal.notifications import imap, intake, services
from portal.notifications.models import SlaAlert, WorkerJob
from portal.timeutil import as_utc, utcnow

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)  # a worker that dies mid-round frees its job after this
SLA_HORIZON = timedelta(days=7)  # incidents due further out cannot be at risk yet
TICK = 1.0


@dataclass
class Job:
    name: str
    interval_key: str
    run: Callable[[datetime], str]
    leased: bool = True
    enabled: Callable[[], bool] = lambda: True


def holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


# -- the jobs --------------------------------------------------------------------------


def send_mail(now: datetime) -> str:
    """Send what is due, including what this round's other jobs just queued; each message
    is claimed on its own. A message failing now is rescheduled past this clock."""
    sent = failed = 0
    now = utcnow()
    while True:
        batch_sent, batch_failed = services.send_pending(limit=100, now=now)
        sent, failed = sent + batch_sent, failed + batch_failed
        if batch_sent + batch_failed < 100:
            return f"sent {sent}, failed {failed}"


def poll_mailbox(now: datetime) -> str:
    """One round over the desk's mailbox."""
    db.session.commit()  # nothing of ours is open while the mail server answers
    result = imap.poll(current_app.config, lambda raw: intake.receive(raw, source="imap"))
    return f"fetched {result.fetched}, taken {result.taken}, left {result.left}"


def check_sla(now: datetime) -> str:
    """Warn the assignee (or the desk) once per clock and level: at risk, then breached."""
    candidates = (
        select(Incident)
        .where(
            Incident.status.in_(("new", "in_progress", "reopened")),
            Incident.next_due_at.is_not(None),
            Incident.next_due_at <= now + SLA_HORIZON,
        )
        .order_by(Incident.next_due_at)
        .with_for_update(skip_locked=True, of=Incident)
    )
    warned = 0
    for incident in db.session.scalars(candidates).all():
        state = incident_services.sla_status(incident, now)
        for clock, due_at in (
            ("response", incident.response_due_at),
            ("resolution", incident.resolution_due_at),
        ):
            level = state.get(clock)
            if level not in ("at_risk", "breached") or due_at is None:
                continue
            if _claim_alert(incident.id, clock, level, as_utc(due_at)):
                incident_mail.sla_alert(incident, clock, level)
                warned += 1
    db.session.commit()
    return f"warned {warned}"


def _claim_alert(incident_id: int, clock: str, level: str, due_at: datetime) -> bool:
    """Record the warning; False when some worker already gave it. A breach found first
    also stands for the at-risk warning it skipped."""
    levels = ["at_risk", "breached"] if level == "breached" else ["at_risk"]
    taken = False
    for each in levels:
        try:
            with db.session.begin_nested():
                db.session.execute(
                    insert(SlaAlert).values(
                        incident_id=incident_id,
                        clock=clock,
                        level=each,
                        due_at=due_at,
                        created_at=utcnow(),
                    )
                )
            taken = taken or each == level
        except IntegrityError:
            continue
    return taken


def autoclose(now: datetime) -> str:
    closed = incident_services.autoclose(now=now)
    db.session.commit()
    return f"closed {closed}"


# In this order, so what a round's other jobs queue goes out in the same round.
JOBS = [
    Job(
        "poll",
        "MAIL_POLL_INTERVAL",
        poll_mailbox,
        enabled=lambda: bool(current_app.config.get("MAIL_IMAP_SERVER")),
    ),
    Job("sla", "WORKER_SLA_INTERVAL", check_sla, leased=False),
    Job("autoclose", "WORKER_AUTOCLOSE_INTERVAL", autoclose),
    Job("send", "WORKER_SEND_INTERVAL", send_mail, leased=False),
]


# -- leases ----------------------------------------------------------------------------


def claim(name: str, interval: float, now: datetime, me: str) -> bool:
    """Take this job's round if it is due and nobody holds it; commits at once."""
    due = or_(WorkerJob.next_run_at.is_(None), WorkerJob.next_run_at <= now)
    free = or_(WorkerJob.lease_until.is_(None), WorkerJob.lease_until < now)
    taken = db.session.execute(
        update(WorkerJob)
        .where(WorkerJob.name == name, due, free)
        .values(
            holder=me,
            lease_until=now + LEASE,
            next_run_at=now + timedelta(seconds=interval),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if not taken and db.session.get(WorkerJob, name) is None:
        try:
            with db.session.begin_nested():
                db.session.add(
                    WorkerJob(
                        name=name,
                        holder=me,
                        lease_until=now + LEASE,
                        next_run_at=now + timedelta(seconds=interval),
                    )
                )
            taken = 1
        except IntegrityError:
            taken = 0
    db.session.commit()
    return bool(taken)


def release(name: str, me: str, error: str = "") -> None:
    db.session.rollback()
    db.session.execute(
        update(WorkerJob)
        .where(WorkerJob.name == name, WorkerJob.holder == me)
        .values(lease_until=None, last_run_at=utcnow(), last_error=error[:2000])
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def run_due(now: datetime | None = None, *, force: bool = False, me: str | None = None) -> dict:
    """Run every job that is due (all of them with `force`); returns what each did."""
    now = now or utcnow()
    me = me or holder()
    config = current_app.config
    report: dict[str, str] = {}
    for job in JOBS:
        if not job.enabled():
            continue
        interval = float(config[job.interval_key])
        if job.leased and not claim(job.name, 0 if force else interval, now, me):
            continue
        try:
            report[job.name] = job.run(now)
        except Exception as exc:  # one job failing must not stop the others
            db.session.rollback()
            log.exception("worker job %s failed", job.name)
            report[job.name] = f"failed: {type(exc).__name__}: {exc}"
            if job.leased:
                release(job.name, me, report[job.name])
            continue
        if job.leased:
            release(job.name, me)
    return report


class Worker:
    """The loop of `flask worker`: every job at its own interval, until told to stop."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.stopping = threading.Event()
        self.last: dict[str, float] = {}
        self.me = holder()

    def stop(self, *_args) -> None:
        self.stopping.set()

    def run(self) -> None:
        log.info("worker %s started", self.me)
        while not self.stopping.is_set():
            with self.app.app_context():
                self.round()
            self.stopping.wait(TICK)
        log.info("worker %s stopped", self.me)

    def round(self) -> None:
        config = self.app.config
        for job in JOBS:
            if self.stopping.is_set() or not job.enabled():
                continue
            interval = float(config[job.interval_key])
            # Unleased jobs keep their rhythm here; leased ones ask the database every tick.
            if not job.leased and time.monotonic() - self.last.get(job.name, -1e9) < interval:
                continue
            self.last[job.name] = time.monotonic()
            now = utcnow()
            if job.leased and not claim(job.name, interval, now, self.me):
                continue
            try:
                outcome = job.run(now)
            except Exception as exc:
                db.session.rollback()
                log.exception("worker job %s failed", job.name)
                if job.leased:
                    release(job.name, self.me, f"{type(exc).__name__}: {exc}")
                continue
            if job.leased:
                release(job.name, self.me)
            if not outcome.endswith((" 0", "sent 0, failed 0", "fetched 0, taken 0, left 0")):
                log.info("%s: %s", job.name, outcome)


def serve(app: Flask) -> None:
    """Run until SIGTERM or Ctrl-C."""
    worker = Worker(app)
    signal.signal(signal.SIGTERM, worker.stop)
    try:
        signal.signal(signal.SIGINT, worker.stop)
    except ValueError:  # not the main thread (tests)
        pass
    worker.run()
