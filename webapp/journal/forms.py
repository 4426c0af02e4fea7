from __future__ import annotations

import re

from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from ..config import ENTRY_BODY_LIMIT
from ..forms import Form
from ..i18n import lazy_gettext as _l
from ..models import Visibility
from ..numbers import number
from ..text import strip_controls

MAX_TAGS = 10
TAG_LENGTH = 40


def parse_tags(raw: str | None) -> list[str]:
    seen: dict[str, None] = {}
    for part in (raw or "").replace(";", ",").split(","):
        tag = " ".join((strip_controls(part) or "").split()).lower().lstrip("#")
        if tag:
            seen.setdefault(tag, None)
    return list(seen)


def step_choices():
    from ..plans.queries import step_choices as own_plan_steps

    return own_plan_steps()


def step_number(value) -> int | None:
    """The selected step's id; '' means no step, anything but a number is refused (422)."""
    from ..plans.forms import whole_number

    return whole_number(value)


def version_number(value) -> int | None:
    """The version the editor opened on. Anything but a number is no version: the save is shown
    as a conflict with the saved entry beside the text (webapp.journal.views._conflict), never
    refused without a word."""
    return value if isinstance(value, int) else number(value)


def visibility_choices():
    from ..templating import VISIBILITY_LABELS

    return [SelectChoice(v.value, VISIBILITY_LABELS[v]) for v in (Visibility.MENTORS, Visibility.PRIVATE, Visibility.COLLEAGUES)]


class EntryForm(Form):
    title = StringField(
        _l("Title"),
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
        validators=[DataRequired(_l("Give the entry a title.")), Length(max=200, message=_l("The title is longer than 200 characters."))],
    )
    body = TextAreaField(
        _l("Text"),
        validators=[Length(max=ENTRY_BODY_LIMIT, message=_l("The text is longer than %(max)d characters. Shorten it or split it into two entries; your text is kept below and in the drafts."))],
    )
    visibility = SelectField(_l("Who can see it"), choices=visibility_choices, default=Visibility.MENTORS.value)
    tags = StringField(_l("Tags"), description=_l("Comma-separated, e.g.: reading, project week"))
    # Only the steps of the author's own plans are offered, and only they pass validation.
    step_id = SelectField(_l("Step of my self-education plan"), choices=step_choices, coerce=step_number,
                          invalid_choice_message=_l("Choose a step of one of your own plans."),
                          invalid_value_message=_l("Choose a step of one of your own plans."))
    version = HiddenField(filters=[version_number])
    draft_key = HiddenField()

    def validate_tags(self, field):
        tags = parse_tags(field.data)
        if len(tags) > MAX_TAGS:
            raise ValidationError(_l("At most %(n)d tags.", n=MAX_TAGS))
        if any(len(t) > TAG_LENGTH for t in tags):
            raise ValidationError(_l("A tag may have at most %(n)d characters.", n=TAG_LENGTH))

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        # A hidden field has no place of its own on the page: its message goes above the form.
        self.form_errors.extend(e for e in self.draft_key.errors if e not in self.form_errors)
        return valid

    def validate_draft_key(self, field):
        if field.data and not re.fullmatch(r"[A-Za-z0-9_-]{8,64}", field.data):
            # Only a tampered or mangled page sends such a key; no draft can be kept under it.
            raise ValidationError(_l("This form is out of date. Copy your text (it is still in the form below), "
                                     "reload the page and paste the text in again."))
