"""Text people type: what never reaches the database, and the one rule for keeping a short text
being typed under something (a comment under an entry, a reply in a thread). An entry's own
editor keeps its drafts in webapp.journal.drafts."""
from __future__ import annotations

import re
from collections.abc import Callable

from .extensions import db
from .models import utcnow

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def strip_controls(value: str | None) -> str | None:
    """NUL and other control characters never reach the database (PostgreSQL rejects NUL)."""
    return _CONTROL.sub("", value) if isinstance(value, str) else value


def nothing_to_keep(text: str, kept, **params) -> bool:
    """An autosave with nothing typed where nothing of the person's is kept: nothing to store or
    clear, known from `kept`'s one statement before anyone is loaded (a webapp.polls.Poll whose
    row has `kept_for`, the person's id when a draft is kept). No row (nobody signed in, nowhere
    they may write, a closed thread): False, and the autosave goes the usual way."""
    if text.strip():
        return False
    row = kept.ask(**params)
    return row is not None and row.kept_for is None


def keep_typed(draft, create: Callable, text: str, last_sent: Callable[[], str | None]) -> str | None:
    """The one rule for a text typed under something (a comment under an entry, a reply in a thread).

    `draft` is the person's stored draft or None; `create()` adds a new one to the session;
    `last_sent()` gives the text of the person's latest sent message there (asked only when it
    matters). Returns "saved",
    "cleared" (the text was emptied, so the draft is gone) or None (nothing stored)."""
    if not text.strip():
        if draft is None:
            return None
        db.session.delete(draft)
        return "cleared"
    if draft is not None and draft.body == text:
        return "saved"
    if draft is None and last_sent() == text:
        return None  # an autosave that left before the message was sent arrives after it
    if draft is None:
        draft = create()
    draft.body = text
    draft.updated_at = utcnow()
    return "saved"
