"""What the group pages read. Every statement narrows webapp.access's group rule, and every page
costs a fixed number of statements whatever the number of groups, threads or members:

- my groups: one statement for the groups (my role as a column) and one aggregate for the
  threads with unread posts in all of them;
- a group page: one for the group (newest activity and my role as columns), one for the page of
  threads (author and my read state joined in);
- the thread list's poll: one statement, answering "not visible", "nothing new" or "changed".

A group's member count is kept on its row by add_member and remove_member: no page counts members.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from flask import current_app
from sqlalchemy import Integer, Select, and_, bindparam, delete, func, select, update
from sqlalchemy.orm import aliased, contains_eager, joinedload

from .. import access, database, prebuilt
from ..extensions import db
from ..models import User, utcnow
from ..pagination import Page, one_page_of, paginate_rows
from ..polls import Poll
from . import versions
from .models import Group, GroupMember, MemberRole, Thread, ThreadState

THREADS_PER_PAGE = 20


# Columns computed per group ------------------------------------------------------------------------

def _newest_activity():
    """The group's newest post id: what the thread list shows, in one number (0 = no posts)."""
    newest = (select(func.max(Thread.last_post_id)).where(Thread.group_id == Group.id)
              .correlate(Group).scalar_subquery())
    return func.coalesce(newest, 0)


# My groups ---------------------------------------------------------------------------------------

@dataclass
class GroupRow:
    group: Group
    role: str | None  # mine; None when I am not a member
    unread_threads: int = 0

    @property
    def is_leader(self) -> bool:
        return self.role == MemberRole.LEADER


def groups_for_index(user: User) -> tuple[list[GroupRow], list[GroupRow]]:
    """The groups `user` belongs to, and the open groups they may join; both by name."""
    mine = aliased(GroupMember)
    rows = db.session.execute(
        access.visible_groups(user).add_columns(mine.role)
        .outerjoin(mine, and_(mine.group_id == Group.id, mine.user_id == user.id))
        .order_by(func.lower(Group.name), Group.id)
    ).all()
    member_of = [GroupRow(group, role) for group, role in rows if role is not None]
    joinable = [GroupRow(group, None) for group, role in rows if role is None and group.is_open]
    unread = unread_thread_counts(user, [row.group.id for row in member_of])
    for row in member_of:
        row.unread_threads = unread.get(row.group.id, 0)
    return member_of, joinable


def _unread_clause(user: User):
    """A thread has posts `user` has not read (no read state = nothing read yet)."""
    return Thread.last_post_id > func.coalesce(ThreadState.last_read_post_id, 0)


def _with_my_state(query: Select, user: User) -> Select:
    return query.outerjoin(ThreadState, and_(ThreadState.thread_id == Thread.id, ThreadState.user_id == user.id))


def unread_thread_counts(user: User, group_ids: list[int]) -> dict[int, int]:
    """How many threads with unread posts each group has: one aggregate for all of them. A muted
    thread does not ask for attention (as in the navigation's count, groups/nav.py)."""
    if not group_ids:
        return {}
    query = (select(Thread.group_id, func.count(Thread.id)).join(Group, Group.id == Thread.group_id)
             .where(access.group_visible_clause(user), Thread.group_id.in_(group_ids), _unread_clause(user),
                    ThreadState.muted.is_not(True)))
    rows = db.session.execute(_with_my_state(query, user).group_by(Thread.group_id))
    return {group_id: count for group_id, count in rows}


# One group ---------------------------------------------------------------------------------------

@dataclass
class GroupHeader:
    group: Group
    newest: int  # the newest post id in the group: the thread list's poll compares against it
    role: str | None  # the viewer's; None: not a member


def group_header(user: User, group_id: int) -> GroupHeader | None:
    """The group with its newest activity and the viewer's role in it, if `user` may read it."""
    row = db.session.execute(_header(), prebuilt.params_for(user, group_id=group_id)).first()
    return GroupHeader(*row) if row is not None else None


@prebuilt.built_once
def _header(viewer) -> Select:
    role = (select(GroupMember.role).where(GroupMember.group_id == Group.id, GroupMember.user_id == viewer.id)
            .correlate(Group).scalar_subquery())  # over the primary key
    return (access.visible_groups(viewer).add_columns(_newest_activity(), role)
            .where(Group.id == bindparam("group_id", type_=Integer)))


# The thread list's poll (webapp.polls), with access folded in; the subquery reads threads through
# ix_threads_group_order. No row: nobody signed in, or the group is not visible (404); otherwise
# the group's newest post id, to compare with what the page shows (0 = no posts).
POLL = Poll(lambda viewer: (
    select(_newest_activity().label("newest")).select_from(Group)
    .where(Group.id == bindparam("group_id", type_=Integer), access.group_visible_clause(viewer))
))


