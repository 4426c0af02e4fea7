"""Messages in templates (_) and lazy labels take a shortcut (webapp.i18n): what a page shows
must be exactly what Jinja and Flask-Babel would have made of it."""
from __future__ import annotations

import pytest
from flask_babel import force_locale

TEMPLATE = """{{ _("My journal") }}|{{ _("Page %(n)d", n=3) }}|{{ _("<b>") }}|{{ _("Edit the plan for %(year)s", year="<i>") }}"""


@pytest.mark.parametrize("locale", ["ru", "en"])
def test_messages_read_as_jinja_and_the_catalogue_make_them(app, locale):
    """Translated in the locale in force, as Markup where the template escapes (a variable is
    escaped, the message is not), the same on every call."""
    with app.test_request_context("/"), force_locale(locale):
        from flask_babel import gettext

        escaped = app.jinja_env.from_string(TEMPLATE)
        plain = app.jinja_env.overlay(autoescape=False).from_string(TEMPLATE)
        expected = [gettext("My journal"), gettext("Page %(n)d", n=3), "<b>",
                    gettext("Edit the plan for %(year)s", year="&lt;i&gt;")]
        for _ in range(2):
            assert escaped.render().split("|") == expected
        assert plain.render().split("|")[3] == gettext("Edit the plan for %(year)s", year="<i>")
    assert (expected[0] == "Мой журнал") == (locale == "ru")


def test_a_switch_of_locale_mid_request_switches_the_messages(app):
    template = app.jinja_env.from_string('{{ _("My journal") }}')
    with app.test_request_context("/"):
        with force_locale("ru"):
            assert template.render() == "Мой журнал"
        with force_locale("en"):
            assert template.render() == "My journal"
        with force_locale("ru"):
            assert template.render() == "Мой журнал"


def test_lazy_labels_read_in_the_locale_in_force_each_time(app):
    """Labels made once at import (who may see an entry, a step's status) read in the language
    of the moment, with their variables, as Flask-Babel's own would."""
    from flask_babel import gettext

    from webapp.i18n import lazy_gettext

    label, counted = lazy_gettext("My journal"), lazy_gettext("Page %(n)d", n=4)
    with app.test_request_context("/"):
        for locale in ("ru", "en", "ru"):
            with force_locale(locale):
                assert (str(label), str(counted)) == (gettext("My journal"), gettext("Page %(n)d", n=4))
                assert (str(label) == "Мой журнал") == (locale == "ru")
