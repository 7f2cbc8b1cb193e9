"""The SLA clock: time counted in the park's business hours. Pure Python: no Flask, no
database.

Working hours and days are settings; Finnish public holidays come from the `holidays`
package. The clock stops outside working hours, on weekends and holidays, and while a
request waits (for a part, for the tenant): those spells are given as pauses.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@functools.lru_cache(maxsize=8)
def _holidays(country: str, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays(country, years=year))


@dataclass(frozen=True)
class BusinessCalendar:
    """When the park's staff work: from `opens` to `closes` on `days`, in `timezone`,
    except on the public holidays of `country`."""

    opens: time = time(8, 0)
    closes: time = time(16, 0)
    days: frozenset[int] = frozenset(range(5))  # Monday = 0
    timezone: str = "Europe/Helsinki"
    country: str = "FI"

    @classmethod
    def from_settings(cls, hours: str, days: str, timezone: str) -> BusinessCalendar:
        """From `08:00-16:00` and `mon-fri` (or `mon,tue,thu`)."""
        start, end = (time.fromisoformat(part.strip()) for part in hours.split("-"))
        return cls(opens=start, closes=end, days=parse_days(days), timezone=timezone)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.days and day not in _holidays(self.country, day.year)

    def working_spans(self, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The working hours between two moments, as (from, to) in UTC, in order."""
        zone = self.zone
        day = start.astimezone(zone).date()
        last = end.astimezone(zone).date()
        while day <= last:
            if self.is_working_day(day):
                opens = datetime.combine(day, self.opens, zone).astimezone(UTC)
                closes = datetime.combine(day, self.closes, zone).astimezone(UTC)
                span_start, span_end = max(opens, start), min(closes, end)
                if span_start < span_end:
                    yield span_start, span_end
            day += timedelta(days=1)


def parse_days(text: str) -> frozenset[int]:
    """`mon-fri`, `mon,wed,fri` or `mon-thu,sat` as weekday numbers (Monday = 0)."""
    days: set[int] = set()
    for part in text.lower().replace(" ", "").split(","):
        first, _, last = part.partition("-")
        start = WEEKDAYS.index(first)
        stop = WEEKDAYS.index(last) if last else start
        if stop < start:
            raise ValueError(f"{part}: a range runs from Monday towards Sunday")
        days.update(range(start, stop + 1))
    if not days:
        raise ValueError("no working days")
    return frozenset(days)


Pause = tuple[datetime, datetime | None]  # a Waiting spell; None: still waiting


def _overlap(span: tuple[datetime, datetime], pauses: Iterable[Pause], now: datetime) -> timedelta:
    total = timedelta()
    for paused_from, paused_to in pauses:
        low = max(span[0], paused_from)
        high = min(span[1], paused_to or now)
        if low < high:
            total += high - low
    return total


def business_time(
    calendar: BusinessCalendar,
    start: datetime,
    end: datetime,
    *,
    pauses: Iterable[Pause] = (),
) -> timedelta:
    """Working time from `start` to `end`, less the pauses."""
    if end <= start:
        return timedelta()
    pauses = list(pauses)
    total = timedelta()
    for span in calendar.working_spans(start, end):
        total += (span[1] - span[0]) - _overlap(span, pauses, end)
    return total


def due_at(
    calendar: BusinessCalendar,
    start: datetime,
    target: timedelta,
    *,
    pauses: Iterable[Pause] = (),
    now: datetime | None = None,
) -> datetime | None:
    """When `target` of working time since `start` runs out, the pauses not counted;
    None while a pause is still open (the clock has stopped, nothing is due)."""
    pauses = sorted(pauses, key=lambda pause: pause[0])
    if any(paused_to is None for _, paused_to in pauses):
        return None
    left = target
    cursor = start
    # A year of working days is far beyond any target; the bound keeps a bad calendar
    # (no working days at all) from looping for ever.
    horizon = start + timedelta(days=366)
    for span_start, span_end in calendar.working_spans(start, horizon):
        for piece_start, piece_end in _minus_pauses((span_start, span_end), pauses):
            cursor = piece_start
            if piece_end - piece_start >= left:
                return cursor + left
            left -= piece_end - piece_start
    return None


def _minus_pauses(
    span: tuple[datetime, datetime], pauses: list[Pause]
) -> Iterator[tuple[datetime, datetime]]:
    start, end = span
    for paused_from, paused_to in pauses:
        assert paused_to is not None
        if paused_to <= start or paused_from >= end:
            continue
        if paused_from > start:
            yield start, paused_from
        start = max(start, paused_to)
        if start >= end:
            return
    if start < end:
        yield start, end
