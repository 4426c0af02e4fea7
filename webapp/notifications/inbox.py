"""A person's notifications as they may see them now.

What a notification shows is decided when it is shown: its entry, plan or discussion thread
is joined against what the recipient may see today, in the same query. A notification about
something they can no longer see (an entry turned private, a closed group they left) keeps
only a neutral sentence: no title, no link, no text, not even who did it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import url_for
from sqlalchemy import ColumnElement, Integer, Row, Select, and_, bindparam, exists, func, select, update
from sqlalchemy.orm import aliased

from .. import access, database, prebuilt
from ..extensions import db
from ..groups.models import Group, Post, Thread
from ..i18n import gettext as _
from ..markup import plain_excerpt
from ..mentoring.models import Comment, Feedback, FeedbackStatus, Notification, NotificationKind, Plan
from ..models import JournalEntry, User, utcnow
from ..polls import Poll

EXCERPT_LENGTH = 200


@dataclass(frozen=True)
class Item:
    """One notification, ready to show: `text` already says only what the recipient may know."""

    id: int
    kind: str
    created_at: datetime
    read: bool
    available: bool
    text: str
    excerpt: str | None
    status: str | None = None  # the feedback status an entry_status notification tells of


def rows_for(recipient: User) -> Select:
    """Every notification of `recipient`, each with what they may still see of its subject (one row each)."""
    actor = aliased(User)
    entries = access.visible_entries(recipient).with_only_columns(JournalEntry.id, JournalEntry.title).subquery()
    plans = access.visible_plans(recipient).with_only_columns(Plan.id, Plan.topic).subquery()
    threads = access.threads_in_visible_groups(recipient).with_only_columns(
        Thread.id, Thread.title, Thread.group_id).subquery()
    return (
        select(
            Notification.id, Notification.kind, Notification.created_at, Notification.read_at,
            Notification.entry_id, Notification.plan_id, Notification.thread_id,
            actor.display_name.label("actor_name"),
            entries.c.id.label("visible_entry_id"), entries.c.title.label("entry_title"),
            Comment.id.label("visible_comment_id"), Comment.body_html.label("comment_html"),
            plans.c.id.label("visible_plan_id"), plans.c.topic.label("plan_topic"),
            Feedback.status.label("feedback_status"),
            threads.c.id.label("visible_thread_id"), threads.c.title.label("thread_title"),
            Group.name.label("group_name"),
            Post.id.label("visible_post_id"), Post.body_html.label("post_html"), Post.deleted_at.label("post_deleted_at"),
        )
        .select_from(Notification)
        .outerjoin(actor, actor.id == Notification.actor_id)
        .outerjoin(entries, entries.c.id == Notification.entry_id)
        # A comment's audience is exactly its entry's: it shows only when the entry does.
        .outerjoin(Comment, and_(Comment.id == Notification.comment_id, Comment.entry_id == entries.c.id))
        .outerjoin(plans, plans.c.id == Notification.plan_id)
        .outerjoin(Feedback, and_(
            Notification.kind == NotificationKind.ENTRY_STATUS.value,
            Feedback.entry_id == entries.c.id,
            Feedback.methodist_id == Notification.actor_id,
        ))
        .outerjoin(threads, threads.c.id == Notification.thread_id)
        .outerjoin(Group, Group.id == threads.c.group_id)
        # A post is read by whoever may read its group: it shows only when its thread does.
        .outerjoin(Post, and_(Post.id == Notification.post_id, Post.thread_id == threads.c.id))
        .where(Notification.recipient_id == recipient.id)
    )


def newest_first(query: Select) -> Select:
    return query.order_by(Notification.id.desc())


def is_available(row: Row) -> bool:
    if row.thread_id is not None:
        return row.visible_thread_id is not None
    if row.entry_id is not None:
        return row.visible_entry_id is not None
    if row.plan_id is not None:
        return row.visible_plan_id is not None
    return False


def describe(row: Row) -> Item:
    """The row in the current locale (call inside a request or `force_locale`)."""
    available = is_available(row)
    excerpt = _excerpt(_quoted_text(row)) if available else None
    return Item(id=row.id, kind=row.kind, created_at=row.created_at, read=row.read_at is not None,
                available=available, text=_text(row) if available else _unavailable_text(row), excerpt=excerpt or None,
                status=row.feedback_status if available else None)


def _quoted_text(row: Row) -> str | None:
    """The words the notification quotes: the comment, or the post (unless it was deleted since)."""
    if row.thread_id is not None:
        return row.post_html if row.post_deleted_at is None else None
    return row.comment_html


def _excerpt(html: str | None) -> str | None:
    """The beginning of a comment or post, as plain text, from the HTML stored with it."""
    return (plain_excerpt(html, EXCERPT_LENGTH) or None) if html else None


def _unavailable_text(row: Row) -> str:
    if row.thread_id is not None:
        return _("This discussion is no longer available to you.")
    if row.entry_id is None and row.plan_id is not None:
        return _("This plan is no longer available to you.")
    return _("This entry is no longer available to you.")


def _text(row: Row) -> str:
    actor = row.actor_name or _("Someone")
    if row.thread_id is not None:
        return _thread_text(row, actor)
    title = row.entry_title or ""
    kind = row.kind
    if kind == NotificationKind.ENTRY_COMMENT:
        return _("%(actor)s commented on your entry “%(title)s”.", actor=actor, title=title)
    if kind == NotificationKind.THREAD_COMMENT:
        return _("%(actor)s also commented on “%(title)s”, an entry you commented on.", actor=actor, title=title)
    if kind == NotificationKind.ENTRY_STATUS:
        if row.feedback_status == FeedbackStatus.ACCEPTED:
            return _("%(actor)s accepted your entry “%(title)s”.", actor=actor, title=title)
        if row.feedback_status == FeedbackStatus.NEEDS_WORK:
            return _("%(actor)s asks for more work on your entry “%(title)s”.", actor=actor, title=title)
        return _("%(actor)s changed the status of your entry “%(title)s”.", actor=actor, title=title)
    if kind == NotificationKind.ENTRY_SHARED:
        return _("%(actor)s shared the entry “%(title)s” with you.", actor=actor, title=title)
    if kind == NotificationKind.PLAN_COMMENT:
        return _("%(actor)s commented on your self-education plan “%(title)s”.", actor=actor, title=row.plan_topic or "")
    if row.entry_id is not None:
        return _("News about the entry “%(title)s”.", title=title)
    return _("News about your self-education plan “%(title)s”.", title=row.plan_topic or "")


def _thread_text(row: Row, actor: str) -> str:
    # Phrased so that no Russian verb has to guess the actor's gender («ответил(а)»).
    title, group = row.thread_title or "", row.group_name or ""
    if row.kind == NotificationKind.THREAD_REPLY:
        return _("%(actor)s: a reply in the discussion “%(title)s”.", actor=actor, title=title)
    if row.kind == NotificationKind.NEW_THREAD:
        return _("%(actor)s: a new discussion “%(title)s” in your group “%(group)s”.", actor=actor, title=title, group=group)
    if row.kind == NotificationKind.MENTION:
        return _("%(actor)s: you are mentioned in the discussion “%(title)s”.", actor=actor, title=title)
    return _("News in the discussion “%(title)s”.", title=title)


def target_url(row: Row) -> str:
    """Where an available notification leads: the post in its thread, the entry at the comment, or the plan."""
    if row.thread_id is not None:
        # A post's own address leads to the page it is on, scrolled to it; /threads/<id>#post-<id>
        # would not: a thread opens at my first unread post, and that redirect's anchor wins.
        if row.visible_post_id:
            return url_for("threads.show_post", post_id=row.visible_post_id)
        return url_for("threads.show", thread_id=row.visible_thread_id)  # the post is gone for good
    if row.entry_id is not None:
        anchor = f"comment-{row.visible_comment_id}" if row.visible_comment_id else None
        return url_for("journal.show", entry_id=row.visible_entry_id, _anchor=anchor)
    return url_for("plans.show", plan_id=row.visible_plan_id)


def _unread(recipient_id) -> Select:
    """One statement on the index ix_notifications_unread (recipient_id, read_at)."""
    return (select(func.count().label("unread")).select_from(Notification)
            .where(Notification.recipient_id == recipient_id, Notification.read_at.is_(None)))


BADGE_POLL = Poll(lambda viewer: _unread(viewer.id))  # the badge's poll (webapp.polls)


def unread_column(recipient_id) -> ColumnElement:
    """The same count as a column, "unread_notifications": the header reads it with the groups
    item's count (webapp.groups.nav.header_counts)."""
    return _unread(recipient_id).scalar_subquery().label("unread_notifications")


