"""The navigation's «Группы» item: the number of threads in my groups with posts I have not
read, refreshing itself by polling like the notification badge."""
from __future__ import annotations

from flask import current_app
from flask_login import current_user
from sqlalchemy import Integer, Select, bindparam, func, or_, select

from .. import database, polls
from ..htmx import render
from ..polls import Poll
from . import bp
from .models import GroupMember, Thread, ThreadState


def _unread_threads(user_id) -> Select:
    """Counted as (threads with posts in my groups) − (those of them I have read to the end or
    muted): the first count reads one covering index range, the second only my own read marks.
    Joining every thread of my groups to my read marks instead costs a lookup per thread (a group
    may hold thousands)."""
    my_groups = select(GroupMember.group_id).where(GroupMember.user_id == user_id)
    with_posts = (select(func.count()).select_from(Thread)
                  .where(Thread.group_id.in_(my_groups), Thread.last_post_id > 0).scalar_subquery())
    read_or_muted = (
        select(func.count()).select_from(ThreadState).join(Thread, Thread.id == ThreadState.thread_id)
        .where(ThreadState.user_id == user_id, Thread.group_id.in_(my_groups), Thread.last_post_id > 0,
               or_(Thread.last_post_id <= func.coalesce(ThreadState.last_read_post_id, 0), ThreadState.muted.is_(True)))
        .scalar_subquery()
    )
    return select((with_posts - read_or_muted).label("unread"))


# Built once: every page's navigation shows it, and building a statement costs more than running it.
_UNREAD_THREADS = _unread_threads(bindparam("user_id", type_=Integer))
NAV_POLL = Poll(lambda viewer: _unread_threads(viewer.id))  # the same count, for the nav item's poll


def unread_thread_count(user_id: int) -> int:
    """Threads of the groups `user_id` belongs to whose last post is newer than the last one
    they read. One statement; membership is the access check (a member may read the group).
    A muted thread does not ask for attention here either."""
    return database.run(_UNREAD_THREADS, {"user_id": user_id}).scalar() or 0


def poll_seconds() -> int:
    config = current_app.config
    return config.get("GROUP_POLL_SECONDS") or config["NOTIFICATION_POLL_SECONDS"]


@bp.app_context_processor
def _nav_context() -> dict:
    # Functions, not numbers: only pages that draw the header (base.html) pay for the count.
    return {"unread_group_thread_count": lambda: unread_thread_count(current_user.id),
            "group_poll_seconds": poll_seconds}


@bp.get("/unread", endpoint="nav_unread")
def nav_unread():
    """The nav item polls with the count it shows: unchanged → 204, no body, one statement."""
    return polls.answer_count(NAV_POLL, lambda count: render("groups/_nav_unread.html", group_unread_count=count))
