"""`flask mail send [--watch]`: deliver what is due from the mail outbox.
`flask mail receive`: take one message on standard input (an MTA's pipe or LMTP delivery).
`flask mail poll`: fetch new mail from the desk's IMAP mailbox once."""

from __future__ import annotations

import logging
import sys
import time

import click
from flask import current_app

from portal.notifications import services
from portal.timeutil import utcnow

log = logging.getLogger(__name__)

BATCH = 100
EX_TEMPFAIL = 75  # sysexits.h: the MTA keeps the message and delivers it again later


@click.group("mail")
def mail() -> None:
    """Send and retry the mail the portal queued."""


@mail.command("send")
@click.option("--watch", is_flag=True, help="Keep sending as mail falls due (Ctrl-C to stop).")
@click.option("--interval", default=30.0, show_default=True, help="Seconds between rounds.")
def send(watch: bool, interval: float) -> None:
    """Send every message that is due, then print what happened.

    Safe to run from cron and next to other senders: each message is claimed before it is
    sent, and a mail server that is down only reschedules the messages.
    """
    first = True
    try:
        while True:
            try:
                sent, failed = _send_due()
            except Exception:  # with --watch, a database hiccup must not end the watch
                if not watch:
                    raise
                log.exception("sending mail failed; trying again in %s s", interval)
            else:
                if first or sent or failed:
                    waiting = services.count_waiting()
                    click.echo(f"sent {sent}, failed {failed}, waiting {waiting}")
                first = False
            if not watch:
                return
            time.sleep(interval)
    except KeyboardInterrupt:
        click.echo("stopped")


def _send_due() -> tuple[int, int]:
    """Batch after batch until nothing is due; the clock is fixed so a message that fails
    now is rescheduled past it and not retried in the same run."""
    now = utcnow()
    sent = failed = 0
    while True:
        batch_sent, batch_failed = services.send_pending(limit=BATCH, now=now)
        sent, failed = sent + batch_sent, failed + batch_failed
        if batch_sent + batch_failed < BATCH:
            return sent, failed


@mail.command("receive")
def receive() -> None:
    """Take one RFC 822 message on standard input, as an MTA's pipe delivers it.

    Exit 0 when the message was accepted or deliberately dropped (noise, a duplicate, a
    refused sender: all logged), 75 when the MTA should try again later (the database is
    unavailable, say).
    """
    from portal.extensions import db
    from portal.notifications import intake

    raw = sys.stdin.buffer.read()
    if not raw.strip():
        click.echo("dropped: the message was empty")
        return
    try:
        outcome = intake.receive(raw, source="pipe")
    except Exception as exc:  # anything but the message itself: let the MTA retry
        db.session.rollback()
        log.exception("mail receive failed; asking the MTA to retry")
        click.echo(f"temporary failure, try again later: {type(exc).__name__}: {exc}", err=True)
        sys.exit(EX_TEMPFAIL)
    # Deliver the answer before this process ends (the background sender would be cut off).
    services.wait_for_background_send(timeout=float(current_app.config["MAIL_TIMEOUT"]) * 4)
    detail = f" ({outcome.reason})" if outcome.reason else ""
    click.echo(f"{outcome.status}{detail}")


@mail.command("poll")
def poll() -> None:
    """Fetch the unseen mail of the desk's IMAP mailbox once (the worker does it on its own)."""
    from portal.notifications import imap, intake

    if not current_app.config.get("MAIL_IMAP_SERVER"):
        raise click.ClickException("no mailbox configured: set MAIL_IMAP_SERVER")
    try:
        result = imap.poll(current_app.config, lambda raw: intake.receive(raw, source="imap"))
    except imap.MailboxError as exc:
        raise click.ClickException(f"the mailbox could not be read: {exc}") from exc
    services.wait_for_background_send(timeout=float(current_app.config["MAIL_TIMEOUT"]) * 4)
    click.echo(f"fetched {result.fetched}, taken {result.taken}, left {result.left}")


@click.command("worker")
@click.option("--once", is_flag=True, help="Run every job once, then exit (cron, tests).")
def worker(once: bool) -> None:
    """Send mail, poll the desk's mailbox, warn of SLA risks and breaches, autoclose.

    `make run` starts one beside gunicorn; production runs it as its own process (any
    number of them: each job claims its work in the database). Stops on Ctrl-C or SIGTERM.
    """
    from portal.notifications import worker as background

    if once:
        for name, outcome in background.run_due(force=True).items():
            click.echo(f"{name}: {outcome}")
        services.wait_for_background_send(timeout=float(current_app.config["MAIL_TIMEOUT"]) * 4)
        return
    click.echo("worker running: mail, mailbox, SLA checks, autoclose (Ctrl-C stops)")
    background.serve(current_app._get_current_object())
