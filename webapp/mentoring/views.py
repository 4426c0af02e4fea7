"""The methodist's desk, «Ждут ответа» with its reading pane, and setting an entry's status.

Everything here is the methodist's: anyone else gets 404, as if it were not there."""
from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from .. import access
from ..comments.panel import COMMENT_ADDED
from ..extensions import db
from ..htmx import is_fragment_request, is_htmx_request, redirect_for, render
from ..i18n import gettext as _
from ..i18n import lazy_gettext as _l
from ..models import JournalEntry, User
from ..numbers import number
from ..pagination import paginate
from ..text import fingerprint
from . import answers, bp, panel, queries
from .desk import attach_progress
from .forms import AnswerForm
from .models import CommentDraft, FeedbackStatus

FEEDBACK_LABELS = {FeedbackStatus.ACCEPTED: _l("Accepted"), FeedbackStatus.NEEDS_WORK: _l("Needs work")}
bp.add_app_template_global(FEEDBACK_LABELS, "FEEDBACK_LABELS")

AWAITING_PER_PAGE = 50


def _methodists_only() -> None:
    if not current_user.is_methodist:
        abort(404)


def _entry_to_answer(entry_id: int) -> JournalEntry:
    """An entry shared with the signed-in methodist, with its author and school; 404 for anything else."""
    entry = db.session.scalar(
        access.visible_entries(current_user).where(JournalEntry.id == entry_id)
        .options(joinedload(JournalEntry.author).joinedload(User.school))
    )
    if entry is None or not access.is_methodist_for(current_user, entry):
        abort(404)
    return entry


# The desk ------------------------------------------------------------------------------------------

@bp.get("/")
@login_required
def desk():
    _methodists_only()
    rows = queries.desk_rows(current_user)
    attach_progress(rows)
    return render("mentoring/desk.html", rows=rows, awaiting_total=sum(row.awaiting for row in rows),
                  quiet_after=queries.QUIET_AFTER_DAYS)


# «Ждут ответа» and the reading pane ----------------------------------------------------------------

def _author_filter() -> int | None:
    return number(request.values.get("author"))


def _reading_room(current: JournalEntry | None, *, form: AnswerForm | None = None, answered: JournalEntry | None = None) -> dict:
    author_id = _author_filter()
    # The fingerprint of the draft the form holds (webapp.text.keep_typed); a refused form keeps its own.
    draft_seen = request.form.get("draft_seen", "")
    if form is None:
        typed = _typed_before(current)
        form = AnswerForm(formdata=None, comment_only=True, data=typed)
        draft_seen = fingerprint(typed["body"]) if typed else ""
    return {
        "page": paginate(queries.awaiting_entries(current_user, author_id), per_page=AWAITING_PER_PAGE),
        "total": queries.awaiting_count(current_user, author_id),
        "author_id": author_id,
        "current": current,
        "form": form,
        "draft_seen": draft_seen,
        "answered": answered,
    }


def _typed_before(entry: JournalEntry | None) -> dict:
    """The comment this methodist began on the entry (autosaved), back in the pane."""
    draft = db.session.get(CommentDraft, (current_user.id, entry.id)) if entry is not None else None
    return {"body": draft.body} if draft is not None else {}


def _pane_url(entry: JournalEntry | None) -> str:
    author = _author_filter()
    if entry is None:
        return url_for("mentoring.awaiting", author=author)
    return url_for("mentoring.awaiting_entry", entry_id=entry.id, author=author)


@bp.get("/awaiting")
@login_required
def awaiting():
    _methodists_only()
    context = _reading_room(None)
    # The page opens the oldest entry in the pane at once; a page of the list alone (htmx) opens nothing.
    if context["page"].items and not is_fragment_request():
        context["current"] = context["page"].items[0]
        queries.record_read(context["current"].id, current_user.id)
    return render("mentoring/awaiting.html", "awaiting_list", **context)


@bp.get("/awaiting/<int:entry_id>")
@login_required
def awaiting_entry(entry_id: int):
    entry = _entry_to_answer(entry_id)
    queries.record_read(entry.id, current_user.id)
    return render("mentoring/awaiting.html", "pane_update", **_reading_room(entry))


@bp.post("/awaiting/<int:entry_id>")
@login_required
def answer(entry_id: int):
    entry = _entry_to_answer(entry_id)
    form = AnswerForm(comment_only=True)
    if not form.validate():
        return render("mentoring/awaiting.html", "reading_pane", status=422, **_reading_room(entry, form=form))
    answers.answer(entry, current_user, status=form.chosen_status, text=form.text,
                   seen=request.form.get("draft_seen", ""))
    db.session.commit()
    following = queries.next_awaiting(current_user, entry, _author_filter())
    if is_htmx_request():
        return render("mentoring/awaiting.html", "pane_update", headers={"HX-Push-Url": _pane_url(following)},
                      **_reading_room(following, answered=entry))
    flash(_("Your answer to “%(title)s” is saved.", title=entry.title), "success")
    return redirect_for(_pane_url(following))


# The status of one entry, from the entry page ------------------------------------------------------

@bp.post("/entries/<int:entry_id>/status")
@login_required
def set_status(entry_id: int):
    entry = _entry_to_answer(entry_id)
    form = AnswerForm()
    if not form.validate():
        return render("mentoring/status.html", "feedback_panel", status=422,
                      entry=entry, feedback=panel.for_methodist(entry, current_user, form))
    answer = answers.answer(entry, current_user, status=form.chosen_status, text=form.text,
                            seen=request.form.get("draft_seen", ""))
    db.session.commit()
    if is_htmx_request():
        # A comment came with the status: the page's comment list asks for it at once.
        return render("mentoring/status.html", "feedback_panel", entry=entry, saved=True,
                      feedback=panel.for_methodist(entry, current_user),
                      headers={"HX-Trigger": COMMENT_ADDED} if answer.comment is not None else None)
    flash(_("The status of “%(title)s” is saved.", title=entry.title), "success")
    return redirect_for(url_for("journal.show", entry_id=entry.id))
