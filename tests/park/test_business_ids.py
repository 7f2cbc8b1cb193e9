import pytest

from facilities.park.queries import valid_business_id


@pytest.mark.parametrize("value", ["0737546-2", "1572860-0", "2874501-2"])
def test_valid_business_ids(value):
    assert valid_business_id(value)


@pytest.mark.parametrize("value", ["0737546-3", "737546-2", "abcdefg-1", "07375462", ""])
def test_invalid_business_ids(value):
    assert not valid_business_id(value)
