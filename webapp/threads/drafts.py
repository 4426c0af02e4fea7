"""Text being written in the discussions, never lost: the reply being typed (PostDraft, per person
and thread) and a new thread (ThreadDraft, per person and group) are autosaved, brought back into
their forms, kept when the thread is closed meanwhile, and rescued when a post is refused for an
expired session or form token (webapp.journal.drafts.rescue_if_text hands those requests here)."""
from __future__ import annotations

from flask import Response, flash, redirect, request, url_for
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import Integer, and_, bindparam, select

from .. import access
from ..extensions import db
from ..groups.models import Group, Post, PostDraft, Thread, ThreadDraft
from ..htmx import into_form_alert, is_htmx_request, render
from ..i18n import gettext as _
from ..journal.drafts import not_kept_for_an_earlier_sign_in
from ..models import User, utcnow
from ..numbers import number
from ..polls import Poll
from ..text import fingerprint, keep_typed, same_text, seen_after_keeping, sent_from_here, strip_controls
from ..urls import login_url


def clean(text: str | None) -> str:
    """The text as the draft keeps it: whole, even a title or message too long to post
    (REQUEST_LIMIT bounds what one request carries)."""
    return strip_controls(text) or ""


# The reply being typed -----------------------------------------------------------------------------

# "Is anything of mine kept in this open thread?", for the autosave with nothing typed
# (webapp.text.nothing_to_keep). No row: not an open thread the person writes in (a closed one
# goes the usual way, which replaces the form).
REPLY_KEPT = Poll(lambda viewer: (
    access.visible_threads(viewer).with_only_columns(PostDraft.user_id.label("kept_for"))
    .outerjoin(PostDraft, and_(PostDraft.thread_id == Thread.id, PostDraft.user_id == viewer.id))
    .where(Thread.id == bindparam("thread_id", type_=Integer), Thread.locked.is_(False),
           access.member_thread_clause(viewer))
))


def typed_reply() -> tuple[str, str]:
    """The reply form's text, and the fingerprint of the one it last saved (webapp.text.keep_typed)."""
    return clean(request.form.get("body")), request.form.get("draft_seen", "")


def save_reply(user: User, thread_id: int, text: str, seen: str = "") -> str | None:
    """Store `text` as the person's reply draft in the thread ("saved", "cleared" or None); `seen`:
    the fingerprint of the text the form last saved (webapp.text.keep_typed)."""
    def create() -> PostDraft:
        draft = PostDraft(user_id=user.id, thread_id=thread_id)
        db.session.add(draft)
        return draft

    def last_sent() -> str | None:
        return db.session.scalar(
            select(Post.body).where(Post.thread_id == thread_id, Post.author_id == user.id)
            .order_by(Post.id.desc()).limit(1)
        )
    return keep_typed(db.session.get(PostDraft, (user.id, thread_id)), create, text, last_sent, seen)


def clear_sent_reply(user: User, thread_id: int, sent: str, seen: str) -> None:
    """`sent` was posted from a form that last saved `seen`: its draft goes, unless another tab
    saved other text there since (webapp.text.sent_from_here)."""
    draft = db.session.get(PostDraft, (user.id, thread_id))
    if draft is not None and sent_from_here(draft.body, sent, seen):
        db.session.delete(draft)


def quote_of(body: str) -> str:
    """A post as a Markdown quote, followed by an empty line to write under."""
    lines = (body or "").strip().splitlines() or [""]
    return "\n".join(f"> {line}" if line.strip() else ">" for line in lines) + "\n\n"


def with_quote(text: str, body: str) -> str:
    """The text typed so far, then the quote: nothing typed is replaced."""
    quote = quote_of(body)
    if not text.strip():
        return quote
    return text.rstrip("\n") + "\n\n" + quote


# A new thread ------------------------------------------------------------------------------------

def thread_text(title: str, body: str) -> str:
    """A new thread's title and message as one text, for its fingerprint (`draft_seen`)."""
    return f"{title}\n{body}"


