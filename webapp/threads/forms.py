"""Forms of the discussions: a reply (also an edited post) and a new thread."""
from __future__ import annotations

from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from ..forms import Form
from ..i18n import lazy_gettext as _l

POST_LIMIT = 50_000  # characters in one post
TITLE_LIMIT = 200

REPLY_FIELD = "reply-body"  # the reply form's textarea: quotes and autosave find it by this id


class PostForm(Form):
    body = TextAreaField(
        _l("Your message"),
        validators=[
            DataRequired(_l("The message is empty. Write something first.")),
            Length(max=POST_LIMIT, message=_l("The message is longer than %(max)d characters. Shorten it; your text is kept below.")),
        ],
    )


def post_form(element_id: str = REPLY_FIELD, **kwargs) -> PostForm:
    """A post form whose textarea has `element_id`: a thread page holds the reply form and, while
    editing, one more per post, and ids must not repeat."""
    form = PostForm(**kwargs)
    form.body.id = element_id
    form.body.label.field_id = element_id
    return form


class ThreadForm(Form):
    title = StringField(
        _l("Title"),
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
        validators=[
            DataRequired(_l("Give the thread a title.")),
            Length(max=TITLE_LIMIT, message=_l("The title is longer than %(max)d characters.")),
        ],
    )
    body = TextAreaField(
        _l("First message"),
        validators=[
            DataRequired(_l("The message is empty. Write something first.")),
            Length(max=POST_LIMIT, message=_l("The message is longer than %(max)d characters. Shorten it; your text is kept below.")),
        ],
    )


def thread_form(**kwargs) -> ThreadForm:
    form = ThreadForm(**kwargs)
    form.title.id, form.title.label.field_id = "thread-title", "thread-title"
    form.body.id, form.body.label.field_id = "thread-body", "thread-body"
    return form
