"""Photos and files on requests and comments: judged by content, cleaned, served by policy."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlmodel import select

from facilities.core.models import Outbox
from facilities.core.storage import get_storage
from facilities.park.models import Visibility
from facilities.requests.models import Attachment, ServiceRequest
from tests import factories
from tests.conftest import csrf_token, sign_in

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _photo_with_location() -> bytes:
    """A JPEG as a phone writes it: with GPS coordinates in its EXIF."""
    image = Image.new("RGB", (800, 600), (200, 120, 40))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (65.0, 44.0, 22.0)  # Kemi
    gps[3] = "E"
    gps[4] = (24.0, 34.0, 57.0)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


def _form(db, client, category, **fields):
    return {
        "csrf_token": csrf_token(client, "/tenant/requests/new"),
        "title": "Broken bike rack at the door",
        "category_id": str(category.id),
        **fields,
    }


def _member(app, db):
    member = factories.user(db, preferred_language="en")
    category = factories.category(db)
    db.commit()
    client = app.test_client()
    sign_in(client, member.email)
    return member, category, client


def _newest(db) -> ServiceRequest:
    db.expire_all()
    return db.exec(select(ServiceRequest).order_by(ServiceRequest.id.desc())).first()  # type: ignore[union-attr]


def test_a_photo_is_stored_without_its_location_with_a_thumbnail(app, db):
    _member_user, category, client = _member(app, db)
    raw = _photo_with_location()
    assert b"PhoneMaker" in raw  # the test photo does carry metadata
    data = _form(db, client, category)
    data["files"] = [(io.BytesIO(raw), "IMG_2041.JPG"), (io.BytesIO(PDF), "quote.pdf")]
    answer = client.post("/tenant/requests/new", data=data, content_type="multipart/form-data")
    assert answer.status_code == 302
    item = _newest(db)
    photo, pdf = db.exec(
        select(Attachment).where(Attachment.request_id == item.id).order_by(Attachment.id)
    ).all()
    assert (photo.content_type, photo.filename, photo.width) == ("image/jpeg", "IMG_2041.jpg", 800)
    stored = get_storage().load(photo.storage_key)
    assert stored is not None and b"PhoneMaker" not in stored
    assert Image.open(io.BytesIO(stored)).getexif().get_ifd(0x8825) == {}
    thumbnail = Image.open(io.BytesIO(get_storage().load(photo.thumbnail_key)))
    assert thumbnail.format == "WEBP" and max(thumbnail.size) <= 480
    assert (pdf.content_type, pdf.thumbnail_key) == ("application/pdf", "")

    page = client.get(f"/requests/{item.reference}").get_data(as_text=True)
    assert f"/requests/{item.reference}/files/{photo.id}/thumbnail" in page
    assert "IMG_2041.jpg" in page and "quote.pdf" in page


def test_files_are_served_so_that_nothing_in_them_can_run(app, db):
    item = factories.service_request(db)
    photo = factories.attachment(db, item)
    pdf = factories.attachment(db, item, data=PDF, filename="<script>.pdf")
    db.commit()
    client = app.test_client()
    shown = client.get(f"/requests/{item.reference}/files/{photo.id}")
    assert shown.status_code == 200 and shown.mimetype == "image/png"
    assert shown.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in shown.headers["Content-Security-Policy"]
    assert "default-src 'none'" in shown.headers["Content-Security-Policy"]
    assert shown.headers["Content-Disposition"].startswith("inline")
    downloaded = client.get(f"/requests/{item.reference}/files/{pdf.id}")
    assert downloaded.mimetype == "application/pdf"
    assert downloaded.headers["Content-Disposition"].startswith("attachment")
    assert "<" not in downloaded.headers["Content-Disposition"]
    assert downloaded.data == PDF


def test_a_png_that_is_really_html_is_refused_with_the_form_kept(app, db):
    _member_user, category, client = _member(app, db)
    data = _form(db, client, category, description="Two racks are bent.")
    html = b"<html><script>alert(document.cookie)</script></html>"
    data["files"] = [(io.BytesIO(html), "rack.png")]
    answer = client.post("/tenant/requests/new", data=data, content_type="multipart/form-data")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert "rack.png is not a photo or PDF we can take" in page
    assert "Two racks are bent." in page and "Broken bike rack at the door" in page
    assert db.exec(select(Attachment)).first() is None
    assert db.exec(select(ServiceRequest)).first() is None


def test_an_oversized_file_gets_a_clear_message(app, db):
    _member_user, category, client = _member(app, db)
    limit = app.extensions["facilities.settings"].upload_max_bytes
    data = _form(db, client, category)
    data["files"] = [(io.BytesIO(b"\xff" * (limit + 1)), "huge.jpg")]
    answer = client.post("/tenant/requests/new", data=data, content_type="multipart/form-data")
    assert answer.status_code == 422
    assert "huge.jpg is too large: a file can be at most 8 MB" in answer.get_data(as_text=True)


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # Pillow's note
def test_a_picture_of_too_many_pixels_is_refused_before_decoding_with_the_form_kept(
    app, db, monkeypatch
):
    from PIL import ImageFile

    from tests.core.test_uploads import huge_png

    _member_user, category, client = _member(app, db)
    data = _form(db, client, category, description="Two racks are bent.")
    data["files"] = [(io.BytesIO(huge_png(6300, 6300)), "bomb.png") for _ in range(5)]

    def decoded(*_args, **_kwargs):
        raise AssertionError("a picture over the budget was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", decoded)
    answer = client.post("/tenant/requests/new", data=data, content_type="multipart/form-data")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert "bomb.png is too large a picture: a photo can have at most 25 megapixels" in page
    assert "Two racks are bent." in page and "Broken bike rack at the door" in page
    assert db.exec(select(Attachment)).first() is None


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # Pillow's note
def test_photos_over_the_budget_of_one_sending_together_are_refused(app, db, monkeypatch):
    from PIL import ImageFile

    from tests.core.test_uploads import huge_png

    _member_user, category, client = _member(app, db)
    data = _form(db, client, category)
    # each within the budget of one picture (5000x5000 = 25 MP), 75 MP together
    data["files"] = [(io.BytesIO(huge_png(5000, 5000)), f"p{n}.png") for n in range(3)]

    def decoded(*_args, **_kwargs):
        raise AssertionError("a picture over the budget was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", decoded)
    answer = client.post("/tenant/requests/new", data=data, content_type="multipart/form-data")
    assert answer.status_code == 422
    assert "These photos have 75 megapixels together; at most 64" in answer.get_data(as_text=True)
    assert db.exec(select(ServiceRequest)).first() is None


def test_at_most_five_files_and_a_failed_form_asks_for_them_again(app, db):
    _member_user, category, client = _member(app, db)
    data = _form(db, client, category)
    data["files"] = [(io.BytesIO(factories.png()), f"p{n}.png") for n in range(6)]
    answer = client.post("/tenant/requests/new", data=data, content_type="multipart/form-data")
    assert "Attach at most 5 files at a time." in answer.get_data(as_text=True)

    data = _form(db, client, category, title="")
    data["files"] = [(io.BytesIO(factories.png()), "ok.png")]
    answer = client.post("/tenant/requests/new", data=data, content_type="multipart/form-data")
    assert "choose your files again" in answer.get_data(as_text=True)


def test_a_comment_s_files_are_for_the_conversation_only(app, db):
    sender = factories.user(db, preferred_language="en")
    item = factories.service_request(db, submitter=sender)
    outsider = factories.user(db)
    staff = factories.staff(db, preferred_language="en")
    db.commit()
    company = app.test_client()
    sign_in(company, sender.email)
    sent = company.post(
        f"/requests/{item.reference}/comments",
        data={
            "csrf_token": csrf_token(company, f"/requests/{item.reference}"),
            "comment": "",
            "files": [(io.BytesIO(factories.png()), "meter.png")],
        },
        content_type="multipart/form-data",
    )
    assert sent.status_code == 302  # a photo alone is a message
    [mail] = db.exec(select(Outbox).where(Outbox.recipient == staff.email)).all()
    assert "1 photo or file is attached: open it on the request's page." in mail.body_text
    [attachment] = db.exec(select(Attachment).where(Attachment.request_id == item.id)).all()
    assert attachment.update_id is not None
    url = f"/requests/{item.reference}/files/{attachment.id}"
    assert company.get(url).status_code == 200
    assert app.test_client().get(url).status_code == 404
    other = app.test_client()
    sign_in(other, outsider.email)
    assert other.get(url).status_code == 404
    assert url not in other.get(f"/requests/{item.reference}").get_data(as_text=True)


def test_a_private_request_s_files_are_refused_to_other_companies(app, db):
    item = factories.service_request(db)
    item.visibility = Visibility.private
    photo = factories.attachment(db, item)
    outsider = factories.user(db)
    db.commit()
    other = app.test_client()
    sign_in(other, outsider.email)
    assert other.get(f"/requests/{item.reference}/files/{photo.id}").status_code == 404
    assert other.get(f"/requests/{item.reference}/files/{photo.id}/thumbnail").status_code == 404


def test_a_body_beyond_every_limit_is_refused_before_it_is_read(app, db):
    _member_user, category, client = _member(app, db)
    data = _form(db, client, category)
    upload_max = app.extensions["facilities.settings"].upload_max_bytes
    data["files"] = [(io.BytesIO(b"\0" * (5 * upload_max + 1024 * 1024 + 1)), "disk.img")]
    answer = client.post("/tenant/requests/new", data=data, content_type="multipart/form-data")
    assert answer.status_code == 413


def test_other_forms_and_people_not_signed_in_get_small_bodies_only(app, db):
    """The CSRF check reads a form before any view: only where files are taken, and from
    whom, may a body be larger than 2 MB."""
    category = factories.category(db)
    db.commit()
    big = "x" * (3 * 1024 * 1024)
    client = app.test_client()
    assert client.post("/login", data={"email": big}).status_code == 413
    anonymous = client.post(
        "/tenant/requests/new",
        data={"category_id": str(category.id), "files": [(io.BytesIO(big.encode()), "a.png")]},
        content_type="multipart/form-data",
    )
    assert anonymous.status_code == 413
    # a long form field is refused too, whatever the address (werkzeug's 500 KB for fields)
    assert client.post("/login", data={"email": "x" * 600_000}).status_code == 413


def test_files_of_a_transaction_that_does_not_commit_are_deleted(app, db):
    item = factories.service_request(db)
    db.commit()
    kept = factories.attachment(db, item)
    db.commit()
    dropped = factories.attachment(db, item)
    keys = (dropped.storage_key, dropped.thumbnail_key)
    assert all(get_storage().load(key) for key in keys)
    db.rollback()  # the request failed after the files were stored
    assert [get_storage().load(key) for key in keys] == [None, None]
    assert get_storage().load(kept.storage_key) is not None
