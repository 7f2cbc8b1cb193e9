from __future__ import annotations

import pytest

from facilities.core.mailboxes import mailbox_key


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("name@example.com", "name@example.com"),
        (" Name+1@Example.COM ", "name@example.com"),
        ("name+a+b@example.com", "name@example.com"),
        ("+tag@example.com", "+tag@example.com"),  # no name before the tag: keep it whole
        ("first.last@example.com", "first.last@example.com"),  # dots are the provider's call
        ("not an address", "not an address"),
    ],
)
def test_a_mailbox_is_counted_once_however_it_is_written(typed, key):
    assert mailbox_key(typed) == key
