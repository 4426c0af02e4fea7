"""A person's notifications as they may see them now.

What a notification shows is decided when it is shown: its entry (or plan) is joined
against what the recipient may see today, in the same query. A notification about
something they can no longer see keeps only a neutral sentence: no title, no link,
no comment text, not even who did it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import Row, Select, and_, func, select, update
from sqlalchemy.orm import aliased

from .. import access
from ..extensions import db
from ..markup import render_markdown
from ..mentoring.models import Comment, Feedback, FeedbackStatus, Notification, NotificationKind, Plan
from ..models import JournalEntry, User, utcnow

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
    return (
        select(
            Notification.id, Notification.kind, Notification.created_at, Notification.read_at,
            Notification.entry_id, Notification.plan_id,
            actor.display_name.label("actor_name"),
            entries.c.id.label("visible_entry_id"), entries.c.title.label("entry_title"),
            Comment.id.label("visible_comment_id"), Comment.body.label("comment_body"),
            plans.c.id.label("visible_plan_id"), plans.c.topic.label("plan_topic"),
            Feedback.status.label("feedback_status"),
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
        .where(Notification.recipient_id == recipient.id)
    )


def newest_first(query: Select) -> Select:
    return query.order_by(Notification.id.desc())


def is_available(row: Row) -> bool:
    if row.entry_id is not None:
        return row.visible_entry_id is not None
    if row.plan_id is not None:
        return row.visible_plan_id is not None
    return False


def describe(row: Row) -> Item:
    """The row in the current locale (call inside a request or `force_locale`)."""
    available = is_available(row)
    excerpt = None
    if available and row.comment_body:
        excerpt = render_markdown(row.comment_body).striptags()
        if len(excerpt) > EXCERPT_LENGTH:
            excerpt = excerpt[: EXCERPT_LENGTH - 1].rstrip() + "…"
    return Item(id=row.id, kind=row.kind, created_at=row.created_at, read=row.read_at is not None,
                available=available, text=_text(row) if available else _unavailable_text(row), excerpt=excerpt or None,
                status=row.feedback_status if available else None)


def _unavailable_text(row: Row) -> str:
    if row.entry_id is None and row.plan_id is not None:
        return _("This plan is no longer available to you.")
    return _("This entry is no longer available to you.")


def _text(row: Row) -> str:
    actor = row.actor_name or _("Someone")
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


def target_url(row: Row) -> str:
    """Where an available notification leads: the entry (at the comment), or the plan."""
    if row.entry_id is not None:
        anchor = f"comment-{row.visible_comment_id}" if row.visible_comment_id else None
        return url_for("journal.show", entry_id=row.visible_entry_id, _anchor=anchor)
    return url_for("plans.show", plan_id=row.visible_plan_id)


def unread_count(user_id: int) -> int:
    """One statement on the index ix_notifications_unread (recipient_id, read_at)."""
    return db.session.scalar(
        select(func.count()).select_from(Notification)
        .where(Notification.recipient_id == user_id, Notification.read_at.is_(None))
    ) or 0


def mark_read(recipient_id: int, notification_id: int | None = None) -> int:
    """Mark one of a person's notifications read, or all of them; returns how many changed."""
    query = update(Notification).where(Notification.recipient_id == recipient_id, Notification.read_at.is_(None))
    if notification_id is not None:
        query = query.where(Notification.id == notification_id)
    return db.session.execute(query.values(read_at=utcnow())).rowcount


def mark_read_for(user: User, *, entry_id: int | None = None, plan_id: int | None = None) -> int:
    """Opening an entry or a plan page reads every unread notification of `user` about it.

    One UPDATE in the caller's transaction; the caller commits. Returns how many changed.
    On a GET, call it where a write transaction may begin (after `db.session.commit()`, e.g.
    right after mentoring's record_read) and before loading what the page shows: on SQLite a
    read transaction that turns into a write cannot wait for a busy writer and fails at once,
    and the commit expires whatever was loaded before it.
    """
    if (entry_id is None) == (plan_id is None):
        raise ValueError("mark_read_for needs exactly one of entry_id, plan_id")
    about = Notification.entry_id == entry_id if entry_id is not None else Notification.plan_id == plan_id
    return db.session.execute(
        update(Notification)
        .where(Notification.recipient_id == user.id, Notification.read_at.is_(None), about)
        .values(read_at=utcnow())
    ).rowcount


def read_on_opening(user: User, *, entry_id: int | None = None, plan_id: int | None = None) -> None:
    """A page opened the thing: its notifications are read. Ends the read transaction first and
    writes in a transaction of its own (see mark_read_for); call before loading the page's data."""
    db.session.commit()
    mark_read_for(user, entry_id=entry_id, plan_id=plan_id)
    db.session.commit()
