"""Drafts: the text of an open editor, saved while the person types and rescued when a
request fails for reasons that are not theirs (an expired session or form token)."""
from __future__ import annotations

import re
import secrets

from flask import Response, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from .. import access
from ..extensions import db
from ..htmx import is_htmx_request, render
from ..models import EntryDraft, User, Visibility, utcnow
from ..numbers import number
from ..text import strip_controls
from ..urls import DRAFT_KEY, login_url

RESCUE_ENDPOINTS = frozenset({"journal.create", "journal.update", "journal.autosave", "comments.create", "comments.autosave",
                              "threads.reply", "threads.autosave", "threads.create", "threads.autosave_new"})
_KEY = re.compile(DRAFT_KEY)
_OWNER_SALT = "rost.entry-draft-owner"
DRAFT_TEXT_LIMIT = 1_000_000  # a draft keeps even an entry too long to publish


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


def owner_token(user: User) -> str:
    """Signed into each entry editor (draft_owner): whose text it is. A save refused because the
    session ended keeps the text as that person's draft, and as nobody else's, whoever signs in
    next on the same computer."""
    return URLSafeSerializer(current_app.secret_key, salt=_OWNER_SALT).dumps(user.id)


def _owner(form) -> User | None:
    """The active person the editor was shown to, from its draft_owner; None if it names nobody."""
    try:
        user_id = URLSafeSerializer(current_app.secret_key, salt=_OWNER_SALT).loads(form.get("draft_owner", ""))
    except BadSignature:
        return None
    user = db.session.get(User, user_id) if type(user_id) is int else None
    return user if user is not None and user.active else None


def rescue_if_text() -> Response | None:
    """Called when a request that carries an entry's text fails before its view ran.

    The text is stored as a draft of the person the editor was shown to (owner_token) and the
    person is told; None when the request carried no entry text, or none that can be kept so.
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
    owner = _owner(request.form)
    if current_user.is_authenticated and (owner is None or owner.id == current_user.id):
        # Text sent to an entry one may not edit (or one deleted since) is kept as a new entry's draft.
        entry_id = access.editable_entry_id(current_user, entry_id)
        save(current_user, request.form, entry_id)
        db.session.commit()
        return _stale_form_response(entry_id)
    # Signed out, or someone else signed in since in this browser: the text is kept for the person
    # the editor was shown to, found again when they sign in. Without that, nothing is stored here
    # (webapp.errors keeps the text in the page).
    if owner is None:
        return None
    if save(owner, request.form, access.editable_entry_id(owner, entry_id)) is None:
        return None
    db.session.commit()
    resume = url_for("journal.resume_draft", key=key)
    if request.endpoint == "journal.autosave":
        return render("journal/_save_status.html", status=200, state="signed_out", login_link=login_url(resume))
    # Said on the sign-in page, which htmx's HX-Redirect loads as a plain form's redirect would.
    flash(_("Your session has ended. Sign in again: your text has been kept as a draft."), "warning")
    if is_htmx_request():
        return Response("", 401, {"HX-Redirect": login_url(resume)})
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
