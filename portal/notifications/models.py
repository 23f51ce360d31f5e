"""Mail both ways and who was told what: the outbox, the intake log, staff notifications,
personal choices, SLA alerts already sent, and the worker's job leases."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.extensions import db
from portal.timeutil import utcnow

if TYPE_CHECKING:
    from portal.articles.models import ArticleRevision
    from portal.incidents.models import Incident


class MailMessage(db.Model):
    """One mail to send, written in the same transaction as the change it reports."""

    __tablename__ = "mail_outbox"
    __table_args__ = (Index("ix_mail_outbox_pending", "sent_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)  # the plain-text part
    html: Mapped[str] = mapped_column(Text, default="")  # the HTML alternative, when there is one
    kind: Mapped[str] = mapped_column(String(40), default="")  # what it reports (preferences)
    # Set when queued, the same on every attempt: replies name it in In-Reply-To.
    message_id: Mapped[str | None] = mapped_column(String(250), index=True)
    in_reply_to: Mapped[str] = mapped_column(String(250), default="")
    thread_references: Mapped[str] = mapped_column(Text, default="")
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def __repr__(self) -> str:
        return f"<MailMessage {self.id} to {self.to_address}>"


INBOUND_STATUSES = (
    "incident",  # became a new incident
    "comment",  # threaded into an existing incident
    "answered",  # answer first: articles sent, no incident (yet)
    "solved",  # answer first: the sender said an article solved it
    "quarantined",  # failed DMARC/SPF: waits for an agent
    "refused",  # unknown sender, answered politely
    "ignored",  # auto-reply, bounce, bulk, own address, over the cap
    "duplicate",  # the same Message-ID again
    "failed",  # could not be used (no sender, nothing to say)
)


class InboundMail(db.Model):
    """Every mail the desk received, and what became of it: nothing a sender wrote is lost."""

    __tablename__ = "mail_inbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique: the same message fetched twice (two workers, a retried pipe) is taken once.
    message_id: Mapped[str | None] = mapped_column(String(250), unique=True)
    from_address: Mapped[str] = mapped_column(String(254), default="", index=True)
    from_name: Mapped[str] = mapped_column(String(200), default="")
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")  # the text we kept
    raw: Mapped[bytes | None] = mapped_column(LargeBinary)  # kept while it may still be used
    source: Mapped[str] = mapped_column(String(10), default="pipe")  # imap | pipe
    status: Mapped[str] = mapped_column(String(12), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL"), index=True
    )
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )
    handled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<InboundMail {self.id} {self.status} from {self.from_address}>"


class Notification(db.Model):
    """Something a staff member should know about, counted unread in the top bar; about an
    incident, or about an article revision (a proposed change an editor decided on)."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_unread", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(String(300))
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    revision_id: Mapped[int | None] = mapped_column(
        ForeignKey("article_revisions.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    incident: Mapped[Incident | None] = relationship()
    revision: Mapped[ArticleRevision | None] = relationship()

    def __repr__(self) -> str:
        return f"<Notification {self.kind} for {self.user_id}>"


class NotificationPreference(db.Model):
    """A person's own choice for one kind of notification; absent means the default."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    by_mail: Mapped[bool] = mapped_column()

    def __repr__(self) -> str:
        return f"<NotificationPreference {self.user_id} {self.kind}={self.by_mail}>"


class SlaAlert(db.Model):
    """An at-risk or breach warning already given: unique, so two workers never send it twice."""

    __tablename__ = "sla_alerts"
    __table_args__ = (UniqueConstraint("incident_id", "clock", "level", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    clock: Mapped[str] = mapped_column(String(12))  # response | resolution
    level: Mapped[str] = mapped_column(String(10))  # at_risk | breached
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def __repr__(self) -> str:
        return f"<SlaAlert {self.incident_id} {self.clock} {self.level}>"


class WorkerJob(db.Model):
    """A periodic job of the background worker: whoever holds the lease runs it."""

    __tablename__ = "worker_jobs"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120), default="")
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    next_run_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_run_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str] = mapped_column(Text, default="")

    def __repr__(self) -> str:
        return f"<WorkerJob {self.name} held by {self.holder or 'nobody'}>"
