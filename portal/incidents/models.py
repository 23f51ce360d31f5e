"""Incidents, their conversation, attachments, history, links to articles, and SLA pauses."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.articles.models import Article, Category
from portal.extensions import db
from portal.timeutil import utcnow

STATUSES = ("new", "in_progress", "waiting", "resolved", "closed", "reopened")
STATUS_LABELS = {
    "new": "New",
    "in_progress": "In progress",
    "waiting": "Waiting on requester",
    "resolved": "Resolved",
    "closed": "Closed",
    "reopened": "Reopened",
}
OPEN_STATUSES = ("new", "in_progress", "waiting", "reopened")
LEVELS = ("high", "medium", "low")


def ref_for(number: int) -> str:
    return f"INC-{number:06d}"


class Incident(db.Model):
    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_queue", "status", "next_due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str | None] = mapped_column(String(20), unique=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description_md: Mapped[str] = mapped_column(Text, default="")
    description_html: Mapped[str] = mapped_column(Text, default="")
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("categories.id", ondelete="SET NULL"), index=True
    )
    subcategory_id: Mapped[int | None] = mapped_column(
        ForeignKey("categories.id", ondelete="SET NULL")
    )
    impact: Mapped[str] = mapped_column(String(10), default="medium")
    urgency: Mapped[str] = mapped_column(String(10), default="medium")
    priority: Mapped[str] = mapped_column(String(2), default="P3", index=True)
    status: Mapped[str] = mapped_column(String(12), default="new")
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    solution_md: Mapped[str] = mapped_column(Text, default="")
    solution_html: Mapped[str] = mapped_column(Text, default="")
    no_article_reason: Mapped[str] = mapped_column(Text, default="")
    search_context: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
    first_response_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    response_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolution_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The due time the queue sorts by: response until answered, then resolution.
    next_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The SLA targets in force when raised or re-prioritised (sla.Terms.to_json): later
    # policy and calendar edits apply to incidents raised from then on, not to this one.
    sla_terms: Mapped[dict | None] = mapped_column(JSON)
    reopen_count: Mapped[int] = mapped_column(default=0)
    source: Mapped[str] = mapped_column(String(10), default="web")  # web | mail | api
    # Closed by its requester with an article ("This solved it"): a deflection, not desk work.
    is_self_solved: Mapped[bool] = mapped_column(default=False)

    requester: Mapped[User] = relationship(foreign_keys=[requester_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    category: Mapped[Category | None] = relationship(foreign_keys=[category_id])
    subcategory: Mapped[Category | None] = relationship(foreign_keys=[subcategory_id])
    comments: Mapped[list[Comment]] = relationship(
        back_populates="incident", order_by="Comment.id", cascade="all, delete-orphan"
    )
    events: Mapped[list[IncidentEvent]] = relationship(
        back_populates="incident", order_by="IncidentEvent.id", cascade="all, delete-orphan"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="incident", order_by="Attachment.id", cascade="all, delete-orphan"
    )
    article_links: Mapped[list[IncidentArticle]] = relationship(
        back_populates="incident", order_by="IncidentArticle.id", cascade="all, delete-orphan"
    )
    pauses: Mapped[list[SlaPause]] = relationship(
        back_populates="incident", order_by="SlaPause.id", cascade="all, delete-orphan"
    )
    followers: Mapped[list[Follower]] = relationship(
        back_populates="incident", cascade="all, delete-orphan"
    )
    shares: Mapped[list[Share]] = relationship(
        back_populates="incident", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Incident {self.ref}>"

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class Comment(db.Model):
    """A public reply (the requester sees it) or an internal note (staff only)."""

    __tablename__ = "incident_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body_md: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    is_internal: Mapped[bool] = mapped_column(default=False)
    # An update the service desk posts for everyone with this problem: the requester and
    # the followers read it (followers read nothing else of the conversation).
    for_followers: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    incident: Mapped[Incident] = relationship(back_populates="comments")
    author: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<Comment {self.id} on {self.incident_id}>"


class IncidentEvent(db.Model):
    """One change in an incident's history: who, what, old and new value, when."""

    __tablename__ = "incident_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(30))
    field: Mapped[str] = mapped_column(String(40), default="")
    old_value: Mapped[str] = mapped_column(Text, default="")
    new_value: Mapped[str] = mapped_column(Text, default="")
    is_internal: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    incident: Mapped[Incident] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<IncidentEvent {self.kind} {self.field} on {self.incident_id}>"


class Attachment(db.Model):
    __tablename__ = "incident_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("incident_comments.id", ondelete="SET NULL")
    )
    uploader_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    storage_name: Mapped[str] = mapped_column(String(80), unique=True)
    is_internal: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    incident: Mapped[Incident] = relationship(back_populates="attachments")
    uploader: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<Attachment {self.filename}>"


class PendingUpload(db.Model):
    """A file chosen on a form that was shown again before it was sent (the confirmation
    step, or a mistake to correct): kept for its uploader, so nobody chooses it twice, until
    it is attached or expires."""

    __tablename__ = "pending_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(40), unique=True)
    uploader_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    storage_name: Mapped[str] = mapped_column(String(80), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)

    def __repr__(self) -> str:
        return f"<PendingUpload {self.filename}>"


class IncidentArticle(db.Model):
    """An article linked to an incident: reused to solve it, or created from it."""

    __tablename__ = "incident_articles"
    __table_args__ = (UniqueConstraint("incident_id", "article_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(10), default="used")  # used | created
    linked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    incident: Mapped[Incident] = relationship(back_populates="article_links")
    article: Mapped[Article] = relationship()

    def __repr__(self) -> str:
        return f"<IncidentArticle {self.incident_id}->{self.article_id} {self.kind}>"


class SlaPause(db.Model):
    """A stretch of time the SLA clock stood still: the incident waited on the requester."""

    __tablename__ = "sla_pauses"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    incident: Mapped[Incident] = relationship(back_populates="pauses")

    def __repr__(self) -> str:
        return f"<SlaPause {self.incident_id} {self.started_at}-{self.ended_at}>"


class Follower(db.Model):
    """Someone with the same problem who follows an incident instead of raising another.

    A follower sees the public view only (title, status, the desk's updates for followers,
    the solution), never the requester's words, files or conversation."""

    __tablename__ = "incident_followers"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    incident: Mapped[Incident] = relationship(back_populates="followers")
    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<Follower {self.user_id} of {self.incident_id}>"


class Share(db.Model):
    """A colleague the requester shared the incident with: they see and write in it as the
    requester does (confirming or reopening stays with the requester)."""

    __tablename__ = "incident_shares"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    shared_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    incident: Mapped[Incident] = relationship(back_populates="shares")
    user: Mapped[User] = relationship(foreign_keys=[user_id])

    def __repr__(self) -> str:
        return f"<Share {self.incident_id} with {self.user_id}>"
