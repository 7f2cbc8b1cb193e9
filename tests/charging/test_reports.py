"""Fault reports from a charger's QR code: no account, spam-proofed, merged into one fault."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from sqlmodel import select

from facilities.charging.faults import sync_faults
from facilities.charging.models import ChargerFault, FaultReport
from facilities.core.models import AuditEvent, Outbox
from facilities.requests.models import RequestUpdate, ServiceRequest, UpdateKind
from tests import factories
from tests.charging.helpers import mapped_charger, minutes, push_status
from tests.conftest import csrf_token


def _report(client, charger, **fields):
    path = f"/charging/{charger.code}/report"
    data = {"problem": "will_not_start", "csrf_token": csrf_token(client, path), **fields}
    return client.post(path, data=data, content_type="multipart/form-data")


def _confirm(client, token: str):
    path = f"/charging/reports/confirm/{token}"
    return client.post(path, data={"csrf_token": csrf_token(client, path)})


def _open_faults(db, charger):
    db.expire_all()
    return db.exec(
        select(ChargerFault).where(ChargerFault.charger_id == charger.id, ChargerFault.open)
    ).all()


def test_the_qr_code_opens_the_form_for_its_charger(app, client, db):
    factories.site(db)
    charger = factories.charger(db)
    db.commit()
    svg = client.get(f"/charging/{charger.code}/qr.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert b"<svg" in svg.data and b"<script" not in svg.data
    png = client.get(f"/charging/{charger.code}/qr.png")
    assert png.mimetype == "image/png" and Image.open(io.BytesIO(png.data)).format == "PNG"
    from facilities.charging.qr import report_url

    with app.test_request_context():
        assert report_url(charger).endswith(f"/charging/{charger.code}/report")
    form = client.get(f"/charging/{charger.code}/report")
    assert form.status_code == 200 and charger.code in form.get_data(as_text=True)


def test_a_report_opens_a_fault_and_the_next_one_merges_into_it(app, client, db):
    factories.site(db)
    charger = factories.charger(db)
    db.commit()
    first = _report(client, charger, details="Display says E42", email="Driver@Example.fi")
    assert first.status_code == 302 and "merged=0" in first.location
    second = _report(client, charger, problem="cable_damaged")
    assert second.status_code == 302 and "merged=1" in second.location

    [fault] = _open_faults(db, charger)
    assert not fault.automatic
    item = db.get(ServiceRequest, fault.request_id)
    assert charger.code in item.title and item.submitter_id is None
    assert "E42" not in item.title + item.description  # free text is for staff only
    notes = db.exec(
        select(RequestUpdate).where(
            RequestUpdate.request_id == item.id, RequestUpdate.kind == UpdateKind.internal_note
        )
    ).all()
    assert len(notes) == 2 and "E42" in notes[0].body
    reports = db.exec(select(FaultReport).where(FaultReport.request_id == item.id)).all()
    assert [r.email for r in reports] == ["Driver@example.fi", ""]

    page = client.get(first.location).get_data(as_text=True)
    assert item.reference in page
    # the reporter's page does not show staff's notes
    public = client.get(f"/requests/{item.reference}").get_data(as_text=True)
    assert "E42" not in public


def test_the_address_is_confirmed_by_its_link_before_any_other_mail(app, client, db):
    factories.site(db)
    charger = mapped_charger(db)
    push_status(db, "OUTOFORDER", minutes(1))
    _report(client, charger, email="driver@example.fi")
    [mail] = db.exec(select(Outbox).where(Outbox.recipient == "driver@example.fi")).all()
    link = re.search(r"https?://\S+/charging/reports/confirm/(\S+)", mail.body_text)
    assert link, mail.body_text
    assert client.get("/charging/reports/confirm/not-the-token").status_code == 404

    # the fix comes before the confirmation: no mail beyond the first
    assert len(_open_faults(db, charger)) == 1
    sync_faults(db, minutes(20))  # the operator confirms the fault
    db.commit()
    push_status(db, "AVAILABLE", minutes(30))
    sync_faults(db, minutes(31))
    db.commit()
    assert len(db.exec(select(Outbox).where(Outbox.recipient == "driver@example.fi")).all()) == 1

    path = f"/charging/reports/confirm/{link.group(1)}"
    asked = client.get(path)  # a mail scanner follows the link: that confirms nothing
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and 'method="post"' in page and 'name="csrf_token"' in page
    db.expire_all()
    assert db.exec(select(FaultReport)).one().confirmed_at is None
    assert client.post(path).status_code == 400  # no CSRF token: no confirmation either
    confirmed = client.post(path, data={"csrf_token": csrf_token(client, path)})
    assert confirmed.status_code == 200
    db.expire_all()
    assert db.exec(select(FaultReport)).one().confirmed_at is not None
    client.get("/language/en")
    reopened = client.get(path).get_data(as_text=True)  # opened again: it says it is done
    assert "Address confirmed" in reopened and 'method="post"' not in reopened


def test_a_confirmed_reporter_hears_of_the_fix(app, client, db):
    factories.site(db)
    charger = mapped_charger(db)
    _report(client, charger, email="driver@example.fi")
    token = re.search(r"/confirm/(\S+)", db.exec(select(Outbox)).one().body_text).group(1)
    _confirm(client, token)
    push_status(db, "OUTOFORDER", minutes(1))
    sync_faults(db, minutes(20))
    push_status(db, "AVAILABLE", minutes(30))
    sync_faults(db, minutes(31))
    db.commit()
    mails = db.exec(select(Outbox).where(Outbox.recipient == "driver@example.fi")).all()
    assert len(mails) == 2 and charger.code in mails[1].subject


def test_the_honeypot_thanks_a_bot_and_stores_nothing(app, client, db):
    factories.site(db)
    charger = factories.charger(db)
    db.commit()
    response = _report(client, charger, website="http://spam.example", details="buy now")
    assert response.status_code == 302 and "/report/sent" in response.location
    assert db.exec(select(FaultReport)).all() == []
    assert db.exec(select(ServiceRequest)).all() == []


def test_bad_input_keeps_what_was_typed(app, client, db):
    client.get("/language/en")  # the messages below are read in English
    factories.site(db)
    charger = factories.charger(db)
    db.commit()
    response = _report(
        client, charger, problem="", details="Kaapeli on poikki", email="not-an-address"
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Kaapeli on poikki" in page and 'value="not-an-address"' in page
    response = _report(client, charger, details="Kaapeli on poikki", email="not-an-address")
    assert response.status_code == 422 and "name@example.fi" in response.get_data(as_text=True)
    assert db.exec(select(FaultReport)).all() == []


def test_too_many_reports_from_one_address_are_refused_with_a_message(app, client, db):
    factories.site(db)
    charger = factories.charger(db)
    db.commit()
    statuses = [_report(client, charger, details=f"try {n}").status_code for n in range(6)]
    assert statuses == [302] * 5 + [429]
    refused = _report(client, charger, details="seventh")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 429 and "seventh" in page and refused.headers["Retry-After"]
    assert len(db.exec(select(FaultReport)).all()) == 5


def test_a_form_sent_back_to_correct_does_not_count_against_the_limit(app, client, db):
    """People behind one park network fix their mistakes without using up its reports."""
    factories.site(db)
    charger = factories.charger(db)
    db.commit()
    mistakes = [_report(client, charger, problem="").status_code for _ in range(6)]
    assert mistakes == [422] * 6
    statuses = [_report(client, charger, details=f"try {n}").status_code for n in range(6)]
    assert statuses == [302] * 5 + [429]


def _from(app, number: int):
    """A client on a connection of its own: only the address's limits count."""
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = f"192.0.2.{number + 1}"
    return other


