"""webapp.widgets writes the plain fields itself, faster than WTForms: every field must come out
exactly as WTForms would have written it, whatever its value, flags and attributes."""
from __future__ import annotations

import pytest
from flask_login import login_user
from markupsafe import Markup
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.meta import DefaultMeta
from wtforms.validators import DataRequired, Length

from webapp import widgets
from webapp.extensions import db
from webapp.forms import Form
from webapp.journal.forms import EntryForm
from webapp.models import User

from . import factories

AWKWARD = 'Он сказал: "<b>да</b>" & \'нет\''


class Counted(Length):
    """A validator whose flag is a function, as WTForms allows: an input writes its value."""

    def __init__(self):
        super().__init__(max=99)
        self.field_flags = {"maxlength": lambda: 99}


class Everything(Form):
    title = StringField("Title", validators=[DataRequired(), Length(max=200, min=2)])
    plain = StringField("Plain", validators=[Counted()], render_kw={"class": "from-declaration", "placeholder": AWKWARD})
    body = TextAreaField("Text", validators=[Length(max=5000)])
    secret = PasswordField("Password", validators=[DataRequired()])
    shown_secret = PasswordField("Shown", widget=PasswordField.widget.__class__(hide_value=False))
    mail = EmailField("E-mail")
    key = HiddenField()
    agree = BooleanField("Agree")
    kind = SelectField("Kind", choices=[SelectChoice("a", "Первый"), SelectChoice("b", AWKWARD),
                                        SelectChoice("", "— none —")], validators=[DataRequired()])
    grouped = SelectField("Grouped", choices=[SelectChoice(1, "Шаг 1", optgroup="План «Чтение»"),
                                              SelectChoice(2, "Шаг <2>", optgroup="План «Чтение»"),
                                              SelectChoice(3, "Шаг 3", optgroup=AWKWARD)], coerce=int)
    flags = SelectField("Flags", choices=[SelectChoice(True, "Да", render_kw={"data-x": '"q"', "data_y_z": "1",
                                                                         "class_": "c"}),
                                          SelectChoice(False, "Нет")], coerce=lambda v: v in (True, "True"))


ATTRIBUTE_SETS = [
    {},
    {"class_": "wide", "aria_describedby": "x-hint x-error", "aria-invalid": "true"},
    {"maxlength": False, "required": True, "rows": 12, "data_draft_key": AWKWARD},
    {"class": "from-template", "id": "other-id", "value": AWKWARD, "disabled": True},
    {"placeholder": Markup('уже "размечено" <i>так</i>'), "minlength": 3},
]

VALUES = [
    {},
    {"title": AWKWARD, "plain": "простой", "body": AWKWARD + "\n\nвторая строка", "secret": AWKWARD,
     "shown_secret": AWKWARD, "mail": "a@b.ru", "key": AWKWARD, "agree": "y", "kind": "b", "grouped": "2",
     "flags": "True"},
]


def _rendered_both_ways(form, field, attrs):
    assert widgets.render(field, field.render_kw, dict(attrs)) is not None, f"{field.name}: left to WTForms"
    ours = field(**attrs)  # through webapp.forms.Form.Meta.render_field
    theirs = DefaultMeta.render_field(form.meta, field, dict(attrs))
    return str(ours), str(theirs)


@pytest.mark.parametrize("values", VALUES)
@pytest.mark.parametrize("attrs", ATTRIBUTE_SETS)
def test_each_plain_field_is_written_as_wtforms_writes_it(app, values, attrs):
    with app.test_request_context(method="POST", data=values):
        form = Everything(formdata=MultiDict(values) if values else None)
        form.validate()  # errors set the flags' fields as a posted form has them
        for field in form:
            if field.name == "csrf_token":
                continue
            ours, theirs = _rendered_both_ways(form, field, attrs)
            assert ours == theirs, field.name


def test_the_new_entry_form_on_the_journal_page_is_wtforms_markup(app):
    """The form the journal page shows, its steps grouped by plan year, field by field."""
    author = factories.make_user(login="anna", display_name="Анна")
    for year in (2025, 2026):
        plan = factories.make_plan(author, year=year)
        factories.make_step(plan, title=f"Прочитать «{year}» & обсудить")

    with app.test_request_context():
        login_user(db.session.get(User, author))
        form = EntryForm()
        for field in form:
            for attrs in ATTRIBUTE_SETS:
                ours, theirs = _rendered_both_ways(form, field, attrs)
                assert ours == theirs, field.name
