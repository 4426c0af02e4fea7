"""What the thread pages read and write. Every read narrows webapp.access's group rule; every
page costs a fixed number of statements, whatever the number of posts.

Counters: Thread.post_count, last_post_id and last_post_at change with each post, by one UPDATE
in the transaction of the INSERT. Posts are never removed, only marked deleted, so post_count is
the number of the thread's rows in posts: the pages of a thread's second half are counted back
from it (_page_from_end). The thread row is locked (SELECT … FOR UPDATE on PostgreSQL;
SQLite's writers are serialised by BEGIN IMMEDIATE) before the post gets its id, so the posts of
one thread are committed in the order of their ids, and a poll asking "anything after id N?"
never skips a post that was committed late. Each post also moves its group's version, and each
read mark or mute moves the reader's (webapp.groups.versions), for the navigation's count. The
group's version moves before the post gets its id too: that UPDATE holds the group's row, so the
posts of one group, in all its threads, are committed in the order of their ids, and the thread
list's poll ("a post newer than N in this group?") skips none either.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from flask import abort, url_for
from markupsafe import Markup
from sqlalchemy import Integer, Select, and_, bindparam, case, func, or_, select, update
from sqlalchemy.orm import aliased, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from .. import access, database, prebuilt
from ..extensions import db
from ..groups import versions
from ..groups.models import Group, GroupMember, Post, PostDraft, Thread, ThreadState
from ..models import User, utcnow
from ..notifications import inbox
from ..polls import Poll
from ..text import same_text, sent_again

POSTS_PER_PAGE = 30
NEWS_LIMIT = 100  # posts one poll appends at most; the next poll brings the rest


class ThreadLocked(Exception):
    """The thread was closed before the post could be saved."""


# Reading -------------------------------------------------------------------------------------------

def thread_for_reading(user: User, thread_id: int) -> Thread:
    """The thread with its group, if `user` may read it; 404 otherwise."""
    return thread_and_reader(user, thread_id)[0]


class KeptReply(NamedTuple):
    """The reply a reader has been typing in a thread, as read to open the form with: columns, not
    the PostDraft, which the paths that save or clear it read afresh."""

    body: str
    updated_at: datetime


class ThreadForReader(NamedTuple):
    thread: Thread  # with its group
    state: ThreadState | None  # the reader's read mark and mute
    membership: GroupMember | None
    unread: bool  # the reader has unread notifications about the thread
    draft: KeptReply | None


def thread_and_reader(user: User, thread_id: int) -> ThreadForReader:
    """The thread with its group, if `user` may read it (404 otherwise), with their read mark,
    membership and reply draft (None for each they lack) and whether they have unread
    notifications about it, in one statement. Hold the membership while the page is built:
    `access.membership` then finds it in the session, as `read_state` would the mark."""
    row = db.session.execute(_thread_for_reading(), prebuilt.params_for(user, thread_id=thread_id)).first()
    if row is None:
        abort(404)
    thread, state, membership, unread, draft_body, draft_at = row
    draft = KeptReply(draft_body, draft_at) if draft_at is not None else None
    return ThreadForReader(thread, state, membership, unread, draft)


@prebuilt.built_once
def _thread_for_reading(viewer) -> Select:
    # Aliases: the group rule's own subqueries name group_members and must not correlate with these.
    state, member, draft = aliased(ThreadState), aliased(GroupMember), aliased(PostDraft)
    return (access.visible_threads(viewer).where(Thread.id == bindparam("thread_id", type_=Integer))
            .add_columns(state, member, inbox.unread_about_thread(viewer), draft.body, draft.updated_at)
            .outerjoin(state, and_(state.thread_id == Thread.id, state.user_id == viewer.id))
            .outerjoin(member, and_(member.group_id == Thread.group_id, member.user_id == viewer.id))
            .outerjoin(draft, and_(draft.thread_id == Thread.id, draft.user_id == viewer.id))
            .options(joinedload(Thread.group)))


_DRAFT = select(PostDraft.body, PostDraft.updated_at).where(
    PostDraft.user_id == bindparam("user_id", type_=Integer), PostDraft.thread_id == bindparam("thread_id", type_=Integer))


def reply_draft(user: User, thread_id: int) -> KeptReply | None:
    """The reply `user` has been typing in the thread, for a view that did not read it with the thread."""
    row = database.run(_DRAFT, {"user_id": user.id, "thread_id": thread_id}).first()
    return KeptReply(*row) if row is not None else None


def post_for_reading(user: User, post_id: int) -> tuple[Post, Thread]:
    """A post with its author, and its thread with the group, if `user` may read them; 404 otherwise."""
    row = db.session.execute(
        access.visible_posts(user).add_columns(Thread, Group).where(Post.id == post_id)
        .options(joinedload(Post.author))
    ).first()
    if row is None:
        abort(404)
    post, thread, group = row
    set_committed_value(thread, "group", group)
    return post, thread


def read_state(user: User, thread_id: int) -> ThreadState | None:
    return db.session.get(ThreadState, (user.id, thread_id))


class ShownPost(NamedTuple):
    """A post as the thread shows it: columns with its author's name, not objects (thirty posts
    loaded as objects with their authors cost the thread page a few milliseconds)."""

    id: int
    thread_id: int
    author_id: int | None
    author: str | None  # None: the author's account is gone
    body_html: str
    created_at: datetime
    edited_at: datetime | None
    deleted_at: datetime | None

    @property
    def body_markup(self) -> Markup:
        return Markup(self.body_html)

    @classmethod
    def of(cls, post: Post) -> ShownPost:
        """A post loaded as an object, with its author."""
        return cls(post.id, post.thread_id, post.author_id, post.author.display_name if post.author else None,
                   post.body_html, post.created_at, post.edited_at, post.deleted_at)


_THREAD_ID = bindparam("thread_id", type_=Integer)
_LIMIT = bindparam("page_limit", type_=Integer)  # a page and one more post, to know whether another follows
_OFFSET = bindparam("page_offset", type_=Integer)  # the posts before the page


def _shown(viewer) -> Select:
    """The thread's posts `viewer` may read, oldest first, as the columns of ShownPost."""
    return (access.visible_posts(viewer)
            .with_only_columns(Post.id, Post.thread_id, Post.author_id, User.display_name.label("author"), Post.body_html,
                               Post.created_at, Post.edited_at, Post.deleted_at)
            .outerjoin(User, User.id == Post.author_id).where(Post.thread_id == _THREAD_ID).order_by(Post.id))


