"""Forms of the administration pages. Rules that need the database are checked here (as microblog does),
through webapp/accounts.py, so that each message lands on its own field.

Messages that quote what someone typed use gettext, never lazy_gettext: Jinja treats a lazy string as
safe HTML and would not escape the quoted text."""
from __future__ import annotations

from wtforms import HiddenField, SelectChoice, SelectField, SelectMultipleField, StringField
from wtforms.validators import AnyOf, DataRequired, Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from .. import accounts
from ..accounts import NAME_LIMIT, SCHOOL_NAME_LIMIT
from ..forms import Form
from ..i18n import LOCALES
from ..i18n import gettext as _
from ..i18n import lazy_gettext as _l
from ..models import Role, School, User
from ..numbers import id_choice


def squash_spaces(value: str | None) -> str | None:
    return " ".join(value.split()) if isinstance(value, str) else value


def role_choices():
    from ..templating import ROLE_LABELS

    return [SelectChoice(role.value, ROLE_LABELS[role]) for role in Role]


class UserForm(Form):
    login = StringField(
        _l("Login"),
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
        validators=[DataRequired(_l("Enter a login."))],
        description=_l("Latin letters, digits, dots, dashes or underscores. The person signs in with it."),
    )
    display_name = StringField(
        _l("Name"),
        filters=[squash_spaces],
        validators=[DataRequired(_l("Enter the person's name.")),
                    Length(max=NAME_LIMIT, message=_l("The name is longer than %(max)d characters."))],
        description=_l("As colleagues will see it, e.g. Anna Smirnova."),
    )
    role = SelectField(_l("Role"), choices=role_choices, default=Role.LIBRARIAN.value, validate_choice=False,
                       validators=[AnyOf([r.value for r in Role], message=_l("Choose a role from the list."))])
    school_id = SelectField(_l("School"), coerce=id_choice, validate_choice=False)
    locale = SelectField(_l("Interface language"), choices=[SelectChoice(k, v) for k, v in LOCALES.items()], default="ru", validate_choice=False,
                         validators=[AnyOf(list(LOCALES), message=_l("Choose a language from the list."))])
    # Editing: the fingerprint of the account's details the form opened on (webapp.admin.views._profile).
    profile_base = HiddenField()

    def __init__(self, *args, schools: list[School], user: User | None = None, editor: User | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user  # None while creating
        self.editor = editor
        self.school_id.choices = [SelectChoice("", _l("No school"))] + [SelectChoice(str(s.id), s.name) for s in schools]

    def validate_login(self, field):
        try:
            field.data = accounts.check_login(field.data, except_user_id=self.user.id if self.user else None)
        except accounts.AccountError as error:
            raise ValidationError(str(error)) from None

    def validate_role(self, field):
        # An administrator who demoted themselves would lock themselves out of these pages.
        if self.user is not None and self.editor is not None and self.user.id == self.editor.id and field.data != Role.ADMIN:
            raise ValidationError(_l("You cannot take the administrator role away from yourself."))

    def validate_school_id(self, field):
        if field.data is not None and str(field.data) not in {choice.value for choice in field.choices}:
            raise ValidationError(_l("Choose a school from the list."))


class MethodistsForm(Form):
    methodists = SelectMultipleField(
        _l("Methodists"), coerce=id_choice, validate_choice=False,
        widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
    )

    def __init__(self, *args, methodists: list[User], **kwargs):
        super().__init__(*args, **kwargs)
        self.methodists.choices = [
            SelectChoice(str(m.id), m.display_name if m.active else _("%(name)s (deactivated)", name=m.display_name))
            for m in methodists
        ]

    def validate_methodists(self, field):
        offered = {id_choice(choice.value) for choice in field.choices}
        if any(value not in offered for value in field.data or []):
            raise ValidationError(_l("Choose methodists from the list."))


class SchoolForm(Form):
    class Meta:
        # CSRFProtect checks every POST already; a per-row prefix would rename this form's own token field.
        csrf = False

    name = StringField(
        _l("Name of the school"),
        filters=[squash_spaces],
        validators=[DataRequired(_l("Enter the name of the school.")),
                    Length(max=SCHOOL_NAME_LIMIT, message=_l("The name is longer than %(max)d characters."))],
    )
    name_base = HiddenField()  # renaming: the fingerprint of the name the form opened on

    def __init__(self, *args, school: School | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.school = school  # None for a new school

    def validate_name(self, field):
        same = accounts.school_named(field.data, except_id=self.school.id if self.school else None)
        if same is not None:
            raise ValidationError(duplicate_school_message(same.name))


def duplicate_school_message(name: str) -> str:
    # gettext, not lazy_gettext: a lazy string counts as safe HTML, and the name is someone's input.
    return _("There is already a school named “%(name)s”. Choose another name.", name=name)


class SchoolMethodistForm(Form):
    """One methodist for every librarian of a school at once."""

    methodist = SelectField(_l("Methodist"), coerce=id_choice, validate_choice=False)

    def __init__(self, *args, methodists: list[User], **kwargs):
        super().__init__(*args, **kwargs)
        self.methodist.choices = [SelectChoice("", _l("Choose a methodist"))] + [
            SelectChoice(str(m.id), m.display_name) for m in methodists
        ]

    def validate_methodist(self, field):
        if field.data is None:
            raise ValidationError(_l("Choose a methodist."))
        if str(field.data) not in {choice.value for choice in field.choices[1:]}:
            raise ValidationError(_l("Choose methodists from the list."))
