"""The Russian catalogue: complete, placeholders intact, Russian plurals, Russian by default."""
from __future__ import annotations

import re
from pathlib import Path

import flask_babel
import pytest
from babel.messages import pofile

from .conftest import login

TRANSLATIONS = Path(__file__).resolve().parent.parent / "webapp" / "translations"
PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")


def _read(path: Path):
    with path.open("rb") as f:
        return pofile.read_po(f)


def _key(message) -> str:
    return message.id[0] if isinstance(message.id, tuple) else message.id


def _placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


TEMPLATE = [m for m in _read(TRANSLATIONS / "messages.pot") if m.id]
RUSSIAN = _read(TRANSLATIONS / "ru" / "LC_MESSAGES" / "messages.po")


def test_the_catalogues_are_not_empty():
    assert len(TEMPLATE) > 100
    assert RUSSIAN.num_plurals == 3


@pytest.mark.parametrize("msgid", TEMPLATE, ids=_key)
def test_every_message_has_a_complete_russian_translation(msgid):
    message = RUSSIAN.get(msgid.id)
    assert message is not None, f"not in ru/messages.po: {_key(msgid)!r}"
    assert not message.fuzzy, f"fuzzy: {_key(msgid)!r}"
    if msgid.pluralizable:
        assert isinstance(message.string, tuple) and len(message.string) == 3, _key(msgid)
        strings = list(message.string)
    else:
        strings = [message.string]
    assert all(s.strip() for s in strings), f"untranslated: {_key(msgid)!r}"
    ids = msgid.id if isinstance(msgid.id, tuple) else (msgid.id,)
    expected = _placeholders(ids[0])
    assert all(_placeholders(i) == expected for i in ids)
    for s in strings:
        assert _placeholders(s) == expected, f"placeholders differ in {s!r}"


@pytest.mark.parametrize("n,text", [
    (1, "1 незаконченный черновик"),
    (2, "2 незаконченных черновика"),
    (5, "5 незаконченных черновиков"),
    (11, "11 незаконченных черновиков"),
    (21, "21 незаконченный черновик"),
    (22, "22 незаконченных черновика"),
])
def test_russian_plurals_work_through_the_app(app, n, text):
    with app.test_request_context():
        assert str(flask_babel.get_locale()) == "ru"
        assert flask_babel.ngettext("%(num)d unfinished draft", "%(num)d unfinished drafts", n) == text


def test_russian_is_the_default_interface(client, people):
    login(client, people["author"])
    page = client.get("/journal/").text
    assert "Мой журнал" in page
    assert "My journal" not in page
    client.post("/account/locale", data={"locale": "en"})
    page = client.get("/journal/").text
    assert "My journal" in page
    assert "Мой журнал" not in page


def test_a_server_error_whose_page_fails_too_still_speaks_the_persons_language(app, client, people, monkeypatch):
    from webapp import errors

    @app.get("/boom-probe")
    def boom():
        raise RuntimeError("probe failure")

    def page_fails(code):
        raise RuntimeError("the error page failed as well")

    monkeypatch.setattr(errors, "_error_response", page_fails)
    login(client, people["author"])
    client.post("/account/locale", data={"locale": "en"})
    response = client.get("/boom-probe")
    assert response.status_code == 500 and response.mimetype == "text/plain"
    assert response.text == "Something went wrong on the server. Try again in a minute."
    monkeypatch.setattr(errors, "_message_for", page_fails)  # the translations fail too: Russian, the interface's own
    assert client.get("/boom-probe").text == "Ошибка на сервере. Попробуйте ещё раз через минуту."


def test_signed_out_visitors_see_russian(client):
    page = client.get("/login").text
    assert "Вход в Рост" in page
    assert "Неверный логин или пароль." in client.post("/login", data={"login": "nobody", "password": "x" * 12}).text


def test_templates_follow_a_locale_forced_and_released_within_one_request(app):
    """A digest written for an English reader inside a Russian request (or the other way round)
    is in the reader's language; the request's own language comes back after it."""
    template = app.jinja_env.from_string("{{ _('Edit') }}|{{ ngettext('%(num)d comment', '%(num)d comments', 5) }}")
    with app.test_request_context("/"):
        russian = template.render()
        with flask_babel.force_locale("en"):
            assert template.render() == "Edit|5 comments"
        assert template.render() == russian
        assert russian.startswith("Изменить|5 ")


def test_wtforms_own_messages_follow_the_persons_language(app):
    """A message WTForms writes itself (here: a number that is not one) reads in the person's
    language, and switching languages within a process never mixes them."""
    from wtforms import IntegerField

    from webapp.forms import Form

    class Numbered(Form):
        class Meta:
            csrf = False

        count = IntegerField()

    def error(locale: str) -> str:
        with app.test_request_context("/", method="POST", data={"count": "много"}), flask_babel.force_locale(locale):
            form = Numbered()
            assert not form.validate()
            return form.count.errors[0]

    russian, english = error("ru"), error("en")
    assert english == "Not a valid integer value."
    assert russian != english and re.search("[а-я]", russian)
    assert error("ru") == russian and error("en") == english


def test_a_quoted_name_with_quotes_of_its_own_gets_the_inner_kind(app):
    """Russian school and group names carry «…» (МБОУ «СОШ № 5»): inside a message's «…» they
    read „…“, in a message's code as in its templates; in English, “…” inside “…” read ‘…’."""
    from webapp.i18n import gettext

    school = "МБОУ «СОШ № 5»"
    template = app.jinja_env.from_string("{{ _('Members of the group “%(name)s”', name=name) }}")
    with app.test_request_context("/"):
        assert gettext("The school “%(name)s” is added.", name=school) == "Школа «МБОУ „СОШ № 5“» добавлена."
        assert template.render(name="Клуб «Чтение» & <друзья>") == "Участники группы «Клуб „Чтение“ &amp; &lt;друзья&gt;»"
        assert gettext("The school “%(name)s” is added.", name="Школа № 5") == "Школа «Школа № 5» добавлена."
        with flask_babel.force_locale("en"):
            assert gettext("The school “%(name)s” is added.", name=school) == "The school “МБОУ «СОШ № 5»” is added."
            assert template.render(name="The “Reading” club") == "Members of the group “The ‘Reading’ club”"
    # A quotation a template puts in «…» itself (a comment's beginning in a notification).
    assert app.jinja_env.from_string("«{{ text|nested_quotes }}»").render(text="Читали «Тимура»") == "«Читали „Тимура“»"


def test_names_with_quotes_read_right_in_a_page_and_a_message(client, people):
    """What an administrator sees after adding a school, and on a group's members page."""
    from . import factories

    login(client, people["admin"])
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/admin/schools").text)
    data = {"name": "МБОУ «Лицей № 2»", **({"csrf_token": token.group(1)} if token else {})}
    page = client.post("/admin/schools", data=data, follow_redirects=True).text
    assert "Школа «МБОУ „Лицей № 2“» добавлена." in page
    group = factories.make_group("Клуб «Чтение вслух»", leaders=(people["author"],))
    assert "Участники группы «Клуб „Чтение вслух“»" in client.get(f"/groups/{group}/members").text
