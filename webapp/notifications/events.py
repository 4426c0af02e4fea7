"""Who hears about what. Views call these after a change; each writes notifications in the
same transaction as the change. Nobody is notified of their own action, of a kind they
muted, or about an entry they may not see."""
from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import insert, literal, select

from .. import access
from ..extensions import db
from ..groups.models import Group, GroupMember, MemberRole, Post, Thread, ThreadState
from ..mentoring.models import Comment, Feedback, Notification, NotificationKind, NotificationSettings, Plan, PlanComment
from ..models import JournalEntry, User, Visibility


def _send(kind: NotificationKind, recipients: Iterable[int], *, actor_id: int, **target) -> None:
    recipients = set(recipients) - {actor_id}
    if not recipients:
        return
    # muted_kinds is "a,b,c": match whole names, so no kind is muted by another that contains it.
    listed = literal(",") + NotificationSettings.muted_kinds + literal(",")
    muted = set(db.session.scalars(
        select(NotificationSettings.user_id).where(
            NotificationSettings.user_id.in_(recipients),
            listed.contains(f",{kind.value},", autoescape=True),
        )
    ))
    rows = [{"recipient_id": r, "kind": kind.value, "actor_id": actor_id, **target} for r in sorted(recipients - muted)]
    if rows:
        db.session.execute(insert(Notification), rows)


def comment_added(comment: Comment, entry: JournalEntry) -> None:
    _send(NotificationKind.ENTRY_COMMENT, {entry.author_id}, actor_id=comment.author_id,
          entry_id=entry.id, comment_id=comment.id)
    earlier = set(db.session.scalars(
        select(Comment.author_id).where(Comment.entry_id == entry.id, Comment.id != comment.id).distinct()
    )) - {entry.author_id}
    _send(NotificationKind.THREAD_COMMENT, access.entry_audience(entry, earlier), actor_id=comment.author_id,
          entry_id=entry.id, comment_id=comment.id)


def status_set(feedback: Feedback, entry: JournalEntry) -> None:
    _send(NotificationKind.ENTRY_STATUS, {entry.author_id}, actor_id=feedback.methodist_id,
          entry_id=entry.id, comment_id=feedback.comment_id)


def entry_shared(entry: JournalEntry, was: str | None) -> None:
    """An entry became readable by the author's methodists (created shared, or opened up)."""
    if entry.visibility == Visibility.PRIVATE or (was is not None and was != Visibility.PRIVATE):
        return
    _send(NotificationKind.ENTRY_SHARED, access.active_methodists_of(entry.author_id), actor_id=entry.author_id, entry_id=entry.id)


def plan_commented(comment: PlanComment, plan: Plan) -> None:
    _send(NotificationKind.PLAN_COMMENT, {plan.author_id}, actor_id=comment.author_id, plan_id=plan.id)


# Discussions -------------------------------------------------------------------------------------

MENTION = re.compile(r"(?<![\w@.])@([a-z0-9][a-z0-9._-]{1,63})", re.IGNORECASE)
# Text that mentions nobody: a quoted post (its mentions were the quoted author's), code.
FENCED_CODE = re.compile(r"^ {0,3}(```|~~~).*?(?:^ {0,3}\1[^\n]*$|\Z)", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"(`+).+?\1", re.DOTALL)
QUOTED_LINE = re.compile(r"^ {0,3}>.*$", re.MULTILINE)


def _group_readers(group: Group, candidates: set[int]) -> set[int]:
    """Those of `candidates` who may read the group (active; members if it is closed)."""
    if not candidates:
        return set()
    query = select(User.id).where(User.id.in_(candidates), User.active.is_(True))
    if not group.is_open:
        query = query.where(User.id.in_(select(GroupMember.user_id).where(GroupMember.group_id == group.id)))
    return set(db.session.scalars(query))


def _not_muted(thread_id: int, people: set[int]) -> set[int]:
    if not people:
        return people
    muted = set(db.session.scalars(select(ThreadState.user_id).where(
        ThreadState.thread_id == thread_id, ThreadState.muted.is_(True), ThreadState.user_id.in_(people))))
    return people - muted


def post_added(post: Post, thread: Thread, group: Group) -> None:
    """A reply: those who started or posted in the thread hear of it (unless they muted it),
    and anyone @mentioned who may read the group. Each person gets one notification."""
    taking_part = set(db.session.scalars(
        select(Post.author_id).where(Post.thread_id == thread.id, Post.id != post.id, Post.author_id.is_not(None)).distinct()
    ))
    if thread.author_id:
        taking_part.add(thread.author_id)
    mentioned = mentioned_users(post.body)
    target = {"thread_id": thread.id, "post_id": post.id}
    _send(NotificationKind.MENTION, _group_readers(group, mentioned), actor_id=post.author_id, **target)
    repliers = _not_muted(thread.id, _group_readers(group, taking_part - mentioned))
    _send(NotificationKind.THREAD_REPLY, repliers, actor_id=post.author_id, **target)


def thread_created(thread: Thread, first_post: Post, group: Group) -> None:
    """A new thread: the group's leaders hear of it, and anyone @mentioned in its first post."""
    leaders = set(db.session.scalars(select(GroupMember.user_id).where(
        GroupMember.group_id == group.id, GroupMember.role == MemberRole.LEADER)))
    mentioned = mentioned_users(first_post.body)
    target = {"thread_id": thread.id, "post_id": first_post.id}
    _send(NotificationKind.MENTION, _group_readers(group, mentioned), actor_id=thread.author_id, **target)
    _send(NotificationKind.NEW_THREAD, _group_readers(group, leaders - mentioned), actor_id=thread.author_id, **target)


def post_edited(post: Post, thread: Thread, group: Group, old_body: str) -> None:
    """An edit that adds a mention tells the newly mentioned, once: nobody already told of this post hears again."""
    added = mentioned_users(post.body) - mentioned_users(old_body)
    if not added:
        return
    told = set(db.session.scalars(select(Notification.recipient_id).where(Notification.post_id == post.id)))
    _send(NotificationKind.MENTION, _group_readers(group, added - told), actor_id=post.author_id,
          thread_id=thread.id, post_id=post.id)


def mentioned_logins(text: str) -> set[str]:
    """The @logins a post's own words mention: not those in quoted lines or in code."""
    own = QUOTED_LINE.sub("", INLINE_CODE.sub("", FENCED_CODE.sub("", text or "")))
    logins = set()
    for found in MENTION.findall(own):
        found = found.lower()
        logins.add(found)
        # "Спасибо, @ivanova." ends a sentence; a login may end in a dot too, so both are asked for.
        logins.add(found.rstrip("._-"))
    return {login for login in logins if len(login) >= 2}


def mentioned_users(text: str) -> set[int]:
    logins = mentioned_logins(text)
    if not logins:
        return set()
    return set(db.session.scalars(select(User.id).where(User.login.in_(logins))))
