"""Photos and files sent with a request or a comment: checked, cleaned, stored, listed."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlmodel import Session, col, select

from facilities.accounts.models import User
from facilities.core.errors import ValidationFailed
from facilities.core.storage import Storage, save_with
from facilities.core.uploads import (
    MAX_PIXELS,
    MAX_PIXELS_AT_ONCE,
    CleanFile,
    FileTooLarge,
    ImageTooLarge,
    UnacceptedFile,
    image_size,
    read_upload,
    safe_filename,
)
from facilities.requests.models import Attachment, RequestUpdate, ServiceRequest

MAX_FILES = 5


@dataclass(frozen=True)
class Upload:
    """A file as it arrived: the name its sender gave it and its bytes (at most one byte
    past the limit is read, which is enough to know it is too large)."""

    filename: str
    data: bytes


def check_files(
    uploads: Sequence[Upload], *, max_bytes: int, field: str = "files"
) -> list[CleanFile]:
    """The uploads cleaned, or ValidationFailed naming the first file that cannot be taken."""
    uploads = [upload for upload in uploads if upload.filename or upload.data]
    if len(uploads) > MAX_FILES:
        raise ValidationFailed(
            {field: _l("Attach at most %(count)s files at a time.", count=MAX_FILES)}
        )
    _within_pixel_budget(uploads, field=field)
    files = []
    for upload in uploads:
        name = _shown(upload.filename)
        try:
            files.append(read_upload(upload.data, filename=upload.filename, max_bytes=max_bytes))
        except ImageTooLarge:
            raise _too_many_pixels(upload, field) from None
        except FileTooLarge:
            raise ValidationFailed(
                {
                    field: _l(
                        "%(name)s is too large: a file can be at most %(mb)s MB.",
                        name=name,
                        mb=max_bytes // (1024 * 1024) or 1,
                    )
                }
            ) from None
        except UnacceptedFile:
            raise ValidationFailed(
                {
                    field: _l(
                        "%(name)s is not a photo or PDF we can take: send JPEG, PNG or WebP"
                        " photos, or PDF files.",
                        name=name,
                    )
                }
            ) from None
    return files


def _too_many_pixels(upload: Upload, field: str) -> ValidationFailed:
    return ValidationFailed(
        {
            field: _l(
                "%(name)s is too large a picture: a photo can have at most %(mp)s megapixels "
                "(a phone photo has about 12). Send a smaller version.",
                name=_shown(upload.filename),
                mp=MAX_PIXELS // 1_000_000,
            )
        }
    )


def _within_pixel_budget(uploads: Sequence[Upload], *, field: str) -> None:
    """Every picture's size from its header, before any is decoded: one too large, or
    all together more than a sending's budget, is refused without decoding a pixel."""
    pixels = 0
    for upload in uploads:
        try:
            size = image_size(upload.data)
        except ImageTooLarge:
            raise _too_many_pixels(upload, field) from None
        if size is None:
            continue  # a PDF, or not a picture at all: read_upload says which
        if size[0] * size[1] > MAX_PIXELS:
            raise _too_many_pixels(upload, field)
        pixels += size[0] * size[1]
    if pixels > MAX_PIXELS_AT_ONCE:
        raise ValidationFailed(
            {
                field: _l(
                    "These photos have %(mp)s megapixels together; at most %(most)s can be "
                    "sent at a time. Send fewer at once, or smaller versions.",
                    mp=pixels // 1_000_000,
                    most=MAX_PIXELS_AT_ONCE // 1_000_000,
                )
            }
        )


def _shown(filename: str) -> str:
    """The sender's file name as a message may repeat it: short, nothing invisible."""
    return safe_filename(filename, PurePosixPath(filename.replace("\\", "/")).suffix[:10])


def attach(
    session: Session,
    storage: Storage,
    *,
    service_request: ServiceRequest,
    uploader: User | None,
    files: Sequence[CleanFile],
    entry: RequestUpdate | None = None,
) -> list[Attachment]:
    """Store the files and record them on the request, or on one of its comments."""
    assert service_request.id is not None
    attachments = []
    for file in files:
        key = save_with(
            session, storage, file.data, suffix=file.suffix, content_type=file.content_type
        )
        thumbnail_key = (
            save_with(session, storage, file.thumbnail, suffix=".webp", content_type="image/webp")
            if file.thumbnail
            else ""
        )
        attachment = Attachment(
            request_id=service_request.id,
            update_id=entry.id if entry is not None else None,
            uploader_id=uploader.id if uploader is not None else None,
            storage_key=key,
            thumbnail_key=thumbnail_key,
            content_type=file.content_type,
            filename=file.filename,
            size_bytes=len(file.data),
            width=file.width,
            height=file.height,
        )
        session.add(attachment)
        attachments.append(attachment)
    session.flush()
    return attachments


def attachments_of(
    session: Session, service_request: ServiceRequest, *, with_comments: bool
) -> dict[int | None, list[Attachment]]:
    """The request's files by the comment they came with (None: the request's own), in
    one query."""
    statement = select(Attachment).where(Attachment.request_id == service_request.id)
    if not with_comments:
        statement = statement.where(col(Attachment.update_id).is_(None))
    grouped: dict[int | None, list[Attachment]] = defaultdict(list)
    for attachment in session.exec(statement.order_by(col(Attachment.id))).all():
        grouped[attachment.update_id].append(attachment)
    return dict(grouped)


def uploads_from(files: Any, name: str = "files", *, max_bytes: int) -> list[Upload]:
    """Uploads from a request's files (werkzeug's MultiDict of FileStorage)."""
    return [
        Upload(filename=storage.filename or "", data=storage.stream.read(max_bytes + 1))
        for storage in files.getlist(name)
        if storage.filename
    ]