@prebuilt.built_once
def _page(viewer) -> Select:
    # The page's ids are picked in ix_posts_thread_id_id alone, so a page skips index entries, not
    # posts with their authors; only the page's own rows are then read.
    page_ids = select(Post.id).where(Post.thread_id == _THREAD_ID).order_by(Post.id).limit(_LIMIT).offset(_OFFSET)
    return _shown(viewer).where(Post.id.in_(page_ids))


@prebuilt.built_once
def _page_from_end(viewer) -> Select:
    # A page in the second half of a thread, counted from its newest post back, so the end of a long
    # thread (where people read) no longer steps over every post before it. `left` is how many posts
    # there are from the page's first to the newest: the thread's count of posts, read in the same
    # statement, less the posts before the page. Backwards, the page is the last `page_limit` of those.
    left = select(Thread.post_count).where(Thread.id == _THREAD_ID).scalar_subquery() - _OFFSET
    page_ids = (select(Post.id).where(Post.thread_id == _THREAD_ID).order_by(Post.id.desc())
                .limit(case((left > _LIMIT, _LIMIT), (left > 0, left), else_=0))
                .offset(case((left > _LIMIT, left - _LIMIT), else_=0)))
    return _shown(viewer).where(Post.id.in_(page_ids))


@prebuilt.built_once
def _after(viewer) -> Select:
    return _shown(viewer).where(Post.id > bindparam("after", type_=Integer)).limit(NEWS_LIMIT)


@dataclass
class PostPage:
    posts: list[ShownPost]
    number: int
    has_next: bool


def post_page(user: User, thread_id: int, number: int, post_count: int) -> PostPage:
    """One page of posts: one statement, one row more than a page to know whether another follows.
    `post_count`, the thread's as read before, chooses the end it is counted from; which posts the
    page shows does not depend on it."""
    before = (number - 1) * POSTS_PER_PAGE
    statement = _page_from_end() if post_count // 2 <= before < post_count else _page()
    rows = database.run(statement, prebuilt.params_for(user, thread_id=thread_id, page_limit=POSTS_PER_PAGE + 1,
                                                       page_offset=before)).all()
    return PostPage(posts=[ShownPost(*row) for row in rows[:POSTS_PER_PAGE]], number=number,
                    has_next=len(rows) > POSTS_PER_PAGE)


