"""Tables the search index is derived from: the outbox of article changes and synonyms."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.timeutil import utcnow


class SearchOutbox(db.Model):
    """One article change, written in the same transaction as the change itself.

    Every node's index applies these rows in id order after the commit and remembers
    the last id it applied, so the database commit never depends on the index.
    """

    __tablename__ = "search_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def __repr__(self) -> str:
        return f"<SearchOutbox {self.id} article {self.article_id}>"


class SynonymGroup(db.Model):
    """Words or phrases that mean the same to searchers ("vpn, remote access")."""

    __tablename__ = "synonym_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    terms: Mapped[str] = mapped_column(Text)  # comma-separated, lowercase
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    label: Mapped[str] = mapped_column(String(120), default="")

    @property
    def term_list(self) -> list[str]:
        return [t.strip() for t in self.terms.split(",") if t.strip()]

    def __repr__(self) -> str:
        return f"<SynonymGroup {self.terms}>"


class RevisionEmbedding(db.Model):
    """The sentence-embedding vector of one article revision (derived data, one per model).

    Stored so that every node uses the same vectors and a node starting cold reads them
    instead of recomputing; float32, little-endian, ``semantic.DIM`` values.
    """

    __tablename__ = "revision_embeddings"

    revision_id: Mapped[int] = mapped_column(
        ForeignKey("article_revisions.id", ondelete="CASCADE"), primary_key=True
    )
    model: Mapped[str] = mapped_column(String(64), primary_key=True)
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def __repr__(self) -> str:
        return f"<RevisionEmbedding revision {self.revision_id} {self.model}>"
