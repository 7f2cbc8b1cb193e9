"""Files judged by content: whatever bytes arrive, the answer is a clean file or a refusal."""

from __future__ import annotations

import io
import random
import warnings

import pytest
from PIL import Image, ImageFile

from facilities.core.uploads import (
    MAX_PIXELS,
    FileTooLarge,
    ImageTooLarge,
    UnacceptedFile,
    read_upload,
    safe_filename,
)


def _save(image: Image.Image, kind: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=kind, **options)
    return buffer.getvalue()


def _seeds() -> list[bytes]:
    image = Image.new("RGB", (40, 30), (10, 200, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated, as a phone held upright writes it
    exif[0x010F] = "Make"
    return [
        _save(image, "JPEG", exif=exif.tobytes()),
        _save(image, "PNG", exif=exif.tobytes()),
        _save(image, "WEBP", exif=exif.tobytes()),
        _save(image.convert("P"), "PNG", transparency=0),
    ]


def test_damaged_photos_are_refused_never_crash():
    """Broken EXIF made Pillow raise SyntaxError and struct.error: a 500 for a photo."""
    rng = random.Random(2026)
    seeds = _seeds()
    refused = 0
    warnings.simplefilter("ignore")  # Pillow warns about corrupt EXIF as it reads it
    for _ in range(1500):
        raw = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 6)):
            raw[rng.randrange(len(raw))] = rng.randrange(256)
        try:
            read_upload(bytes(raw), filename="photo.jpg", max_bytes=10**7)
        except UnacceptedFile:
            refused += 1
    assert refused > 0  # the mutations did break files, and those were refused


def test_a_phone_jpeg_with_a_second_picture_is_taken_as_a_jpeg():
    first, second = Image.new("RGB", (64, 48), "red"), Image.new("RGB", (64, 48), "blue")
    raw = _save(first, "MPO", save_all=True, append_images=[second])
    taken = read_upload(raw, filename="IMG_1.jpg", max_bytes=10**7)
    assert (taken.content_type, taken.suffix, taken.width) == ("image/jpeg", ".jpg", 64)
    assert Image.open(io.BytesIO(taken.data)).format == "JPEG"


def test_colour_profiles_stay_and_the_picture_is_turned_upright():
    from PIL import ImageCms

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90°
    raw = _save(Image.new("RGB", (80, 40)), "JPEG", icc_profile=icc, exif=exif.tobytes())
    taken = read_upload(raw, filename="x.jpg", max_bytes=10**7)
    cleaned = Image.open(io.BytesIO(taken.data))
    assert cleaned.info.get("icc_profile") == icc
    assert cleaned.size == (40, 80) and not cleaned.getexif()


@pytest.mark.parametrize(
    "raw",
    [b"", b"GIF89a" + b"\0" * 20, b"%PDF-1.4\nno end", b"<svg onload=alert(1)>", b"MZ\x90\0"],
)
def test_what_is_not_a_photo_or_pdf_is_refused(raw):
    with pytest.raises(UnacceptedFile):
        read_upload(raw, filename="file.png", max_bytes=10**7)


def test_the_size_limit_is_checked_before_anything_is_decoded():
    with pytest.raises(FileTooLarge):
        read_upload(b"\0" * 1025, filename="x.png", max_bytes=1024)


def huge_png(width: int, height: int) -> bytes:
    """A picture of many pixels in few bytes (one bit each, all black): a 6300x6300 one
    is under 5 KB, and decoding and writing it anew took a worker seconds."""
    return _save(Image.new("1", (width, height)), "PNG")


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # Pillow's note
@pytest.mark.parametrize("kind", ["PNG", "JPEG", "WEBP"])
def test_the_pixel_budget_is_decided_from_the_header_before_anything_is_decoded(monkeypatch, kind):
    side = 6300
    assert side * side > MAX_PIXELS
    raw = huge_png(side, side) if kind == "PNG" else _save(Image.new("L", (side, side)), kind)

    def decoded(*_args, **_kwargs):
        raise AssertionError("a picture over the budget was decoded")

    monkeypatch.setattr(Image.Image, "load", decoded)
    monkeypatch.setattr(ImageFile.ImageFile, "load", decoded)
    with pytest.raises(ImageTooLarge) as refusal:
        read_upload(raw, filename="big.png", max_bytes=10**7)
    assert refusal.value.size == (side, side)


def test_a_picture_within_the_budget_is_taken():
    width, height = 6000, 4000  # a 24 MP camera's photo
    assert width * height <= MAX_PIXELS
    clean = read_upload(huge_png(width, height), filename="camera.png", max_bytes=10**7)
    assert (clean.width, clean.height) == (width, height)


def test_pillow_s_own_guard_is_a_refusal_too():
    # past twice the budget Pillow refuses in Image.open itself, before our check
    with pytest.raises(ImageTooLarge):
        read_upload(huge_png(8000, 8000), filename="bomb.png", max_bytes=10**7)


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("...", "file.png"),
        ("C:\\Users\\aino\\IMG 1.PNG", "IMG 1.png"),
        ("../../etc/passwd", "passwd.png"),
        ('"; filename=evil.html', "; filename=evil.png"),
        ("\u202egnp.exe", "gnp.png"),
        ("a" * 300, "a" * 80 + ".png"),
    ],
)
def test_a_sender_s_file_name_is_made_safe_to_show_and_save(name, shown):
    assert safe_filename(name, ".png") == shown
