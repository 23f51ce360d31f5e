"""Attachments: type and size checked, stored under instance/, served only through a view
that checks who may see the incident."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import BinaryIO

from flask import current_app

from portal.extensions import db
from portal.incidents.models import Attachment, Incident

MAX_BYTES = 10 * 1024 * 1024

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
    data = stream.read(MAX_BYTES + 1)
    content_type = check(filename, data[:4096], len(data))
    storage_name = uuid.uuid4().hex
    (folder() / storage_name).write_bytes(data)
    attachment = Attachment(
        incident=incident,
        uploader=uploader,
        filename=clean_name(filename),
        content_type=content_type,
        size=len(data),
        storage_name=storage_name,
        comment_id=comment_id,
        is_internal=internal,
    )
    db.session.add(attachment)
    return attachment


def path_of(attachment: Attachment) -> Path:
    return folder() / attachment.storage_name
