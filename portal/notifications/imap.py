"""The desk's mailbox over IMAP (IMAPS or STARTTLS), with the standard library's imaplib.

The only module that imports imaplib. One round: connect, take the unseen messages, hand
each raw message to the intake (which commits on its own), then flag it \\Seen. No database
transaction is open while the mail server is talked to: the intake's commit ends each one
before the next IMAP command. A message whose intake failed for a passing reason (the
database) stays unseen and is tried again next round; the Message-ID check makes a message
taken twice harmless.
"""

from __future__ import annotations

import imaplib
import logging
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

BATCH = 50


class MailboxError(Exception):
    """The mailbox could not be reached, refused the login or the folder."""


@dataclass
class PollResult:
    fetched: int = 0
    taken: int = 0
    left: int = 0  # still unseen because their intake failed


def tls_context(config: Mapping[str, Any]) -> ssl.SSLContext:
    """Certificates checked against the system's CAs, or MAIL_CA_FILE's."""
    return ssl.create_default_context(cafile=config.get("MAIL_CA_FILE") or None)


def connect(config: Mapping[str, Any]) -> imaplib.IMAP4:
    """A logged-in IMAP session as MAIL_IMAP_SECURITY says: ssl, starttls or none."""
    host = config["MAIL_IMAP_SERVER"]
    port = int(config["MAIL_IMAP_PORT"])
    security = (config.get("MAIL_IMAP_SECURITY") or "ssl").lower()
    timeout = float(config.get("MAIL_TIMEOUT") or 10)
    if security not in ("ssl", "starttls", "none"):
        raise MailboxError(f"MAIL_IMAP_SECURITY must be ssl, starttls or none, not {security}")
    client: imaplib.IMAP4 | None = None
    try:
        if security == "ssl":
            client = imaplib.IMAP4_SSL(host, port, ssl_context=tls_context(config), timeout=timeout)
        else:
            client = imaplib.IMAP4(host, port, timeout=timeout)
            if security == "starttls":
                client.starttls(ssl_context=tls_context(config))
        client.login(config["MAIL_IMAP_USERNAME"] or "", config["MAIL_IMAP_PASSWORD"] or "")
    except (OSError, imaplib.IMAP4.error, ssl.SSLError) as exc:
        if client is not None:
            try:
                client.shutdown()
            except OSError:
                pass
        raise MailboxError(f"{host}:{port}: {type(exc).__name__}: {exc}") from exc
    return client


def poll(config: Mapping[str, Any], take: Callable[[bytes], object]) -> PollResult:
    """One round over the unseen messages of MAIL_IMAP_FOLDER; `take` is the intake."""
    result = PollResult()
    client = connect(config)
    try:
        status, _ = client.select(config.get("MAIL_IMAP_FOLDER") or "INBOX")
        if status != "OK":
            raise MailboxError(f"cannot open folder {config.get('MAIL_IMAP_FOLDER')}")
        status, data = client.uid("SEARCH", None, "UNSEEN")
        uids = data[0].split() if status == "OK" and data and data[0] else []
        for uid in uids[:BATCH]:
            raw = _fetch(client, uid)
            if raw is None:
                continue
            result.fetched += 1
            try:
                take(raw)
            except Exception:  # the database, most likely: leave it unseen for next round
                log.exception("intake of IMAP message %s failed; it stays unseen", uid)
                result.left += 1
                continue
            client.uid("STORE", uid, "+FLAGS", "(\\Seen)")
            result.taken += 1
    except (OSError, imaplib.IMAP4.error) as exc:
        raise MailboxError(f"{type(exc).__name__}: {exc}") from exc
    finally:
        try:
            client.logout()
        except (OSError, imaplib.IMAP4.error):
            pass
    return result


def _fetch(client: imaplib.IMAP4, uid: bytes) -> bytes | None:
    """The whole message, read without setting \\Seen (that waits for a successful intake)."""
    status, data = client.uid("FETCH", uid, "(BODY.PEEK[])")
    if status != "OK":
        return None
    for item in data or []:
        if isinstance(item, tuple) and len(item) == 2:
            return item[1]
    return None


def check(config: Mapping[str, Any]) -> str:
    """Log in and out once: the admin page's test of the mailbox settings."""
    client = connect(config)
    try:
        status, data = client.select(config.get("MAIL_IMAP_FOLDER") or "INBOX", readonly=True)
        if status != "OK":
            raise MailboxError(f"cannot open folder {config.get('MAIL_IMAP_FOLDER')}")
        return f"{int(data[0] or 0)} messages in {config.get('MAIL_IMAP_FOLDER') or 'INBOX'}"
    finally:
        try:
            client.logout()
        except (OSError, imaplib.IMAP4.error):
            pass
