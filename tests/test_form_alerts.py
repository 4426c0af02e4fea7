"""A refused htmx form says why in its own alert line (webapp.htmx.into_form_alert: "find
.form-alert" from the form that sent the request, or in the form a Quote link targets). A form
holding typed text without that line would answer an expired session or a stale token with nothing visible: each press of its button
would seem to do nothing, and a reload would lose the text. And a second press of what posts, while
the first is on its way, sends nothing."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from webapp.errors import TYPED_FIELDS

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
FORM = re.compile(r"<form\b(?P<attrs>[^>]*)>(?P<body>.*?)</form>", re.S)
TYPED = re.compile(r"field\(\s*[\w.]+\.(?P<name>\w+)\b|<textarea\b")
INCLUDE = re.compile(r'{%-?\s*include\s+"(?P<name>[^"]+)"')


def _source(path: Path) -> str:
    """The template with the partials it includes, as the form's markup would read."""
    text = path.read_text(encoding="utf-8")
    return INCLUDE.sub(lambda m: _source(TEMPLATES / m.group("name")) if (TEMPLATES / m.group("name")).exists() else "", text)


def _typed(body: str) -> bool:
    return any(m.group("name") is None or m.group("name") in TYPED_FIELDS for m in TYPED.finditer(body))


def htmx_forms_with_typed_text():
    for path in sorted(TEMPLATES.rglob("*.html")):
        for n, form in enumerate(FORM.finditer(_source(path))):
            if "hx-post" in form.group("attrs") and _typed(form.group("body")):
                yield pytest.param(form.group("body"), id=f"{path.relative_to(TEMPLATES)}#{n}")


def test_forms_with_typed_text_are_found():
    assert len(list(htmx_forms_with_typed_text())) >= 15  # the scan itself still sees the editors


@pytest.mark.parametrize("body", list(htmx_forms_with_typed_text()))
def test_an_htmx_form_with_typed_text_has_an_alert_line(body):
    assert 'class="form-alert"' in body


def test_a_form_s_messages_are_one_alert_not_one_inside_another():
    """form_errors inside the alert line drops its own role="alert": nested, screen readers say it twice."""
    nested = re.compile(r'role="alert">\{\{\s*form_errors\((?![^)]*nested=true)')
    found = [str(path.relative_to(TEMPLATES)) for path in TEMPLATES.rglob("*.html") if nested.search(path.read_text(encoding="utf-8"))]
    assert found == []
    uses = sum(path.read_text(encoding="utf-8").count("nested=true") for path in TEMPLATES.rglob("*.html"))
    assert uses >= 7  # the scan still sees the alert lines that hold form_errors


def test_whatever_a_press_sends_drops_a_second_press_while_the_first_is_on_its_way():
    """htmx 4 queues a second request of one element behind the first, with what it held when pressed:
    a double click on «Отправить» would post the comment twice. Every form and link that posts drops it."""
    pressed = re.compile(r'<(?:form|a|button)\b[^>]*?\shx-post="[^"]*"[^>]*>', re.S)
    found = [(str(path.relative_to(TEMPLATES)), tag.group(0)) for path in TEMPLATES.rglob("*.html")
             for tag in pressed.finditer(_source(path))]
    assert len(found) >= 30  # the scan still sees them
    assert [where for where, tag in found if 'hx-sync="this:drop"' not in tag] == []
