"""Attachments: type and size checked, stored under instance/, served only through a view
that checks who may see the incident."""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from sqlalchemy import select

from portal.extensions import db
from portal.incidents.models import Attachment, Incident, PendingUpload
from portal.timeutil import as_utc, utcnow

MAX_BYTES = 10 * 1024 * 1024
# A file chosen on a form shown again (confirmation step, a mistake) waits this long.
PENDING_FOR = timedelta(hours=24)

# extension -> (content type, how the file must start; None: text that must decode as UTF-8)
ALLOWED: dict[str, tuple[str, tuple[bytes, ...] | None]] = {
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".gif": ("image/gif", (b"GIF87a", b"GIF89a")),
    ".webp": ("image/webp", (b"RIFF",)),  # and "WEBP" at offset 8: see _looks_like
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".txt": ("text/plain", None),
    ".log": ("text/plain", None),
    ".csv": ("text/plain", None),
    ".json": ("text/plain", None),
}
IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}


class AttachmentError(ValueError):
    pass


def folder() -> Path:
    path = Path(
        current_app.config.get("ATTACHMENTS_DIR") or Path(current_app.instance_path) / "attachments"
    )
    path.mkdir(parents=True, exist_ok=True)
    return path


def clean_name(filename: str) -> str:
    name = os.path.basename((filename or "").replace("\\", "/")).strip().replace("\x00", "")
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '<>:"/|?*')
    return name[:200] or "file"


def check(filename: str, head: bytes, size: int) -> str:
    """The content type for an allowed file; raises AttachmentError saying why not."""
    name = clean_name(filename)
    ext = Path(name).suffix.lower()
    if ext not in ALLOWED:
        raise AttachmentError(
            f"{name}: this type of file is not accepted; attach images, PDFs, text or log files"
        )
    if size > MAX_BYTES:
        # save() reads at most one byte more than allowed, so the real size is unknown here
        raise AttachmentError(f"{name}: larger than 10 MB")
    if size == 0:
        raise AttachmentError(f"{name}: the file is empty")
    content_type, magic = ALLOWED[ext]
    if magic is None:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            # a multi-byte character cut at the end of the sample is fine
            if exc.start < len(head) - 4:
                raise AttachmentError(f"{name}: not a text file") from exc
        if b"\x00" in head:
            raise AttachmentError(f"{name}: not a text file")
    elif not _looks_like(ext, head, magic):
        raise AttachmentError(f"{name}: the content does not match a {ext} file")
    return content_type


def _looks_like(ext: str, head: bytes, magic: tuple[bytes, ...]) -> bool:
    """Whether a file starts the way its type does; RIFF alone is also WAV or AVI."""
    if ext == ".webp":
        return head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    return head.startswith(magic)


def _store(filename: str, stream: BinaryIO) -> tuple[str, str, int]:
    """Check a file and write it under a new storage name: (storage name, type, size)."""
    data = stream.read(MAX_BYTES + 1)
    content_type = check(filename, data[:4096], len(data))
    storage_name = uuid.uuid4().hex
    (folder() / storage_name).write_bytes(data)
    return storage_name, content_type, len(data)


def save(
    incident: Incident,
    uploader,
    filename: str,
    stream: BinaryIO,
    *,
    comment_id: int | None = None,
    internal: bool = False,
) -> Attachment:
    """Check and store one uploaded file; the caller commits."""
    storage_name, content_type, size = _store(filename, stream)
    attachment = Attachment(
        incident=incident,
        uploader=uploader,
        filename=clean_name(filename),
        content_type=content_type,
        size=size,
        storage_name=storage_name,
        comment_id=comment_id,
        is_internal=internal,
    )
    db.session.add(attachment)
    return attachment


def path_of(attachment: Attachment) -> Path:
    return folder() / attachment.storage_name


# -- files waiting for their form -------------------------------------------------------


def hold(uploader, filename: str, stream: BinaryIO, now: datetime | None = None) -> PendingUpload:
    """Check and keep a file whose form is shown again, so it need not be chosen twice;
    the caller commits. Expired ones are cleared on the way."""
    now = now or utcnow()
    purge_expired(now)
    storage_name, content_type, size = _store(filename, stream)
    pending = PendingUpload(
        token=secrets.token_hex(16),
        uploader_id=uploader.id,
        filename=clean_name(filename),
        content_type=content_type,
        size=size,
        storage_name=storage_name,
        created_at=now,
        expires_at=now + PENDING_FOR,
    )
    db.session.add(pending)
    return pending


def held(uploader, tokens: Iterable[str], now: datetime | None = None) -> list[PendingUpload]:
    """The uploader's own waiting files among these tokens (others' or expired: none)."""
    wanted = {t for t in tokens if t and len(t) <= 40}
    if not wanted or uploader is None or not getattr(uploader, "id", None):
        return []
    now = now or utcnow()
    rows = db.session.scalars(
        select(PendingUpload)
        .where(PendingUpload.token.in_(wanted), PendingUpload.uploader_id == uploader.id)
        .order_by(PendingUpload.id)
    )
    return [p for p in rows if as_utc(p.expires_at) > now and (folder() / p.storage_name).is_file()]


def attach_held(
    incident: Incident,
    pending: Iterable[PendingUpload],
    *,
    comment_id: int | None = None,
    internal: bool = False,
) -> list[Attachment]:
    """Turn waiting files into the incident's attachments (the file stays where it is)."""
    made = []
    for item in pending:
        attachment = Attachment(
            incident=incident,
            uploader_id=item.uploader_id,
            filename=item.filename,
            content_type=item.content_type,
            size=item.size,
            storage_name=item.storage_name,
            comment_id=comment_id,
            is_internal=internal,
        )
        db.session.add(attachment)
        db.session.delete(item)
        made.append(attachment)
    return made


def purge_expired(now: datetime | None = None) -> int:
    """Forget waiting files past their time, and remove them from disk."""
    now = now or utcnow()
    expired = list(db.session.scalars(select(PendingUpload).where(PendingUpload.expires_at <= now)))
    for item in expired:
        (folder() / item.storage_name).unlink(missing_ok=True)
        db.session.delete(item)
    return len(expired)
