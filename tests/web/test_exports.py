"""The work queue as CSV: opens in Excel with Finnish letters, runs no formulas."""

from __future__ import annotations

import csv
import io

from facilities.web.exports import spreadsheet_safe
from tests import factories
from tests.conftest import sign_in


def test_the_queue_downloads_as_csv_that_excel_reads(app, client, db):
    staff = factories.staff(db)  # Finnish, the park's language
    building = factories.building(db, name="Teknologiatalo")
    factories.service_request(db, title="Pyörätelineet säältä suojaan", building_id=building.id)
    factories.service_request(db, title="=1+1+1+1")
    factories.service_request(db, title="@SUM(A1:A9)")
    db.commit()
    sign_in(client, staff.email)
    page = client.get("/staff/queue").get_data(as_text=True)
    assert 'href="/staff/queue.csv"' in page

    answer = client.get("/staff/queue.csv?sort=due")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert answer.headers["Content-Disposition"].startswith('attachment; filename="work-queue-')
    raw = answer.data
    assert raw.startswith("\ufeff".encode())  # Excel reads UTF-8 only with the mark
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["Tunnus", "Otsikko", "Tila"]
    titles = {row[1] for row in rows[1:]}
    assert {"Pyörätelineet säältä suojaan", "'=1+1+1+1", "'@SUM(A1:A9)"} <= titles
    assert any(row[5] == "Teknologiatalo" for row in rows[1:])


def test_english_excel_gets_commas_and_the_filters_apply(app, client, db):
    staff = factories.staff(db, preferred_language="en")
    mine = factories.service_request(db, title="Mine to do")
    factories.service_request(db, title="Not mine to do")
    factories.triage(db, mine, actor=staff, assignee=str(staff.id))
    db.commit()
    sign_in(client, staff.email)
    text = client.get("/staff/queue.csv?assignee=mine").data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "Reference" and [row[1] for row in rows[1:]] == ["Mine to do"]


def test_cells_that_look_like_formulas_become_text():
    for value in ("=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=1", "\r=1"):
        assert spreadsheet_safe(value).startswith("'")
    assert spreadsheet_safe("Ääni 1-2") == "Ääni 1-2" and spreadsheet_safe(None) == ""
