"""Moments on pages, in the city's time zone and the reader's language.

A page of fifty comments formats fifty dates. Babel's format_datetime looks up the locale, the
time zone and the pattern's fields on every call; the patterns the templates use are few, so
they are formatted here from month names read once per language. Any other pattern goes to Babel.
"""
from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo

from babel import Locale
from flask import current_app
from flask_babel import format_datetime

from .i18n import current_locale

_PATTERNS = {
    "d MMMM y, HH:mm": "{day} {month} {year}, {hour:02d}:{minute:02d}",
    "d MMMM y": "{day} {month} {year}",
    "HH:mm:ss": "{hour:02d}:{minute:02d}:{second:02d}",
}


@cache
def _months(language: str, territory: str | None, script: str | None) -> tuple[str, ...]:
    """Month names as a date says them («25 ноября»), January first. Asked by the locale's parts:
    writing the Locale as its name cost an eighth of formatting a date."""
    names = Locale(language, territory, script).months["format"]["wide"]
    return tuple(names[number] for number in range(1, 13))


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def format_moment(value: datetime, pattern: str = "d MMMM y, HH:mm") -> str:
    """`value` (naive means UTC, as stored) in the city's time zone, as Babel would write `pattern`."""
    template = _PATTERNS.get(pattern)
    if template is None:
        return format_datetime(value, pattern)
    local = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(_zone(current_app.config["BABEL_DEFAULT_TIMEZONE"]))
    locale = current_locale()
    months = _months(locale.language, locale.territory, locale.script)
    return template.format(day=local.day, month=months[local.month - 1], year=local.year,
                           hour=local.hour, minute=local.minute, second=local.second)
