"""Files people send: judged by their content, never by their name, and cleaned.

Photos are decoded and written anew, so what leaves here is a plain picture without
its metadata (a phone photo carries where it was taken) and cannot be anything else
in disguise; PDFs are accepted by their header and served only as downloads.
"""

from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass
from pathlib import PurePosixPath

from PIL import Image, ImageOps, UnidentifiedImageError

IMAGE_FORMATS = {
    "JPEG": ("image/jpeg", ".jpg"),
    "PNG": ("image/png", ".png"),
    "WEBP": ("image/webp", ".webp"),
}
PDF = ("application/pdf", ".pdf")
MAX_PIXELS = 40_000_000  # a phone photo is ~12 MP; refuse decompression bombs
THUMBNAIL_SIZE = (480, 480)
WINDOWS_RESERVED = frozenset('<>:"/\\|?*')  # not in a name a download may be saved under


class UnacceptedFile(Exception):
    """Not a JPEG, PNG, WebP or PDF, whatever its name says."""


class FileTooLarge(Exception):
    pass


@dataclass(frozen=True)
class CleanFile:
    data: bytes
    content_type: str
    suffix: str
    filename: str  # what the sender called it, safe to show and to offer as a name
    width: int | None = None
    height: int | None = None
    thumbnail: bytes | None = None  # WebP, for images

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


def clean_image(raw: bytes, *, thumbnail: bool = False) -> tuple[Image.Image, str, bytes, bytes]:
    """(image, format, data without metadata, WebP thumbnail or b"")."""
    try:
        with Image.open(io.BytesIO(raw)) as image:
            kind = image.format or ""
            if kind not in IMAGE_FORMATS:
                raise UnacceptedFile()
            if image.width * image.height > MAX_PIXELS:
                raise UnacceptedFile()
            image.load()
            clean = ImageOps.exif_transpose(image)  # upright, as the phone showed it
            clean.info = {}
            if kind == "JPEG" and clean.mode not in ("RGB", "L"):
                clean = clean.convert("RGB")
            out = io.BytesIO()
            clean.save(out, format=kind)  # no exif=, no info: the metadata stays behind
            small = b""
            if thumbnail:
                preview = clean.copy()
                preview.thumbnail(THUMBNAIL_SIZE)
                if preview.mode not in ("RGB", "RGBA"):
                    preview = preview.convert("RGBA" if "A" in preview.mode else "RGB")
                buffer = io.BytesIO()
                preview.save(buffer, format="WEBP", quality=80)
                small = buffer.getvalue()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise UnacceptedFile() from None
    return clean, kind, out.getvalue(), small


def _looks_like_pdf(raw: bytes) -> bool:
    # A PDF starts with its version and ends (give or take trailing bytes) with %%EOF.
    return raw.startswith(b"%PDF-") and b"%%EOF" in raw[-2048:]


def safe_filename(name: str, suffix: str) -> str:
    """The sender's file name as text to show: no folders, no control characters, our
    suffix (the content decided the type, not the name)."""
    stem = PurePosixPath((name or "").replace("\\", "/")).stem
    stem = "".join(
        ch
        for ch in stem
        if (unicodedata.category(ch)[0] not in ("C", "Z") or ch == " ")
        and ch not in WINDOWS_RESERVED
    )
    stem = " ".join(stem.split())[:80].strip(" .") or "file"
    return stem + suffix


def read_upload(raw: bytes, *, filename: str, max_bytes: int) -> CleanFile:
    """A JPEG, PNG, WebP or PDF, cleaned; raises FileTooLarge or UnacceptedFile."""
    if len(raw) > max_bytes:
        raise FileTooLarge()
    if _looks_like_pdf(raw):
        content_type, suffix = PDF
        return CleanFile(raw, content_type, suffix, safe_filename(filename, suffix))
    image, kind, data, small = clean_image(raw, thumbnail=True)
    content_type, suffix = IMAGE_FORMATS[kind]
    return CleanFile(
        data=data,
        content_type=content_type,
        suffix=suffix,
        filename=safe_filename(filename, suffix),
        width=image.width,
        height=image.height,
        thumbnail=small,
    )
