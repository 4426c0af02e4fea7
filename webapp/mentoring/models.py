"""What mentoring adds to the data: comments under entries, a methodist's feedback and
reading marks, the self-education plan, and in-app notifications."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..models import JournalEntry, User, utcnow
from ..rendered import RenderedBody, keep_rendered


class FeedbackStatus(StrEnum):
    ACCEPTED = "accepted"  # «принято»
    NEEDS_WORK = "needs_work"  # «доработать»


class StepStatus(StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class NotificationKind(StrEnum):
    ENTRY_COMMENT = "entry_comment"  # a comment on my entry
    THREAD_COMMENT = "thread_comment"  # a comment on an entry I commented on
    ENTRY_STATUS = "entry_status"  # a methodist set a status on my entry
    ENTRY_SHARED = "entry_shared"  # an entry shared with me as methodist
    PLAN_COMMENT = "plan_comment"  # a comment on my plan
    THREAD_REPLY = "thread_reply"  # a reply in a thread I started or posted in
    NEW_THREAD = "new_thread"  # a new thread in a group I lead
    MENTION = "mention"  # a post mentions me by @login


class Comment(RenderedBody, db.Model):
    """A comment under a journal entry. Its audience is exactly its entry's."""

    __tablename__ = "comments"
    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(DateTime)

    author: Mapped[User] = relationship(lazy="raise")
    entry: Mapped[JournalEntry] = relationship(lazy="raise")

    # The list under an entry and its poll ("anything after id N?") read this index only.
    __table_args__ = (
        Index("ix_comments_entry_id_id", "entry_id", "id"),
        # Someone's comments, and "has this methodist commented on that entry?" (the desk, awaiting).
        Index("ix_comments_author_id_entry_id", "author_id", "entry_id"),
        # Someone's newest comment (the desk's latest activity): walked newest first, stops at the first.
        Index("ix_comments_author_created", "author_id", "created_at"),
    )


keep_rendered(Comment)


class CommentDraft(db.Model):
    """The text being typed under an entry, autosaved like an entry's draft."""

    __tablename__ = "comment_drafts"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id", ondelete="CASCADE"), primary_key=True)
    body: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Feedback(db.Model):
    """A methodist's verdict on an entry shared with them. No grades, no scores."""

    __tablename__ = "entry_feedback"
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id", ondelete="CASCADE"), primary_key=True)
    methodist_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    status: Mapped[str] = mapped_column(String(16))
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    methodist: Mapped[User] = relationship(lazy="raise")

    # An entry's verdicts newest first (its page), and the latest one (the author's journal list).
    __table_args__ = (Index("ix_feedback_entry_updated", "entry_id", "updated_at", "methodist_id"),)


class EntryRead(db.Model):
    """When a methodist first opened an entry: the author sees "read by the methodist"."""

    __tablename__ = "entry_reads"
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    first_read_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    user: Mapped[User] = relationship(lazy="raise")


class Plan(db.Model):
    """A librarian's self-education plan (тема самообразования) for one academic year."""

    __tablename__ = "plans"
    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)  # 2026 is the year September 2026 – August 2027
    topic: Mapped[str] = mapped_column(String(300))
    aim: Mapped[str] = mapped_column(Text, default="")
    tasks: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    author: Mapped[User] = relationship(lazy="raise")
    steps: Mapped[list[PlanStep]] = relationship(
        lazy="raise", cascade="all, delete-orphan", passive_deletes=True,
        order_by=lambda: (PlanStep.position, PlanStep.id),
    )

    __table_args__ = (UniqueConstraint("author_id", "year", name="uq_plans_author_year"),)


class PlanStep(db.Model):
    __tablename__ = "plan_steps"
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(300))
    due_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default=StepStatus.PLANNED)


class PlanComment(db.Model):
    """A methodist's (or the author's) comment on a plan."""

    __tablename__ = "plan_comments"
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(DateTime)

    author: Mapped[User] = relationship(lazy="raise")

    __table_args__ = (Index("ix_plan_comments_plan_id_id", "plan_id", "id"),)


class Notification(db.Model):
    """Something that happened for one person. What it shows is decided when it is shown,
    through the access rules, so it never reveals what its recipient may no longer see."""

    __tablename__ = "notifications"
    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id", ondelete="CASCADE"))
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="SET NULL"))
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id], lazy="raise")

    __table_args__ = (
        Index("ix_notifications_recipient_id", "recipient_id", "id"),
        Index("ix_notifications_unread", "recipient_id", "read_at"),
    )


class NotificationSettings(db.Model):
    """Which kinds of notification a person wants, and the weekly e-mail digest."""

    __tablename__ = "notification_settings"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    muted_kinds: Mapped[str] = mapped_column(String(200), default="")  # comma-separated NotificationKind values
    weekly_digest: Mapped[bool] = mapped_column(Boolean, default=False)
    email: Mapped[str | None] = mapped_column(String(254))
    last_digest_at: Mapped[datetime | None] = mapped_column(DateTime)
