"""Text people type: what never reaches the database, and the one rule for keeping a short text
being typed under something (a comment under an entry, a reply in a thread). An entry's own
editor keeps its drafts in webapp.journal.drafts."""
from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable
from datetime import datetime, timedelta

from .extensions import db
from .models import utcnow

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # tab and line ends stay
# ZERO WIDTH SPACE, WORD JOINER and BOM; ZERO WIDTH (NON-)JOINER stay: Persian, Indic scripts and
# emoji sequences need them.
_INVISIBLE = re.compile(r"[\u200b\u2060\ufeff]")


def strip_controls(value: str | None) -> str | None:
    """Every typed text as it is kept: NUL and other control characters never reach the database
    (PostgreSQL rejects NUL); nor do the invisible characters that would let a blank-looking value
    pass as a title, a name or a tag; and a letter typed two ways (Й as one code point, or И and a
    combining breve) is one letter (NFC), so one name and one tag. Line breaks and everything else
    stay as typed."""
    if not isinstance(value, str):
        return value
    return unicodedata.normalize("NFC", _INVISIBLE.sub("", without_controls(value)))


def without_controls(value: str | None) -> str | None:
    """Only the control characters dropped: for a password, whose every other code point counts
    (a hash made from the text as typed must go on matching it)."""
    return _CONTROL.sub("", value) if isinstance(value, str) else value


def fingerprint(text: str | None) -> str:
    """A short digest of a typed text (line ends as the browser sends them or not). A form keeps
    the fingerprint of the text it last saved as a draft (`draft_seen`); an autosave that brings
    the same text again has nothing new from this form."""
    return hashlib.blake2b((text or "").replace("\r\n", "\n").encode(), digest_size=8).hexdigest()


def saved_since_opened(stored: str, sent: str, base: str | None) -> bool:
    """Someone saved another text over `stored` since this editor opened on it: `base` is the
    fingerprint the editor was opened with (none from a page older than the field), `sent` what it
    sends now. Saving would silently throw the other text away, so it is shown instead, and the
    editor gets the new base: saving again is a choice made with both in sight."""
    return bool(base) and fingerprint(stored) != base and fingerprint(stored) != fingerprint(sent)


def nothing_to_keep(text: str, kept, **params) -> bool:
    """An autosave with nothing typed where nothing of the person's is kept: nothing to store or
    clear, known from `kept`'s one statement before anyone is loaded (a webapp.polls.Poll whose
    row has `kept_for`, the person's id when a draft is kept). No row (nobody signed in, nowhere
    they may write, a closed thread): False, and the autosave goes the usual way."""
    if text.strip():
        return False
    row = kept.ask(**params)
    return row is not None and row.kept_for is None


def same_text(a: str | None, b: str | None) -> bool:
    """The same text as typed, whatever the line ends and the blank space around it (a form may
    send it stripped, a draft keeps it as typed)."""
    return (a or "").replace("\r\n", "\n").strip() == (b or "").replace("\r\n", "\n").strip()


SENT_AGAIN_WITHIN = timedelta(minutes=10)


def sent_again(earlier_text: str, earlier_at: datetime, text: str) -> bool:
    """Whether `text` is a message sent a second time rather than a new one. The caller holds the
    place's row and passes the person's newest message there that the sending page had not shown
    (newer than its end marker, or than the newest message it showed when a plain form was drawn;
    from a form that says neither, the place's newest message if it is theirs).
    The same text, under ten minutes old: an answer lost on the way and the button pressed again
    (as the page tells people to when the server seems unreachable), or a plain form's button
    pressed twice. The message is saved once. The same words sent after the page showed them are
    a new message."""
    return same_text(earlier_text, text) and utcnow() - earlier_at < SENT_AGAIN_WITHIN


def seen_after_keeping(text: str, seen: str, state: str | None) -> str:
    """What a refused form's draft_seen becomes once its text went through keep_typed (`state`):
    the text's fingerprint if it is the draft now, as it was if nothing was stored."""
    if state == "saved":
        return fingerprint(text)
    return "" if state == "cleared" else seen


def sent_from_here(draft_text: str, sent: str, seen: str) -> bool:
    """Whether a person's draft is this form's: the text it sends, or the one it last saved or was
    opened with (`seen`, its fingerprint). Sending clears that draft. Any other text was saved
    since by another tab of theirs, still unsent there, and stays to be brought back."""
    return same_text(draft_text, sent) or (bool(seen) and fingerprint(draft_text) == seen)


def keep_typed(draft, create: Callable, text: str, last_sent: Callable[[], str | None], seen: str = "") -> str | None:
    """The one rule for a text typed under something (a comment under an entry, a reply in a thread).

    `draft` is the person's stored draft or None; `create()` adds a new one to the session;
    `last_sent()` gives the text of the person's latest sent message there (asked only when it
    matters); `seen` is the fingerprint of the text the form last saved or was opened with ("":
    none). Returns "saved", "cleared" (the text was emptied, so the draft is gone) or None (nothing
    stored).

    The draft is one per person and place, and every open tab autosaves into it, typed or not:
    a form whose text has not changed since it last saved changes nothing, and only a form that
    saved that very text (or was opened with it) clears it. An idle tab never overwrites or
    clears what was typed in another one since."""
    if seen and seen == fingerprint(text):
        return None
    if not text.strip():
        if draft is None or fingerprint(draft.body) != seen:
            return None
        db.session.delete(draft)
        return "cleared"
    if draft is not None and draft.body == text:
        return "saved"
    if draft is None and same_text(last_sent(), text):
        return None  # an autosave that left before the message was sent arrives after it
    if draft is None:
        draft = create()
    draft.body = text
    draft.updated_at = utcnow()
    return "saved"
