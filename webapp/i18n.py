"""Language: Russian by default, English if the person chose it."""
from __future__ import annotations

import re

from babel import Locale
from flask import Flask, has_app_context
from flask.globals import _cv_app
from flask_babel import LazyString, get_locale, get_translations
from flask_babel import gettext as babel_gettext
from flask_login import current_user
from jinja2 import pass_eval_context
from markupsafe import Markup

from .extensions import babel

LOCALES = {"ru": "Русский", "en": "English"}

# Quotes inside quotes: a name in «…» that has «…» of its own gets „…“ inside (Russian rules), and
# one in “…” with “…” of its own gets ‘…’. By the outer opening quote: the pair, the inner pair.
_NESTED = {"«": ("«", "»", "„", "“"), "“": ("“", "”", "‘", "’")}
_QUOTED_VARIABLE = re.compile(r"([«“])%\((\w+)\)s([»”])")


def _quoted(message: str) -> tuple[tuple[str, tuple[str, str, str, str]], ...]:
    """The variables `message` puts directly inside quotes, with those quotes' rule."""
    return tuple((name, _NESTED[opening]) for opening, name, closing in _QUOTED_VARIABLE.findall(message)
                 if _NESTED[opening][1] == closing)


def nested_quotes(text: str, rule: tuple[str, str, str, str] = _NESTED["«"]) -> str:
    """`text` shown inside the quotes of `rule` («…» unless told): its own quotes of that kind
    become the inner kind. Also the template filter for what a template quotes itself."""
    if not isinstance(text, str):
        return text
    opening, closing, inner_opening, inner_closing = rule
    return text.replace(opening, inner_opening).replace(closing, inner_closing)


def _formatted(message: str, quoted: tuple, variables: dict):
    """`message % variables`, with nested_quotes applied to the variables it quotes."""
    if quoted:
        variables = {**variables, **{name: nested_quotes(variables[name], rule) for name, rule in quoted if name in variables}}
    return message % variables


def select_locale() -> str:
    if current_user and current_user.is_authenticated and current_user.locale in LOCALES:
        return current_user.locale
    return "ru"


def _babel_context():
    """Flask-Babel's context (g._flask_babel), or None, read from the app context itself: through
    the `g` proxy it took 6 µs, more than the rest of translating a message."""
    app_context = _cv_app.get(None)
    return None if app_context is None else getattr(app_context.g, "_flask_babel", None)


def current_locale() -> Locale | None:
    """get_locale(), without its proxies once the locale in force is known."""
    return getattr(_babel_context(), "babel_locale", None) or get_locale()


def language() -> str:
    """The name of the locale in force ("ru", "en"), made once per locale and request."""
    context = _babel_context()
    locale = getattr(context, "babel_locale", None)
    if locale is None:
        return str(get_locale())
    kept = getattr(context, "rost_language", None)
    if kept is None or kept[0] is not locale:
        kept = context.rost_language = (locale, str(locale))
    return kept[1]


def _translations():
    """Flask-Babel's translations for the locale in force, looked up once per locale and request.

    Templates translate a hundred strings on a page of fifty comments; Flask-Babel finds the
    context, the locale and its name on every one (13 µs each). Its context keeps the Locale
    object in force (get_locale() sets it; force_locale() swaps it and puts it back; refresh()
    clears it): the translations are kept beside it for as long as that object is in force."""
    context = _babel_context()
    locale = getattr(context, "babel_locale", None)
    if locale is None:
        return get_translations()
    kept = getattr(context, "rost_translations", None)
    if kept is None or kept[0] is not locale:
        kept = context.rost_translations = (locale, get_translations())
    return kept[1]


def _translated(string: str) -> tuple[str, tuple]:
    """The message in the locale in force, and the variables it quotes, looked up once per
    catalogue and process."""
    translations = _translations()
    kept = translations.__dict__.setdefault("rost_messages", {})
    found = kept.get(string)
    if found is None:
        message = translations.ugettext(string)
        found = kept[string] = (message, _quoted(message))
    return found


def gettext(string: str, **variables) -> str:
    """Flask-Babel's gettext, each message looked up once per catalogue and process, with quotes
    inside a quoted name of the kind the message's language nests."""
    if not has_app_context():
        message = babel_gettext(string)
        return _formatted(message, _quoted(message), variables) if variables else message
    message, quoted = _translated(string)
    return _formatted(message, quoted, variables) if variables else message


def lazy_gettext(string: str, **variables) -> LazyString:
    """Flask-Babel's lazy_gettext, each message looked up once per catalogue and process: labels
    (who may see an entry, a step's status) are translated again each time a row shows them
    (8.7 µs each through Flask-Babel, 2.5 µs so)."""
    return LazyString(gettext, string, **variables)


@pass_eval_context
def template_gettext(eval_context, string: str, **variables):
    """`_()` in templates: Jinja's newstyle gettext (the translation, as Markup where the template
    escapes, formatted with the variables, always), with each message looked up once per
    catalogue and process. An entry page translates about 150 strings: 6.8 µs each through
    Jinja's alias, its context calls and Flask-Babel, 3.1 µs so."""
    escapes = eval_context.autoescape
    kept = _translations().__dict__.setdefault("rost_template_messages", {})
    found = kept.get((string, escapes))
    if found is None:
        translated, quoted = _translated(string)
        found = kept[(string, escapes)] = [Markup(translated) if escapes else translated, None, quoted]
    if variables:
        return _formatted(found[0], found[2], variables)
    if found[1] is None:
        found[1] = found[0] % variables  # a message with no variables reads the same every time
    return found[1]


KEPT_PLURALS = 4096  # counted messages per catalogue and process; all forgotten when full


@pass_eval_context
def template_ngettext(eval_context, singular: str, plural: str, num, /, **variables):
    """`ngettext()` in templates: Jinja's newstyle ngettext (the form for `num` in the locale in
    force, as Markup where the template escapes, formatted with `num` and the variables), each
    message with only its count (a whole number) kept once made, per catalogue and process. A
    group's thread list counts the posts of each of its rows: 22 µs each through Jinja's alias,
    its context calls, the catalogue and Markup's formatting, 6 µs so."""
    escapes = eval_context.autoescape
    translations = _translations()
    kept = translations.__dict__.setdefault("rost_template_plurals", {})
    only_count = not variables and num.__class__ is int  # a count; 0.0 and -0.0 would be one key
    key = (singular, plural, num, escapes)
    if only_count and (found := kept.get(key)) is not None:
        return found
    message = translations.ungettext(singular, plural, num)
    made = (Markup(message) if escapes else message) % {"num": num, **variables}
    if only_count:
        if len(kept) >= KEPT_PLURALS:
            kept.clear()
        kept[key] = made
    return made


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    app.jinja_env.globals.update(_=template_gettext, gettext=template_gettext, ngettext=template_ngettext)
    app.jinja_env.filters["nested_quotes"] = nested_quotes
