"""Numbers from forms and addresses (webapp.numbers): only plain ASCII digits, never beyond what
the databases store; anything else is no number, not a 500."""
from __future__ import annotations

import pytest

from webapp.numbers import id_choice, number


@pytest.mark.parametrize(("typed", "read"), [
    ("7", 7), ("007", 7), ("999999999", 999999999),
    ("2147483648", None), ("", None), (None, None), ("-1", None), ("1.5", None), (" 7", None),
    ("²", None), ("٣", None), ("7\x00", None),
])
def test_a_number_is_plain_ascii_digits_within_what_the_database_stores(typed, read):
    assert number(typed) == read


@pytest.mark.parametrize(("typed", "read"), [("", None), ("None", None), (None, None), (5, 5), ("12", 12),
                                             ("abc", 0), ("²", 0), ("99999999999", 0)])
def test_a_select_s_id_is_none_when_empty_and_zero_when_junk(typed, read):
    assert id_choice(typed) == read
