"""Saving a new entry: what a form sent again finds."""
from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..models import JournalEntry, User
from ..text import same_text, sent_again


def saved_already(author_id: int, title: str, body: str) -> JournalEntry | None:
    """The entry this text already became, when the form is sent again (webapp.text.sent_again):
    the person's newest entry, with the same title and text, under ten minutes old. The person's
    row is held first (on PostgreSQL; SQLite's writers are serialised already), so that the same
    form sent twice at once waits for the first and finds its entry. In the caller's transaction."""
    db.session.execute(select(User.id).where(User.id == author_id).with_for_update())
    newest = db.session.scalar(select(JournalEntry).where(JournalEntry.author_id == author_id)
                               .order_by(JournalEntry.created_at.desc()).limit(1))  # ix_entries_author_created
    if newest is not None and same_text(newest.title, title) and sent_again(newest.body, newest.created_at, body):
        return newest
    return None
