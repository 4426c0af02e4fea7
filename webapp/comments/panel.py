"""What the entry page needs to show its comments: the list, which commenters are the author's
methodists, the viewer's unsent text, and how often the list asks for news.

Every query here goes through webapp.access; the number of queries never depends on the
number of comments: one reads the list with its authors and whether each is a methodist of the
entry's author. The list's statements are built once (webapp.prebuilt) and read columns, not objects."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from flask import abort, current_app
from markupsafe import Markup
from sqlalchemy import ColumnElement, Integer, Row, Select, and_, bindparam, exists, select

from .. import access, database, prebuilt
from ..mentoring.models import Comment, CommentDraft
from ..models import JournalEntry, User, mentorships
from ..polls import Poll
from ..text import fingerprint
from .forms import CommentForm, comment_form

NEW_COMMENT_FIELD = "comment-body"


# htmx event: the entry page's comment poller asks at once (comments/_poller.html). Sent by an answer
# that added a comment elsewhere on the page, and by a posted comment's own answer: a poll answered
# just before it may have taken the end marker that answer adds its comments at.
COMMENT_ADDED = "comment-added"


@dataclass
class CommentSection:
    """Everything the comment templates read, under one name so no other panel collides with it."""

    entry_id: int
    entry_author_id: int
    comments: list[ShownComment]
    after: int  # the newest comment id shown: the poll asks for anything newer
    since: int = 0  # news: the newest id the asking page showed; the comments go in at its marker
    poll_seconds: int = 15
    form: CommentForm | None = None
    restored: KeptDraft | None = None  # the unsent text brought back into the form
    draft_seen: str = ""  # the fingerprint of the draft the form holds (webapp.text.keep_typed)

    # What comments/_comment.html is rendered from (webapp.fragments.ITEMS), in the order of item_rows.
    ITEM_VALUES = ("id", "author", "body", "created_at", "edited_at", "by_methodist", "by_author", "own")

    def item_rows(self, viewer_id: int) -> list[tuple]:
        author = self.entry_author_id
        return [(c.id, c.author, c.body_markup, c.created_at, c.edited_at, c.by_methodist,
                 c.author_id == author, c.author_id == viewer_id) for c in self.comments]


class KeptDraft(NamedTuple):
    body: str
    updated_at: datetime


def draft_columns(viewer) -> tuple[ColumnElement, ColumnElement]:
    """The viewer's unsent comment on the entry a statement loads, as two columns of it (its text,
    "draft_body", and when it was saved, "draft_at"; NULL without one), over comment_drafts'
    primary key: the entry page reads them with the entry (access.entry_with, opened_section)."""
    def kept(column):
        return select(column).where(CommentDraft.user_id == viewer.id, CommentDraft.entry_id == JournalEntry.id).scalar_subquery()
    return kept(CommentDraft.body).label("draft_body"), kept(CommentDraft.updated_at).label("draft_at")


def section_for(entry: JournalEntry, viewer: User, form: CommentForm | None = None, draft_seen: str = "") -> CommentSection:
    """The whole comment section of `entry` (which the caller has checked `viewer` may see); with a
    refused `form`, `draft_seen` is the fingerprint of the draft its text was kept as."""
    if form is None:
        return opened_section(entry, viewer, database.run(_DRAFT, {"user_id": viewer.id, "entry_id": entry.id}).first())
    return _section(entry, viewer, form, None, draft_seen)


def opened_section(entry: JournalEntry, viewer: User, draft: Row | None) -> CommentSection:
    """The comment section as the entry page opens it, its form holding the viewer's unsent text
    on the entry, if there is one: `draft`, a row with draft_columns (read with the entry, or by
    _DRAFT)."""
    restored = KeptDraft(draft.draft_body, draft.draft_at) if draft is not None and draft.draft_at is not None else None
    form = new_comment_form(restored.body if restored else "")
    return _section(entry, viewer, form, restored, fingerprint(restored.body) if restored else "")


def _section(entry: JournalEntry, viewer: User, form: CommentForm, restored: KeptDraft | None,
             draft_seen: str) -> CommentSection:
    comments = comments_of(viewer, entry.id)
    return CommentSection(
        entry_id=entry.id,
        entry_author_id=entry.author_id,
        comments=comments,
        after=comments[-1].id if comments else 0,
        poll_seconds=poll_seconds(),
        form=form,
        restored=restored,
        draft_seen=draft_seen,
    )


_DRAFT = select(CommentDraft.body.label("draft_body"), CommentDraft.updated_at.label("draft_at")).where(
    CommentDraft.user_id == bindparam("user_id", type_=Integer), CommentDraft.entry_id == bindparam("entry_id", type_=Integer))


def new_comment_form(text: str = "") -> CommentForm:
    return comment_form(NEW_COMMENT_FIELD, formdata=None, data={"body": text})


def poll_seconds() -> int:
    return int(current_app.config["COMMENT_POLL_SECONDS"])


class ShownComment(NamedTuple):
    """A comment as the list shows it: columns with its author's name, not objects (fifty comments
    loaded as objects with their authors cost the entry page a few milliseconds)."""

    id: int
    author_id: int
    author: str
    body_html: str
    created_at: datetime
    edited_at: datetime | None
    by_methodist: bool  # its author is a methodist of the entry's author (access.is_mentor_of)

    @property
    def body_markup(self) -> Markup:
        return Markup(self.body_html)


# Whether the comment's author mentors the entry's author (never the author themselves): one
# primary-key lookup per comment shown.
_BY_METHODIST = exists().where(mentorships.c.librarian_id == JournalEntry.author_id,
                               mentorships.c.methodist_id == Comment.author_id,
                               Comment.author_id != JournalEntry.author_id).label("by_methodist")


def _shown(viewer, *more) -> Select:
    """The columns of ShownComment (then `more`) of the comments `viewer` may see."""
    return (access.visible_comments(viewer)
            .with_only_columns(Comment.id, Comment.author_id, User.display_name.label("author"), Comment.body_html,
                               Comment.created_at, Comment.edited_at, _BY_METHODIST, *more)
            .join(User, User.id == Comment.author_id))


@prebuilt.built_once
def _listed(viewer, only_after: bool) -> Select:
    statement = _shown(viewer).where(Comment.entry_id == bindparam("entry_id", type_=Integer))
    if only_after:
        statement = statement.where(Comment.id > bindparam("after", type_=Integer))
    return statement.order_by(Comment.id)


def comments_of(viewer: User, entry_id: int, after: int | None = None) -> list[ShownComment]:
    """The comments under an entry (after the comment `after`), oldest first, with their authors' names."""
    params = prebuilt.params_for(viewer, entry_id=entry_id, after=after)
    return [ShownComment(*row) for row in database.run(_listed(after is not None), params)]


