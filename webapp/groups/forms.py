"""Forms for groups: the administrator's group form (name, kind, open or closed, leaders), the
leader's description form, and the one-person form that adds or removes a member.

Messages that quote what someone typed use gettext, never lazy_gettext (see admin/forms.py)."""
from __future__ import annotations

from sqlalchemy import func, select
from wtforms import BooleanField, SelectChoice, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length, ValidationError

from ..extensions import db
from ..forms import Form
from ..i18n import gettext as _
from ..i18n import lazy_gettext as _l
from ..models import User
from ..numbers import id_choice
from .models import Group, GroupKind

NAME_LIMIT = 200
DESCRIPTION_LIMIT = 20_000



def squash_spaces(value: str | None) -> str | None:
    return " ".join(value.split()) if isinstance(value, str) else value


KIND_LABELS = {
    GroupKind.ASSOCIATION: _l("Methodological association"),
    GroupKind.CREATIVE: _l("Creative group"),
    GroupKind.PROJECT: _l("Project group"),
    GroupKind.OTHER: _l("Other"),
}


def kind_choices() -> list[SelectChoice]:
    return [SelectChoice(kind.value, label) for kind, label in KIND_LABELS.items()]


def _description_field() -> TextAreaField:
    return TextAreaField(
        _l("Description"), validators=[Length(max=DESCRIPTION_LIMIT, message=_l("The description is longer than %(max)d characters."))],
        description=_l("What the group works on and how to take part. Markdown: *italics*, **bold**, lists, links."),
    )


class GroupForm(Form):
    """An administrator creates or edits a group and names its leaders."""

    name = StringField(
        _l("Name of the group"), filters=[squash_spaces],
        validators=[DataRequired(_l("Enter the name of the group.")),
                    Length(max=NAME_LIMIT, message=_l("The name is longer than %(max)d characters."))],
    )
    kind = SelectField(_l("Kind"), choices=kind_choices, default=GroupKind.ASSOCIATION.value, validate_choice=False,
                       validators=[AnyOf([k.value for k in GroupKind], message=_l("Choose a kind from the list."))])
    is_open = BooleanField(_l("Open group: every signed-in person may read it and join"), default=True)
    description = _description_field()
    leaders = SelectMultipleField(_l("Leaders"), coerce=id_choice, validate_choice=False,
                                  description=_l("They edit the description and add or remove members."))

    def __init__(self, *args, people: list[User], group: Group | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.group = group  # None while creating
        self.leaders.choices = [SelectChoice(str(p.id), p.display_name) for p in people]

    def validate_name(self, field):
        taken = db.session.scalar(select(Group.name).where(func.lower(Group.name) == field.data.lower(),
                                                           Group.id != (self.group.id if self.group else 0)))
        if taken is not None:
            raise ValidationError(duplicate_name_message(taken))

    def validate_leaders(self, field):
        offered = {id_choice(choice.value) for choice in field.choices}
        if any(value not in offered for value in field.data or []):
            raise ValidationError(_l("Choose leaders from the list."))


def duplicate_name_message(name: str) -> str:
    return _("There is already a group named “%(name)s”. Choose another name.", name=name)


class DescriptionForm(Form):
    """What a leader may change: the description."""

    description = _description_field()


class MemberForm(Form):
    """One person to add to a group (chosen from `people`) or to remove from it."""

    user_id = SelectField(_l("Person"), coerce=id_choice, validate_choice=False)

    def __init__(self, *args, people: list[User] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.people = people
        self.user_id.choices = [SelectChoice("", _l("Choose a person"))] + [
            SelectChoice(str(p.id), p.display_name) for p in people or []
        ]

    def validate_user_id(self, field):
        if not field.data or (self.people is not None and field.data not in {p.id for p in self.people}):
            raise ValidationError(_l("Choose a person from the list."))

    def chosen(self) -> User | None:
        return next((p for p in self.people or [] if p.id == self.user_id.data), None)