def mark_read(recipient_id: int, notification_id: int | None = None) -> int:
    """Mark one of a person's notifications read, or all of them; returns how many changed."""
    query = update(Notification).where(Notification.recipient_id == recipient_id, Notification.read_at.is_(None))
    if notification_id is not None:
        query = query.where(Notification.id == notification_id)
    return db.session.execute(query.values(read_at=utcnow())).rowcount


def _unread_about(user: User, entry_id: int | None, plan_id: int | None, thread_id: int | None):
    """The condition "an unread notification of `user` about this one thing"."""
    given = [(column, value) for column, value in ((Notification.entry_id, entry_id), (Notification.plan_id, plan_id),
                                                   (Notification.thread_id, thread_id)) if value is not None]
    if len(given) != 1:
        raise ValueError("name exactly one of entry_id, plan_id, thread_id")
    ((column, value),) = given
    return and_(Notification.recipient_id == user.id, Notification.read_at.is_(None), column == value)


def mark_read_for(user: User, *, entry_id: int | None = None, plan_id: int | None = None,
                  thread_id: int | None = None) -> int:
    """Opening an entry, a plan or a thread page reads every unread notification of `user` about it.

    One UPDATE in the caller's transaction; the caller commits. Returns how many changed.
    On a GET, call it where a write transaction may begin (after `db.session.commit()`, e.g.
    right after mentoring's record_read) and before loading what the page shows: on SQLite a
    read transaction that turns into a write cannot wait for a busy writer and fails at once,
    and the commit expires whatever was loaded before it.
    """
    about = _unread_about(user, entry_id, plan_id, thread_id)
    return db.session.execute(update(Notification).where(about).values(read_at=utcnow())).rowcount