def posts_after(user: User, thread_id: int, after: int) -> list[ShownPost]:
    """What a poll appends: the posts newer than `after`, oldest first, at most NEWS_LIMIT."""
    rows = database.run(_after(), prebuilt.params_for(user, thread_id=thread_id, after=after))
    return [ShownPost(*row) for row in rows]


def page_count(post_count: int) -> int:
    return max(1, math.ceil(post_count / POSTS_PER_PAGE))


def page_of(thread_id: int, post_id: int) -> int:
    """The page a post is on: one count on ix_posts_thread_id_id."""
    before = db.session.scalar(
        select(func.count()).select_from(Post).where(Post.thread_id == thread_id, Post.id < post_id)
    ) or 0
    return before // POSTS_PER_PAGE + 1


def first_unread(thread_id: int, last_read: int) -> int | None:
    return db.session.scalar(
        select(Post.id).where(Post.thread_id == thread_id, Post.id > last_read).order_by(Post.id).limit(1)
    )


def post_url(thread_id: int, post_id: int, **args) -> str:
    """The page that shows the post, scrolled to it."""
    return url_for("threads.show", thread_id=thread_id, page=page_of(thread_id, post_id),
                   _anchor=f"post-{post_id}", **args)


def jump_url(thread: Thread, last_read: int, **args) -> str:
    """Where opening a thread leads: its first post I have not read, else its newest post."""
    target = first_unread(thread.id, last_read) or thread.last_post_id
    if target is None:
        return url_for("threads.show", thread_id=thread.id, page=1, **args)
    return post_url(thread.id, target, **args)


# The poll's single statement (webapp.polls), access folded in. No row: nobody signed in, or the
# thread is not visible (404); otherwise the thread's newest post id (kept on the thread row, so
# no posts are read) and whether it is closed.
POLL = Poll(lambda viewer: (
    access.visible_threads(viewer).with_only_columns(Thread.locked, Thread.last_post_id)
    .where(Thread.id == bindparam("thread_id", type_=Integer))
))


# Writing -------------------------------------------------------------------------------------------

def start_thread(group: Group, author_id: int, title: str, body: str) -> tuple[Thread, Post]:
    now = utcnow()
    versions.group_posted(group.id)  # first: the group's row is held before the post gets its id
    thread = Thread(group_id=group.id, author_id=author_id, title=title, created_at=now, last_post_at=now, post_count=1)
    db.session.add(thread)
    db.session.flush()
    post = Post(thread_id=thread.id, author_id=author_id, body=body, created_at=now)
    db.session.add(post)
    db.session.flush()
    thread.last_post_id = post.id
    db.session.flush()
    set_committed_value(thread, "group", group)
    mark_read_up_to(author_id, thread.id, post.id)
    return thread, post


def start_thread_once(group: Group, author_id: int, title: str, body: str) -> tuple[Thread, Post, bool]:
    """start_thread, and True; unless it is the thread the person started here a moment ago, sent
    again (webapp.text.sent_again: the same title and text, under ten minutes old, and nothing
    posted since): then that thread and its first post, and False. The group's row is held first,
    so the same form sent twice at once waits for the first and finds its thread."""
    db.session.execute(select(Group.id).where(Group.id == group.id).with_for_update())
    newest = db.session.execute(
        select(Post, Thread).join(Thread, Thread.id == Post.thread_id)
        .where(Post.author_id == author_id).order_by(Post.id.desc()).limit(1)
    ).first()
    if newest is not None:
        post, thread = newest
        if (thread.group_id == group.id and same_text(thread.title, title) and post.deleted_at is None
                and sent_again(post.body, post.created_at, body)
                and db.session.scalar(select(func.min(Post.id)).where(Post.thread_id == thread.id)) == post.id):
            return thread, post, False
    return *start_thread(group, author_id, title, body), True


