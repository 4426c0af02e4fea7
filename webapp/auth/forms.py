from __future__ import annotations

from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length

from ..forms import Form
from ..i18n import LOCALES
from ..i18n import lazy_gettext as _l

PASSWORD_MIN = 8


class LoginForm(Form):
    login = StringField(_l("Login"), validators=[DataRequired(_l("Enter your login.")), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password.")), Length(max=200)])
    remember = BooleanField(_l("Remember me on this computer (30 days)"))


class NewPasswordForm(Form):
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(_l("Enter a new password.")),
                    Length(min=PASSWORD_MIN, message=_l("The password needs at least %(min)d characters.")),
                    Length(max=200, message=_l("The password can be at most %(max)d characters long."))],
    )
    repeat = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(_l("Repeat the password.")), EqualTo("password", _l("The passwords do not match."))],
    )


class ChangePasswordForm(NewPasswordForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(_l("Enter your current password."))])


class LocaleForm(Form):
    locale = SelectField(_l("Interface language"), choices=[SelectChoice(code, name) for code, name in LOCALES.items()])
