"""What the entry page shows of mentoring: the methodists' feedback and reading marks.

Called after the access check. What goes into the panel is decided here, per viewer: the author
sees the statuses and whether each methodist has read the entry; the author's methodist sees
their own status and the form to set it; anyone else sees nothing of it."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import request

from .. import access
from ..models import JournalEntry, User, Visibility
from . import queries
from .forms import AnswerForm


@dataclass
class FeedbackPanel:
    entry_id: int
    verdicts: list[queries.Verdict] = field(default_factory=list)
    reads: list[queries.ReadMark] = field(default_factory=list)
    form: AnswerForm | None = None  # only for a methodist who may mark the entry
    mine: queries.Verdict | None = None


def for_author(entry: JournalEntry) -> FeedbackPanel:
    reads = queries.read_marks(entry) if entry.visibility != Visibility.PRIVATE else []
    return FeedbackPanel(entry_id=entry.id, verdicts=queries.verdicts_on(entry.id), reads=reads)


def for_methodist(entry: JournalEntry, methodist: User, form: AnswerForm | None = None) -> FeedbackPanel:
    verdicts = queries.verdicts_on(entry.id)
    mine = next((v for v in verdicts if v.methodist_id == methodist.id), None)
    return FeedbackPanel(entry_id=entry.id, verdicts=verdicts, mine=mine,
                         form=form or AnswerForm(formdata=None))


def entry_context(entry: JournalEntry, viewer: User) -> dict:
    if entry.author_id == viewer.id:
        return {"feedback": for_author(entry)}
    if access.is_methodist_for(viewer, entry):
        if request.method == "GET":
            queries.record_read(entry.id, viewer.id)
        return {"feedback": for_methodist(entry, viewer)}
    return {}
