"""Drafts: the text of an open editor, saved while the person types and rescued when a
request fails for reasons that are not theirs (an expired session or form token)."""
from __future__ import annotations

import re
import secrets

from flask import Response, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from .. import access
from ..extensions import db
from ..htmx import is_htmx_request, render
from ..models import EntryDraft, JournalEntry, User, Visibility, utcnow
from ..text import strip_controls
from ..urls import DRAFT_KEY, login_url

RESCUE_ENDPOINTS = frozenset({"journal.create", "journal.update", "journal.autosave", "comments.create", "comments.autosave",
                              "threads.reply", "threads.autosave", "threads.create", "threads.autosave_new"})
_KEY = re.compile(DRAFT_KEY)
CLAIM_SESSION_KEY = "draft_claim"
DRAFT_TEXT_LIMIT = 1_000_000  # a draft keeps even an entry too long to publish


def number(value: str | None) -> int | None:
    """A form's whole number, or None (str.isdigit accepts '²', which int() refuses)."""
    return int(value) if value and re.fullmatch(r"[0-9]{1,9}", value) else None


def new_key() -> str:
    return secrets.token_urlsafe(16)


def _fields(form) -> dict:
    visibility = form.get("visibility", Visibility.MENTORS)
    if visibility not in set(Visibility):
        visibility = Visibility.MENTORS
    return {
        "title": (strip_controls(form.get("title", "")) or "")[:1000],
        "body": (strip_controls(form.get("body", "")) or "")[:DRAFT_TEXT_LIMIT],
        "visibility": visibility,
        "tags": (strip_controls(form.get("tags", "")) or "")[:1000],
    }


def save(user: User, form, entry_id: int | None) -> EntryDraft | None:
    """Upsert the draft named by the form's key. Nothing is stored for an empty new editor."""
    key = form.get("draft_key", "")
    if not _KEY.fullmatch(key):
        return None
    fields = _fields(form)
    draft = db.session.scalar(select(EntryDraft).where(EntryDraft.user_id == user.id, EntryDraft.key == key))
    if draft is not None and draft.closed_at is not None:
        # Saved as an entry from this editor, or from another tab that had the same draft open. An
        # autosave still on its way with the text that was saved changes nothing; a different text
        # is another tab's, kept: the draft opens again with it. A draft thrown away stays closed.
        if not (draft.title or draft.body) or (draft.title, draft.body) == (fields["title"], fields["body"]):
            return None
        draft.closed_at = None
        draft.base_version = number(form.get("version")) if draft.entry_id is not None else None
    if draft is None:
        if not (fields["title"].strip() or fields["body"].strip()):
            return None
        draft = EntryDraft(user_id=user.id, key=key, entry_id=entry_id)
        if entry_id is not None:
            draft.base_version = number(form.get("version"))
        db.session.add(draft)
    elif all(getattr(draft, k) == v for k, v in fields.items()):
        return draft  # unchanged: no write
    for name, value in fields.items():
        setattr(draft, name, value)
    draft.updated_at = utcnow()
    return draft


def close(user: User, key: str | None, saved=None) -> None:
    """The editor's text is saved as an entry (`saved`, the form it was saved from) or thrown away:
    the draft is done with. The row stays, closed, with the text that was saved (none when thrown
    away), so that an autosave still on its way cannot bring it back (save)."""
    if not key:
        return
    draft = db.session.scalar(select(EntryDraft).where(EntryDraft.user_id == user.id, EntryDraft.key == key))
    if draft is None:
        draft = EntryDraft(user_id=user.id, key=key)
        db.session.add(draft)
    draft.closed_at = utcnow()
    for name, value in (_fields(saved) if saved is not None else {"title": "", "body": "", "tags": ""}).items():
        setattr(draft, name, value)


def _claim_token() -> str:
    token = session.get(CLAIM_SESSION_KEY)
    if not token:
        token = session[CLAIM_SESSION_KEY] = secrets.token_urlsafe(24)
    return token


