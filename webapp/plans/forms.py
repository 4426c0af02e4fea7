"""Forms of the self-education plan: the plan itself, a step, a step's status, a comment."""
from __future__ import annotations

from wtforms import DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..forms import Form
from ..i18n import lazy_gettext as _l
from ..mentoring.models import StepStatus
from ..numbers import number
from ..text import strip_controls

TOPIC_LIMIT = 300
STEP_TITLE_LIMIT = 300
TEXT_LIMIT = 20_000  # aim and tasks: a page or two
COMMENT_LIMIT = 10_000

STEP_STATUS_LABELS = {
    StepStatus.PLANNED: _l("planned"),
    StepStatus.IN_PROGRESS: _l("in progress"),
    StepStatus.DONE: _l("done"),
}


def _strip(value):
    value = strip_controls(value)
    return value.strip() if isinstance(value, str) else value


def whole_number(value) -> int | None:
    """A select's value as an id: '' is none; anything but a plain number is refused."""
    if value is None or value == "":
        return None
    if isinstance(value, int):
        return value
    parsed = number(value) if isinstance(value, str) else None
    if parsed is None:
        raise ValueError("not a number")
    return parsed


def status_choices() -> list[SelectChoice]:
    return [SelectChoice(s.value, STEP_STATUS_LABELS[s]) for s in StepStatus]


def _text_length():
    return Length(max=TEXT_LIMIT, message=_l("The text is longer than %(max)d characters."))


def _topic_length():
    return Length(max=TOPIC_LIMIT, message=_l("The topic is longer than %(max)d characters."))


class PlanForm(Form):
    topic = StringField(_l("Topic"), filters=[_strip],
                        validators=[DataRequired(_l("Name the topic of your self-education.")), _topic_length()])
    aim = TextAreaField(_l("Aim"), validators=[_text_length()])
    tasks = TextAreaField(_l("Tasks"), validators=[_text_length()],
                          description=_l("A list works best; Markdown is supported."))


class NewPlanForm(PlanForm):
    """A plan for one year; it may start as a copy of one of my earlier plans."""

    year = SelectField(_l("Academic year"), coerce=whole_number,
                       invalid_choice_message=_l("Choose one of the offered years."),
                       invalid_value_message=_l("Choose one of the offered years."))
    # A copy brings its topic along, so here the topic may stay empty (checked in validate()).
    topic = StringField(_l("Topic"), filters=[_strip], validators=[Optional(), _topic_length()])
    copy_from = SelectField(
        _l("Start from"), coerce=whole_number,
        description=_l("A copy takes the topic, aim, tasks and steps: the steps start as planned and their dates "
                       "move to the new year. Whatever you type below replaces the copied text."),
        invalid_choice_message=_l("Choose one of your plans."),
        invalid_value_message=_l("Choose one of your plans."),
    )

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.year.data is None and not self.year.errors:
            self.year.errors.append(_l("Choose the academic year."))
            valid = False
        if not self.topic.data and self.copy_from.data is None and not self.topic.errors:
            self.topic.errors.append(_l("Name the topic of your self-education."))
            valid = False
        return valid


class StepForm(Form):
    title = StringField(
        _l("Step"), filters=[_strip],
        validators=[DataRequired(_l("Say what the step is.")),
                    Length(max=STEP_TITLE_LIMIT, message=_l("The step is longer than %(max)d characters."))],
    )
    due_date = DateField(_l("Due date"), format=["%Y-%m-%d", "%d.%m.%Y"], validators=[Optional()],
                         invalid_value_message=_l("Enter the date as DD.MM.YYYY, e.g. 15.12.2026."))
    status = SelectField(_l("Status"), choices=status_choices, default=StepStatus.PLANNED.value,
                         invalid_choice_message=_l("Choose one of the statuses."))
    # A row's edit form: the step as the form was opened with it (webapp.plans.views._step_values),
    # so that saving changes only what was changed here, never what another tab saved meanwhile.
    opened = HiddenField()

    def validate_due_date(self, field):
        if field.data is not None and not 2000 <= field.data.year <= 2100:
            raise ValidationError(_l("Enter a date between the years 2000 and 2100."))


class StepStatusForm(Form):
    """The small form on each step row: its status only."""

    status = SelectField(_l("Status"), choices=status_choices,
                         invalid_choice_message=_l("Choose one of the statuses."))


class CommentForm(Form):
    body = TextAreaField(
        _l("Comment"),
        validators=[DataRequired(_l("Write the comment first.")),
                    Length(max=COMMENT_LIMIT, message=_l("The comment is longer than %(max)d characters."))],
    )
