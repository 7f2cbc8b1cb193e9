"""The SLA clock in Finnish business hours: evenings, weekends, holidays and Waiting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from facilities.requests.sla import BusinessCalendar, business_time, due_at, parse_days

HELSINKI = ZoneInfo("Europe/Helsinki")
CALENDAR = BusinessCalendar.from_settings("08:00-16:00", "mon-fri", "Europe/Helsinki")


def at(text: str) -> datetime:
    """A moment in park time, e.g. "2027-01-05 15:00", as the aware datetime we store."""
    return datetime.fromisoformat(text).replace(tzinfo=HELSINKI).astimezone(UTC)


def local(moment: datetime | None) -> str:
    assert moment is not None
    return moment.astimezone(HELSINKI).strftime("%a %Y-%m-%d %H:%M")


def test_the_clock_stops_for_the_evening():
    # Thursday 15:00 + 4 working hours: one hour that day, three on Friday morning
    assert local(due_at(CALENDAR, at("2027-01-14 15:00"), timedelta(hours=4))) == (
        "Fri 2027-01-15 11:00"
    )


def test_the_clock_stops_for_the_weekend():
    assert local(due_at(CALENDAR, at("2027-01-15 14:00"), timedelta(hours=8))) == (
        "Mon 2027-01-18 14:00"
    )
    # sent on Saturday: the clock starts when the office opens on Monday
    assert local(due_at(CALENDAR, at("2027-01-16 10:00"), timedelta(hours=1))) == (
        "Mon 2027-01-18 09:00"
    )


def test_the_clock_stops_on_finnish_public_holidays():
    # Tuesday 5.1.2027, 12:00 + 8 hours: Wednesday 6.1. is Epiphany (loppiainen)
    assert local(due_at(CALENDAR, at("2027-01-05 12:00"), timedelta(hours=8))) == (
        "Thu 2027-01-07 12:00"
    )
    # Midsummer Eve is a holiday too, and then the weekend
    assert local(due_at(CALENDAR, at("2027-06-24 15:00"), timedelta(hours=2))) == (
        "Mon 2027-06-28 09:00"
    )


def test_the_clock_pauses_while_the_request_waits():
    start = at("2027-01-11 08:00")  # Monday morning, a 16-hour target
    waiting = [(at("2027-01-11 12:00"), at("2027-01-13 10:00"))]  # Monday noon → Wednesday 10
    # 4 h on Monday, waiting, then 12 h more: Wednesday 10-16 and Thursday 8-14
    assert local(due_at(CALENDAR, start, timedelta(hours=16), pauses=waiting)) == (
        "Thu 2027-01-14 14:00"
    )
    assert business_time(CALENDAR, start, at("2027-01-13 16:00"), pauses=waiting) == timedelta(
        hours=10
    )
    # still waiting: nothing is due
    assert (
        due_at(CALENDAR, start, timedelta(hours=16), pauses=[(at("2027-01-11 12:00"), None)])
        is None
    )


def test_business_time_across_evening_weekend_and_holiday():
    # Friday 1.1.2027 15:00 → Thursday 7.1. 09:00: Friday is New Year's Day, then the
    # weekend, Mon 8 h, Tue 8 h, Wednesday is Epiphany, Thu 1 h
    assert business_time(CALENDAR, at("2027-01-01 15:00"), at("2027-01-07 09:00")) == timedelta(
        hours=17
    )


def test_working_days_are_read_from_settings():
    assert parse_days("mon-fri") == frozenset(range(5))
    assert parse_days("mon,wed, fri") == frozenset({0, 2, 4})
    assert parse_days("mon-thu,sat") == frozenset({0, 1, 2, 3, 5})
    with pytest.raises(ValueError):
        parse_days("fri-mon")
