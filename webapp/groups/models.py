"""Groups and their discussions: the city association (ГМО), creative and project groups,
their threads and posts, and what each person has read."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..models import User, utcnow
from ..rendered import RenderedBody, keep_rendered


class GroupKind(StrEnum):
    ASSOCIATION = "association"  # методическое объединение
    CREATIVE = "creative"  # творческая группа
    PROJECT = "project"  # проектная группа
    OTHER = "other"


class MemberRole(StrEnum):
    LEADER = "leader"
    MEMBER = "member"


class Group(db.Model):
    __tablename__ = "groups"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(16), default=GroupKind.OTHER)
    is_open: Mapped[bool] = mapped_column(Boolean, default=True)  # open: any signed-in person reads and joins
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Moved by every post written in the group, for the navigation's unread count (webapp.groups.versions).
    posts_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Its members, kept by joining and leaving (webapp.groups.queries), so that showing the group
    # counts nobody: the city's association has every librarian in it.
    member_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class GroupMember(db.Model):
    __tablename__ = "group_members"
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(16), default=MemberRole.MEMBER)
    joined_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    user: Mapped[User] = relationship(lazy="raise")


class Thread(db.Model):
    __tablename__ = "threads"
    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Kept up to date with each post, so the thread list needs no aggregate over posts.
    post_count: Mapped[int] = mapped_column(Integer, default=0)
    last_post_id: Mapped[int | None] = mapped_column(Integer)
    last_post_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    author: Mapped[User | None] = relationship(lazy="raise")
    group: Mapped[Group] = relationship(lazy="raise")

    # The group's list: pinned first, then by last activity.
    __table_args__ = (
        Index("ix_threads_group_order", "group_id", "pinned", "last_post_at"),
        # "Anything new in this group?" (the thread list's poll: its max) and "how many threads
        # have posts I have not read?" (the navigation's count), from the index alone.
        Index("ix_threads_group_last_post", "group_id", "last_post_id"),
    )


class Post(RenderedBody, db.Model):
    __tablename__ = "posts"
    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(DateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime)  # shown as «сообщение удалено»

    author: Mapped[User | None] = relationship(lazy="raise")

    __table_args__ = (
        # A thread's pages and its poll ("anything after id N?") read this index only.
        Index("ix_posts_thread_id_id", "thread_id", "id"),
        # A person's newest post, in one step (a new thread sent again, threads.queries.start_thread_once).
        Index("ix_posts_author_id_id", "author_id", "id"),
    )


keep_rendered(Post)


class ThreadState(db.Model):
    """Per person and thread: the last post read (unread markers) and whether it is muted."""

    __tablename__ = "thread_states"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"), primary_key=True, index=True)
    last_read_post_id: Mapped[int] = mapped_column(Integer, default=0)
    muted: Mapped[bool] = mapped_column(Boolean, default=False)


class PostDraft(db.Model):
    """The reply being typed in a thread, autosaved; kept when the thread is locked meanwhile."""

    __tablename__ = "post_drafts"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"), primary_key=True)
    body: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ThreadDraft(db.Model):
    """A new thread being written in a group: title and first post, autosaved."""

    __tablename__ = "thread_drafts"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True)
    title: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
