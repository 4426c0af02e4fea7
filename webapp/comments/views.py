"""Comments under a journal entry: the list and its poll, posting, editing and deleting one's own.

A comment's audience is exactly its entry's: every route first finds the entry (or the comment)
through webapp.access, and anything the person may not see answers 404."""
from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import Row

from .. import access, database, polls
from ..extensions import db, login_manager
from ..htmx import is_htmx_request, redirect_for, render
from ..i18n import gettext as _
from ..mentoring.answers import add_comment_once
from ..models import JournalEntry, utcnow
from ..notifications import events
from ..text import fingerprint, nothing_to_keep, saved_since_opened, seen_after_keeping
from ..urls import MAX_ID, login_url
from . import bp, drafts, panel
from .forms import CommentForm, comment_form


def _entry_to_comment_on(entry_id: int) -> JournalEntry:
    entry = access.entry_for_viewing(current_user, entry_id)
    if not access.can_comment(current_user, entry):
        abort(404)
    return entry


def _id_arg(value: str | None) -> int | None:
    """A comment id from the query or the form, or None; clamped to what the database stores (a
    number longer than the largest id is past every id, and never parsed: int() refuses thousands
    of digits)."""
    if value is None or not value.isascii() or not value.isdigit():
        return None
    return MAX_ID if len(value) > len(str(MAX_ID)) else min(int(value), MAX_ID)


def _entry_url(entry_id: int, anchor: str = "comments") -> str:
    return url_for("journal.show", entry_id=entry_id, _anchor=anchor)


def _edit_form(comment_id: int, **kwargs) -> CommentForm:
    return comment_form(f"comment-{comment_id}-body", **kwargs)


@bp.get("/entry/<int:entry_id>")
def index(entry_id: int):
    """The comment list of an entry; with ?after=<id>, the poll for anything newer."""
    after = _id_arg(request.args.get("after"))
    news = panel.NEWS.ask(entry_id=entry_id, after=after) if after is not None else None
    if news is not None and news.comment_id is None:
        return polls.nothing_new()  # the one statement of a poll that finds nothing (webapp.polls)
    if not current_user.is_authenticated:
        if after is not None and is_htmx_request():
            # Not the usual 401 + HX-Redirect: a background poll must not take the page, and the
            # comment being typed on it, to the login form. The poller is replaced and stops.
            return render("comments/_signed_out_poller.html", status=401,
                          login_link=login_url(url_for("journal.show", entry_id=entry_id, _anchor="comments")))
        return login_manager.unauthorized()
    if after is not None:
        return _poll(entry_id, after, news)
    entry = _entry_to_comment_on(entry_id)
    return render("comments/index.html", "comment_thread", entry=entry,
                  comment_section=panel.section_for(entry, current_user))


def _poll(entry_id: int, after: int, news: Row | None):
    news = panel.NEWS.row_for(current_user, news, entry_id=entry_id, after=after)
    if news is None:
        abort(404)
    if news.comment_id is None:
        return polls.nothing_new()
    section = panel.news_section(current_user, entry_id, news.author_id, after)
    if not section.comments:  # gone since the poll's statement saw it: an empty 200 would remove the poller
        return polls.nothing_new()
    return render("comments/_news.html", comment_section=section)


@bp.post("/entry/<int:entry_id>")
@login_required
def create(entry_id: int):
    entry = _entry_to_comment_on(entry_id)
    form = comment_form(panel.NEW_COMMENT_FIELD)
    if not form.validate():
        text, seen = drafts.typed()
        seen = seen_after_keeping(text, seen, drafts.save(current_user, entry.id, text, seen))
        db.session.commit()
        return render("comments/index.html", "comment_form", status=422, entry=entry,
                      comment_section=panel.section_for(entry, current_user, form=form, draft_seen=seen))
    shown = _id_arg(request.form.get("after"))  # htmx: the list's end marker
    if shown is None:
        shown = _id_arg(request.form.get("page_end"))  # a plain form: the newest comment its page showed
    comment, new = add_comment_once(entry, current_user, form.body.data, shown)
    if new:
        events.comment_added(comment, entry)
    drafts.clear_sent(current_user, entry.id, *drafts.typed())
    db.session.commit()
    if not is_htmx_request():
        return redirect_for(_entry_url(entry.id, f"comment-{comment.id}"))
    # Append everything newer than what the page shows (others' comments too), so that the
    # poller, which is handed the new newest id, skips nothing and repeats nothing.
    after = comment.id - 1 if shown is None else min(shown, comment.id - 1)
    section = panel.news_section(current_user, entry.id, entry.author_id, after, form=panel.new_comment_form())
    return render("comments/_created.html", status=201, comment_section=section, headers={"HX-Trigger": panel.COMMENT_ADDED})


@bp.post("/entry/<int:entry_id>/draft")
def autosave(entry_id: int):
    text, seen = drafts.typed()
    if nothing_to_keep(text, drafts.KEPT, entry_id=entry_id):
        return polls.nothing_new()
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    entry = _entry_to_comment_on(entry_id)
    state = drafts.save(current_user, entry.id, text, seen)
    db.session.commit()
    if state is None:
        return polls.nothing_new()
    return render("comments/_save_status.html", state=state, now=utcnow(), entry_id=entry.id, text=text)


@bp.get("/<int:comment_id>")
@login_required
def show(comment_id: int):
    """One comment: what an inline edit's "Cancel" puts back."""
    return render("comments/show.html", "comment", comment_section=panel.single(current_user, comment_id))


@bp.get("/<int:comment_id>/edit")
@login_required
def edit(comment_id: int):
    comment = access.comment_for_editing(current_user, comment_id)
    form = _edit_form(comment.id, formdata=None, data={"body": comment.body})
    return render("comments/edit.html", "comment_edit", comment=comment, form=form, base=fingerprint(comment.body))


@bp.post("/<int:comment_id>")
@login_required
def update(comment_id: int):
    comment = access.comment_for_editing(current_user, comment_id)
    database.read_for_update(comment)
    form = _edit_form(comment.id)
    base = request.form.get("base", "")
    if not form.validate():
        return render("comments/edit.html", "comment_edit", status=422, comment=comment, form=form, base=base)
    if saved_since_opened(comment.body, form.body.data, base):
        return render("comments/edit.html", "comment_edit", status=409, comment=comment, form=form,
                      base=fingerprint(comment.body), other=comment.body)
    if form.body.data != comment.body:
        comment.body = form.body.data
        comment.edited_at = utcnow()
    db.session.commit()
    if is_htmx_request():
        return render("comments/show.html", "comment", comment_section=panel.single(current_user, comment.id))
    flash(_("The comment is saved."), "success")
    return redirect_for(_entry_url(comment.entry_id, f"comment-{comment.id}"))


@bp.get("/<int:comment_id>/delete")
@login_required
def confirm_delete(comment_id: int):
    comment = access.comment_for_editing(current_user, comment_id)
    return render("comments/delete.html", comment=comment)


@bp.post("/<int:comment_id>/delete")
@login_required
def delete(comment_id: int):
    comment = access.comment_for_editing(current_user, comment_id)
    entry_id = comment.entry_id
    db.session.delete(comment)
    db.session.commit()
    if is_htmx_request():
        return render("comments/deleted.html", "deleted", comment_id=comment_id, entry_id=entry_id)
    flash(_("The comment is deleted."), "success")
    return redirect_for(_entry_url(entry_id))
