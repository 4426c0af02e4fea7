"""The base of every form: Flask-WTF's, with WTForms' own messages (a required field, a number
that is not one) in the person's language, from a catalogue read once per language. Flask-WTF
reads and parses that catalogue again on every request that builds a form."""
from __future__ import annotations

from flask_babel import get_locale
from flask_wtf import FlaskForm
from wtforms.i18n import get_translations

_catalogues: dict[str, object] = {}


def _catalogue(language: str):
    catalogue = _catalogues.get(language)
    if catalogue is None:
        catalogue = _catalogues[language] = get_translations([language])
    return catalogue


class Form(FlaskForm):
    class Meta:
        def get_translations(self, form):
            locale = get_locale()
            return _catalogue(locale.language if locale is not None else "ru")
