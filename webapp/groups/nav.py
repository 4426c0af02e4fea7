"""The navigation's «Группы» item: the number of threads in my groups with posts I have not
read, refreshing itself by polling with the versions it was counted at (webapp.groups.versions);
and the header's counts, this one's and the notification badge's, read together, for a page in
the statement that loads the person (`person_with_header`)."""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import NamedTuple

from flask import current_app, g, request
from flask_login import current_user
from sqlalchemy import ColumnElement, Integer, Select, and_, bindparam, case, func, or_, select

from .. import database, polls
from ..extensions import db
from ..htmx import is_fragment_request, render
from ..notifications import inbox
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
    notifications: int | None = None  # my unread notifications, when asked for the header (header_counts)


def _state(user_id, known_reading, known_posted) -> Select:
    """The versions and the count in one statement, so that both describe the same moment. The
    count is left out (NULL) when the versions are the known ones: it is the count known with them."""
    reading, posted = versions.seen(user_id)
    unchanged = and_(reading.element == known_reading, posted.element == known_posted)
    return select(reading, posted, case((unchanged, None), else_=_unread_threads(user_id)).label("unread"))


# Built once: every page's navigation shows it, and building a statement costs more than running it.
_STATE = _state(*(bindparam(name, type_=Integer) for name in ("user_id", "known_reading", "known_posted")))
# The header draws this item and the notification badge: both counts in one statement, one trip to
# the database instead of two on every page.
_HEADER = _STATE.add_columns(inbox.unread_column(bindparam("user_id", type_=Integer)))
# The poll reads the versions only: a few rows, however much the person has read.
NAV_POLL = Poll(lambda viewer: select(*versions.seen(viewer.id)))


class _Counted:
    """The counts this process made lately, each with the versions it stands for (reading, posted,
    count): the same person at the same versions has the same count (webapp.groups.versions), so a
    page that finds the versions unchanged reads them alone, a few rows, instead of counting again
    through every read mark. Per app (tests run several apps, each with its own database), at most
    `size` people."""

    def __init__(self, size: int = 10_000) -> None:
        self._states: OrderedDict[int, tuple[int, int, int]] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, user_id: int) -> tuple[int, int, int] | None:
        with self._lock:
            state = self._states.get(user_id)
            if state is not None:
                self._states.move_to_end(user_id)
            return state

    def put(self, user_id: int, state: tuple[int, int, int]) -> None:
        with self._lock:
            self._states[user_id] = state
            self._states.move_to_end(user_id)
            if len(self._states) > self._size:
                self._states.popitem(last=False)


def _counted() -> _Counted:
    return current_app.extensions.setdefault("rost.nav_counts", _Counted())


def nav_state(user_id: int, *, with_notifications: bool = False) -> NavState:
    """For the groups `user_id` belongs to: how many threads have a last post newer than the last
    one they read, and the versions that count stands for. One statement; membership is the access
    check (a member may read the group). A muted thread does not ask for attention here either.
    Counted again only when the versions moved since this process last counted for the person.
    `with_notifications`: the same statement counts their unread notifications too."""
    known = _known(user_id)
    statement = _HEADER if with_notifications else _STATE
    row = database.run(statement, {"user_id": user_id, **_known_params(known)}).one()
    return _state_of(user_id, known, row, with_notifications)


def _known(user_id: int) -> tuple[int, int, int]:
    return _counted().get(user_id) or (-1, -1, 0)  # versions are never negative: count


def _known_params(known: tuple[int, int, int]) -> dict:
    return {"known_reading": known[0], "known_posted": known[1]}


def _state_of(user_id: int, known: tuple[int, int, int], row, with_notifications: bool) -> NavState:
    count = known[2] if row.unread is None else row.unread
    _counted().put(user_id, (row.reading, row.posted, count))
    return NavState(count, versions.seen_key(row), row.unread_notifications if with_notifications else None)


def with_header(person: Select) -> Select:
    """`person`, a statement that loads one User by the bound `user_id`, with the header's counts
    as more columns. Build it once, as every page runs it."""
    return person.add_columns(*_HEADER.selected_columns)


def draws_header() -> bool:
    """A GET that wants a whole page (a plain visit, an htmx boost or history restore): the page
    draws the header. A targeted swap, a poll or a form sent does not."""
    return request.method == "GET" and not is_fragment_request()


def person_with_header(statement: Select, params: dict):
    """The person `statement` (made by `with_header`) loads for `params`, or None; their header's
    counts, read in the same statement, are kept for `header_counts`: a page then reads both in
    one trip to the database instead of two."""
    user_id = params["user_id"]
    known = _known(user_id)
    row = db.session.execute(statement, {**params, **_known_params(known)}).first()
    if row is None:
        return None
    g.header_loaded = (user_id, _state_of(user_id, known, row, True))
    return row[0]


def header_counts() -> NavState:
    """The header's two counts, this item's and the notification badge's, read once a request: the
    ones read with the person, unless the request has written since (opening an entry marks its
    notifications read, opening a thread moves the read mark) or signed someone else in; else
    counted now."""
    if "header_counts" not in g:
        loaded = g.pop("header_loaded", None)
        if loaded is not None and loaded[0] == current_user.id and not database.wrote():
            g.header_counts = loaded[1]
        else:
            g.header_counts = nav_state(current_user.id, with_notifications=True)
    return g.header_counts


def poll_seconds() -> int:
    config = current_app.config
    return config.get("GROUP_POLL_SECONDS") or config["NOTIFICATION_POLL_SECONDS"]


@bp.app_context_processor
def _nav_context() -> dict:
    # Functions, not numbers: only pages that draw the header (base.html) pay for the counts.
    return {"header_counts": header_counts, "group_poll_seconds": poll_seconds}


@bp.get("/unread", endpoint="nav_unread")
def nav_unread():
    """The nav item polls with the versions its count stands for: unchanged → 204, no body, one
    statement. Moved → the item again, counted anew (the versions may move while the count stays)."""
    return polls.answer_unless_shown(NAV_POLL, versions.seen_key,
                                     lambda _row: render("groups/_nav_unread.html", group_nav=nav_state(current_user.id)))
