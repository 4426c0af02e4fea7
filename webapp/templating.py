"""What every template can use: the htmx source, labels, Markdown, dates and the fingerprint of a typed text."""
from __future__ import annotations

from flask import Flask, current_app, has_request_context, request, url_for
from flask_babel import get_locale

from .config import HTMX_CDN_ORIGIN, HTMX_SRI, HTMX_VERSION
from .dates import format_moment
from .i18n import LOCALES
from .i18n import lazy_gettext as _l
from .markup import render_markdown_kept
from .models import Role, Visibility
from .text import fingerprint
from .urls import MAX_ID

VISIBILITY_LABELS = {
    Visibility.PRIVATE: _l("Only me"),
    Visibility.MENTORS: _l("Me and my methodist"),
    Visibility.COLLEAGUES: _l("Colleagues"),
}
ROLE_LABELS = {
    Role.LIBRARIAN: _l("Librarian"),
    Role.METHODIST: _l("Methodist"),
    Role.ADMIN: _l("Administrator"),
}


_STAND_INS = range(MAX_ID - 999, MAX_ID + 1)  # ten digits no route of ours has


class _NumberedPaths:
    """url_for for templates. A link whose values are all whole numbers (an entry, page 3) is built
    once per endpoint, names of values and script root with stand-in numbers, then filled in: a
    thread page has a hundred links, and Flask builds each in 7 µs. Anything else (a tag, an
    anchor, a negative or too large number, a blueprint-relative endpoint, no request, an app that
    adds values to links per request) goes to url_for."""

    def __init__(self) -> None:
        self._shapes: dict[tuple, list[tuple[str, str]] | None] = {}
        self._plain: bool | None = None

    def __call__(self, endpoint: str, **values) -> str:
        if endpoint[:1] == "." or not values or not has_request_context() or not all(
                type(v) is int and 0 <= v < _STAND_INS.start for v in values.values()):
            return url_for(endpoint, **values)
        if self._plain is None:  # asked once the app is set up, blueprints and all
            self._plain = not any(current_app.url_default_functions.values())
        shape = (endpoint, tuple(values), request.script_root)
        pieces = self._shapes.get(shape, False)
        if pieces is False:
            pieces = self._shapes[shape] = self._pieces(endpoint, tuple(values)) if self._plain else None
        if pieces is None:
            return url_for(endpoint, **values)
        return "".join(text + (str(values[name]) if name else "") for text, name in pieces)

    @staticmethod
    def _pieces(endpoint: str, names: tuple[str, ...]) -> list[tuple[str, str]] | None:
        """The link with stand-ins, cut at each: [(text before, the value's name), …, (rest, "")];
        None if a value does not show in it as its digits."""
        stand_ins = dict(zip(names, _STAND_INS, strict=False))
        built = url_for(endpoint, **stand_ins)
        pieces = []
        for name, number in sorted(stand_ins.items(), key=lambda item: built.find(str(item[1]))):
            before, found, built = built.partition(str(number))
            if not found:
                return None
            pieces.append((before, name))
        return [*pieces, (built, "")]


def htmx_script() -> dict[str, str | None]:
    if current_app.config["HTMX_SOURCE"] == "local":
        return {"src": url_for("static", filename="vendor/htmx.min.js"), "integrity": HTMX_SRI}
    return {"src": f"{HTMX_CDN_ORIGIN}/npm/htmx.org@{HTMX_VERSION}/dist/htmx.min.js", "integrity": HTMX_SRI}


def init_app(app: Flask) -> None:
    app.jinja_env.filters["markdown"] = render_markdown_kept
    app.jinja_env.filters["datetime"] = lambda value, fmt="d MMMM y, HH:mm": format_moment(value, fmt) if value else ""
    app.jinja_env.filters["date"] = lambda value: format_moment(value, "d MMMM y") if value else ""
    app.jinja_env.filters["fingerprint"] = fingerprint
    app.jinja_env.globals["url_for"] = _NumberedPaths()
    app.jinja_env.globals.update(
        VISIBILITY_LABELS=VISIBILITY_LABELS,
        ROLE_LABELS=ROLE_LABELS,
        LOCALES=LOCALES,
        Visibility=Visibility,
        Role=Role,
        get_locale=get_locale,
    )

    @app.context_processor
    def _htmx():
        return {"htmx_script": htmx_script(), "autosave_seconds": app.config["AUTOSAVE_SECONDS"]}
