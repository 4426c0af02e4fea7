"""Saving an entry: what a form sent again finds."""
from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..models import JournalEntry, User
from ..text import same_text, sent_again
from .forms import EntryForm, parse_tags


def holds(entry: JournalEntry, form: EntryForm) -> bool:
    """Whether the entry (its tags loaded) already holds all that the form sends: title, text,
    who may see it, tags and plan step."""
    return (same_text(entry.title, form.title.data) and same_text(entry.body, form.body.data)
            and entry.visibility == form.visibility.data and sorted(entry.tag_names) == sorted(parse_tags(form.tags.data))
            and entry.step_id == form.step_id.data)


def saved_already(author_id: int, form: EntryForm) -> JournalEntry | None:
    """The entry this form already became, when it is sent again (webapp.text.sent_again): the
    person's newest entry, under ten minutes old, holding all that the form sends. The same text
    sent again with other settings (private now, another tag) is a new entry, as the person
    asks. The person's row is held first (on PostgreSQL; SQLite's writers are serialised
    already), so that the same form sent twice at once waits for the first and finds its entry.
    In the caller's transaction."""
    db.session.execute(select(User.id).where(User.id == author_id).with_for_update())
    newest = db.session.scalar(select(JournalEntry).where(JournalEntry.author_id == author_id)
                               .order_by(JournalEntry.created_at.desc()).limit(1))  # ix_entries_author_created
    if newest is None or not sent_again(newest.body, newest.created_at, form.body.data or ""):
        return None  # nearly always: the tags are read only for a text sent again
    db.session.refresh(newest, ["tags"])
    return newest if holds(newest, form) else None
