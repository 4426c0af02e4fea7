"""Numbers from forms and addresses (webapp.numbers, webapp.urls): only plain ASCII digits, never beyond what
the databases store; anything else is no number, not a 500."""
from __future__ import annotations

import pytest

from webapp.numbers import id_choice, number

from . import factories
from .conftest import login


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



@pytest.mark.parametrize(("path", "make"), [
    ("/journal/{id}", lambda author: factories.make_entry(author)),
    ("/plans/{id}", lambda author: factories.make_plan(author, year=2026)),
    ("/groups/{id}", lambda author: factories.make_group("Клуб", members=(author,))),
])
def test_an_id_in_an_address_is_plain_ascii_digits_too(client, people, path, make):
    """'١' (Arabic-Indic one) is no id: the address answers 404, where its ASCII twin shows the page."""
    login(client, people["author"])
    assert make(people["author"]) == 1
    assert client.get(path.format(id="1"), follow_redirects=True).status_code == 200
    assert client.get(path.format(id="١")).status_code == 404
    assert client.get(path.format(id="1٣")).status_code == 404
