"""A discussion thread: starting one, reading it page by page with unread markers, the live poll,
replying (with quotes), and the leader's pin and close.

Access: whoever may read the group reads its threads (webapp.access); members post; a thread
someone may not read answers 404 on every route, fragments and the poll included. Posting by
someone who is not a member also answers 404 (the page offers "join the group" instead)."""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user, login_required

from .. import access, polls
from ..extensions import db, login_manager
from ..groups.models import Group, Post, Thread, ThreadDraft
from ..htmx import is_fragment_request, is_htmx_request, redirect_for, render
from ..i18n import gettext as _
from ..models import utcnow
from ..notifications import events
from ..numbers import number
from ..pagination import current_page_number
from ..text import fingerprint, nothing_to_keep, seen_after_keeping
from ..urls import login_url
from . import bp, drafts, panel, queries
from .forms import post_form, thread_form

LOCKED_EVENT = "thread-locked"  # tells the reply form to save its text and give way to the notice
# A posted reply's answer has the thread's poller ask at once: a poll answered just before it may
# have taken the end marker that answer adds its posts at (threads/_after.html).
REPLY_ADDED = "reply-added"


# Starting a thread ---------------------------------------------------------------------------------

def _group_to_post_in(group_id: int | None) -> Group:
    """A group the signed-in person is a member of; 404 for any other (members start threads)."""
    if group_id is None:
        abort(404)
    group = access.group_for_viewing(current_user, group_id)
    if access.membership(current_user, group.id) is None:
        abort(404)
    return group


@bp.get("/new")
@login_required
def new():
    group = _group_to_post_in(number(request.args.get("group_id")))
    draft = db.session.get(ThreadDraft, (current_user.id, group.id))
    form = panel.new_thread_form(draft.title, draft.body) if draft else panel.new_thread_form()
    return render("threads/new.html", "thread_form", group=group, form=form, restored=draft,
                  draft_seen=fingerprint(drafts.thread_text(draft.title, draft.body)) if draft else "")


@bp.post("/")
@login_required
def create():
    group = _group_to_post_in(number(request.form.get("group_id")))
    form = thread_form()
    if not form.validate():
        state = drafts.save_new_thread_from(current_user, group.id)
        db.session.commit()
        return render("threads/new.html", "thread_form", status=422, group=group, form=form, restored=None,
                      draft_seen=drafts.seen_after_saving_new_thread(state))
    thread, post, new = queries.start_thread_once(group, current_user.id, form.title.data, form.body.data)
    if new:
        events.thread_created(thread, post, group)
    drafts.clear_sent_new_thread(current_user, group.id)
    db.session.commit()
    return redirect_for(url_for("threads.show", thread_id=thread.id, page=1, _anchor=f"post-{post.id}"))


@bp.post("/new/draft")
@login_required
def autosave_new():
    group = _group_to_post_in(number(request.form.get("group_id")))
    state = drafts.save_new_thread_from(current_user, group.id)
    db.session.commit()
    if state is None:
        return polls.nothing_new()
    return render("threads/_save_status.html", state=state, now=utcnow(), **drafts.new_thread_seen())


# Reading -----------------------------------------------------------------------------------------

def _quoted_post(thread: Thread) -> Post | None:
    """?quote=<post id>: a post of this thread, not deleted, to quote in the reply form."""
    post_id = number(request.args.get("quote"))
    if post_id is None:
        return None
    post = db.session.get(Post, post_id)
    return post if post is not None and post.thread_id == thread.id and post.deleted_at is None else None


@bp.get("/<int:thread_id>")
@login_required
def show(thread_id: int):
    """A page of the thread. Without ?page, the page of my first unread post, at its anchor."""
    thread, state, _membership, unread, draft = queries.thread_and_reader(current_user, thread_id)  # held: see thread_and_reader
    if "page" not in request.args:
        quote = number(request.args.get("quote"))
        extra = {"quote": quote} if quote is not None else {}
        return redirect(queries.jump_url(thread, state.last_read_post_id if state else 0, **extra), 303)
    view = panel.page_view(current_user, thread, state, current_page_number())
    reply = panel.reply_area(view, draft, quote=_quoted_post(thread))
    if not is_fragment_request():
        queries.record_reading(current_user, thread.id, view.posts[-1].id if view.posts else None,
                               state.last_read_post_id if state else 0, unread)
    return render("threads/show.html", thread_view=view, reply_area=reply)