def add_reply(thread: Thread, author_id: int, body: str, shown: int | None) -> tuple[Post, bool]:
    """Save a reply and count it, in the caller's transaction, and True; unless `body` is the
    person's post here sent again (webapp.text.sent_again): then that post, and False. `shown`: the
    newest post id the sending page held (None: a form that does not say; then the thread's newest
    post is the one that may be the same). Raises
    ThreadLocked (having written nothing) if the thread was closed meanwhile."""
    newest_id = _hold_open(thread)
    newest = select(Post).where(Post.thread_id == thread.id, Post.author_id == author_id, Post.deleted_at.is_(None))
    newest = newest.where(Post.id > shown) if shown is not None else newest.where(Post.id == newest_id)
    earlier = db.session.scalars(newest.order_by(Post.id.desc()).limit(1)).first()
    if earlier is not None and sent_again(earlier.body, earlier.created_at, body):
        return earlier, False
    return _insert_post(thread, author_id, body), True


def _hold_open(thread: Thread) -> int | None:
    """Hold the thread's row (its replies are counted and numbered one after the other); its newest
    post's id. ThreadLocked if it was closed meanwhile."""
    row = db.session.execute(select(Thread.locked, Thread.last_post_id).where(Thread.id == thread.id).with_for_update()).first()
    if row is None or row.locked:
        raise ThreadLocked
    return row.last_post_id


def _insert_post(thread: Thread, author_id: int, body: str) -> Post:
    versions.group_posted(thread.group_id)  # holds the group's row before the post gets its id
    post = Post(thread_id=thread.id, author_id=author_id, body=body, created_at=utcnow())
    db.session.add(post)
    db.session.flush()
    newer = or_(Thread.last_post_id.is_(None), Thread.last_post_id < post.id)
    counted = db.session.execute(
        update(Thread).where(Thread.id == thread.id, Thread.locked.is_(False))
        .values(post_count=Thread.post_count + 1,
                last_post_id=case((newer, post.id), else_=Thread.last_post_id),
                last_post_at=case((newer, post.created_at), else_=Thread.last_post_at))
        .execution_options(synchronize_session=False)
    ).rowcount
    if counted != 1:  # cannot happen while the row lock is held; never save an uncounted post
        raise RuntimeError(f"thread {thread.id} changed under its row lock")
    return post


def mark_read_up_to(user_id: int, thread_id: int, post_id: int) -> None:
    """The person has read the thread up to `post_id`; the mark never moves back (reading an older page)."""
    insert = database.insert_on_conflict(ThreadState).values(user_id=user_id, thread_id=thread_id, last_read_post_id=post_id, muted=False)
    moved = database.run(insert.on_conflict_do_update(
        index_elements=[ThreadState.user_id, ThreadState.thread_id],
        set_={"last_read_post_id": insert.excluded.last_read_post_id},
        where=ThreadState.last_read_post_id < insert.excluded.last_read_post_id,
    ).execution_options(preserve_rowcount=True)).rowcount  # else -1 for an INSERT on PostgreSQL
    if moved:
        versions.reading_moved(user_id)


def set_muted(user_id: int, thread_id: int, muted: bool) -> None:
    insert = database.insert_on_conflict(ThreadState).values(user_id=user_id, thread_id=thread_id, last_read_post_id=0, muted=muted)
    db.session.execute(insert.on_conflict_do_update(
        index_elements=[ThreadState.user_id, ThreadState.thread_id], set_={"muted": insert.excluded.muted},
    ))
    versions.reading_moved(user_id)


def record_reading(user: User, thread_id: int, newest_shown: int | None, read_up_to: int, unread: bool) -> None:
    """A page of the thread was shown: the read mark (at `read_up_to` when the page was read)
    moves to its newest post and the thread's notifications are read (`unread`: whether it has
    any, from thread_and_reader). Most pages move nothing and write nothing; otherwise, a write
    during a GET, the read transaction ends first and the writes run in a transaction of their
    own (see notifications.inbox.mark_read_for)."""
    moves = newest_shown is not None and newest_shown > read_up_to
    if not moves and not unread:
        return
    db.session.commit()
    with database.bookkeeping():
        if moves:
            mark_read_up_to(user.id, thread_id, newest_shown)
        inbox.mark_read_for(user, thread_id=thread_id)