def has_unread_about(user: User, *, entry_id: int | None = None, plan_id: int | None = None,
                     thread_id: int | None = None) -> bool:
    """Whether `user` has an unread notification about the entry, plan or thread: one indexed
    look-up in the request's read transaction."""
    named = {"entry_id": entry_id, "plan_id": plan_id, "thread_id": thread_id}
    given = [name for name, value in named.items() if value is not None]
    if len(given) != 1:
        raise ValueError("name exactly one of entry_id, plan_id, thread_id")
    return bool(database.run(_any_unread_about(given[0]), prebuilt.params_for(user, about=named[given[0]])).scalar())


@prebuilt.built_once
def _any_unread_about(viewer, name: str) -> Select:
    """has_unread_about's statement for one kind of thing (`name`), built once: opening a plan asks
    it every time (an entry's page and a thread's read it with the entry or thread)."""
    about = bindparam("about", type_=Integer)
    return select(exists().where(_unread_about(viewer, *(about if kind == name else None
                                                         for kind in ("entry_id", "plan_id", "thread_id")))))


def unread_about_entry(viewer) -> ColumnElement[bool]:
    """has_unread_about for the entry a statement loads, as a column of it (access.entry_with):
    the entry page learns it with the entry."""
    return exists().where(_unread_about(viewer, JournalEntry.id, None, None)).label("unread_about")


def unread_about_thread(viewer) -> ColumnElement[bool]:
    """The same for the thread a statement loads (threads.queries.thread_and_reader)."""
    return exists().where(_unread_about(viewer, None, None, Thread.id)).label("unread_about")


def read_on_opening(user: User, *, entry_id: int | None = None, plan_id: int | None = None,
                    thread_id: int | None = None, unread: bool | None = None) -> bool:
    """A page opened the thing: its notifications are read. Most openings find none unread and
    write nothing; otherwise the read transaction ends and the marks are written in a transaction
    of their own (see mark_read_for). `unread`: has_unread_about's answer, when the page read it
    with the thing. True when it wrote: the commit expired what the request had loaded."""
    if unread is None:
        unread = has_unread_about(user, entry_id=entry_id, plan_id=plan_id, thread_id=thread_id)
    if not unread:
        return False
    db.session.commit()
    with database.bookkeeping():
        mark_read_for(user, entry_id=entry_id, plan_id=plan_id, thread_id=thread_id)
    return True
