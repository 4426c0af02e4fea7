"""The comment being typed: autosaved per person and entry, brought back into the form when the
entry is opened again, cleared when the comment is posted from the form that saved it (not when
another tab of the person's posts something else there), and rescued when a post is refused for
an expired form token."""
from __future__ import annotations

from flask import Response, flash, redirect, request, url_for
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import Integer, and_, bindparam, select

from .. import access
from ..extensions import db
from ..htmx import is_htmx_request, render
from ..i18n import gettext as _
from ..journal.drafts import not_kept_for_an_earlier_sign_in
from ..mentoring.models import Comment, CommentDraft
from ..models import JournalEntry, User, utcnow
from ..polls import Poll
from ..text import keep_typed, seen_after_keeping, sent_from_here, strip_controls
from ..urls import login_url
from .forms import comment_form
from .panel import NEW_COMMENT_FIELD, CommentSection

# "Is anything of mine kept under this entry?", for the autosave with nothing typed (a page with
# a comment form sends one every 30 s; webapp.text.nothing_to_keep). No row: the entry is out of
# the person's sight, or nobody is signed in.
KEPT = Poll(lambda viewer: (
    select(CommentDraft.user_id.label("kept_for"))
    .select_from(JournalEntry)
    .outerjoin(CommentDraft, and_(CommentDraft.entry_id == JournalEntry.id, CommentDraft.user_id == viewer.id))
    .where(JournalEntry.id == bindparam("entry_id", type_=Integer), access.entry_visible_clause(viewer))
))


def clean(text: str | None) -> str:
    """The text as the draft keeps it: whole, even a comment too long to post (REQUEST_LIMIT
    bounds what one request carries)."""
    return strip_controls(text) or ""


def typed() -> tuple[str, str]:
    """The text a comment form sent, and the fingerprint of the one it last saved (webapp.text.keep_typed).
    The comment form names its text "body"; the desk's answer form, prefixed, "feedback-body"."""
    return clean(request.form.get("body", request.form.get("feedback-body"))), request.form.get("draft_seen", "")


def save(user: User, entry_id: int, text: str, seen: str = "") -> str | None:
    """Store `text` as the person's draft under the entry ("saved", "cleared" or None)."""
    def create() -> CommentDraft:
        draft = CommentDraft(user_id=user.id, entry_id=entry_id)
        db.session.add(draft)
        return draft

    def last_sent() -> str | None:
        return db.session.scalar(
            select(Comment.body).where(Comment.entry_id == entry_id, Comment.author_id == user.id)
            .order_by(Comment.id.desc()).limit(1)
        )
    return keep_typed(db.session.get(CommentDraft, (user.id, entry_id)), create, text, last_sent, seen)


def clear_sent(user: User, entry_id: int, sent: str, seen: str) -> None:
    """`sent` was posted from a form that last saved `seen`: its draft goes, unless another tab
    saved other text there since (webapp.text.sent_from_here)."""
    draft = db.session.get(CommentDraft, (user.id, entry_id))
    if draft is not None and sent_from_here(draft.body, clean(sent), seen):
        db.session.delete(draft)


def rescue(*, own_token_expired: bool) -> Response | None:
    """Called (through webapp.journal.drafts.rescue_if_text) when posting or autosaving a comment was
    refused before its view ran. Signed in, with this session's own form token, only too old: the
    text becomes the draft and the form comes back holding it, with a fresh token. Signed in, with
    any other token or none (another site's form, a page opened before the last sign-in in this
    browser): the draft stays as it was, and the form comes back holding the text, with a fresh
    token. Signed out (htmx): the page keeps the text and says so. None otherwise (a plain form:
    webapp.errors shows the text to copy, or the last autosave is kept)."""
    entry_id = (request.view_args or {}).get("entry_id")
    if entry_id is None:
        return None
    if not current_user.is_authenticated:
        return _signed_out(entry_id) if is_htmx_request() else None
    if not (own_token_expired or is_htmx_request()):
        return None
    entry = db.session.scalar(access.visible_entries(current_user).where(JournalEntry.id == entry_id))
    if entry is None or not access.can_comment(current_user, entry):
        return None
    text, seen = typed()
    state = None
    if own_token_expired:
        state = save(current_user, entry.id, text, seen)
        db.session.commit()
    status = 200 if own_token_expired else 400
    if request.endpoint == "comments.autosave":
        return render("comments/_save_status.html", status=status, state=state, now=utcnow(),
                      fresh_token=generate_csrf(), entry_id=entry.id, text=text)
    if not own_token_expired:
        return _form_again(entry.id, not_kept_for_an_earlier_sign_in(), status=status, draft_seen=seen)
    message = _("The page had been open for a long time. Your comment is kept; press “Send” once more.")
    if is_htmx_request():
        # The form again, in place, rather than HX-Redirect: a redirect to the page one is on
        # (plus an #anchor) is only a scroll in the browser, and the stale token would stay.
        return _form_again(entry.id, message, status=status, draft_seen=seen_after_keeping(text, seen, state))
    flash(message, "warning")
    return redirect(url_for("journal.show", entry_id=entry.id, _anchor="comment-form"), 303)


def _signed_out(entry_id: int) -> Response:
    """No session, so nobody to keep a draft for. Rather than send the page to the login form (which
    would throw away what is typed), leave the text where it is and say how to go on: signing in
    in another tab, after which the next autosave or "Send" keeps it (the rescue above)."""
    login_link = login_url(url_for("journal.show", entry_id=entry_id, _anchor="comment-form"))
    if request.endpoint == "comments.autosave":
        # 401: nothing was kept (static/js/unsaved.js still counts the text as not saved).
        return render("comments/_save_status.html", status=401, state="signed_out", login_link=login_link)
    message = _("Your session has ended, so the comment was not sent. Sign in again in another tab, "
                "then press “Send” here: your text stays in this form.")
    return _form_again(entry_id, message, status=401, draft_seen=request.form.get("draft_seen", ""), login_link=login_link)


def _form_again(entry_id: int, message: str, status: int, draft_seen: str, **context) -> Response:
    """The new-comment form holding the text that was sent, with `message` and a fresh token, and
    `draft_seen` for what is kept of it as the person's draft."""
    form = comment_form(NEW_COMMENT_FIELD, formdata=None, data={"body": clean(request.form.get("body"))})
    form.form_errors.append(message)
    # Only the form is rendered: it needs the entry's id, nothing that shows the entry itself.
    section = CommentSection(entry_id=entry_id, entry_author_id=0, comments=[], after=0, form=form,
                             draft_seen=draft_seen)
    return render("comments/_comment_form.html", status=status, comment_section=section, **context)