def typed_new_thread() -> tuple[str, str, str]:
    """The new-thread form's title and message, and the fingerprint of what it last saved."""
    return (clean(request.form.get("title")), clean(request.form.get("body")),
            request.form.get("draft_seen", ""))


def save_new_thread(user: User, group_id: int, title: str, body: str, seen: str = "") -> str | None:
    """As webapp.text.keep_typed, for a title and a message: a form with nothing new since it last
    saved changes nothing, and only a form that saved that very text (or opened with it) clears
    it, so an idle tab, empty or not, never overwrites or clears what another tab saved since."""
    if seen and seen == fingerprint(thread_text(title, body)):
        return None
    draft = db.session.get(ThreadDraft, (user.id, group_id))
    if not (title.strip() or body.strip()):
        if draft is None or fingerprint(thread_text(draft.title, draft.body)) != seen:
            return None
        db.session.delete(draft)
        return "cleared"
    if draft is not None and (draft.title, draft.body) == (title, body):
        return "saved"
    if draft is None and _started_already(user, group_id, title, body):
        return None  # an autosave that left before the thread was started arrives after it
    if draft is None:
        draft = ThreadDraft(user_id=user.id, group_id=group_id)
        db.session.add(draft)
    draft.title, draft.body, draft.updated_at = title, body, utcnow()
    return "saved"


def _started_already(user: User, group_id: int, title: str, body: str) -> bool:
    """The person's latest thread in the group is this one: its title, and its first message."""
    latest = db.session.execute(
        select(Thread.title, Post.body).join(Post, Post.thread_id == Thread.id)
        .where(Thread.group_id == group_id, Thread.author_id == user.id)
        .order_by(Thread.id.desc(), Post.id).limit(1)
    ).first()
    return latest is not None and same_text(latest.title, title) and same_text(latest.body, body)


def new_thread_seen() -> dict:
    """For the autosave's answer: what the form now has saved, under the new-thread form's field."""
    return {"text": thread_text(*typed_new_thread()[:2]), "seen_id": "thread-draft-seen"}


def save_new_thread_from(user: User, group_id: int) -> str | None:
    return save_new_thread(user, group_id, *typed_new_thread())


def seen_after_saving_new_thread(state: str | None) -> str:
    """The refused new-thread form's draft_seen once save_new_thread_from gave `state`
    (webapp.text.seen_after_keeping)."""
    title, body, seen = typed_new_thread()
    return seen_after_keeping(thread_text(title, body), seen, state)


def clear_sent_new_thread(user: User, group_id: int) -> None:
    """The thread the form sent was started: its draft goes, unless another tab saved other text
    there since (webapp.text.sent_from_here)."""
    title, body, seen = typed_new_thread()
    draft = db.session.get(ThreadDraft, (user.id, group_id))
    if draft is not None and sent_from_here(thread_text(draft.title, draft.body), thread_text(title, body), seen):
        db.session.delete(draft)


# Rescue ------------------------------------------------------------------------------------------

REPLY_ENDPOINTS = frozenset({"threads.reply", "threads.autosave"})
NEW_THREAD_ENDPOINTS = frozenset({"threads.create", "threads.autosave_new"})
RESCUE_ENDPOINTS = REPLY_ENDPOINTS | NEW_THREAD_ENDPOINTS


def rescue(*, own_token_expired: bool) -> Response | None:
    """A post or autosave refused before its view ran. Signed in, with this session's own form
    token, only too old: the text becomes the draft and the form comes back holding it, with a
    fresh token. Signed in, with any other token or none (another site's form, a page opened before
    the last sign-in in this browser): the draft stays as it was, and the form comes back holding
    the text, with a fresh token. Signed out (htmx): the page keeps the text and says how to go on.
    None otherwise (a plain form: webapp.errors shows the text to copy, or the last autosave is
    kept, and the login page follows)."""
    if current_user.is_authenticated and not (own_token_expired or is_htmx_request()):
        return None
    if request.endpoint in REPLY_ENDPOINTS:
        return _rescue_reply(own_token_expired)
    if request.endpoint in NEW_THREAD_ENDPOINTS:
        return _rescue_new_thread(own_token_expired)
    return None


