"""The two helpers every template calls most: links (url_for) and messages (_). Each takes a
shortcut (webapp.templating, webapp.i18n); what a page shows must be exactly what Flask and
Jinja would have made of it."""
from __future__ import annotations

import itertools

import pytest
from flask import url_for
from flask_babel import force_locale
from werkzeug.routing.exceptions import BuildError

NUMBERS = (0, 1, 7, 42, 1000, 99999, 2**31 - 1001)


def _template_url_for(app):
    return app.jinja_env.globals["url_for"]


def test_every_numbered_link_is_the_one_flask_builds(app):
    """Every route with whole-number parts, with extra numbers as query arguments, in any order."""
    fast = _template_url_for(app)
    checked = 0
    for rule in app.url_map.iter_rules():
        names = sorted(rule.arguments)
        if not names or any(type(rule._converters[n]).__name__ != "IdConverter" for n in names):
            continue
        for numbers in itertools.islice(itertools.product(NUMBERS, repeat=len(names)), 12):
            values = dict(zip(names, numbers, strict=True))
            for extra in ({}, {"page": numbers[0] + 2}, {"after": 5, "page": 3}):
                with app.test_request_context("/"):
                    assert fast(rule.endpoint, **values, **extra) == url_for(rule.endpoint, **values, **extra)
                    assert fast(rule.endpoint, **extra, **values) == url_for(rule.endpoint, **extra, **values)
                checked += 1
    assert checked > 100


@pytest.mark.parametrize("values", [
    {"tag": "чтение"},                      # a text: quoted by Flask
    {"page": -1}, {"page": True},           # not a whole number the routes take
    {"entry_id": 2**31}, {"entry_id": 3, "_anchor": "comments"},
])
def test_anything_but_plain_numbers_goes_to_flask(app, values):
    fast = _template_url_for(app)
    endpoint = "journal.show" if "entry_id" in values else "journal.index"
    with app.test_request_context("/"):
        try:
            expected = url_for(endpoint, **values)
        except BuildError:
            with pytest.raises(BuildError):
                fast(endpoint, **values)
            return
        assert fast(endpoint, **values) == expected


def test_outside_a_request_links_are_flask_s(app):
    """A template rendered for an e-mail or a command, with no request: full links, as Flask makes them."""
    app.config["SERVER_NAME"] = "rost.example"
    with app.app_context():
        link = _template_url_for(app)("journal.show", entry_id=5)
        assert link == url_for("journal.show", entry_id=5) == "http://rost.example/journal/5"


def test_links_follow_the_script_root(app):
    """Served under a prefix (SCRIPT_NAME), links carry it, whatever was built before."""
    fast = _template_url_for(app)
    with app.test_request_context("/"):
        assert fast("journal.show", entry_id=5) == "/journal/5"
    with app.test_request_context("/", environ_overrides={"SCRIPT_NAME": "/rost"}):
        assert fast("journal.show", entry_id=5) == "/rost/journal/5"


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
