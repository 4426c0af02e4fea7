"""Messages in templates (_), lazy labels and addresses in templates take a shortcut
(webapp.i18n, webapp.urls): what a page shows must be exactly what Jinja, Flask-Babel and Flask's
url_for would have made of it."""
from __future__ import annotations

import itertools

import pytest
from flask import url_for
from flask_babel import force_locale

from webapp.urls import page_url_for

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


PLURALS = ('{{ ngettext("%(num)d post", "%(num)d posts", n) }}|'
           '{{ ngettext("%(done)d of %(num)d step done", "%(done)d of %(num)d steps done", n, done=d) }}|'
           '{{ ngettext("%(num)d by %(who)s", "%(num)d by %(who)s", n, who="<i>") }}')


@pytest.mark.parametrize("locale", ["ru", "en"])
def test_counted_messages_read_as_the_catalogue_makes_them(app, locale):
    """Each count in the form its language takes for it, the same on every call; variables are
    escaped where the template escapes."""
    with app.test_request_context("/"), force_locale(locale):
        from flask_babel import ngettext

        escaped = app.jinja_env.from_string(PLURALS)
        plain = app.jinja_env.overlay(autoescape=False).from_string(PLURALS)
        for n, d in itertools.product([0, 1, 2, 4, 5, 11, 12, 21, 22, 25, 101, 111, 1000], [1, 2, 1]):
            assert escaped.render(n=n, d=d).split("|") == [
                ngettext("%(num)d post", "%(num)d posts", n),
                ngettext("%(done)d of %(num)d step done", "%(done)d of %(num)d steps done", n, done=d),
                f"{n} by &lt;i&gt;"]
            assert plain.render(n=n, d=d).split("|")[2] == f"{n} by <i>"
        assert escaped.render(n=22, d=1).split("|")[0] == ("22 сообщения" if locale == "ru" else "22 posts")
        loose = app.jinja_env.from_string('{{ ngettext("%(num)s of it", "%(num)s of them", n) }}|'
                                          '{{ ngettext("%(num)s of it", "%(num)s of them", n, num="x") }}')
        assert loose.render(n=2) == "2 of them|x of them"  # `num` given by name wins, as in Jinja


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


# Each twice: the first builds the address, the second finds it remembered.
ADDRESSES = [
    ("journal.show", {"entry_id": 7}),
    ("journal.index", {"tag": "чтение & письмо/2"}),
    ("journal.index", {"tag": None, "page": 2}),
    ("threads.show", {"thread_id": 3, "page": 2, "quote": 11, "_anchor": "reply-form"}),
    ("journal.index", {"page": 1}),
    ("journal.index", {"page": True}),  # equal to 1 as a key, but another address
    ("journal.index", {"visibility": ["private", "mentors"]}),  # a list: built every time
    ("journal.index", {"page": 0.0}),
    ("journal.index", {"page": -0.0}),  # equal to 0.0 as a key, but another address
    ("journal.show", {"entry_id": 7, "_external": True}),
    ("journal.show", {"entry_id": 8, "_scheme": "https", "_external": True}),
] * 2


def test_addresses_in_templates_are_the_ones_url_for_builds(app):
    with app.test_request_context("/"):
        for endpoint, values in ADDRESSES:
            assert page_url_for(endpoint, **values) == url_for(endpoint, **values)
        assert app.jinja_env.from_string("{{ url_for('journal.show', entry_id=7) }}").render() == "/journal/7"
    with app.test_request_context("/", base_url="http://intranet.example/rost/"):
        for endpoint, values in ADDRESSES:
            assert page_url_for(endpoint, **values) == url_for(endpoint, **values)
        assert page_url_for("journal.show", entry_id=7) == "/rost/journal/7"
    with app.test_request_context("/", base_url="https://other.example/"):  # another host, the same root
        for endpoint, values in ADDRESSES:
            assert page_url_for(endpoint, **values) == url_for(endpoint, **values)
        assert page_url_for("journal.show", entry_id=7, _external=True) == "https://other.example/journal/7"


def test_long_texts_in_addresses_are_built_but_not_kept(app):
    """Anyone may send the sign-in page a long `next` (or a journal page a long tag): the
    addresses made of them must not pile up in the process's memory."""
    from webapp import urls

    with app.test_request_context("/"):
        before = len(urls._built)
        for n in range(20):
            target = "/journal/" + "x" * 100 + str(n)
            assert page_url_for("auth.login", next=target) == url_for("auth.login", next=target)
        assert len(urls._built) == before


def test_the_app_has_no_hook_that_adds_values_to_addresses(app):
    """page_url_for remembers an address by the values it was given; a url_defaults hook could add
    others (the reader's language, say) and make one key stand for two addresses."""
    assert not any(app.url_default_functions.values())
