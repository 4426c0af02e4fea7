"""The data: schools, people, mentorships, journal entries and their drafts."""
from __future__ import annotations

import secrets
from datetime import UTC, datetime
from enum import StrEnum

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db
from .rendered import RenderedBody, keep_rendered


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def new_token() -> str:
    return secrets.token_urlsafe(24)


class Role(StrEnum):
    LIBRARIAN = "librarian"
    METHODIST = "methodist"
    ADMIN = "admin"


class Visibility(StrEnum):
    PRIVATE = "private"
    MENTORS = "mentors"
    COLLEAGUES = "colleagues"


class School(db.Model):
    __tablename__ = "schools"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


mentorships = Table(
    "mentorships",
    db.metadata,
    Column("methodist_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("librarian_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True),
    Column("created_at", DateTime, default=utcnow, nullable=False),
)


class User(UserMixin, db.Model):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16), default=Role.LIBRARIAN)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id", ondelete="SET NULL"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str] = mapped_column(String(8), default="ru")
    password_hash: Mapped[str | None] = mapped_column(String(256))
    # Part of the login cookie: changing it revokes every copy of every session.
    session_token: Mapped[str] = mapped_column(String(64), default=new_token)
    # Moved whenever this person reads further, mutes or joins in the groups (webapp.groups.versions).
    reading_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    school: Mapped[School | None] = relationship(lazy="raise")
    methodists: Mapped[list[User]] = relationship(
        secondary=mentorships,
        primaryjoin=lambda: User.id == mentorships.c.librarian_id,
        secondaryjoin=lambda: User.id == mentorships.c.methodist_id,
        lazy="raise",
        order_by=lambda: User.display_name,
        back_populates="mentees",
    )
    mentees: Mapped[list[User]] = relationship(
        secondary=mentorships,
        primaryjoin=lambda: User.id == mentorships.c.methodist_id,
        secondaryjoin=lambda: User.id == mentorships.c.librarian_id,
        lazy="raise",
        order_by=lambda: User.display_name,
        back_populates="methodists",
    )

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_methodist(self) -> bool:
        return self.role == Role.METHODIST

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])
        self.revoke_sessions()

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    def revoke_sessions(self) -> None:
        self.session_token = new_token()


class AccountLink(db.Model):
    """A one-time invitation or password-reset link. Only a hash of its token is stored."""

    __tablename__ = "account_links"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(16))  # invite | reset
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship(lazy="raise")


class LoginFailure(db.Model):
    """Failed sign-ins, counted per account and per address to throttle guessing."""

    __tablename__ = "login_failures"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(160))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    __table_args__ = (Index("ix_login_failures_key_at", "key", "at"),)


class JournalEntry(RenderedBody, db.Model):
    __tablename__ = "journal_entries"
    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    excerpt: Mapped[str] = mapped_column(Text, default="", server_default="")  # plain text for lists, kept with body
    visibility: Mapped[str] = mapped_column(String(16), default=Visibility.MENTORS)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # The step of the author's self-education plan this entry reports on, if any.
    step_id: Mapped[int | None] = mapped_column(ForeignKey("plan_steps.id", ondelete="SET NULL"), index=True)

    author: Mapped[User] = relationship(lazy="raise")
    tags: Mapped[list[EntryTag]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by=lambda: EntryTag.name, passive_deletes=True
    )

    __table_args__ = (
        Index("ix_entries_author_created", "author_id", "created_at"),
        Index("ix_entries_visibility_created", "visibility", "created_at"),
        # The shared entries of some authors (a methodist's mentees): both equalities in one index,
        # so the planner never walks every shared entry of the city by visibility alone.
        Index("ix_entries_author_visibility_created", "author_id", "visibility", "created_at"),
        # An author's latest edit of a shared entry (the desk's latest activity): one step from the end.
        # With id, which PostgreSQL's indexes do not carry as SQLite's do: the desk's awaiting count
        # probes for answers by entry id and so reads this index alone.
        Index("ix_entries_author_visibility_updated", "author_id", "visibility", "updated_at", "id"),
        # What entry_tags' (entry_id, author_id) refers to.
        Index("uq_journal_entries_id_author_id", "id", "author_id", unique=True),
    )

    @property
    def tag_names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.tags)


keep_rendered(JournalEntry, excerpt=True)


class EntryTag(db.Model):
    """A tag of an entry, and the entry's author beside it: every tag a person has used is one
    stretch of ix_entry_tags_author_id (the journal's tag filter reads it there, however many
    entries they have written). The foreign key is the entry's id and author together, so the
    author is always the entry's; the entry's tags relationship fills in both. An entry never
    changes author: moving one would have to move its tags in the same statement."""

    __tablename__ = "entry_tags"
    entry_id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)
    author_id: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        ForeignKeyConstraint(["entry_id", "author_id"], ["journal_entries.id", "journal_entries.author_id"],
                             ondelete="CASCADE"),
        Index("ix_entry_tags_author_id", "author_id", "name"),
    )


class EntryDraft(db.Model):
    """The unsaved text of a new or edited entry, autosaved while the person types.

    `key` is a random id given to each open editor; it is what an autosave names. A draft
    rescued after the session ended is the person's the editor was shown to
    (webapp.journal.drafts.owner_token). Drafts rescued by the release before that have no user
    yet and a `claim_token` kept in that browser's session: the next sign-in there claims them.
    Nothing new is stored that way; the column goes once those are claimed.
    """

    __tablename__ = "entry_drafts"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id", ondelete="SET NULL"))
    base_version: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    visibility: Mapped[str] = mapped_column(String(16), default=Visibility.MENTORS)
    tags: Mapped[str] = mapped_column(Text, default="")
    # The plan step chosen in the editor (none: no step). Only the author's own steps are ever
    # offered with it or saved from it (webapp.journal.forms).
    step_id: Mapped[int | None] = mapped_column(ForeignKey("plan_steps.id", ondelete="SET NULL"))
    claim_token: Mapped[str | None] = mapped_column(String(64), index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Set when the entry was saved from this editor: a late autosave then changes nothing.
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)

    entry: Mapped[JournalEntry | None] = relationship(lazy="raise")

    __table_args__ = (
        UniqueConstraint("user_id", "key", name="uq_entry_drafts_user_key"),
        Index("ix_entry_drafts_user_updated", "user_id", "updated_at"),
    )
