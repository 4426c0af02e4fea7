"""The base of every form: Flask-WTF's, with WTForms' own messages (a required field, a number
that is not one) in the person's language, from a catalogue read once per language (Flask-WTF
reads and parses that catalogue again on every request that builds a form), every field's
value cleaned as webapp.text.strip_controls says (a password only of control characters), only
the posted form's own fields read, and the plain fields written by webapp.widgets."""
from __future__ import annotations

from functools import cache

from flask import request
from flask_babel import get_locale
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto
from wtforms import PasswordField
from wtforms.i18n import get_translations

from . import widgets
from .text import strip_controls, without_controls


@cache
def _catalogue(language: str):
    return get_translations([language])


class Form(FlaskForm):
    class Meta:
        def get_translations(self, form):
            locale = get_locale()
            return _catalogue(locale.language if locale is not None else "ru")

        def wrap_formdata(self, form, formdata):
            # Flask-WTF would also read uploaded files and a JSON body as the form's fields: a file,
            # a number or a list would then reach fields that take text, and fail there. Nothing
            # here uploads or posts JSON, and the drafts read request.form as well.
            if formdata is _Auto:
                return request.form if form.is_submitted() and request.form else None
            return formdata

        def render_field(self, field, render_kw):
            markup = widgets.render(field, getattr(field, "render_kw", None), render_kw)
            return markup if markup is not None else super().render_field(field, render_kw)

        def bind_field(self, form, unbound_field, options):
            field = super().bind_field(form, unbound_field, options)
            clean = without_controls if isinstance(field, PasswordField) else strip_controls
            field.filters = (clean, *field.filters)
            return field
