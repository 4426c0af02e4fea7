"""Repeated controls name their item: a screen reader's list of a page's links and buttons reads
"Edit comment of …", "Remove: Ольга Петрова", never ten times "Edit". The words are in the
control itself, hidden from sight (.visually-hidden), so its accessible name starts with what
is seen."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta
from html.parser import HTMLParser

import pytest

from webapp.extensions import db
from webapp.groups.models import Post
from webapp.mentoring.models import Comment, NotificationKind
from webapp.models import EntryDraft, Visibility, utcnow

from . import factories
from .conftest import login

NAMED = ("a", "button", "summary", "label")


class _Names(HTMLParser):
    """The text of every link, button, summary and label inside <main>: their accessible names."""

    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []
        self._open: list[list[str]] = []
        self._in_main = 0

    def handle_starttag(self, tag, attrs):
        if tag == "main":
            self._in_main += 1
        elif self._in_main and tag in NAMED:
            self._open.append([])

    def handle_endtag(self, tag):
        if tag == "main":
            self._in_main -= 1
        elif self._in_main and tag in NAMED and self._open:
            self.names.append(" ".join("".join(self._open.pop()).split()))

    def handle_data(self, data):
        for words in self._open:
            words.append(data)


def names_starting(html: str, seen: str) -> list[str]:
    parser = _Names()
    parser.feed(html)
    return [name for name in parser.names if name.startswith(seen)]


def assert_each_names_its_item(names: list[str], items: list[str], count: int) -> None:
    assert len(names) == count, names
    assert not [name for name, n in Counter(names).items() if n > 1], names
    for item in items:
        assert any(item in name for name in names), (item, names)


def _spread(model, ids: list[int]) -> None:
    """Items made a day apart, as they would be: the names tell them apart by their time."""
    for days, item_id in enumerate(reversed(ids)):
        db.session.get(model, item_id).created_at = utcnow() - timedelta(days=days + 1)
    db.session.commit()


def test_own_comments_edit_and_delete_name_the_comment(client, people):
    entry = factories.make_entry(people["author"], visibility=Visibility.MENTORS)
    comments = [factories.make_comment(entry, people["author"], body=f"Мысль {n}") for n in range(3)]
    factories.make_comment(entry, people["methodist"])
    _spread(Comment, comments)
    html = login(client, people["author"]).get(f"/journal/{entry}").get_data(as_text=True)
    edits = names_starting(html, "Изменить комментарий от")
    assert_each_names_its_item(edits, [], 3)
    assert len(names_starting(html, "Удалить комментарий от")) == 3
    assert [name for name in names_starting(html, "Изменить") if name not in edits] == ["Изменить"]  # the entry's


def test_posts_quote_edit_and_delete_name_the_message_and_its_author(client, people):
    group = factories.make_group(members=(people["author"], people["librarian"]))
    thread = factories.make_thread(group, people["librarian"])
    posts = factories.make_posts(thread, people["author"], 2)
    _spread(Post, [*posts[:1], *factories.make_posts(thread, people["librarian"], 1)])
    html = login(client, people["author"]).get(f"/threads/{thread}", follow_redirects=True).get_data(as_text=True)
    quotes = names_starting(html, "Цитировать сообщение от")
    assert_each_names_its_item(quotes, ["автор: Ольга Петрова", "автор: Анна Смирнова"], 4)
    assert len(names_starting(html, "Изменить сообщение от")) == 2  # her own two
    assert all("автор: Анна Смирнова" in name for name in names_starting(html, "Изменить"))


def test_mark_as_read_names_the_notification(client, people):
    entries = [factories.make_entry(people["author"], title=f"Запись {n}") for n in range(2)]
    for entry in entries:
        factories.make_notification(people["author"], NotificationKind.ENTRY_COMMENT, actor_id=people["methodist"], entry_id=entry)
    html = login(client, people["author"]).get("/notifications/").get_data(as_text=True)
    assert_each_names_its_item(names_starting(html, "Отметить как прочитанное:"), ["Запись 0", "Запись 1"], 2)


def test_remove_names_the_member(client, people):
    group = factories.make_group(leaders=(people["methodist"],), members=(people["author"], people["librarian"]))
    html = login(client, people["methodist"]).get(f"/groups/{group}/members").get_data(as_text=True)
    assert_each_names_its_item(names_starting(html, "Исключить:"), ["Анна Смирнова", "Ольга Петрова"], 2)


def test_delete_the_draft_names_the_draft(client, people):
    for title in ("Весенний отчёт", "Заметки о кружке"):
        db.session.add(EntryDraft(key=f"key-{title}", user_id=people["author"], title=title, body="текст"))
    db.session.commit()
    html = login(client, people["author"]).get("/journal/drafts").get_data(as_text=True)
    assert_each_names_its_item(names_starting(html, "Удалить черновик:"), ["Весенний отчёт", "Заметки о кружке"], 2)


@pytest.mark.parametrize("seen", ["Состояние:", "Изменить:", "Написать запись об этом шаге:", "Изменить шаг:", "Удалить шаг:"])
def test_a_plan_s_step_controls_name_the_step(client, people, seen):
    from webapp.plans.progress import current_year

    plan = factories.make_plan(people["author"], year=current_year())
    for title in ("Прочитать книгу", "Провести урок"):
        factories.make_step(plan, title=title)
    html = login(client, people["author"]).get(f"/plans/{plan}").get_data(as_text=True)
    assert_each_names_its_item(names_starting(html, seen), ["Прочитать книгу", "Провести урок"], 2)
