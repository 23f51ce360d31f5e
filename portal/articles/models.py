"""Categories, tags, articles, their revisions and readers' votes."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Column,
    Date,
    DateTime,
    ForeignKey,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.extensions import db
from portal.timeutil import utcnow

STATUSES = ("draft", "review", "published", "archived")
# Statuses of published articles: what readers see changes only through an editor.
LIVE_STATUSES = ("published", "archived")
# A revision with one of these statuses is an agent's proposed change to a live article, not
# a version readers ever saw: waiting, sent back, approved (then saved again as a live
# revision) or withdrawn (replaced by the same agent's newer proposal).
PROPOSAL_STATUSES = ("proposed", "returned", "approved", "withdrawn")
VISIBILITIES = ("everyone", "staff")

article_tags = Table(
    "article_tags",
    db.metadata,
    Column("article_id", ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
)


class Category(db.Model):
    """A category, or a subcategory when it has a parent."""

    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("parent_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(140), unique=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("categories.id", ondelete="CASCADE"), index=True
    )
    description: Mapped[str] = mapped_column(Text, default="")

    parent: Mapped[Category | None] = relationship(
        remote_side="Category.id", back_populates="children"
    )
    children: Mapped[list[Category]] = relationship(
        back_populates="parent", order_by="Category.name"
    )

    def __repr__(self) -> str:
        return f"<Category {self.slug}>"


class Tag(db.Model):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)

    def __repr__(self) -> str:
        return f"<Tag {self.name}>"


class Article(db.Model):
    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(140), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    body_md: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("categories.id", ondelete="SET NULL"), index=True
    )
    subcategory_id: Mapped[int | None] = mapped_column(
        ForeignKey("categories.id", ondelete="SET NULL"), index=True
    )
    visibility: Mapped[str] = mapped_column(String(10), default="everyone")
    status: Mapped[str] = mapped_column(String(10), default="draft", index=True)
    owner_email: Mapped[str] = mapped_column(String(254), default="")
    reviewed_on: Mapped[date | None] = mapped_column(Date)
    views: Mapped[int] = mapped_column(default=0)
    helpful_count: Mapped[int] = mapped_column(default=0)
    not_helpful_count: Mapped[int] = mapped_column(default=0)
    reuse_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    review_months: Mapped[int | None] = mapped_column()  # None: the portal's default
    replaced_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("articles.id", ondelete="SET NULL")
    )

    category: Mapped[Category | None] = relationship(foreign_keys=[category_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])
    replaced_by: Mapped[Article | None] = relationship(remote_side="Article.id")
    subcategory: Mapped[Category | None] = relationship(foreign_keys=[subcategory_id])
    tags: Mapped[list[Tag]] = relationship(
        secondary=article_tags, order_by="Tag.name", lazy="selectin"
    )
    revisions: Mapped[list[ArticleRevision]] = relationship(
        back_populates="article",
        order_by="ArticleRevision.number.desc()",
        cascade="all, delete-orphan",
    )

    def __repr__(self) -> str:
        return f"<Article {self.slug}>"

    @property
    def is_public(self) -> bool:
        return self.visibility == "everyone"

    @property
    def tag_names(self) -> list[str]:
        return [tag.name for tag in self.tags]


class ArticleRevision(db.Model):
    """One saved version of an article: kept for history, diff and restore."""

    __tablename__ = "article_revisions"
    __table_args__ = (UniqueConstraint("article_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    body_md: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="draft")
    editor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # A proposal's other fields (slug, category, tags, visibility...), applied on approval.
    proposal: Mapped[dict | None] = mapped_column(JSON)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_note: Mapped[str] = mapped_column(Text, default="")

    article: Mapped[Article] = relationship(back_populates="revisions")
    editor: Mapped[User | None] = relationship(foreign_keys=[editor_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    @property
    def is_proposal(self) -> bool:
        return self.status in PROPOSAL_STATUSES

    def __repr__(self) -> str:
        return f"<ArticleRevision {self.article_id}#{self.number}>"


class Vote(db.Model):
    """One reader's answer to "Did this solve your problem?"; changeable, one per voter."""

    __tablename__ = "votes"
    __table_args__ = (UniqueConstraint("article_id", "voter_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    voter_key: Mapped[str] = mapped_column(String(80))  # "user:<id>" or "session:<id>"
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    helpful: Mapped[bool]
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    def __repr__(self) -> str:
        return f"<Vote {self.article_id} {self.voter_key} {self.helpful}>"


class ArticleEvent(db.Model):
    """One step of the editorial workflow (submitted, sent back, published, archived...)."""

    __tablename__ = "article_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(20))
    from_status: Mapped[str] = mapped_column(String(10), default="")
    to_status: Mapped[str] = mapped_column(String(10), default="")
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    actor: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<ArticleEvent {self.article_id} {self.action}>"


class ArticleFlag(db.Model):
    """An agent's "flag it or fix it": this article is wrong or out of date, and why."""

    __tablename__ = "article_flags"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])

    def __repr__(self) -> str:
        return f"<ArticleFlag {self.article_id}>"
