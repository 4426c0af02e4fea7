"""Language: Russian by default, English if the person chose it."""
from __future__ import annotations

from flask import Flask, g
from flask_babel import get_translations
from flask_login import current_user

from .extensions import babel

LOCALES = {"ru": "Русский", "en": "English"}


def select_locale() -> str:
    if current_user and current_user.is_authenticated and current_user.locale in LOCALES:
        return current_user.locale
    return "ru"


def _translations():
    """Flask-Babel's translations for the locale in force, looked up once per locale and request.

    Templates translate a hundred strings on a page of fifty comments; Flask-Babel finds the
    context, the locale and its name on every one (13 µs each). Its context keeps the Locale
    object in force (get_locale() sets it; force_locale() swaps it and puts it back; refresh()
    clears it): the translations are kept beside it for as long as that object is in force."""
    context = g.get("_flask_babel")
    locale = getattr(context, "babel_locale", None)
    if locale is None:
        return get_translations()
    kept = getattr(context, "rost_translations", None)
    if kept is None or kept[0] is not locale:
        kept = context.rost_translations = (locale, get_translations())
    return kept[1]


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
