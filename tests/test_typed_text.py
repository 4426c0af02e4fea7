"""Text as every form keeps it (webapp.text.strip_controls): a value of invisible characters only is
no value, and a letter typed as one code point or as a letter and a combining mark is one letter."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, update

from webapp.extensions import db
from webapp.groups.models import Group, Post, Thread
from webapp.mentoring.models import Comment, Plan, PlanStep
from webapp.models import EntryTag, JournalEntry, School, User, utcnow

from . import factories
from .conftest import login

BLANK = "\u200b\u2060\ufeff\u200b"  # ZERO WIDTH SPACE, WORD JOINER, BOM: nothing a person can see
NFC_Y, NFD_Y = "\u0419", "\u0418\u0306"  # «Й» as one code point, and as «И» with a combining breve


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _journal_title(people):
    return people["author"], "/journal/", {"title": BLANK, "body": "Текст", "visibility": "mentors"}, JournalEntry, \
        "Дайте записи заголовок."


def _thread_title(people):
    group = factories.make_group(members=(people["author"],))
    return people["author"], "/threads/", {"group_id": group, "title": BLANK, "body": "Текст"}, Thread, \
        "Дайте теме заголовок."


def _reply(people):
    thread = factories.make_thread(factories.make_group(members=(people["author"],)), people["author"])
    return people["author"], f"/threads/{thread}/posts", {"body": BLANK}, Post, "Сообщение пустое."


def _comment(people):
    entry = factories.make_entry(people["author"])
    return people["methodist"], f"/comments/entry/{entry}", {"body": BLANK}, Comment, "Комментарий пустой."


def _plan_topic(people):
    return people["author"], "/plans/", {"year": str(dt.date.today().year), "topic": BLANK}, Plan, \
        "Укажите тему самообразования."


def _step_title(people):
    plan = factories.make_plan(people["author"], year=dt.date.today().year)
    return people["author"], f"/plans/{plan}/steps", {"title": BLANK, "status": "planned"}, PlanStep, \
        "Напишите, в чём состоит шаг."


def _school_name(people):
    return people["admin"], "/admin/schools", {"name": BLANK}, School, "Введите название школы."


def _group_name(people):
    return people["admin"], "/admin/groups", {"name": BLANK, "kind": "other"}, Group, "Введите название группы."


def _display_name(people):
    return people["admin"], "/admin/users", {"login": "newcomer", "display_name": BLANK, "role": "librarian",
                                             "locale": "ru"}, User, "Введите имя и фамилию."


@pytest.mark.parametrize("scene", [_journal_title, _thread_title, _reply, _comment, _plan_topic, _step_title,
                                   _school_name, _group_name, _display_name],
                         ids=lambda scene: scene.__name__.lstrip("_"))
def test_invisible_characters_alone_are_no_value(client, people, scene):
    who, url, data, model, message = scene(people)
    before = count(model)
    login(client, who)
    response = client.post(url, data=data)
    assert response.status_code == 422
    assert message in response.text
    assert count(model) == before


def test_one_letter_typed_two_ways_is_one_school(client, people):
    login(client, people["admin"])
    assert client.post("/admin/schools", data={"name": f"Школа {NFC_Y}ошкар-Олы"}).status_code == 303
    # Added long ago: the same name now is a duplicate, not the same form sent again.
    db.session.execute(update(School).values(created_at=utcnow() - dt.timedelta(days=1)))
    db.session.commit()
    response = client.post("/admin/schools", data={"name": f"Школа {NFD_Y}ошкар-Олы"})
    assert response.status_code == 422
    assert "Школа «Школа Йошкар-Олы» уже есть" in response.text
    assert db.session.scalars(select(School.name).where(School.name.like("Школа %"))).all() == ["Школа Йошкар-Олы"]


def test_tags_are_normalised_and_an_invisible_tag_is_none(client, people):
    login(client, people["author"])
    response = client.post("/journal/", data={"title": "Запись", "body": "Текст", "visibility": "mentors",
                                              "tags": f"{NFC_Y}огурт, {NFD_Y}огурт, \u200b, #\ufeff, чте\u200bние"})
    assert response.status_code == 303
    assert sorted(db.session.scalars(select(EntryTag.name))) == ["йогурт", "чтение"]


def test_markdown_keeps_its_line_breaks_and_joiners(client, people):
    body = "Первая строка  \r\nвторая\r\n\r\n- пункт\r\n- \u200bпункт\r\n\r\nمی\u200cخواهم 👩\u200d💻\tконец"
    login(client, people["author"])
    assert client.post("/journal/", data={"title": "Запись", "body": body, "visibility": "mentors"}).status_code == 303
    stored = db.session.scalar(select(JournalEntry.body).where(JournalEntry.title == "Запись"))
    assert stored.replace("\r\n", "\n") == body.replace("\r\n", "\n").replace("\u200b", "")


def test_a_password_keeps_every_character_but_controls(app, people):
    """A password is hashed as typed: one set before texts were normalised must still sign in."""
    password = f"{NFD_Y}огурт\u200bпароль"
    db.session.get(User, people["author"]).set_password(password)
    db.session.commit()
    response = app.test_client().post("/login", data={"login": "anna", "password": password})
    assert response.status_code == 303


def test_the_command_line_finds_a_school_typed_the_other_way(app, runner):
    factories.make_school(f"Школа {NFC_Y}ошкар-Олы")
    result = runner.invoke(args=["create-user", "ivanova", "--name", f"{NFD_Y}ванова\u200b", "--role", "librarian",
                                 "--school", f"школа {NFD_Y}ошкар-олы"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(User.display_name).where(User.login == "ivanova")) == "Йванова"
    assert db.session.scalars(select(School.name)).all() == ["Школа Йошкар-Олы"]
