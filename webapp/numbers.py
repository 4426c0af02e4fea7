"""Whole numbers from forms and addresses, as typed by anyone: only plain ASCII digits count
(str.isdigit accepts '²', which int() refuses), and never more than the databases store."""
from __future__ import annotations

from .urls import MAX_ID

_DIGITS = len(str(MAX_ID)) - 1  # any number of this many digits fits


def number(value: str | None) -> int | None:
    """A form's or an address's whole number, or None."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= _DIGITS:
        return int(value)
    return None


def id_choice(value) -> int | None:
    """A select's value as an id (its coerce): the empty choice is None; junk becomes 0, which no
    row has, so the select refuses it as not among its choices."""
    if value is None or isinstance(value, int):
        return value
    value = str(value)
    if value in ("", "None"):
        return None
    parsed = number(value)
    return 0 if parsed is None else parsed
