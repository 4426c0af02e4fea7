"""The navigation's «Группы» item: the number of threads in my groups with posts I have not
read, refreshing itself by polling like the notification badge."""
from __future__ import annotations

from flask import current_app, request
from flask_login import current_user
from sqlalchemy import and_, func, or_, select

from ..extensions import db, login_manager
from ..htmx import is_htmx_request, render
from . import bp
from .models import GroupMember, Thread, ThreadState


def unread_thread_count(user_id: int) -> int:
    """Threads of the groups `user_id` belongs to whose last post is newer than the last one
    they read. One statement; membership is the access check (a member may read the group).
    A muted thread does not ask for attention here either."""
    return db.session.scalar(
        select(func.count()).select_from(Thread)
        .join(GroupMember, and_(GroupMember.group_id == Thread.group_id, GroupMember.user_id == user_id))
        .outerjoin(ThreadState, and_(ThreadState.thread_id == Thread.id, ThreadState.user_id == user_id))
        .where(Thread.last_post_id > func.coalesce(ThreadState.last_read_post_id, 0),
               or_(ThreadState.muted.is_(None), ThreadState.muted.is_(False)))
    ) or 0


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
    if not current_user.is_authenticated:
        # A background poll must never navigate away from a page where someone may be typing.
        return ("", 204) if is_htmx_request() else login_manager.unauthorized()
    count = unread_thread_count(current_user.id)
    shown = request.args.get("shown", "")
    if shown.isascii() and shown.isdigit() and len(shown) < 10 and int(shown) == count:
        return "", 204
    return render("groups/_nav_unread.html", group_unread_count=count)
