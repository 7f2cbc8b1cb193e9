"""The Monday roadmap post: what changed in the week, once per channel and week."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from facilities.channels.jobs import post_weekly_roadmap, week_due
from facilities.core.models import Outbox, OutboxKind, utcnow
from facilities.park.models import Visibility
from tests import factories

HELSINKI = ZoneInfo("Europe/Helsinki")


def _next_post_time(now: datetime) -> datetime:
    """The first Monday 08:00 in Helsinki after `now`: that week's post is due then."""
    local = now.astimezone(HELSINKI)
    day = local.date() + timedelta(days=(7 - local.weekday()) % 7)
    due = datetime.combine(day, time(8), tzinfo=HELSINKI)
    return due if due > local else due + timedelta(days=7)


def _weekly_rows(db) -> list[Outbox]:
    db.expire_all()
    return list(
        db.exec(
            select(Outbox).where(
                Outbox.kind == OutboxKind.webhook, Outbox.idempotency_key.contains(":weekly:")
            )
        ).all()
    )


def test_week_due_is_the_week_ending_on_the_last_monday_at_eight_in_helsinki(db):
    monday_before_eight = datetime(2026, 11, 30, 7, 59, tzinfo=HELSINKI)
    monday_at_eight = datetime(2026, 11, 30, 8, 0, tzinfo=HELSINKI)
    assert week_due(monday_at_eight).ends == monday_at_eight
    assert week_due(monday_at_eight).label == "2026-W49"
    assert week_due(monday_before_eight).ends == monday_at_eight - timedelta(days=7)
    sunday = datetime(2026, 12, 6, 23, 0, tzinfo=HELSINKI)
    assert week_due(sunday).ends == monday_at_eight


def test_the_weekly_post_says_what_changed_and_goes_once(db, make_channel):
    weekly = make_channel("https://hooks.example.fi/weekly", wants_weekly=True)
    make_channel("https://hooks.example.fi/no-weekly")  # does not want it
    staff = factories.staff(db)
    finished = factories.service_request(db, title="Roskakatos Sensorin pihalle")
    planned = factories.service_request(db, title="Latauspisteet P2-alueelle")
    secret = factories.service_request(db, title="Salainen vika palvelinhuoneessa")
    secret.visibility = Visibility.private
    db.commit()
    factories.triage(db, finished, actor=staff, to="done")
    factories.triage(db, planned, actor=staff, to="planned", target_quarter="2027-Q2")
    factories.triage(db, secret, actor=staff, to="done")
    db.commit()
    run_at = _next_post_time(utcnow()) + timedelta(hours=1)

    assert post_weekly_roadmap(db, run_at) == 1
    assert post_weekly_roadmap(db, run_at + timedelta(hours=2)) == 0  # the same week: once
    [row] = _weekly_rows(db)
    assert row.url == weekly.url
    assert row.idempotency_key == f"channel:{weekly.id}:weekly:{week_due(run_at).label}"
    payload = row.payload
    assert payload["event"] == "roadmap.weekly"
    assert [item["reference"] for item in payload["done"]] == [finished.reference]
    assert [item["reference"] for item in payload["moved"]] == [planned.reference]
    assert payload["moved"][0]["note"] == "Uusi → Suunniteltu"
    assert [item["reference"] for item in payload["new_targets"]] == [planned.reference]
    assert payload["new_targets"][0]["note"] == "2027-Q2"
    assert finished.reference in payload["text"] and planned.reference in payload["text"]
    assert secret.reference not in str(payload)  # private: never posted
    assert "Salainen" not in str(payload)


def test_nothing_is_posted_for_a_week_without_changes(db, make_channel):
    make_channel("https://hooks.example.fi/weekly", wants_weekly=True)
    item = factories.service_request(db)
    db.commit()
    run_at = _next_post_time(utcnow()) + timedelta(hours=1)
    assert post_weekly_roadmap(db, run_at) == 0
    assert _weekly_rows(db) == []
    # A change of a week that has not ended yet waits for its Monday.
    factories.triage(db, item, actor=factories.staff(db), to="planned")
    db.commit()
    assert post_weekly_roadmap(db, utcnow()) == 0
    assert _weekly_rows(db) == []
    assert post_weekly_roadmap(db, run_at) == 1


def test_the_week_before_monday_eight_has_nothing_new_and_inactive_channels_get_nothing(
    db, make_channel
):
    make_channel("https://hooks.example.fi/off", wants_weekly=True, active=False)
    item = factories.service_request(db)
    factories.triage(db, item, actor=factories.staff(db), to="done")
    db.commit()
    run_at = _next_post_time(utcnow()) + timedelta(hours=1)
    assert post_weekly_roadmap(db, run_at) == 0
    assert _weekly_rows(db) == []
