"""What every template can use: the htmx source, labels, Markdown, dates and the fingerprint of a typed text."""
from __future__ import annotations

from flask import Flask, current_app, url_for
from flask_babel import get_locale
from flask_login import current_user

from .config import HTMX_CDN_URL, HTMX_SRI
from .dates import format_moment
from .fragments import KeptItems
from .i18n import LOCALES
from .i18n import lazy_gettext as _l
from .journal.drafts import owner_token
from .markup import render_markdown_kept
from .models import Role, Visibility
from .text import fingerprint
from .urls import page_url_for

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


def htmx_script() -> dict[str, str | None]:
    if current_app.config["HTMX_SOURCE"] == "local":
        return {"src": url_for("static", filename="vendor/htmx.min.js"), "integrity": HTMX_SRI}
    return {"src": HTMX_CDN_URL, "integrity": HTMX_SRI}


def init_app(app: Flask) -> None:
    app.jinja_env.filters["markdown"] = render_markdown_kept
    app.jinja_env.filters["datetime"] = lambda value, fmt="d MMMM y, HH:mm": format_moment(value, fmt) if value else ""
    app.jinja_env.filters["date"] = lambda value: format_moment(value, "d MMMM y") if value else ""
    app.jinja_env.filters["fingerprint"] = fingerprint
    app.jinja_env.globals.update(
        VISIBILITY_LABELS=VISIBILITY_LABELS,
        ROLE_LABELS=ROLE_LABELS,
        LOCALES=LOCALES,
        Visibility=Visibility,
        Role=Role,
        url_for=page_url_for,
        kept_item=KeptItems(app),
        get_locale=get_locale,
        entry_draft_owner=lambda key: owner_token(current_user, key),
    )

    @app.context_processor
    def _htmx():
        return {"htmx_script": htmx_script(), "autosave_seconds": app.config["AUTOSAVE_SECONDS"]}
