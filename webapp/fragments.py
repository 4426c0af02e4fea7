"""The markup of one item of a long list (a comment, a post), kept per app and process and reused
while everything it shows is the same.

An entry page of fifty comments spent a third of its time writing their markup: the same markup
for every reader and every visit, give or take a flag. An item's partial (ITEMS) is rendered from
plain values passed by name (ids, texts, moments, flags), never from the request, the viewer or a
database row. Those values, the language and the script root are the key, so a changed text,
name or flag is another key: nothing kept can be out of date or shown to someone it was not made
for. tests/test_fragments.py checks that each partial reads nothing but its values and the
helpers the key accounts for.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from threading import Lock

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
         "page_number", "deleted"}
    ),
    "journal/_entry_summary.html": frozenset(
        {"id", "title", "excerpt", "created_at", "visibility", "status", "tags", "author", "school", "heading",
         "tag_endpoint"}
    ),
    "groups/_thread_row.html": frozenset(
        {"id", "title", "pinned", "locked", "unread", "author", "post_count", "last_post_at"}
    ),
}

# What the partials may use besides their values: all of it depends on the language or the script
# root alone, which the key holds. Nothing else is in their context (not the request, the session,
# `g`, the config or the viewer), so a partial that reached for it would fail, not leak.
HELPERS = ("_", "ngettext", "url_for", "VISIBILITY_LABELS", "FEEDBACK_LABELS")

# Characters of markup and of the texts in keys, per app and process; all forgotten when full. A
# character kept costs 2.5-5 bytes with the keys and the dict (Cyrillic text is two bytes a
# character, one emoji makes it four): some 5-10 MB a worker at most.
KEPT_CHARS = 2_000_000


def _plain(value) -> bool:
    """An id, a text (or Markup), a flag, a moment in UTC without its zone (as stored: two zones'
    equal moments are equal keys but other markup), nothing, or a tuple of exact texts (tag names:
    a tuple's items are keyed without their kinds, so Markup could pass for the same text)."""
    kind = value.__class__
    if kind is tuple:
        return all(item.__class__ is str for item in value)
    if kind is datetime:
        return value.tzinfo is None
    return isinstance(value, (int, str, type(None)))


class KeptItems:
    """One app's item markup (its templates, its city's time zone), as the templates' `kept_item`."""

    def __init__(self, app: Flask, limit: int = KEPT_CHARS):
        self.app = app
        self.limit = limit
        self.kept: dict[tuple, Markup] = {}
        self.chars = 0
        self._lock = Lock()  # for the count of what is kept; a lookup needs none

    def __call__(self, template: str, /, **values) -> Markup:
        """The markup of `template` for `values`, rendered once for each distinct set of them. The
        key holds each value with its kind: True and 1, or a text and its Markup, differ."""
        for name, value in values.items():
            if not _plain(value):
                raise TypeError(f"{name}: an item partial takes plain values, not {type(value).__name__}")
        key = (template, language(), _cv_request.get().url_adapter.script_name,
               tuple(values.items()), tuple(map(type, values.values())))
        found = self.kept.get(key)
        if found is not None:
            return found
        if values.keys() != ITEMS[template]:
            raise TypeError(f"{template} takes {sorted(ITEMS[template])}, not {sorted(values)}")
        environment = self.app.jinja_env
        partial = environment.get_template(template)
        helpers = {name: environment.globals[name] for name in HELPERS}
        made = Markup(environment.concat(partial.root_render_func(partial.new_context({**helpers, **values}, shared=True))))
        if environment.auto_reload:
            return made  # templates may change while the app runs (development): nothing is kept
        self._keep(key, made, len(made) + sum(len(value) for value in values.values() if isinstance(value, str)))
        return made

    def each(self, template: str, /, names: tuple[str, ...], rows: Iterable[tuple]) -> Markup:
        """The markup of `template` for each row of values (named by `names`, in that order), one after
        the other. The whole list is kept too, under all its rows, their kinds (a tuple's items'
        as well) and what __call__ keys on: a page whose items are all as before looks the list up
        once instead of calling the partial from a loop for each item, which cost an entry page more
        than writing any of its fifty comments (docs/performance.md, finding 18). A list that
        differs in any row is made item by item through __call__, which checks every value and
        reuses each item kept: a list found here was made from rows of exactly these kinds, all of
        them checked then."""
        rows = tuple(rows)
        kinds = tuple(tuple(map(type, value)) if value.__class__ is tuple else value.__class__
                      for row in rows for value in row)
        key = (template, names, language(), _cv_request.get().url_adapter.script_name, rows, kinds)
        found = self.kept.get(key)
        if found is not None:
            return found
        made = Markup("\n").join(self(template, **dict(zip(names, row, strict=True))) for row in rows)
        if not self.app.jinja_env.auto_reload:
            self._keep(key, made, len(made) + sum(len(value) for row in rows for value in row if isinstance(value, str)))
        return made

    def found(self, key: tuple) -> Markup | None:
        """Markup kept by `keep` under `key` (plain values only, the caller's to choose so that they
        decide everything the markup shows), for the language and script root of this request."""
        return self.kept.get(self._own_key(key))

    def keep(self, key: tuple, made: Markup) -> Markup:
        if not self.app.jinja_env.auto_reload:
            self._keep(self._own_key(key), made, len(made))
        return made

    @staticmethod
    def _own_key(key: tuple) -> tuple:
        # Three items: never equal to an item's key (five) or a list's (six).
        return ("kept", key, (language(), _cv_request.get().url_adapter.script_name))

    def _keep(self, key: tuple, made: Markup, size: int) -> None:
        with self._lock:
            if self.chars + size > self.limit:
                self.kept.clear()
                self.chars = 0
            self.kept[key] = made
            self.chars += size
