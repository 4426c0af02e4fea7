"""The base of every form: Flask-WTF's, with WTForms' own messages (a required field, a number
that is not one) in the person's language, from a catalogue read once per language (Flask-WTF
reads and parses that catalogue again on every request that builds a form), and every field's
value cleaned as webapp.text.strip_controls says (a password only of control characters)."""
from __future__ import annotations

from functools import cache

from flask_babel import get_locale
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.i18n import get_translations

from .text import strip_controls, without_controls


@cache
def _catalogue(language: str):
    return get_translations([language])


class Form(FlaskForm):
    class Meta:
        def get_translations(self, form):
            locale = get_locale()
            return _catalogue(locale.language if locale is not None else "ru")

        def bind_field(self, form, unbound_field, options):
            field = super().bind_field(form, unbound_field, options)
            clean = without_controls if isinstance(field, PasswordField) else strip_controls
            field.filters = (clean, *field.filters)
            return field
