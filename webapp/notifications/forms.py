from __future__ import annotations

import re

from wtforms import BooleanField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..forms import Form
from ..i18n import lazy_gettext as _l
from ..mentoring.models import NotificationKind

# Deliberately loose: one @, a dot in the domain, no spaces. The mail server is the real judge.
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
EMAIL_LENGTH = 254

KIND_LABELS = {
    NotificationKind.ENTRY_COMMENT: _l("A comment on my entry"),
    NotificationKind.THREAD_COMMENT: _l("A comment on an entry I commented on"),
    NotificationKind.ENTRY_STATUS: _l("A methodist’s status on my entry (accepted, needs more work)"),
    NotificationKind.ENTRY_SHARED: _l("An entry shared with me as a methodist"),
    NotificationKind.PLAN_COMMENT: _l("A comment on my self-education plan"),
    NotificationKind.THREAD_REPLY: _l("A reply in a discussion I started or took part in"),
    NotificationKind.NEW_THREAD: _l("A new discussion in a group I lead"),
    NotificationKind.MENTION: _l("A mention of me (@login) in a discussion"),
}


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class SettingsForm(Form):
    kinds = CheckboxesField(_l("Notify me about"), choices=[SelectChoice(k.value, label) for k, label in KIND_LABELS.items()],
                            invalid_choice_message=_l("Tick only the kinds of notification listed here."))
    weekly_digest = BooleanField(_l("Send me a weekly e-mail digest of unread notifications"))
    email = StringField(_l("E-mail address for the digest"), filters=[_strip])

    def validate_email(self, field):
        if not field.data:
            if self.weekly_digest.data:
                raise ValidationError(_l("Give an e-mail address for the digest, or turn the digest off."))
            return
        if len(field.data) > EMAIL_LENGTH or not EMAIL.fullmatch(field.data):
            raise ValidationError(_l("This does not look like an e-mail address; check it, e.g. name@school.ru."))


def muted_from(wanted: list[str]) -> str:
    """NotificationSettings.muted_kinds: the kinds not ticked, comma-separated."""
    return ",".join(k.value for k in NotificationKind if k.value not in set(wanted))


def wanted_from(muted: str | None) -> list[str]:
    muted_set = set((muted or "").split(","))
    return [k.value for k in NotificationKind if k.value not in muted_set]