@bp.get("/<int:thread_id>/poll")
def poll(thread_id: int):
    """?after=<newest post id shown>&locked=<0|1 as shown>: 204 when nothing changed (one statement),
    else the new posts to append, a new poller and, if the thread was closed or reopened, the change."""
    after = number(request.args.get("after")) or 0
    shown_locked = request.args.get("locked") == "1"

    def unchanged(row) -> bool:
        return (row.last_post_id or 0) <= after and row.locked == shown_locked

    row = queries.POLL.ask(thread_id=thread_id)
    if row is not None and unchanged(row):
        return polls.nothing_new()  # the one statement of a poll that finds nothing (webapp.polls)
    if not current_user.is_authenticated:
        if is_htmx_request():
            # Not the usual 401 + HX-Redirect: a background poll must not take the page, and the
            # reply being typed on it, to the login form. The poller is replaced and stops.
            return render("threads/_signed_out_poller.html", status=401,
                          login_link=login_url(url_for("threads.show", thread_id=thread_id)))
        return login_manager.unauthorized()
    row = queries.POLL.row_for(current_user, row, thread_id=thread_id)
    if row is None:
        abort(404)
    if unchanged(row):
        return polls.nothing_new()
    thread, state, _membership, _unread, draft = queries.thread_and_reader(current_user, thread_id)  # held: see thread_and_reader
    view = panel.news_view(current_user, thread, state, after)
    return _news(view, draft, lock_changed=thread.locked != shown_locked)


def _news(view: panel.ThreadView, draft: queries.KeptReply | None, lock_changed: bool):
    """New posts to add at the page's end marker, and when the thread was closed or reopened: the
    poller, its header, and either the event that makes the reply form save its text and give way
    to the notice (closed), or the reply form back in place of the notice (reopened). Nothing of
    that (gone since the poll's statement saw it): 204, as an empty 200 would remove the poller."""
    if not (view.posts or lock_changed):
        return polls.nothing_new()
    headers, reply = {}, None
    if lock_changed and view.thread.locked:
        headers["HX-Trigger"] = LOCKED_EVENT
    elif lock_changed:
        reply = panel.reply_area(view, draft)
    return render("threads/_news.html", headers=headers, thread_view=view,
                  lock_changed=lock_changed, reply_area=reply)


# Replying ----------------------------------------------------------------------------------------

def _thread_to_reply_in(thread_id: int) -> Thread:
    thread = queries.thread_for_reading(current_user, thread_id)
    if access.membership(current_user, thread.group_id) is None:
        abort(404)
    return thread


def _reply_page(thread: Thread, reply: panel.ReplyArea, status: int):
    """The reply area alone (htmx), or the whole page it belongs to (a plain form post)."""
    view = None
    if not is_fragment_request():
        page = number(request.form.get("page")) or queries.page_count(thread.post_count)
        view = panel.page_view(current_user, thread, queries.read_state(current_user, thread.id), page)
        reply.page, reply.page_end = view.page_number, view.after
    return render("threads/show.html", "reply_area", status=status, thread_view=view, reply_area=reply)


def _kept_because_locked(thread: Thread, text: str):
    drafts.save_reply(current_user, thread.id, text)
    db.session.commit()
    page = number(request.form.get("page")) or 1
    return _reply_page(thread, panel.refused_as_locked(thread, text, page=page), status=409)


@bp.post("/<int:thread_id>/posts")
@login_required
def reply(thread_id: int):
    thread = _thread_to_reply_in(thread_id)
    text = drafts.clean(request.form.get("body"))
    if thread.locked:
        return _kept_because_locked(thread, text)
    form = post_form()
    if not form.validate():
        seen = request.form.get("draft_seen", "")
        seen = seen_after_keeping(text, seen, drafts.save_reply(current_user, thread.id, text, seen))
        db.session.commit()
        area = panel.form_area_as_sent(thread, form=form)
        area.draft_seen = seen
        return _reply_page(thread, area, 422)
    state = queries.read_state(current_user, thread.id)
    last_read = state.last_read_post_id if state else 0
    marker = number(request.form.get("after"))  # htmx, on the last page: its end marker
    shown = marker if marker is not None else number(request.form.get("page_end"))  # else what the page showed
    try:
        post, new = queries.add_reply(thread, current_user.id, form.body.data, shown)
    except queries.ThreadLocked:
        return _kept_because_locked(thread, text)
    if new:
        events.post_added(post, thread, thread.group)
    drafts.clear_sent_reply(current_user, thread.id, *drafts.typed_reply())
    queries.mark_read_up_to(current_user.id, thread.id, post.id)
    db.session.commit()
    if not is_htmx_request() or marker is None:  # a plain form, or a page other than the last
        return redirect_for(queries.post_url(thread.id, post.id))
    # Everything newer than what the page shows (others' posts too), at the page's end marker; the
    # poller asks at once as well, in case a poll answered first and took that marker.
    db.session.refresh(thread, ["post_count", "last_post_id", "locked"])
    view = panel.news_view(current_user, thread, None, min(marker, post.id - 1), last_read=last_read)
    return render("threads/_created.html", status=201, headers={"HX-Trigger": REPLY_ADDED}, thread_view=view,
                  lock_changed=False, reply_area=panel.form_area(thread, page=view.page_number, page_end=view.after))


