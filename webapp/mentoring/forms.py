"""The methodist's answer to an entry: which button was pressed, and the comment typed."""
from __future__ import annotations

from wtforms import StringField, TextAreaField
from wtforms.validators import Length, ValidationError

from ..comments.forms import COMMENT_LIMIT
from ..forms import Form
from ..i18n import lazy_gettext as _l
from .models import FeedbackStatus

COMMENT_ONLY = "comment"  # the reading pane's third button: answer with a comment, set no status


class AnswerForm(Form):
    class Meta:
        # CSRFProtect checks every POST already; the prefix would rename this form's own token field.
        csrf = False

    status = StringField()  # the value of the submit button pressed
    body = TextAreaField(
        _l("Comment"),
        validators=[Length(max=COMMENT_LIMIT, message=_l("The comment is longer than %(max)d characters. Shorten it; your text is kept."))],
    )

    def __init__(self, *args, comment_only: bool = False, **kwargs):
        kwargs.setdefault("prefix", "feedback")  # unique ids next to the comment form on the entry page
        super().__init__(*args, **kwargs)
        self.allowed = {s.value for s in FeedbackStatus} | ({COMMENT_ONLY} if comment_only else set())

    def validate_status(self, field):
        if field.data not in self.allowed:
            raise ValidationError(_l("Choose one of the buttons: “Accepted” or “Needs work”."))

    def validate_body(self, field):
        if (field.data or "").strip():
            return
        if self.status.data == FeedbackStatus.NEEDS_WORK:
            raise ValidationError(_l("Say what needs more work: the comment is required for “Needs work”."))
        if self.status.data == COMMENT_ONLY:
            raise ValidationError(_l("Write the comment first."))

    @property
    def chosen_status(self) -> FeedbackStatus | None:
        return None if self.status.data == COMMENT_ONLY else FeedbackStatus(self.status.data)

    @property
    def text(self) -> str:
        return (self.body.data or "").strip()
