"""What the thread templates read, under two names: `thread_view` (the thread, its posts, the
viewer's unread markers and what the viewer may do) and `reply_area` (the reply form, or why
there is none). The views decide; the templates only show."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app, request

from .. import access
from ..groups.models import Post, Thread, ThreadState
from ..i18n import gettext as _
from ..models import User
from ..numbers import number
from ..text import fingerprint
from . import drafts, queries
from .forms import REPLY_FIELD, PostForm, ThreadForm, post_form, thread_form


@dataclass
class ThreadView:
    thread: Thread  # with its group
    viewer_id: int
    posts: list[queries.ShownPost] = field(default_factory=list)
    unread: set[int] = field(default_factory=set)  # ids of the shown posts newer than my read mark
    page_number: int = 1
    page_count: int = 1
    has_next: bool = False
    is_member: bool = False
    can_manage: bool = False  # the group's leader or an administrator: pin, close, delete any post
    muted: bool = False
    after: int = 0  # the newest post id the page holds: the poll asks for anything newer
    since: int = 0  # news: the newest id the asking page held; the posts go in at its marker
    poll_seconds: int = 10

    @property
    def can_reply(self) -> bool:
        return self.is_member and not self.thread.locked

    # What threads/_post.html is rendered from (webapp.fragments.ITEMS), in the order of item_rows.
    ITEM_VALUES = ("id", "thread_id", "author", "body", "created_at", "edited_at", "unread", "own", "can_reply",
                   "can_manage", "page_number", "deleted")

    def item_rows(self) -> list[tuple]:
        unread, viewer, can_reply, can_manage = self.unread, self.viewer_id, self.can_reply, self.can_manage
        page = self.page_number
        return [(p.id, p.thread_id, p.author, p.body_markup, p.created_at, p.edited_at, p.id in unread,
                 p.author_id == viewer, can_reply, can_manage, page, p.deleted_at is not None)
                for p in self.posts]

    @property
    def last_page(self) -> bool:
        return not self.has_next


@dataclass
class ReplyArea:
    """Below the posts: the reply form ("form"), the notice of a closed thread with the text kept as
    a draft ("locked"), or, for someone who is not a member, how to join ("join")."""

    thread_id: int
    group_id: int
    state: str
    form: PostForm | None = None
    kept: str = ""  # the unsent text kept as a draft, shown in the closed notice
    restored_at: datetime | None = None
    draft_seen: str = ""  # the fingerprint of the draft the form opens with (webapp.text.keep_typed)
    message: str | None = None
    page: int = 1
    quoted: bool = False  # the form comes back with a quote added: its text box takes focus
    page_end: int | None = None  # the newest post its page shows, for a plain form (webapp.text.sent_again)


def poll_seconds() -> int:
    return int(current_app.config["THREAD_POLL_SECONDS"])


def _unread(posts: list[queries.ShownPost], viewer_id: int, last_read: int) -> set[int]:
    return {p.id for p in posts if p.id > last_read and p.author_id != viewer_id and p.deleted_at is None}


def _base(user: User, thread: Thread, state: ThreadState | None, **kwargs) -> ThreadView:
    # Held while can_manage_group asks again, so that the session answers it without a query.
    member = access.membership(user, thread.group_id)
    return ThreadView(
        thread=thread, viewer_id=user.id,
        is_member=member is not None,
        can_manage=access.can_manage_group(user, thread.group_id),
        muted=bool(state and state.muted), poll_seconds=poll_seconds(),
        page_count=queries.page_count(thread.post_count), **kwargs,
    )


def page_view(user: User, thread: Thread, state: ThreadState | None, number: int) -> ThreadView:
    page = queries.post_page(user, thread.id, number, thread.post_count)
    last_read = state.last_read_post_id if state else 0
    view = _base(user, thread, state, posts=page.posts, unread=_unread(page.posts, user.id, last_read),
                 page_number=number, has_next=page.has_next)
    # post_count says how many pages there are; what the page just read wins if they disagree.
    seen = number + 1 if page.has_next else (number if page.posts else 0)
    view.page_count = max(view.page_count, seen)
    view.after = page.posts[-1].id if page.posts else (thread.last_post_id or 0)
    return view


def news_view(user: User, thread: Thread, state: ThreadState | None, after: int, last_read: int | None = None) -> ThreadView:
    """The posts after `after`, to append to the last page, and the new newest id for the poller."""
    posts = queries.posts_after(user, thread.id, after)
    if last_read is None:
        last_read = state.last_read_post_id if state else 0
    view = _base(user, thread, state, posts=posts, unread=_unread(posts, user.id, last_read),
                 after=posts[-1].id if posts else after, since=after)
    view.page_number = view.page_count
    return view


def single_view(user: User, thread: Thread, post: Post) -> ThreadView:
    """One post, shown again after an edit, a cancelled edit or a delete."""
    return _base(user, thread, queries.read_state(user, thread.id), posts=[queries.ShownPost.of(post)], after=post.id)


def head_view(user: User, thread: Thread, page_number: int = 1) -> ThreadView:
    return _base(user, thread, queries.read_state(user, thread.id), page_number=page_number)


# Below the posts -----------------------------------------------------------------------------------

def new_reply_form(text: str = "") -> PostForm:
    return post_form(REPLY_FIELD, formdata=None, data={"body": text})


def reply_area(view: ThreadView, draft: queries.KeptReply | None, quote: Post | None = None) -> ReplyArea:
    """What goes below the posts for the viewer, with `draft`, their unsent text in the thread
    (read with the thread: queries.thread_and_reader, queries.reply_draft), and a quote, if asked for."""
    thread = view.thread
    if not view.is_member:
        return ReplyArea(thread_id=thread.id, group_id=thread.group_id, state="join", page=view.page_number)
    text = draft.body if draft else ""
    if thread.locked:
        return locked_area(thread, text, page=view.page_number)
    if quote is not None:
        text = drafts.with_quote(text, quote.body)
    # page_end 0: a view without its posts (the thread's head, after closing or reopening it)
    area = form_area(thread, text, page=view.page_number, page_end=view.after or None)
    area.restored_at = draft.updated_at if draft and draft.body.strip() else None
    area.draft_seen = fingerprint(draft.body) if draft else ""
    return area


def form_area(thread: Thread, text: str = "", *, form: PostForm | None = None, message: str | None = None,
              page: int = 1, page_end: int | None = None, quoted: bool = False) -> ReplyArea:
    form = form or new_reply_form(text)
    if message:
        form.form_errors.append(message)
    return ReplyArea(thread_id=thread.id, group_id=thread.group_id, state="form", form=form, page=page,
                     page_end=page_end, quoted=quoted)


def form_area_as_sent(thread: Thread, text: str = "", **options) -> ReplyArea:
    """The reply form given back in place of the one sent (refused, rescued, its quote gone): the
    page around it is as it was, so it keeps the page and the page end it was sent with."""
    return form_area(thread, text, page=number(request.form.get("page")) or 1,
                     page_end=number(request.form.get("page_end")), **options)


def locked_area(thread: Thread, kept: str, *, page: int = 1, message: str | None = None) -> ReplyArea:
    return ReplyArea(thread_id=thread.id, group_id=thread.group_id, state="locked", kept=kept, page=page,
                     message=message)


def refused_as_locked(thread: Thread, kept: str, page: int = 1) -> ReplyArea:
    return locked_area(thread, kept, page=page, message=_(
        "The thread was closed while you were writing, so your message was not posted. "
        "It is kept as your draft: it comes back here if the thread is reopened."))


# A new thread --------------------------------------------------------------------------------------

def new_thread_form(title: str | None = "", body: str | None = "") -> ThreadForm:
    return thread_form(formdata=None, data={"title": drafts.clean(title),
                                            "body": drafts.clean(body)})
