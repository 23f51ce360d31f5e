"""SMTP delivery: outbox rows become MIME messages, sent over one connection per batch.

The only module that imports smtplib. It knows nothing about the database: the outbox logic
(what is due, claims, retries) is in services.py.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime, parseaddr
from types import TracebackType
from typing import Any

from portal.notifications.models import MailMessage
from portal.timeutil import as_utc, utcnow

# The server answered and reset the transaction: the connection is still good for the next one.
_TRANSACTION_ERRORS = (
    smtplib.SMTPRecipientsRefused,
    smtplib.SMTPSenderRefused,
    smtplib.SMTPDataError,
)


class _HeaderPolicy(EmailPolicy):
    """The SMTP policy, except that a header is never folded right after its colon.

    The standard library moves a value that does not fit beside its name onto a line of
    its own ("Subject:" CRLF " [INC-000001] ..."); unfolded, that value starts with a space.
    Keeping the first line joined stays far below the 998-character limit (the value fitted
    on one 78-character line)."""

    def fold(self, name: str, value) -> str:
        return self._join(super().fold(name, value), name, self.linesep)

    def fold_binary(self, name: str, value) -> bytes:
        folded = super().fold_binary(name, value)
        return self._join(folded.decode("ascii"), name, self.linesep).encode("ascii")

    @staticmethod
    def _join(folded: str, name: str, linesep: str) -> str:
        broken = f"{name}:{linesep} "
        return f"{name}: {folded[len(broken) :]}" if folded.startswith(broken) else folded


SMTP_POLICY = _HeaderPolicy(linesep="\r\n")


class ConnectFailed(Exception):
    """The mail server could not be reached or refused the session (TLS, login)."""


def build_message(message: MailMessage, sender: str) -> EmailMessage:
    """The MIME message for an outbox row: plain text, with the HTML part as its alternative.

    Built with the SMTP policy (CRLF, lines folded at 78 with encoded words only where
    needed), so every header is well formed whatever the subject holds.
    """
    email = EmailMessage(policy=SMTP_POLICY)
    email["From"] = sender
    email["To"] = message.to_address
    email["Subject"] = message.subject
    created = as_utc(message.created_at) or utcnow()
    email["Date"] = format_datetime(created)
    # The same id on every attempt, so a receiver can drop a copy resent after a crash.
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    email["Message-ID"] = (
        message.message_id or f"<firstfix.{message.id}.{created:%Y%m%d%H%M%S%f}@{domain}>"
    )
    if message.in_reply_to:
        email["In-Reply-To"] = message.in_reply_to
    if message.thread_references:
        email["References"] = message.thread_references
    email["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies, please
    email["X-Auto-Response-Suppress"] = "All"  # the same request, in Exchange's words
    email.set_content(message.body)
    if message.html:
        email.add_alternative(message.html, subtype="html")
    return email


class SmtpSender:
    """One SMTP session, opened on the first message and reused until closed or broken."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.host = config["MAIL_SERVER"]
        self.port = int(config["MAIL_PORT"])
        self.use_ssl = bool(config["MAIL_USE_SSL"])
        self.use_tls = bool(config["MAIL_USE_TLS"]) and not self.use_ssl
        self.username = config["MAIL_USERNAME"]
        self.password = config["MAIL_PASSWORD"] or ""
        self.timeout = float(config["MAIL_TIMEOUT"])
        self.cafile = config.get("MAIL_CA_FILE") or None
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpSender:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.close()

    def send(self, email: EmailMessage) -> None:
        """Send one message; raises ConnectFailed, or the SMTP or socket error of the send."""
        if self._smtp is None or self._smtp.sock is None:  # not yet, or the server hung up (421)
            self.close()
            self._smtp = self._connect()
        try:
            self._smtp.send_message(email)
        except _TRANSACTION_ERRORS:
            raise
        except BaseException:
            self.close()  # state unknown: the next message starts a fresh session
            raise

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context(cafile=self.cafile)
        if self.use_ssl:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(timeout=self.timeout)
        try:
            # Connecting outside the constructor lets us close the socket on every failure.
            code, reply = smtp.connect(self.host, self.port)
            if code != 220:
                raise smtplib.SMTPConnectError(code, reply)
            if self.use_tls:
                smtp.starttls(context=context)
            if self.username:
                smtp.login(self.username, self.password)
        except (smtplib.SMTPException, OSError) as exc:
            smtp.close()
            raise ConnectFailed(f"{self.host}:{self.port}: {describe(exc)}") from exc
        return smtp


def describe(exc: BaseException) -> str:
    """A short, readable reason for the outbox's last_error."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        reasons = [f"{addr}: {describe_reply(*reply)}" for addr, reply in exc.recipients.items()]
        return "recipient refused: " + "; ".join(reasons)
    if isinstance(exc, smtplib.SMTPResponseException):
        return describe_reply(exc.smtp_code, exc.smtp_error)
    text = str(exc) or type(exc).__name__
    if isinstance(exc, ConnectFailed):
        return text
    return f"{type(exc).__name__}: {text}"


def describe_reply(code: int, reply: bytes | str) -> str:
    if isinstance(reply, bytes):
        reply = reply.decode("utf-8", "replace")
    return f"{code} {reply}".strip()