def test_one_address_gets_one_confirmation_while_it_is_pending(app, client, db):
    """Reports naming one mailbox (however written) are all kept, but it gets one e-mail
    until it confirms: a stranger's inbox is not filled from the open form."""
    factories.site(db)
    charger = factories.charger(db)
    db.commit()
    for number, email in enumerate(["victim@example.fi", "Victim+2@Example.fi"]):
        assert _report(_from(app, number), charger, email=email).status_code == 302
    reports = db.exec(select(FaultReport).order_by(FaultReport.id)).all()
    assert [r.email_key for r in reports] == ["victim@example.fi"] * 2
    [mail] = db.exec(select(Outbox)).all()
    assert mail.recipient == "victim@example.fi"

    token = re.search(r"/confirm/(\S+)", mail.body_text).group(1)
    assert _confirm(client, token).status_code == 200
    db.expire_all()  # the mailbox confirmed: its reports waiting with it are confirmed too
    assert all(r.confirmed_at is not None for r in db.exec(select(FaultReport)).all())
    [event] = db.exec(select(AuditEvent).where(AuditEvent.action == "fault_report.confirmed"))
    assert event.entity_id == reports[0].id
    assert _report(_from(app, 3), charger, email="victim@example.fi").status_code == 302
    assert len(db.exec(select(Outbox)).all()) == 2  # a new report after confirming: a new ask


def test_confirming_at_one_charger_confirms_nothing_at_another(app, client, db):
    """A stranger may type the victim's address at another charger: the victim's yes
    answered the question about one charger only."""
    factories.site(db)
    mine, other = factories.charger(db), factories.charger(db)
    db.commit()
    assert _report(_from(app, 0), mine, email="victim@example.fi").status_code == 302
    assert _report(_from(app, 1), other, email="Victim+x@example.fi").status_code == 302
    [mail] = db.exec(select(Outbox)).all()  # one pending confirmation for the mailbox
    assert (
        _confirm(client, re.search(r"/confirm/(\S+)", mail.body_text).group(1)).status_code == 200
    )
    db.expire_all()
    confirmed = {
        r.charger_id: r.confirmed_at is not None for r in db.exec(select(FaultReport)).all()
    }
    assert confirmed == {mine.id: True, other.id: False}