@bp.post("/<int:thread_id>/draft")
def autosave(thread_id: int):
    """The reply form's autosave. In a closed thread the text is kept, and the form gives way to
    the notice that shows it."""
    text, seen = drafts.typed_reply()
    if nothing_to_keep(text, drafts.REPLY_KEPT, thread_id=thread_id):
        return polls.nothing_new()
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    thread = _thread_to_reply_in(thread_id)
    state = drafts.save_reply(current_user, thread.id, text, seen)
    db.session.commit()
    if thread.locked:
        return render("threads/_reply_area.html", reply_area=panel.locked_area(thread, text),
                      headers={"HX-Retarget": "#reply-form", "HX-Reswap": "outerHTML"})
    if state is None:
        return polls.nothing_new()
    return render("threads/_save_status.html", state=state, now=utcnow(), text=text)


@bp.post("/posts/<int:post_id>/quote")
@login_required
def quote(post_id: int):
    """«Цитировать» with htmx: the reply form comes back holding what was typed, then the quote.
    (Without JavaScript the link itself, GET /threads/<id>?quote=<post id>, does it.)"""
    post, thread = queries.post_for_reading(current_user, post_id)
    if access.membership(current_user, thread.group_id) is None:
        abort(404)
    if post.deleted_at is not None:
        return _quoted_post_gone(post, thread)
    text = drafts.with_quote(drafts.clean(request.form.get("body")), post.body)
    drafts.save_reply(current_user, thread.id, text)
    db.session.commit()
    if not is_htmx_request():
        return redirect_for(url_for("threads.show", thread_id=thread.id, page=number(request.form.get("page")) or 1,
                                    _anchor="reply-form"))
    if thread.locked:
        return render("threads/_reply_area.html", reply_area=panel.locked_area(thread, text))
    return render("threads/_reply_area.html", reply_area=panel.form_area(thread, text, quoted=True))


def _quoted_post_gone(post: Post, thread: Thread):
    """«Цитировать» on a post deleted since the page showed it: the reply form stays as it was,
    holding what was typed and saying why nothing was quoted, and the post shows as deleted."""
    message = _("This message has been deleted, so there is nothing to quote.")
    if not is_htmx_request():
        flash(message, "warning")
        return redirect_for(url_for("threads.show", thread_id=thread.id, page=number(request.form.get("page")) or 1,
                                    _anchor="reply-form"))
    text = drafts.clean(request.form.get("body"))
    if thread.locked:  # closed meanwhile too: the notice that takes the form's place says the text is kept
        drafts.save_reply(current_user, thread.id, text)
        db.session.commit()
        area = panel.locked_area(thread, text)
    else:
        area = panel.form_area_as_sent(thread, text, message=message)
        area.draft_seen = request.form.get("draft_seen", "")
    return render("threads/_quote_gone.html", status=410, reply_area=area, post=post,
                  thread_view=panel.single_view(current_user, thread, post))


# The leader's switches, and muting -----------------------------------------------------------------

def _switch() -> bool:
    """The form says which way: on=1 or on=0 (not a toggle: a double click must not undo itself)."""
    value = request.form.get("on")
    if value not in ("0", "1"):
        abort(422)
    return value == "1"


def _thread_to_manage(thread_id: int) -> Thread:
    thread = queries.thread_for_reading(current_user, thread_id)
    if not access.can_manage_group(current_user, thread.group_id):
        abort(404)
    return thread


def _switched(thread: Thread, message: str, headers: dict | None = None, reply=None):
    page = number(request.form.get("page"))
    if not is_htmx_request():
        flash(message, "success")
        target = url_for("threads.show", thread_id=thread.id, page=page) if page else url_for("threads.show", thread_id=thread.id)
        return redirect_for(target)
    view = panel.head_view(current_user, thread, page or 1)
    return render("threads/_switched.html", headers=headers, thread_view=view, reply_area=reply)


@bp.post("/<int:thread_id>/pin")
@login_required
def pin(thread_id: int):
    thread = _thread_to_manage(thread_id)
    thread.pinned = _switch()
    db.session.commit()
    return _switched(thread, _("The thread is pinned.") if thread.pinned else _("The thread is unpinned."))


@bp.post("/<int:thread_id>/lock")
@login_required
def lock(thread_id: int):
    thread = _thread_to_manage(thread_id)
    thread.locked = _switch()
    db.session.commit()
    if thread.locked:
        # The leader's own reply form saves its text and gives way to the notice, like everyone's.
        return _switched(thread, _("The thread is closed: it takes no new posts."), headers={"HX-Trigger": LOCKED_EVENT})
    reply = panel.reply_area(panel.head_view(current_user, thread), queries.reply_draft(current_user, thread.id))
    return _switched(thread, _("The thread is open for replies again."), reply=reply)


@bp.post("/<int:thread_id>/mute")
@login_required
def mute(thread_id: int):
    thread = queries.thread_for_reading(current_user, thread_id)
    muted = _switch()
    queries.set_muted(current_user.id, thread.id, muted)
    db.session.commit()
    return _switched(thread, _("You will not be notified of replies in this thread.") if muted
                     else _("You will be notified of replies in this thread again."))
