"""Drafts: the text of an open editor, saved while the person types and rescued when a
request fails for reasons that are not theirs (an expired session or form token)."""
from __future__ import annotations

import hashlib
import re
import secrets
import time

from flask import Response, current_app, flash, redirect, request, url_for
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from .. import access
from ..extensions import db
from ..htmx import into_form_alert, is_htmx_request, render
from ..i18n import gettext as _
from ..models import EntryDraft, User, Visibility, utcnow
from ..numbers import number
from ..plans import queries as plan_queries
from ..text import strip_controls
from ..urls import DRAFT_KEY, login_url

RESCUE_ENDPOINTS = frozenset({"journal.create", "journal.update", "journal.autosave", "comments.create", "comments.autosave",
                              "threads.reply", "threads.autosave", "threads.create", "threads.autosave_new"})
_KEY = re.compile(DRAFT_KEY)
CLAIM_SESSION_KEY = "draft_claim"  # drafts rescued by the release before owner tokens (claim)
_OWNER_SALT = "rost.entry-draft-owner"
OWNER_TOKEN_DAYS = 7  # an editor open longer keeps its text in the page (webapp.errors), not as a draft


def new_key() -> str:
    return secrets.token_urlsafe(16)


def _fields(form) -> dict:
    visibility = form.get("visibility", Visibility.MENTORS)
    if visibility not in set(Visibility):
        visibility = Visibility.MENTORS
    return {
        # Whole, however long: a draft keeps even an entry too long to publish, and what one request
        # can carry (REQUEST_LIMIT) bounds it. Cut, it would lose what the person was told was kept.
        "title": strip_controls(form.get("title", "")) or "",
        "body": strip_controls(form.get("body", "")) or "",
        "visibility": visibility,
        "tags": strip_controls(form.get("tags", "")) or "",
        "step_id": number(form.get("step_id")),
    }


def save(user: User, form, entry_id: int | None) -> EntryDraft | None:
    """Upsert the draft named by the form's key. Nothing is stored for an empty new editor."""
    key = form.get("draft_key", "")
    if not _KEY.fullmatch(key):
        return None
    fields = _fields(form)
    draft = db.session.scalar(select(EntryDraft).where(EntryDraft.user_id == user.id, EntryDraft.key == key))
    step = fields["step_id"]
    if step is not None and (draft is None or draft.step_id != step) and not plan_queries.is_own_step(user.id, step):
        fields["step_id"] = None  # not a step of theirs (a changed page): none, as the form would refuse it
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


def _owner_serializer() -> URLSafeTimedSerializer:
    # Verified with the keys being retired too (SECRET_KEY_FALLBACKS), so that a planned change of
    # the key does not cut off the editors open at that moment.
    keys = [*(current_app.config.get("SECRET_KEY_FALLBACKS") or ()), current_app.secret_key]
    return URLSafeTimedSerializer(keys, salt=_OWNER_SALT)


def _session_mark(user: User) -> str:
    """Stands for the person's session token without showing it (the page is not the cookie)."""
    return hashlib.sha256(f"draft-owner:{user.session_token}".encode()).hexdigest()[:16]


def owner_token(user: User, key: str) -> str:
    """Signed into each entry editor (draft_owner): whose editor it is, for which draft, in which
    session. A save refused because the session ended keeps the text as that person's draft, never
    as the draft of whoever is signed in now. It stops working when the person signs out or
    changes the password (every session revoked), and after OWNER_TOKEN_DAYS."""
    return _owner_serializer().dumps([user.id, _session_mark(user), key])


def _writer(form) -> tuple[User | None, bool]:
    """The person the editor that sent `form` was shown to (its draft_owner, signed, for this very
    draft key), and whether the token still vouches for them: an active account, the same session
    token, under OWNER_TOKEN_DAYS old. (None, False) when it names nobody."""
    try:
        (user_id, mark, key), signed_at = _owner_serializer().loads(form.get("draft_owner", ""), return_timestamp=True)
    except (BadSignature, TypeError, ValueError):
        return None, False
    user = db.session.get(User, user_id) if type(user_id) is int and key == form.get("draft_key") else None
    if user is None:
        return None, False
    fresh = time.time() - signed_at.timestamp() <= OWNER_TOKEN_DAYS * 86400  # itsdangerous's own clock
    return user, user.active and mark == _session_mark(user) and fresh


def not_kept_for_an_earlier_sign_in() -> str:
    """Said when a form's token is not this session's (a page opened before the last sign-in in this
    browser, or a form of another site): nothing was stored, the text stays in the form."""
    return _("The page was opened before the last sign-in in this browser, so nothing was saved. "
             "Your text stays here: press the button once more.")


