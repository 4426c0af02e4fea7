"""Who may see what: the rules every query of entries, comments, plans, groups, threads and posts
starts from (a caller narrows them further). A notification is its recipient's alone; its queries
(webapp.notifications.inbox) name the recipient themselves.

The rule for entries (PRODUCT.md):
- private entries: the author only, never an administrator;
- mentors entries: the author and the methodists assigned to the author;
- colleagues entries: every active signed-in person.
A thing a person may not see answers 404, exactly like one that does not exist.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import abort
from sqlalchemy import ColumnElement, Integer, Row, Select, and_, bindparam, or_, select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.interfaces import ORMOption

from . import prebuilt
from .extensions import db
from .groups.models import Group, GroupMember, MemberRole, Post, Thread
from .mentoring.models import Comment, Plan
from .models import EntryDraft, JournalEntry, User, Visibility, mentorships


def mentee_ids(user: User) -> Select:
    """Ids of the librarians `user` mentors (empty for anyone else)."""
    return select(mentorships.c.librarian_id).where(mentorships.c.methodist_id == user.id)


def entry_visible_clause(user: User) -> ColumnElement[bool]:
    if not user.is_authenticated or not user.active:
        return JournalEntry.id.is_(None)  # nothing
    return or_(
        JournalEntry.author_id == user.id,
        JournalEntry.visibility == Visibility.COLLEAGUES,
        and_(JournalEntry.visibility == Visibility.MENTORS, JournalEntry.author_id.in_(mentee_ids(user))),
    )


def visible_entries(user: User) -> Select[tuple[JournalEntry]]:
    """Every entry `user` may read, as a query to narrow further."""
    return select(JournalEntry).where(entry_visible_clause(user))


_MENTORSHIP = select(mentorships.c.librarian_id).where(
    mentorships.c.methodist_id == bindparam("methodist_id", type_=Integer),
    mentorships.c.librarian_id == bindparam("author_id", type_=Integer))


def is_mentor_of(methodist: User, author_id: int) -> bool:
    return db.session.scalar(_MENTORSHIP, {"methodist_id": methodist.id, "author_id": author_id}) is not None


def can_view(user: User, entry: JournalEntry) -> bool:
    if not user.is_authenticated or not user.active:
        return False
    if entry.author_id == user.id:
        return True
    if entry.visibility == Visibility.COLLEAGUES:
        return True
    if entry.visibility == Visibility.MENTORS:
        return is_mentor_of(user, entry.author_id)
    return False


def active_methodists_of(author_id: int) -> set[int]:
    """The active methodists assigned to the author: who reads a `mentors` entry besides its author."""
    return set(db.session.scalars(
        select(mentorships.c.methodist_id).join(User, User.id == mentorships.c.methodist_id)
        .where(mentorships.c.librarian_id == author_id, User.active.is_(True))
    ))


def entry_audience(entry: JournalEntry, candidates: Iterable[int]) -> set[int]:
    """Those of `candidates` who may read `entry`: can_view's rule for a set of people at once (whom
    to notify of a comment under it)."""
    candidates = set(candidates)
    if entry.visibility == Visibility.COLLEAGUES:
        active = set(db.session.scalars(select(User.id).where(User.id.in_(candidates), User.active.is_(True))))
        return active
    allowed = {entry.author_id}
    if entry.visibility == Visibility.MENTORS:
        allowed |= active_methodists_of(entry.author_id)
    return candidates & allowed


def can_edit(user: User, entry: JournalEntry) -> bool:
    return user.is_authenticated and user.active and entry.author_id == user.id


def entry_for_viewing(user: User, entry_id: int, *, with_author: bool = False) -> JournalEntry:
    """The entry if `user` may see it, with its author and the author's school loaded in the same
    statement when the page shows them; else 404."""
    entry = db.session.scalar(_entry_for_viewing(with_author), prebuilt.params_for(user, entry_id=entry_id))
    if entry is None:
        abort(404)
    return entry


def entry_with(user: User, entry_id: int, columns: Callable[[Any], tuple[ColumnElement, ...]], *,
               with_author: bool = False) -> tuple[JournalEntry, Row]:
    """entry_for_viewing, and in the same statement `columns(viewer)`: labelled columns about the
    entry (JournalEntry.id in them is this entry's), built once for AnyViewer, read from the row by
    their labels. `columns` is a module-level function: the statement is kept under it
    (webapp.prebuilt)."""
    row = db.session.execute(_entry_for_viewing(with_author, columns), prebuilt.params_for(user, entry_id=entry_id)).first()
    if row is None:
        abort(404)
    return row[0], row


@prebuilt.built_once
def _entry_for_viewing(viewer, with_author: bool, columns: Callable | None = None) -> Select:
    statement = visible_entries(viewer).where(JournalEntry.id == bindparam("entry_id", type_=Integer))
    if columns is not None:
        statement = statement.add_columns(*columns(viewer))
    return statement.options(joinedload(JournalEntry.author).joinedload(User.school)) if with_author else statement


def entry_for_editing(user: User, entry_id: int, *options: ORMOption) -> JournalEntry:
    """The entry if `user` may edit it, loaded with `options` (what the page shows of it); else 404."""
    entry = db.session.scalar(select(JournalEntry).where(JournalEntry.id == entry_id).options(*options))
    if entry is None or not can_edit(user, entry):
        abort(404)
    return entry


def editable_entry_id(user: User, entry_id: int | None) -> int | None:
    """`entry_id` when `user` may edit that entry, else None. A draft is linked to an entry only
    then: the person's drafts name the entry each one changes."""
    if entry_id is None:
        return None
    entry = db.session.get(JournalEntry, entry_id)
    return entry_id if entry is not None and can_edit(user, entry) else None


def own_drafts(user: User) -> Select[tuple[EntryDraft]]:
    return select(EntryDraft).where(EntryDraft.user_id == user.id, EntryDraft.closed_at.is_(None))


def own_closed_drafts(user: User) -> Select[tuple[EntryDraft]]:
    """The person's drafts already saved as an entry (or thrown away)."""
    return select(EntryDraft).where(EntryDraft.user_id == user.id, EntryDraft.closed_at.is_not(None))


def require_admin(user: User) -> None:
    """Administration pages answer 404 to everyone else, as if they were not there."""
    if not (user.is_authenticated and user.is_admin):
        abort(404)


# Mentoring ---------------------------------------------------------------------------------------
# Comments, feedback and reading marks hang off an entry: their audience is exactly the entry's.


def is_methodist_for(user: User, entry: JournalEntry) -> bool:
    """The entry is shared with `user` as the author's methodist (anything but private)."""
    return (user.is_authenticated and user.active and user.is_methodist
            and entry.visibility != Visibility.PRIVATE and is_mentor_of(user, entry.author_id))


def can_comment(user: User, entry: JournalEntry) -> bool:
    return can_view(user, entry)


def visible_comments(user: User) -> Select:
    return select(Comment).join(JournalEntry, JournalEntry.id == Comment.entry_id).where(entry_visible_clause(user))


def comment_for_editing(user: User, comment_id: int):
    """One's own comment, on an entry one may still see."""
    comment = db.session.scalar(visible_comments(user).where(Comment.id == comment_id, Comment.author_id == user.id))
    if comment is None:
        abort(404)
    return comment


def plan_audience_clause(user: User) -> ColumnElement[bool]:
    if not user.is_authenticated or not user.active:
        return Plan.id.is_(None)
    return or_(Plan.author_id == user.id, Plan.author_id.in_(mentee_ids(user)))


def visible_plans(user: User) -> Select:
    """Plans `user` may read: their own and their mentees'."""
    return select(Plan).where(plan_audience_clause(user))


def plan_for_viewing(user: User, plan_id: int):
    plan = db.session.scalar(visible_plans(user).where(Plan.id == plan_id))
    if plan is None:
        abort(404)
    return plan


def plan_for_editing(user: User, plan_id: int):
    plan = db.session.get(Plan, plan_id)
    if plan is None or plan.author_id != user.id or not user.active:
        abort(404)
    return plan


# Groups and discussions --------------------------------------------------------------------------
# An open group is read by every signed-in person; a closed one by its members only. Threads and
# posts are read by whoever may read the group; members post; a locked thread takes no posts.


def _member_group_ids(user: User) -> Select:
    return select(GroupMember.group_id).where(GroupMember.user_id == user.id)


def group_visible_clause(user: User) -> ColumnElement[bool]:
    if not user.is_authenticated or not user.active:
        return Group.id.is_(None)
    return or_(Group.is_open.is_(True), Group.id.in_(_member_group_ids(user)))


def visible_groups(user: User) -> Select:
    return select(Group).where(group_visible_clause(user))


def member_thread_clause(user: User) -> ColumnElement[bool]:
    """Threads of the groups `user` belongs to: where they write, when a thread is not locked."""
    if not user.is_authenticated or not user.active:
        return Thread.id.is_(None)
    return Thread.group_id.in_(_member_group_ids(user))


def membership(user: User, group_id: int) -> GroupMember | None:
    if not user.is_authenticated:
        return None
    return db.session.get(GroupMember, (group_id, user.id))


def group_for_viewing(user: User, group_id: int) -> Group:
    group = db.session.scalar(visible_groups(user).where(Group.id == group_id))
    if group is None:
        abort(404)
    return group


def can_edit_post(user: User, post: Post, thread: Thread) -> bool:
    """One's own post, not deleted, in a group one is still a member of: changing a post is writing
    in the group (it may mention people), and only members write there. `post` is one `user` may
    read (threads.queries.post_for_reading)."""
    return post.author_id == user.id and post.deleted_at is None and membership(user, thread.group_id) is not None


def can_manage_group(user: User, group_id: int) -> bool:
    """Leaders of the group and administrators."""
    if not user.is_authenticated or not user.active:
        return False
    if user.is_admin:
        return True
    member = membership(user, group_id)
    return manages_group(user, member.role if member is not None else None)


def manages_group(user: User, role: str | None) -> bool:
    """can_manage_group, for `user`'s role in the group read already (None: not a member)."""
    return bool(user.is_authenticated and user.active and (user.is_admin or role == MemberRole.LEADER))


def visible_threads(user: User) -> Select:
    return select(Thread).join(Group, Group.id == Thread.group_id).where(group_visible_clause(user))


def threads_in_visible_groups(user: User) -> Select:
    """visible_threads on the threads table alone (the group rule as a subquery): outer-joined as a
    derived table, a join inside it would make SQLite compute every visible thread first."""
    return select(Thread).where(Thread.group_id.in_(select(Group.id).where(group_visible_clause(user))))


def visible_posts(user: User) -> Select:
    return (select(Post).join(Thread, Thread.id == Post.thread_id).join(Group, Group.id == Thread.group_id)
            .where(group_visible_clause(user)))
