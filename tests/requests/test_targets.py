from datetime import date

import pytest

from facilities.requests.targets import quarter_bounds, quarter_choices, quarter_of


def test_quarters():
    assert quarter_bounds("2027-Q4") == (date(2027, 10, 1), date(2027, 12, 31))
    assert quarter_of(date(2027, 1, 1), date(2027, 3, 31)) == "2027-Q1"
    assert quarter_of(date(2027, 1, 1), date(2027, 3, 30)) == ""
    assert quarter_choices(date(2026, 11, 27), ahead=3) == ["2026-Q4", "2027-Q1", "2027-Q2"]
    with pytest.raises(ValueError):
        quarter_bounds("2027-Q5")