def rescue_if_text() -> Response | None:
    """Called when a request that carries an entry's text fails before its view ran.

    The text is stored (for the signed-in person, or held for whoever signs in next in
    this browser) and the person is told; None when the request carried no entry text.
    """
    if request.endpoint not in RESCUE_ENDPOINTS or request.method != "POST":
        return None
    if request.endpoint.startswith("comments."):
        from ..comments import drafts as comment_drafts  # a comment's text is kept as its own draft

        return comment_drafts.rescue()
    if request.endpoint.startswith("threads."):
        from ..threads import drafts as thread_drafts  # a reply or a new thread is kept as its own draft

        return thread_drafts.rescue()
    key = request.form.get("draft_key", "")
    if not _KEY.fullmatch(key):
        return None
    entry_id = request.view_args.get("entry_id") if request.view_args else None
    if current_user.is_authenticated:
        # Text sent to an entry one may not edit (or one deleted since) is kept as a new entry's draft.
        entry_id = access.editable_entry_id(current_user, entry_id)
        save(current_user, request.form, entry_id)
        db.session.commit()
        return _stale_form_response(entry_id)
    fields = _fields(request.form)
    if not (fields["title"].strip() or fields["body"].strip()):
        return None
    token = _claim_token()
    draft = db.session.scalar(
        select(EntryDraft).where(EntryDraft.user_id.is_(None), EntryDraft.claim_token == token, EntryDraft.key == key)
    )
    if draft is None:
        if entry_id is not None and db.session.get(JournalEntry, entry_id) is None:
            entry_id = None  # deleted meanwhile, or never there: a new entry's draft (claim checks the rest)
        draft = EntryDraft(key=key, claim_token=token, entry_id=entry_id)
        if entry_id is not None:
            draft.base_version = number(request.form.get("version"))
        db.session.add(draft)
    for name, value in fields.items():
        setattr(draft, name, value)
    draft.updated_at = utcnow()
    db.session.commit()
    resume = url_for("journal.resume_draft", key=key)
    if request.endpoint == "journal.autosave":
        return render("journal/_save_status.html", status=200, state="signed_out", login_link=login_url(resume))
    message = _("Your session has ended. Sign in again: your text has been kept as a draft.")
    if is_htmx_request():
        return Response("", 401, {"HX-Redirect": login_url(resume)})
    flash(message, "warning")
    return redirect(login_url(resume))


def _stale_form_response(entry_id: int | None) -> Response:
    """Signed in, but the page's form token had expired: the draft is saved; hand the form a fresh token."""
    from flask_wtf.csrf import generate_csrf

    if request.endpoint == "journal.autosave":
        return render("journal/_save_status.html", status=200, state="saved", now=utcnow(),
                      fresh_token=generate_csrf())
    flash(_("The page had been open for a long time. Your text is kept; press “Save” once more."), "warning")
    key = request.form.get("draft_key", "")
    if is_htmx_request():
        return Response("", 200, {"HX-Redirect": url_for("journal.resume_draft", key=key)})
    return redirect(url_for("journal.resume_draft", key=key), 303)


def claim(user: User, token: str | None) -> int:
    """After sign-in: the drafts rescued in this browser become the person's."""
    if not token:
        return 0
    rescued = db.session.scalars(
        select(EntryDraft).where(EntryDraft.user_id.is_(None), EntryDraft.claim_token == token)
    ).all()
    for draft in rescued:
        mine = db.session.scalar(select(EntryDraft).where(EntryDraft.user_id == user.id, EntryDraft.key == draft.key))
        if mine is not None:
            mine.title, mine.body, mine.visibility, mine.tags = draft.title, draft.body, draft.visibility, draft.tags
            mine.updated_at, mine.closed_at = draft.updated_at, None
            db.session.delete(draft)
        else:
            draft.user_id = user.id
            draft.claim_token = None
            if access.editable_entry_id(user, draft.entry_id) is None:
                draft.entry_id = draft.base_version = None  # not theirs to edit: a new entry's draft
    return len(rescued)