class ThreadRow(NamedTuple):
    """A thread as the group's list shows it: columns, not objects."""

    id: int
    title: str
    pinned: bool
    locked: bool
    author: str | None  # None: the author's account is gone
    post_count: int
    last_post_at: datetime | None
    last_post_id: int | None
    last_read: int | None  # my read mark; None: not opened yet

    @property
    def unread(self) -> bool:
        return self.last_post_id is not None and self.last_post_id > (self.last_read or 0)


def threads_per_page() -> int:
    return int(current_app.config.get("THREADS_PER_PAGE", THREADS_PER_PAGE))


@prebuilt.built_once
def _thread_rows(viewer) -> Select:
    return one_page_of(
        _with_my_state(access.visible_threads(viewer), viewer)
        .with_only_columns(Thread.id, Thread.title, Thread.pinned, Thread.locked, User.display_name, Thread.post_count,
                           Thread.last_post_at, Thread.last_post_id, ThreadState.last_read_post_id)
        .outerjoin(User, User.id == Thread.author_id)
        .where(Thread.group_id == bindparam("group_id", type_=Integer))
        .order_by(Thread.pinned.desc(), Thread.last_post_at.desc(), Thread.id.desc()))


def thread_page(user: User, group_id: int) -> Page:
    """One page of the group's threads, pinned first, then by last activity; authors and my
    read state come in the same statement."""
    page = paginate_rows(_thread_rows(), threads_per_page(), **prebuilt.params_for(user, group_id=group_id))
    page.items = [ThreadRow(*row) for row in page.items]
    return page


# Members -----------------------------------------------------------------------------------------

def members_of(group_id: int) -> list[GroupMember]:
    """Leaders first ("leader" sorts before "member"), then by name; people loaded in the same statement."""
    return list(db.session.scalars(
        select(GroupMember).join(User, User.id == GroupMember.user_id).where(GroupMember.group_id == group_id)
        .options(contains_eager(GroupMember.user))
        .order_by(GroupMember.role, User.display_name, User.id)
    ))


def member(group_id: int, user_id: int) -> GroupMember | None:
    return db.session.scalar(select(GroupMember).where(GroupMember.group_id == group_id, GroupMember.user_id == user_id)
                             .options(joinedload(GroupMember.user)))


def people_to_add(group_id: int) -> list[User]:
    """Active people who are not members yet, for the leader's "add a member" list."""
    members = select(GroupMember.user_id).where(GroupMember.group_id == group_id)
    return list(db.session.scalars(
        select(User).where(User.active.is_(True), User.id.not_in(members)).order_by(User.display_name, User.id)
    ))


def add_member(group_id: int, user_id: int, role: str = MemberRole.MEMBER) -> None:
    """Idempotent: joining twice at once (a double click, two leaders) leaves one membership, counted
    once."""
    _hold_group(group_id)
    joined = database.run(database.insert_on_conflict(GroupMember).values(
        group_id=group_id, user_id=user_id, role=role, joined_at=utcnow()).on_conflict_do_nothing()
        .execution_options(preserve_rowcount=True)).rowcount  # else -1 for an INSERT on PostgreSQL
    if joined:
        _count_members(group_id, 1)
        versions.reading_moved(user_id)


def remove_member(group_id: int, user_id: int, *, role: str | None = None) -> bool:
    """True when a membership was there to remove. `role`: only a membership in that role, as it is
    once the group's row is held (a leader removing a member whom an administrator is naming leader
    at that moment removes nobody)."""
    _hold_group(group_id)
    removing = delete(GroupMember).where(GroupMember.group_id == group_id, GroupMember.user_id == user_id)
    if role is not None:
        removing = removing.where(GroupMember.role == role)
    left = db.session.execute(removing).rowcount
    if left:
        _count_members(group_id, -1)
        versions.reading_moved(user_id)
    return bool(left)


def _hold_group(group_id: int) -> None:
    """The group's row before its members' rows, as a new thread and an administrator's save take it
    first: two changes of one group's members (or a change and a save) wait for one another instead
    of each holding a row the other needs. Read afresh under the lock, so that a Group the request
    loaded before shows the count as the change leaves it."""
    db.session.execute(select(Group).where(Group.id == group_id).with_for_update()
                       .execution_options(populate_existing=True))


def _count_members(group_id: int, change: int) -> None:
    """In the database and, by the ORM's evaluation of the same expression, in the Group that
    _hold_group read."""
    db.session.execute(update(Group).where(Group.id == group_id).values(member_count=Group.member_count + change))
