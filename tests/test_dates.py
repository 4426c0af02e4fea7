"""Dates on pages read exactly as Babel writes them, in the city's time zone, in either language."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask_babel import force_locale, format_datetime

from webapp.dates import format_moment

# Every month, the turn of a day and of a year in the city's time zone (UTC+10), single and double digits.
MOMENTS = [datetime(2026, 1, 1, 0, 0, 5) + timedelta(days=31 * n, hours=7 * n, minutes=13 * n) for n in range(13)]
MOMENTS += [datetime(2026, 12, 31, 13, 59, 59), datetime(2026, 12, 31, 14, 0, 0), datetime(2027, 3, 9, 23, 5, 1)]


@pytest.mark.parametrize("locale", ["ru", "en"])
@pytest.mark.parametrize("pattern", ["d MMMM y, HH:mm", "d MMMM y", "HH:mm:ss", "d MMMM, HH:mm"])
def test_a_moment_reads_as_babel_writes_it(app, locale, pattern):
    with app.test_request_context("/"), force_locale(locale):
        for moment in MOMENTS:
            assert format_moment(moment, pattern) == format_datetime(moment, pattern)
            aware = moment.replace(tzinfo=UTC)
            assert format_moment(aware, pattern) == format_datetime(aware, pattern)


def test_the_city_time_zone_and_russian_month_names(app):
    with app.test_request_context("/"), force_locale("ru"):
        assert format_moment(datetime(2026, 11, 25, 14, 30)) == "26 ноября 2026, 00:30"
