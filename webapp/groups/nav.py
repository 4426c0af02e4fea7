"""The navigation's «Группы» item: the number of threads in my groups with posts I have not
read, refreshing itself by polling with the versions it was counted at (webapp.groups.versions)."""
from __future__ import annotations

from typing import NamedTuple

from flask import current_app
from flask_login import current_user
from sqlalchemy import ColumnElement, Integer, Select, bindparam, func, or_, select

from .. import database, polls
from ..htmx import render
from ..polls import Poll
from . import bp, versions
from .models import GroupMember, Thread, ThreadState


def _unread_threads(user_id) -> ColumnElement:
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
    return with_posts - read_or_muted


class NavState(NamedTuple):
    count: int  # threads of my groups with posts I have not read
    seen: str  # the versions it was counted at (webapp.groups.versions), carried by the poll


def _state(user_id) -> Select:
    """The versions and the count in one statement, so that both describe the same moment."""
    return select(*versions.seen(user_id), _unread_threads(user_id).label("unread"))


# Built once: every page's navigation shows it, and building a statement costs more than running it.
_STATE = _state(bindparam("user_id", type_=Integer))
# The poll reads the versions only: a few rows, however much the person has read.
NAV_POLL = Poll(lambda viewer: select(*versions.seen(viewer.id)))


def nav_state(user_id: int) -> NavState:
    """For the groups `user_id` belongs to: how many threads have a last post newer than the last
    one they read, and the versions that count stands for. One statement; membership is the access
    check (a member may read the group). A muted thread does not ask for attention here either."""
    row = database.run(_STATE, {"user_id": user_id}).one()
    return NavState(row.unread or 0, versions.seen_key(row))


def poll_seconds() -> int:
    config = current_app.config
    return config.get("GROUP_POLL_SECONDS") or config["NOTIFICATION_POLL_SECONDS"]


@bp.app_context_processor
def _nav_context() -> dict:
    # Functions, not numbers: only pages that draw the header (base.html) pay for the count.
    return {"group_nav_state": lambda: nav_state(current_user.id), "group_poll_seconds": poll_seconds}


@bp.get("/unread", endpoint="nav_unread")
def nav_unread():
    """The nav item polls with the versions its count stands for: unchanged → 204, no body, one
    statement. Moved → the item again, counted anew (the versions may move while the count stays)."""
    return polls.answer_unless_shown(NAV_POLL, versions.seen_key,
                                     lambda _row: render("groups/_nav_unread.html", group_nav=nav_state(current_user.id)))
