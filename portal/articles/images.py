"""Images in articles: pasted, dropped or chosen in the editor, checked (a PNG, JPEG, GIF or
WebP by its bytes, whatever its name says; at most 5 MB and 6000 px a side), stored under
instance/ like incident attachments and served only to whoever may read the article."""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path

from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from portal import images
from portal.extensions import db
from portal.incidents import attachments
from portal.incidents.attachments import clean_name
from portal.timeutil import utcnow

MAX_BYTES = 5 * 1024 * 1024
MAX_SIDE = 6000


class ImageError(ValueError):
    """Why an image was refused, fit to show the editor."""


class ArticleImage(db.Model):
    __tablename__ = "article_images"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    uploader_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    width: Mapped[int]
    height: Mapped[int]
    storage_name: Mapped[str] = mapped_column(String(80), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


def folder() -> Path:
    """Beside the incidents' attachments (ATTACHMENTS_DIR), in a folder of their own."""
    path = attachments.folder() / "article-images"
    path.mkdir(parents=True, exist_ok=True)
    return path


def save(article, uploader, filename: str, data: bytes) -> ArticleImage:
    """Check and store one image of an article; the caller commits."""
    name = clean_name(filename or "image")
    if not data:
        raise ImageError(f"{name}: the file is empty")
    if len(data) > MAX_BYTES:
        raise ImageError(f"{name}: larger than {MAX_BYTES // (1024 * 1024)} MB")
    kind = images.sniff(data)
    if kind is None:
        raise ImageError(f"{name}: not a PNG, JPEG, GIF or WebP image")
    size = images.dimensions(data)
    if not size or not all(0 < side <= MAX_SIDE for side in size):
        raise ImageError(f"{name}: its size cannot be read or is over {MAX_SIDE} px on a side")
    storage_name = uuid.uuid4().hex
    (folder() / storage_name).write_bytes(data)
    image = ArticleImage(
        article_id=article.id,
        uploader_id=uploader.id if uploader is not None else None,
        filename=name,
        content_type=kind,
        size=len(data),
        width=size[0],
        height=size[1],
        storage_name=storage_name,
    )
    db.session.add(image)
    db.session.flush()
    return image


def path_of(image: ArticleImage) -> Path:
    return folder() / image.storage_name


def markdown_for(image: ArticleImage, url: str) -> str:
    """The Markdown that shows the image: its file name (without extension) as the alt text."""
    alt = Path(image.filename).stem.replace("[", "").replace("]", "").strip() or "image"
    return f"![{alt}]({url})"
