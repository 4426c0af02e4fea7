"""The markup of one item of a long list (a comment, a post), kept per process and reused while
everything it shows is the same.

An entry page of fifty comments spent a third of its time writing their markup: the same markup
for every reader and every visit, give or take a flag. An item's partial (ITEMS) is rendered from
plain values passed by name (ids, texts, moments, flags), never from the request, the viewer or a
database row. Those values, the language and the script root are the key, so a changed text,
name or flag is another key: nothing kept can be out of date or shown to someone it was not made
for. tests/test_fragments.py checks that each partial reads nothing but its values and the
helpers the key accounts for.
"""
from __future__ import annotations

from datetime import datetime

from flask import Flask
from flask.globals import _cv_request
from markupsafe import Markup

from .i18n import language

# Each item partial and the values it is rendered from, by name: all of them, always.
ITEMS: dict[str, frozenset[str]] = {
    "comments/_comment.html": frozenset(
        {"id", "author", "body", "created_at", "edited_at", "by_methodist", "by_author", "own"}
    ),
    "threads/_post.html": frozenset(
        {"id", "thread_id", "author", "body", "created_at", "edited_at", "unread", "own", "can_reply", "can_manage",
         "locked", "page_number"}
    ),
    "journal/_entry_summary.html": frozenset(
        {"id", "title", "excerpt", "created_at", "visibility", "status", "tags", "author", "school", "heading",
         "tag_endpoint"}
    ),
    "groups/_thread_row.html": frozenset(
        {"id", "title", "pinned", "locked", "unread", "author", "post_count", "last_post_at"}
    ),
}

KEPT_CHARS = 4_000_000  # markup and key texts per app and process (some 8 MB); all forgotten when full


def _plain(value) -> bool:
    """An id, a text (or Markup), a flag, a moment, nothing, or a tuple of texts (tag names). Only
    exact texts in a tuple: a tuple is keyed by its items, not their kinds, so one holding Markup
    could otherwise be taken for the same texts unescaped."""
    if value.__class__ is tuple:
        return all(item.__class__ is str for item in value)
    return isinstance(value, (int, str, datetime, type(None)))


class KeptItems:
    """One app's item markup (its templates, its city's time zone), as the templates' `kept_item`."""

    def __init__(self, app: Flask, limit: int = KEPT_CHARS):
        self.app = app
        self.limit = limit
        self.kept: dict[tuple, Markup] = {}
        self.chars = 0

    def __call__(self, template: str, /, **values) -> Markup:
        """The markup of `template` for `values`, rendered once for each distinct set of them. The
        key holds each value with its kind: True and 1, or a text and its Markup, differ."""
        key = (template, language(), _cv_request.get().url_adapter.script_name,
               tuple(values.items()), tuple(map(type, values.values())))
        found = self.kept.get(key)
        if found is not None:
            return found  # its values passed the checks below when it was made
        if values.keys() != ITEMS[template]:
            raise TypeError(f"{template} takes {sorted(ITEMS[template])}, not {sorted(values)}")
        for name, value in values.items():
            if not _plain(value):
                raise TypeError(f"{name}: an item partial takes plain values, not {type(value).__name__}")
        made = Markup(self.app.jinja_env.get_template(template).render(values))
        size = len(made) + sum(len(value) for value in values.values() if isinstance(value, str))
        if self.chars + size > self.limit:
            self.kept.clear()
            self.chars = 0
        self.kept[key] = made
        self.chars += size
        return made
