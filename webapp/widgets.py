"""Field markup exactly as WTForms writes it (the same attributes in the same order, escaped the
same way), without WTForms' string formatting of every attribute: the journal page's new-entry
form (five fields) spent most of its time there, a tenth of the page. webapp.forms.Form renders
the plain widgets below with these; any other widget (a list of checkboxes, a multiple select, a
date, a field with a datalist) as WTForms does. tests/test_widgets.py holds each kind of field,
and the new-entry form's, to WTForms' own markup."""
from __future__ import annotations

from markupsafe import Markup, escape
from wtforms import widgets
from wtforms.widgets.core import clean_key


def attributes(attrs: dict) -> str:
    """WTForms' html_params: sorted by name, `class_` written `class` and `data_x` `data-x`, True a
    bare attribute, False none."""
    out = []
    for name, value in sorted(attrs.items()):
        name = clean_key(name)
        if value is True:
            out.append(escape(name))
        elif value is not False:
            out.append(f'{escape(name)}="{str(escape(value)).replace(chr(34), "&quot;")}"')
    return " ".join(out)


def _validation(widget, field, attrs: dict, *, call: bool = False) -> None:
    """The flags the field's validators set (required, maxlength, …) that the widget writes as
    attributes, unless the template gave them. `call`: a flag that is a function gives its value
    (an input's do, a textarea's and a select's do not)."""
    flags = vars(field.flags)
    for name in widget.validation_attrs:
        if name in flags and name not in attrs:
            value = flags[name]
            attrs[name] = value() if call and callable(value) else value


def _input(widget, field, attrs: dict) -> Markup:
    attrs.setdefault("id", field.id)
    attrs.setdefault("type", widget.input_type)
    if "value" not in attrs:
        attrs["value"] = field._value()
    _validation(widget, field, attrs, call=True)
    attrs["name"] = field.name
    return Markup(f"<input {attributes(attrs)}>")


def _password(widget, field, attrs: dict) -> Markup:
    if widget.hide_value:
        attrs["value"] = ""
    return _input(widget, field, attrs)


def _checkbox(widget, field, attrs: dict) -> Markup:
    if getattr(field, "checked", field.data):
        attrs.setdefault("checked", True)
    return _input(widget, field, attrs)


def _textarea(widget, field, attrs: dict) -> Markup:
    attrs.setdefault("id", field.id)
    _validation(widget, field, attrs)
    attrs["name"] = field.name
    return Markup(f"<textarea {attributes(attrs)}>\r\n{escape(field._value())}</textarea>")


def _option(choice) -> str:
    value = str(choice.value) if isinstance(choice.value, bool) else choice.value
    attrs = {"value": value, **(choice.render_kw or {})}
    if choice.selected:
        attrs["selected"] = True
    return f"<option {attributes(attrs)}>{escape(choice.label or choice.value)}</option>"


def _select(widget, field, attrs: dict) -> Markup | None:
    if widget.multiple:
        return None
    attrs.setdefault("id", field.id)
    _validation(widget, field, attrs)
    attrs["name"] = field.name
    html = [f"<select {attributes(attrs)}>"]
    if field.has_groups():
        for group, choices in field._iter_groups_normalized():
            if group is not None:
                html.append(f"<optgroup {attributes({'label': group})}>")
            html.extend(_option(choice) for choice in choices)
            if group is not None:
                html.append("</optgroup>")
    else:
        html.extend(_option(choice) for choice in field._iter_choices_normalized())
    html.append("</select>")
    return Markup("".join(html))


# By the widget's exact class: a subclass may write other markup.
_WRITERS = {
    widgets.TextInput: _input,
    widgets.HiddenInput: _input,
    widgets.EmailInput: _input,
    widgets.PasswordInput: _password,
    widgets.CheckboxInput: _checkbox,
    widgets.TextArea: _textarea,
    widgets.Select: _select,
}


def render(field, field_kw: dict | None, template_kw: dict) -> Markup | None:
    """The field's markup with the attributes its declaration (render_kw) and the template give,
    the template's winning; None where WTForms should write it."""
    writer = _WRITERS.get(type(field.widget))
    if writer is None or getattr(field, "_datalist", None) is not None:
        return None
    attrs = {clean_key(name): value for name, value in (field_kw or {}).items()}
    attrs.update((clean_key(name), value) for name, value in template_kw.items())
    if "name" in attrs:
        return None  # WTForms refuses a second name
    return writer(field.widget, field, attrs)