def test_a_pending_confirmation_runs_out_and_then_a_new_one_may_be_sent(app, db):
    from datetime import timedelta

    from facilities.charging.reports import (
        CONFIRM_WITHIN,
        FaultReportCreate,
        confirm_report,
        submit_report,
    )
    from facilities.core.models import utcnow

    factories.site(db)
    charger = factories.charger(db)
    db.commit()
    start = utcnow()
    data = FaultReportCreate(problem="stopped", email="driver@example.fi")

    def report(at):
        with app.test_request_context():
            return submit_report(
                db, charger=charger, data=data, language="fi", photo=None, storage=None, now=at
            )

    first = report(start)
    report(start + timedelta(days=1))
    assert len(db.exec(select(Outbox)).all()) == 1
    token = re.search(r"/confirm/(\S+)", db.exec(select(Outbox)).one().body_text).group(1)
    late = start + CONFIRM_WITHIN + timedelta(minutes=1)
    assert confirm_report(db, token=token, now=late) is None  # the link has run out
    report(late)
    assert len(db.exec(select(Outbox)).all()) == 2
    db.refresh(first.report)
    assert first.report.confirmed_at is None


def test_too_many_reports_for_one_address_are_refused_from_any_connection(app, client, db):
    client.get("/language/en")
    factories.site(db)
    charger = factories.charger(db)
    db.commit()
    emails = [
        "victim@example.fi",
        "VICTIM@example.fi",
        "victim+a@example.fi",
        "victim+b@example.fi",
    ]
    statuses = [
        _report(_from(app, number), charger, email=email).status_code
        for number, email in enumerate(emails)
    ]
    assert statuses == [302, 302, 302, 429]
    refused = _report(client, charger, email="victim+c@example.fi", details="still broken")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 429 and refused.headers["Retry-After"]
    assert "still broken" in page and 'value="victim+c@example.fi"' in page
    assert "without an e-mail address" in page  # the report itself can still be sent
    assert _report(client, charger, details="still broken").status_code == 302
    assert len(db.exec(select(Outbox)).all()) == 1


def _png_with_location() -> bytes:
    image = Image.new("RGB", (40, 30), (200, 30, 30))
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (65.0, 44.0, 10.0), 3: "E", 4: (24.0, 33.0, 50.0)}  # GPS
    exif[0x010F] = "PhoneMaker"
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def test_a_photo_loses_its_location_and_only_staff_see_it(app, client, db):
    factories.site(db)
    charger = factories.charger(db)
    staff = factories.staff(db)
    db.commit()
    raw = _png_with_location()
    assert Image.open(io.BytesIO(raw)).getexif().get(0x8825)  # the test photo has a location
    response = _report(client, charger, photo=(io.BytesIO(raw), "IMG_0001.jpg"))
    assert response.status_code == 302
    report = db.exec(select(FaultReport)).one()
    assert report.photo_key and report.photo_type == "image/jpeg"
    path = f"/staff/charging/reports/{report.id}/photo"
    assert client.get(path).status_code == 302  # to sign in
    from tests.conftest import sign_in

    sign_in(client, staff.email)
    served = client.get(path)
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in served.headers["Content-Security-Policy"]
    stored = Image.open(io.BytesIO(served.data))
    assert stored.size == (40, 30)
    assert not stored.getexif().get(0x8825) and not stored.getexif().get(0x010F)


@pytest.mark.parametrize(
    "content, name",
    [
        (b"<html><script>alert(1)</script></html>", "innocent.png"),
        (b"%PDF-1.7 not a photo", "photo.jpg"),
        (b"", "empty.webp"),
    ],
)
def test_a_file_that_is_not_a_photo_is_refused(app, client, db, content, name):
    client.get("/language/en")  # the messages below are read in English
    factories.site(db)
    charger = factories.charger(db)
    db.commit()
    response = _report(client, charger, details="look", photo=(io.BytesIO(content), name))
    assert response.status_code == 422
    assert "JPEG, PNG or WebP" in response.get_data(as_text=True)
    assert db.exec(select(FaultReport)).all() == []


def test_an_oversized_photo_is_refused_with_its_limit(app, client, db):
    client.get("/language/en")  # the messages below are read in English
    factories.site(db)
    charger = factories.charger(db)
    db.commit()
    app.extensions["facilities.settings"].upload_max_bytes = 2048
    big = io.BytesIO()
    Image.effect_noise((200, 200), 80).convert("RGB").save(big, format="PNG")
    response = _report(client, charger, photo=(io.BytesIO(big.getvalue()), "big.png"))
    assert response.status_code == 422 and "too large" in response.get_data(as_text=True)


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # Pillow's note
def test_a_photo_of_too_many_pixels_is_refused_with_the_input_kept(app, client, db):
    from tests.core.test_uploads import huge_png

    client.get("/language/en")  # the messages below are read in English
    factories.site(db)
    charger = factories.charger(db)
    db.commit()
    bomb = (io.BytesIO(huge_png(6300, 6300)), "bomb.png")
    response = _report(client, charger, details="Näyttö pimeänä", photo=bomb)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "The photo is too large a picture: at most 25 megapixels" in page
    assert "Näyttö pimeänä" in page
    assert db.exec(select(FaultReport)).all() == []
