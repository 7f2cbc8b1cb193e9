"""Pulling locations from an operator's Locations sender, page by page, with backoff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import update
from sqlmodel import col, select

from facilities.charging import ocpi
from facilities.charging.models import EvseStatus, OcpiEvse, OcpiLocation, OcpiParty
from facilities.charging.pull import PullRound, backoff, pull_due_parties
from facilities.cli import cli
from facilities.core.jobs import run_job
from facilities.core.models import JobRun
from facilities.schedule import JOBS, JOBS_BY_ID
from tests.charging.fake_operator import TOKEN_C, FakeOperator, location
from tests.conftest import TEST_SECRET

# their bodies' last_updated times are of late 2026: not in the future on any day
pytestmark = pytest.mark.usefixtures("operators_clock")

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
YESTERDAY = "2026-11-28T12:00:00Z"


@pytest.fixture
def operator():
    with FakeOperator(locations=[location(n, YESTERDAY) for n in range(1, 6)]) as operator:
        operator.token_b = "registered"  # we are registered with it: token C opens it
        yield operator


def _party(db, operator: FakeOperator, **fields) -> OcpiParty:
    """An operator we registered with, as `connect_operator` leaves it."""
    party = OcpiParty(
        **{
            "name": operator.name,
            "country_code": operator.country_code,
            "party_id": operator.party_id,
            "token_hash": ocpi.hash_token(f"token-b-{operator.party_id}"),
            "remote_token": TOKEN_C,
            "registered": True,
            "versions_url": operator.versions_url,
            "roles": [
                {
                    "role": "CPO",
                    "country_code": operator.country_code,
                    "party_id": operator.party_id,
                }
            ],
            "endpoints": operator.endpoints(),
            "pull_enabled": True,
            **fields,
        }
    )
    db.add(party)
    db.commit()
    return party


def _locations(db, party: OcpiParty) -> dict[str, OcpiLocation]:
    db.expire_all()
    rows = db.exec(select(OcpiLocation).where(OcpiLocation.party_ref_id == party.id)).all()
    return {row.location_id: row for row in rows}


def test_a_pull_follows_every_page_and_stores_the_locations_with_their_evses(db, operator):
    party = _party(db, operator)

    assert pull_due_parties(db, now=NOW).stored == 5

    stored = _locations(db, party)
    assert sorted(stored) == ["LOC1", "LOC2", "LOC3", "LOC4", "LOC5"]
    evses = db.exec(select(OcpiEvse).where(OcpiEvse.location_ref_id == stored["LOC3"].id)).all()
    assert sorted(e.uid for e in evses) == ["3-1", "3-2"]
    assert {e.status for e in evses} == {EvseStatus.AVAILABLE}
    requests = operator.location_requests()
    assert [r.query.get("offset", "0") for r in requests] == ["0", "2", "4"]  # 2 per page
    first = requests[0]
    assert "date_from" not in first.query and first.query["limit"] == "100"
    assert first.token == TOKEN_C
    assert (first.headers["OCPI-to-country-code"], first.headers["OCPI-to-party-id"]) == (
        "FI",
        "KLO",
    )
    assert first.headers["OCPI-from-party-id"] == "DGP" and first.headers["X-Request-ID"]

    db.refresh(party)
    assert party.pulled_until == NOW and party.last_contact_at is not None
    assert (party.pull_failures, party.next_pull_at, party.last_pull_error) == (0, None, "")


def test_the_next_pull_asks_only_for_what_changed_since_the_last_one(db, operator):
    party = _party(db, operator)
    pull_due_parties(db, now=NOW)
    operator.received.clear()
    operator.locations[1] = location(2, "2026-11-29T10:30:00Z", status="CHARGING")
    operator.locations.append(location(6, "2026-11-29T10:31:00Z"))

    assert pull_due_parties(db, now=NOW + timedelta(hours=1)).stored == 2

    (request,) = operator.location_requests()
    # The start of the previous pull, less a minute for clocks that differ a little.
    assert request.query["date_from"] == "2026-11-29T09:59:00Z"
    stored = _locations(db, party)
    assert len(stored) == 6
    evse = db.exec(select(OcpiEvse).where(OcpiEvse.uid == "2-1")).one()
    assert evse.status is EvseStatus.CHARGING
    db.refresh(party)
    assert party.pulled_until == NOW + timedelta(hours=1)


def test_an_older_location_from_the_sender_does_not_overwrite_a_newer_one(db, operator):
    party = _party(db, operator)
    ocpi.put_location(
        db,
        party=party,
        location_id="LOC1",
        body=location(1, "2026-11-29T09:00:00Z", status="CHARGING"),  # pushed, newer
    )
    db.commit()

    assert pull_due_parties(db, now=NOW).stored == 4

    stored = _locations(db, party)
    assert stored["LOC1"].last_updated == datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
    assert {
        e.status for e in db.exec(select(OcpiEvse).where(col(OcpiEvse.uid).startswith("1-")))
    } == {EvseStatus.CHARGING}


def test_invalid_or_foreign_locations_are_left_out_and_the_rest_stored(db, operator):
    party = _party(db, operator)
    broken = location(6, YESTERDAY)
    broken["evses"][1]["status"] = "EXPLODED"  # its first EVSE is fine: none of it is kept
    operator.locations += [broken, location(7, YESTERDAY, party_id="XYZ")]

    assert pull_due_parties(db, now=NOW).stored == 5

    assert sorted(_locations(db, party)) == ["LOC1", "LOC2", "LOC3", "LOC4", "LOC5"]
    assert not db.exec(select(OcpiEvse).where(OcpiEvse.uid == "6-1")).first()
    db.refresh(party)
    assert party.pull_failures == 0 and party.pulled_until == NOW
    assert party.last_pull_error.startswith("2 of 7 locations left out: ")
    assert "LOC6: unknown EVSE status 'EXPLODED'" in party.last_pull_error
    assert "LOC7: belongs to FI/XYZ" in party.last_pull_error


@pytest.mark.parametrize(
    ("failure", "error"),
    [
        ("500", "HTTP 500 Internal Server Error"),
        ("envelope", "OCPI status 2001 (Invalid parameters)"),
        ("not-json", "the answer is not JSON, not an OCPI envelope"),
        ("deep", "the answer is not JSON, not an OCPI envelope"),
        ("other-host", "Their next page is on another host: http://localhost:"),
    ],
)
def test_a_failing_operator_backs_off_and_the_others_are_still_pulled(db, operator, failure, error):
    with FakeOperator(
        party_id="BAD", locations=[location(n, YESTERDAY, party_id="BAD") for n in (1, 2, 3)]
    ) as failing:
        failing.token_b = "registered"
        failing.failure = failure
        bad = _party(db, failing)
        good = _party(db, operator)

        done = pull_due_parties(db, now=NOW)
        assert done.stored == 5
        assert done.failed == [f"{failing.name}: {db.get(OcpiParty, bad.id).last_pull_error}"]

        db.refresh(bad)
        assert bad.pull_failures == 1 and bad.next_pull_at == NOW + timedelta(minutes=1)
        assert error in bad.last_pull_error and TOKEN_C not in bad.last_pull_error
        assert bad.pulled_until is None and bad.last_contact_at is None
        assert _locations(db, bad) == {}  # a first page that did arrive is not kept either
        assert len(_locations(db, good)) == 5

        asked = len(failing.location_requests())
        pull_due_parties(db, now=NOW + timedelta(seconds=30))  # not its turn yet
        assert len(failing.location_requests()) == asked

        pull_due_parties(db, now=NOW + timedelta(minutes=1))
        db.refresh(bad)
        assert bad.pull_failures == 2
        assert bad.next_pull_at == NOW + timedelta(minutes=1) + timedelta(minutes=2)

        failing.failure = None
        assert pull_due_parties(db, now=NOW + timedelta(minutes=3)).stored == 3
        db.refresh(bad)
        assert (bad.pull_failures, bad.next_pull_at, bad.last_pull_error) == (0, None, "")
        assert bad.pulled_until == NOW + timedelta(minutes=3)


def test_backoff_doubles_up_to_an_hour():
    assert [backoff(n) for n in range(1, 9)] == [
        timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 32, 60, 60)
    ]


def test_only_registered_active_pulled_parties_whose_turn_it_is_are_pulled(db, operator):
    _party(db, operator, pull_enabled=False)
    with FakeOperator(party_id="TWO") as second, FakeOperator(party_id="THR") as third:
        second.token_b = third.token_b = "registered"
        _party(db, second, active=False)
        _party(db, third, next_pull_at=NOW + timedelta(minutes=5))
        assert pull_due_parties(db, now=NOW) == PullRound()
        assert not operator.received and not second.received and not third.received


def test_the_job_is_scheduled_every_minute_and_recorded_with_its_items(app, db, operator):
    _party(db, operator)
    job = JOBS_BY_ID["pull-ocpi-locations"]
    assert job.interval_seconds == 60
    ids = [j.id for j in JOBS]
    assert ids.index("publish-scheduled-updates") < ids.index(job.id) < ids.index("send-outbox")

    run = run_job(app, job, holder="test", now=NOW)

    assert (run.outcome, run.items) == ("ok", 5)
    db.expire_all()
    recorded = db.exec(select(JobRun).where(JobRun.job_id == job.id)).one()
    assert (recorded.outcome, recorded.items) == ("ok", 5)


def test_facilities_ocpi_pull_runs_the_job_and_says_how_each_operator_fared(
    database_url, db, operator
):
    _party(db, operator)
    env = {
        "DATABASE_URL": database_url,
        "FACILITIES_SECRET_KEY": TEST_SECRET,
        "FACILITIES_ENV": "testing",
    }

    result = CliRunner().invoke(cli, ["ocpi", "pull"], env=env)

    assert result.exit_code == 0, result.output
    assert "Kemin Lataus Oy (FI/KLO): pulled, last contact" in result.output
    assert result.output.strip().endswith("pull-ocpi-locations: ok, 5 locations stored")

    operator.failure = "500"
    db.exec(update(OcpiParty).values(next_pull_at=None))  # its turn again
    db.commit()
    failed = CliRunner().invoke(cli, ["ocpi", "pull"], env=env)
    assert failed.exit_code == 1, failed.output  # the run failed, and says so
    assert "pulling failed (1 in a row), next try at" in failed.output
    assert "HTTP 500" in failed.output and TOKEN_C not in failed.output
    assert failed.output.strip().endswith("pull-ocpi-locations: failed, 0 locations stored")


def test_a_failed_pull_is_recorded_as_a_failed_job_run_naming_the_operator(app, db, operator):
    _party(db, operator)
    operator.failure = "500"

    run = run_job(app, JOBS_BY_ID["pull-ocpi-locations"], holder="test", now=NOW)

    assert run.outcome == "failed"
    assert "1 operator(s) failed" in run.detail and "Kemin Lataus Oy: GET" in run.detail
    assert "HTTP 500" in run.detail and TOKEN_C not in run.detail
    db.expire_all()
    (party,) = db.exec(select(OcpiParty)).all()
    assert party.pull_failures == 1  # kept although the run failed