# The poll's single statement (webapp.polls): the access check is folded in, and comments are
# read through ix_comments_entry_id_id. No row: nobody signed in, or the entry is not visible
# (404); a row with no comment id: nothing new (204); otherwise the entry's author and the first
# new comment.
NEWS = Poll(lambda viewer: (
    select(JournalEntry.author_id, Comment.id.label("comment_id"))
    .select_from(JournalEntry)
    .outerjoin(Comment, and_(Comment.entry_id == JournalEntry.id, Comment.id > bindparam("after", type_=Integer)))
    .where(JournalEntry.id == bindparam("entry_id", type_=Integer), access.entry_visible_clause(viewer))
    .limit(1)
))


def news_section(viewer: User, entry_id: int, entry_author_id: int, after: int,
                 form: CommentForm | None = None) -> CommentSection:
    """The comments after `after` (for appending), and the newest id for the poller."""
    comments = comments_of(viewer, entry_id, after=after)
    return CommentSection(
        entry_id=entry_id,
        entry_author_id=entry_author_id,
        comments=comments,
        after=comments[-1].id if comments else after,
        since=after,
        poll_seconds=poll_seconds(),
        form=form,
    )


@prebuilt.built_once
def _one(viewer) -> Select:
    return _shown(viewer, Comment.entry_id, JournalEntry.author_id).where(Comment.id == bindparam("comment_id", type_=Integer))


def single(viewer: User, comment_id: int) -> CommentSection:
    """One comment, for showing it again after an edit or a cancelled edit; 404 if not visible."""
    row = database.run(_one(), prebuilt.params_for(viewer, comment_id=comment_id)).first()
    if row is None:
        abort(404)
    *shown, entry_id, entry_author_id = row
    comment = ShownComment(*shown)
    return CommentSection(
        entry_id=entry_id,
        entry_author_id=entry_author_id,
        comments=[comment],
        after=comment.id,
        poll_seconds=poll_seconds(),
    )