def _member_thread(thread_id: int | None) -> Thread | None:
    if thread_id is None:
        return None
    thread = db.session.scalar(access.visible_threads(current_user).where(Thread.id == thread_id))
    if thread is None or access.membership(current_user, thread.group_id) is None:
        return None
    return thread


def _rescue_reply(keep: bool) -> Response | None:
    from . import panel  # the panel builds forms; it imports this module

    thread_id = (request.view_args or {}).get("thread_id")
    if not current_user.is_authenticated:
        return _signed_out(url_for("threads.show", thread_id=thread_id, _anchor="reply-form")) if is_htmx_request() else None
    thread = _member_thread(thread_id)
    if thread is None:
        return None
    text, seen = typed_reply()
    state = None
    if keep:
        state = save_reply(current_user, thread.id, text, seen)
        db.session.commit()
    status = 200 if keep else 400
    if request.endpoint == "threads.autosave":
        return render("threads/_save_status.html", status=status, state=state, now=utcnow(), fresh_token=generate_csrf(),
                      token_id="reply-csrf", text=text)
    message = (_("The page had been open for a long time. Your message is kept; press “Send” once more.") if keep
               else not_kept_for_an_earlier_sign_in())
    if is_htmx_request():
        area = panel.form_area_as_sent(thread, text, message=message)
        area.draft_seen = seen_after_keeping(text, seen, state)
        return render("threads/_reply_area.html", status=status, reply_area=area)
    flash(message, "warning")
    return redirect(url_for("threads.show", thread_id=thread.id, page=request.form.get("page", "1"), _anchor="reply-form"), 303)


def _rescue_new_thread(keep: bool) -> Response | None:
    from . import panel

    group_id = number(request.form.get("group_id"))
    if not current_user.is_authenticated:
        return _signed_out(url_for("threads.new", group_id=group_id)) if is_htmx_request() else None
    group = db.session.scalar(access.visible_groups(current_user).where(Group.id == group_id)) if group_id else None
    if group is None or access.membership(current_user, group.id) is None:
        return None
    state = None
    if keep:
        state = save_new_thread_from(current_user, group.id)
        db.session.commit()
    status = 200 if keep else 400
    if request.endpoint == "threads.autosave_new":
        return render("threads/_save_status.html", status=status, state=state, now=utcnow(), fresh_token=generate_csrf(),
                      token_id="thread-csrf", **new_thread_seen())
    message = (_("The page had been open for a long time. Your thread is kept; press “Start the thread” once more.")
               if keep else not_kept_for_an_earlier_sign_in())
    if is_htmx_request():
        form = panel.new_thread_form(request.form.get("title"), request.form.get("body"))
        form.form_errors.append(message)
        return render("threads/_thread_form.html", status=status, form=form, group=group,
                      draft_seen=seen_after_saving_new_thread(state))
    flash(message, "warning")
    return redirect(url_for("threads.new", group_id=group.id), 303)


def _signed_out(back_to: str) -> Response:
    """No session, so nobody to keep a draft for. Rather than send the page to the login form (which
    would throw away what is typed), leave the text where it is and say how to go on: signing in in
    another tab, after which the next autosave or "Send" keeps it (the rescue above)."""
    login_link = login_url(back_to)
    if request.endpoint in ("threads.autosave", "threads.autosave_new"):
        # 401: nothing was kept (static/js/unsaved.js still counts the text as not saved).
        return render("threads/_save_status.html", status=401, state="signed_out", login_link=login_link)
    # Only the form's alert line changes, as for any form (webapp.errors): the text stays, as typed.
    message = _("Your session has ended, so nothing was saved. Sign in again in another tab, "
                "then press the button here once more: your text stays in this form.")
    return render("errors/_kept_in_form.html", status=401, message=message, login_link=login_link,
                  headers=into_form_alert())
