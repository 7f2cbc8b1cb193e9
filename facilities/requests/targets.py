"""Public targets: the quarter a planned improvement is expected in."""

from __future__ import annotations

import re
from datetime import date

_QUARTER = re.compile(r"^(?P<year>\d{4})-Q(?P<quarter>[1-4])$")


def quarter_bounds(value: str) -> tuple[date, date]:
    """'2027-Q2' -> (2027-04-01, 2027-06-30); ValueError for anything else."""
    match = _QUARTER.match(value)
    if not match:
        raise ValueError(value)
    year, quarter = int(match["year"]), int(match["quarter"])
    first_month = 3 * (quarter - 1) + 1
    start = date(year, first_month, 1)
    end = date(year + 1, 1, 1) if quarter == 4 else date(year, first_month + 3, 1)
    return start, date.fromordinal(end.toordinal() - 1)


def quarter_of(start: date | None, end: date | None) -> str:
    """The '2027-Q2' key of a target that is exactly one quarter, else ''."""
    if start is None or end is None:
        return ""
    key = f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return key if quarter_bounds(key) == (start, end) else ""


def quarter_choices(today: date, *, ahead: int = 8) -> list[str]:
    """This quarter and the next `ahead - 1`, as keys."""
    year, quarter = today.year, (today.month - 1) // 3 + 1
    keys = []
    for _ in range(ahead):
        keys.append(f"{year}-Q{quarter}")
        quarter += 1
        if quarter == 5:
            year, quarter = year + 1, 1
    return keys
