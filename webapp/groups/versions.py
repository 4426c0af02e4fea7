"""What moves the navigation's unread-threads count, kept on write so that its poll need not count.

The count (webapp.groups.nav) changes only when a thread of one of my groups gets a post, or
when my own side changes: I read further, mute or unmute a thread, join or leave a group. Each
of those writes moves a version in its own transaction: the group's `posts_version`, the
person's `reading_version`. Versions only grow, and my groups change only with my reading
version, so the pair (my reading version, the sum of my groups' versions) is unchanged exactly
when nothing the count depends on has changed. The poll compares that pair, read from a few
rows, instead of counting every read mark I have left.

Every write that changes posts, read marks, mutes or memberships goes through these functions'
callers: webapp.threads.queries (posts, read marks, mutes) and webapp.groups.queries
(memberships). The demo data (webapp.demo_groups) writes its rows directly, into an empty
database: every version starts at zero, and a pair compares only with pairs of the same database.
A restore from a backup moves the versions back: a page left open across it may show its count
unchanged until the next post or read mark moves them on, or it is reloaded."""
from __future__ import annotations

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import User
from .models import Group, GroupMember


def group_posted(group_id: int) -> None:
    db.session.execute(update(Group).where(Group.id == group_id).values(posts_version=Group.posts_version + 1)
                       .execution_options(synchronize_session=False))


def reading_moved(user_id: int) -> None:
    db.session.execute(update(User).where(User.id == user_id).values(reading_version=User.reading_version + 1)
                       .execution_options(synchronize_session=False))


def seen(user_id) -> tuple[ColumnElement, ColumnElement]:
    """The pair, as two labelled columns, "reading" and "posted". The person's row is read under an
    alias of its own, so that a statement that selects from users as well (the one that loads the
    person with their header, webapp.groups.nav.with_header) does not correlate it with its own."""
    reader = aliased(User, name="reader")
    reading = select(reader.reading_version).where(reader.id == user_id).scalar_subquery()
    posted = (select(func.coalesce(func.sum(Group.posts_version), 0))
              .join(GroupMember, GroupMember.group_id == Group.id).where(GroupMember.user_id == user_id)
              .scalar_subquery())
    return reading.label("reading"), posted.label("posted")


def seen_key(row) -> str:
    """The pair as the poll carries it."""
    return f"{row.reading}.{row.posted}"
