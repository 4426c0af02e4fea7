from __future__ import annotations

from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from ..forms import Form
from ..i18n import lazy_gettext as _l

COMMENT_LIMIT = 20_000  # characters in one comment


class CommentForm(Form):
    body = TextAreaField(
        _l("Comment"),
        validators=[
            DataRequired(_l("The comment is empty. Write something first.")),
            Length(max=COMMENT_LIMIT, message=_l("The comment is longer than %(max)d characters. Shorten it; your text is kept below.")),
        ],
    )


def comment_form(element_id: str, **kwargs) -> CommentForm:
    """A comment form whose textarea has `element_id`: an entry page holds the new-comment form
    and, while editing, another one per comment, and ids must not repeat."""
    form = CommentForm(**kwargs)
    form.body.id = element_id
    form.body.label.field_id = element_id
    return form