def rescue_if_text(*, own_token_expired: bool = False) -> Response | None:
    """Called when a request that carries an entry's text fails before its view ran.

    The text is stored as a draft of the person whose editor sent it (owner_token) and the person
    is told; None when the request carried no entry text, or its editor names nobody it can be
    kept for (webapp.errors then keeps the text in the page). The signed-in person's own editor
    is theirs whatever its token's age; an editor without a usable draft_owner is theirs only if
    its form token was this very session's, only too old (`own_token_expired`).
    """
    if request.endpoint not in RESCUE_ENDPOINTS or request.method != "POST":
        return None
    if request.endpoint.startswith("comments."):
        from ..comments import drafts as comment_drafts  # a comment's text is kept as its own draft

        return comment_drafts.rescue(own_token_expired=own_token_expired)
    if request.endpoint.startswith("threads."):
        from ..threads import drafts as thread_drafts  # a reply or a new thread is kept as its own draft

        return thread_drafts.rescue(own_token_expired=own_token_expired)
    key = request.form.get("draft_key", "")
    if not _KEY.fullmatch(key):
        return None
    writer, vouched = _writer(request.form)
    me = current_user._get_current_object() if current_user.is_authenticated else None
    if me is not None and ((writer is not None and writer.id == me.id) or (writer is None and own_token_expired)):
        owner = me
    elif writer is not None and vouched:
        owner = writer
    elif me is not None and writer is not None:
        return _kept_for_another_account(kept=False)  # its writer has signed out since: nothing stored
    else:
        return None
    entry_id = request.view_args.get("entry_id") if request.view_args else None
    # Text sent to an entry its writer may not edit (or one deleted since) is kept as a new entry's draft.
    if save(owner, request.form, access.editable_entry_id(owner, entry_id)) is None:
        return None
    db.session.commit()
    if me is not None and me.id == owner.id:
        return _stale_form_response()
    if me is not None:
        return _kept_for_another_account(kept=True)
    resume = url_for("journal.resume_draft", key=key)
    if request.endpoint == "journal.autosave":
        return render("journal/_save_status.html", status=200, state="signed_out", login_link=login_url(resume))
    # Said on the sign-in page, which htmx's HX-Redirect loads as a plain form's redirect would.
    flash(_("Your session has ended. Sign in again: your text has been kept as a draft."), "warning")
    if is_htmx_request():
        return Response("", 401, {"HX-Redirect": login_url(resume)})
    return redirect(login_url(resume))


def someone_elses(user: User, url: str) -> bool:
    """True when `url`, where a sign-in would go next, resumes a draft that is not `user`'s: text
    rescued for the person who was signed in here before (its address answers 404 to anyone
    else), so the sign-in goes to the person's own start page instead."""
    path = url.split("?", 1)[0]
    root = request.script_root
    if root and path.startswith(root + "/"):
        path = path[len(root):]
    try:
        endpoint, args = current_app.url_map.bind("").match(path, method="GET")
    except HTTPException:
        return False
    if endpoint != "journal.resume_draft":
        return False
    return all(db.session.scalar(drafts_of(user).where(EntryDraft.key == args["key"])) is None
               for drafts_of in (access.own_drafts, access.own_closed_drafts))


def _kept_for_another_account(*, kept: bool) -> Response:
    """Someone else has signed in in this browser since the editor was opened: its text is its
    writer's draft (`kept`), or, the writer having signed out since, nobody's; the person signed in
    now is told so, and the text stays in the form (409: nothing was saved for them)."""
    from ..errors import typed_text  # webapp.errors imports this module

    if kept:
        message = _("This editor was opened in another account, which is no longer signed in here. "
                    "Its text is kept as that account's draft; it also stays on this page.")
    else:
        message = _("This editor was opened in another account, which is no longer signed in here, so "
                    "nothing was saved. The text stays on this page: copy it if it is needed.")
    if request.endpoint == "journal.autosave":
        return render("journal/_save_status.html", status=409, state="other_account" if kept else "other_account_not_kept")
    if is_htmx_request():
        return render("errors/_kept_in_form.html", status=409, message=message, headers=into_form_alert())
    return render("errors/error.html", status=409, message=message, typed=typed_text())


def _stale_form_response() -> Response:
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
    """After sign-in: drafts rescued in this browser by the release before owner tokens, kept
    without a user, become the person's. Nothing new is stored that way."""
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
