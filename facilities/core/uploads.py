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

from PIL import Image, ImageOps

IMAGE_FORMATS = {
    "JPEG": ("image/jpeg", ".jpg"),
    # a JPEG with a second picture inside (a phone's depth map or HDR gain map): the
    # first picture is kept, as a plain JPEG
    "MPO": ("image/jpeg", ".jpg"),
    "PNG": ("image/png", ".png"),
    "WEBP": ("image/webp", ".webp"),
}
# What Image.open may read: the JPEG reader also opens MPO. Other formats are never parsed.
OPENED_FORMATS = ("JPEG", "PNG", "WEBP")
PDF = ("application/pdf", ".pdf")
# The pixel budget, read from the header before anything is decoded: decoding and writing
# a picture anew costs time by its pixels, not its bytes (a 113 KB PNG can hold 40 MP, a
# few seconds of a worker). A phone photo is ~12 MP, a 24 MP camera's 6000x4000 fits; the
# budget of one sending (MAX_FILES photos) is five phone photos.
MAX_PIXELS = 25_000_000
MAX_PIXELS_AT_ONCE = 64_000_000
# Pillow's own guard, for anything its readers decode that our header check did not see:
# it warns past this many pixels and raises DecompressionBombError past twice as many.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
THUMBNAIL_SIZE = (480, 480)
WINDOWS_RESERVED = frozenset('<>:"/\\|?*')  # not in a name a download may be saved under


class UnacceptedFile(Exception):
    """Not a JPEG, PNG, WebP or PDF, whatever its name says."""


class FileTooLarge(Exception):
    pass


class ImageTooLarge(UnacceptedFile):
    """A picture of more pixels than the budget; its size when the header told it."""

    def __init__(self, size: tuple[int, int] | None = None) -> None:
        super().__init__()
        self.size = size


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


def clean_image(
    raw: bytes, *, thumbnail: bool = False
) -> tuple[tuple[int, int], str, bytes, bytes]:
    """((width, height), format, data without metadata, WebP thumbnail or b"").

    Any failure to read or write the picture means it is not one we take: a damaged
    file can make Pillow raise nearly anything (SyntaxError from broken EXIF, say).
    """
    try:
        return _clean_image(raw, thumbnail=thumbnail)
    except UnacceptedFile:
        raise
    except Image.DecompressionBombError:
        raise ImageTooLarge() from None
    except Exception:  # whatever a broken file makes Pillow raise
        raise UnacceptedFile() from None


def image_size(raw: bytes) -> tuple[int, int] | None:
    """A picture's (width, height) from its header alone, nothing decoded; None for
    anything that is not a picture we take (read_upload says what it is)."""
    try:
        with Image.open(io.BytesIO(raw), formats=OPENED_FORMATS) as image:
            return image.size
    except Image.DecompressionBombError:
        raise ImageTooLarge() from None
    except Exception:  # not a picture, or a broken one: read_upload refuses it
        return None


def _clean_image(raw: bytes, *, thumbnail: bool) -> tuple[tuple[int, int], str, bytes, bytes]:
    with Image.open(io.BytesIO(raw), formats=OPENED_FORMATS) as image:  # the header only
        kind = image.format or ""
        if kind not in IMAGE_FORMATS:
            raise UnacceptedFile()
        if image.width * image.height > MAX_PIXELS:  # before a single pixel is decoded
            raise ImageTooLarge(image.size)
        if kind == "JPEG" or kind == "MPO":
            kind = "JPEG"
            image.draft("RGB", image.size)  # decode straight to RGB, no CMYK detour
        image.load()
        icc_profile = image.info.get("icc_profile")  # colours, not whereabouts: kept
        # upright, as the phone showed it; in place: a picture upright already is not copied
        ImageOps.exif_transpose(image, in_place=True)
        clean: Image.Image = image
        clean.info = {}
        if kind == "JPEG" and clean.mode not in ("RGB", "L"):
            clean = clean.convert("RGB")
        out = io.BytesIO()
        # no exif=, no other info: the metadata stays behind
        options = {"icc_profile": icc_profile} if icc_profile else {}
        clean.save(out, format=kind, **options)
        size = clean.size
        small = b""
        if thumbnail:
            clean.thumbnail(THUMBNAIL_SIZE)  # in place: no second full-size copy
            if clean.mode not in ("RGB", "RGBA"):
                clean = clean.convert("RGBA" if "A" in clean.mode else "RGB")
            buffer = io.BytesIO()
            clean.save(buffer, format="WEBP", quality=80)
            small = buffer.getvalue()
        return size, kind, out.getvalue(), small


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
    (width, height), kind, data, small = clean_image(raw, thumbnail=True)
    content_type, suffix = IMAGE_FORMATS[kind]
    return CleanFile(
        data=data,
        content_type=content_type,
        suffix=suffix,
        filename=safe_filename(filename, suffix),
        width=width,
        height=height,
        thumbnail=small,
    )
