"""Search events: what people searched for, what they opened, and what followed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.timeutil import utcnow


class SearchEvent(db.Model):
    __tablename__ = "search_events"
    __table_args__ = (
        Index("ix_search_events_session", "session_key", "created_at"),
        Index("ix_search_events_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_key: Mapped[str] = mapped_column(String(64))  # the browser session
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    query: Mapped[str] = mapped_column(String(300))
    normalised: Mapped[str] = mapped_column(String(300), index=True)
    result_count: Mapped[int]
    source: Mapped[str] = mapped_column(String(10), default="page")  # page | api
    opened_article_id: Mapped[int | None] = mapped_column(
        ForeignKey("articles.id", ondelete="SET NULL")
    )
    voted: Mapped[bool | None] = mapped_column()  # None: no vote; True helped; False did not
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def __repr__(self) -> str:
        return f"<SearchEvent {self.normalised!r} {self.result_count}>"
