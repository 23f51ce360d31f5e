"""`flask mail send [--watch]`: deliver what is due from the mail outbox."""

from __future__ import annotations

import logging
import time

import click

from portal.notifications import services
from portal.timeutil import utcnow

log = logging.getLogger(__name__)

BATCH = 100


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
