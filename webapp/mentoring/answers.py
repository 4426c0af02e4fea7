"""A methodist answers an entry: a comment, a status («принято» / «доработать»), or both.

The caller has checked access.is_methodist_for and commits."""
from __future__ import annotations

from dataclasses import dataclass

from flask import abort
from sqlalchemy import select

from .. import database
from ..extensions import db
from ..models import JournalEntry, User, utcnow
from ..notifications import events
from ..text import sent_again
from .models import Comment, Feedback, FeedbackStatus


def add_comment_once(entry: JournalEntry, author: User, text: str, shown: int | None) -> tuple[Comment, bool]:
    """A comment under `entry`, in the caller's transaction (a colleague's from the entry page, a
    methodist's answer), and True; unless `text` is the person's comment here sent again
    (webapp.text.sent_again): then that comment, and False. `shown`: the newest comment id the
    sending page held; None when the form does not say (a methodist's answer): then the entry's
    newest comment is the one that may be the same."""
    _hold(entry)
    newest = select(Comment).where(Comment.entry_id == entry.id)
    if shown is not None:
        newest = newest.where(Comment.author_id == author.id, Comment.id > shown)
    earlier = db.session.scalars(newest.order_by(Comment.id.desc()).limit(1)).first()
    if earlier is not None and earlier.author_id == author.id and sent_again(earlier.body, earlier.created_at, text):
        return earlier, False
    return _insert(entry, author, text), True


def _hold(entry: JournalEntry) -> None:
    """The entry's row is held first (FOR UPDATE on PostgreSQL; SQLite's writers are serialised
    already), so the comments of one entry are committed in the order of their ids, and the poll
    ("anything after id N?") never skips one that was committed late."""
    if db.session.scalar(select(JournalEntry.id).where(JournalEntry.id == entry.id).with_for_update()) is None:
        abort(404)  # deleted while the comment waited for it


def _insert(entry: JournalEntry, author: User, text: str) -> Comment:
    comment = Comment(entry_id=entry.id, author_id=author.id, body=text)
    db.session.add(comment)
    db.session.flush()
    return comment


@dataclass
class Answer:
    comment: Comment | None = None
    feedback: Feedback | None = None
    status_changed: bool = False


def _set_status(entry: JournalEntry, methodist: User, status: FeedbackStatus, comment: Comment | None) -> tuple[Feedback, bool]:
    """One row per (entry, methodist), updated in place; an upsert, so two tabs never collide."""
    before = db.session.scalar(
        select(Feedback.status).where(Feedback.entry_id == entry.id, Feedback.methodist_id == methodist.id)
    )
    values = {"status": status.value, "comment_id": comment.id if comment else None, "updated_at": utcnow()}
    db.session.execute(
        database.insert_on_conflict(Feedback)
        .values(entry_id=entry.id, methodist_id=methodist.id, **values)
        .on_conflict_do_update(index_elements=[Feedback.entry_id, Feedback.methodist_id], set_=values)
    )
    feedback = db.session.get(Feedback, (entry.id, methodist.id), populate_existing=True)
    return feedback, before != status.value


def answer(entry: JournalEntry, methodist: User, *, status: FeedbackStatus | None, text: str, seen: str = "") -> Answer:
    """Save what the methodist sent and tell the author. Setting the status it already has tells nobody of it.
    `seen`: the fingerprint of the text the form last saved as a draft (webapp.text.sent_from_here)."""
    result = Answer()
    if text.strip():
        # Sent again (the answer to the first was lost, or the button pressed twice): saved once,
        # told once, and the status below finds itself already set.
        result.comment, new = add_comment_once(entry, methodist, text, None)
        # Imported here: the comments package imports the journal, which imports this one.
        from ..comments.drafts import clear_sent

        clear_sent(methodist, entry.id, text, seen)
        if new:
            events.comment_added(result.comment, entry)
    if status is not None:
        result.feedback, result.status_changed = _set_status(entry, methodist, status, result.comment)
        if result.status_changed:
            events.status_set(result.feedback, entry)
    return result
