"""The command-line tasks, run as an operator runs them: create-user, issue-link, import-users, seed-demo."""
from __future__ import annotations

import csv
import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import JournalEntry, Role, School, User, Visibility, mentorships

from . import factories

LINK = re.compile(r"https?://\S+/invite/[\w-]+")


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def user(login: str) -> User | None:
    return db.session.scalar(select(User).where(User.login == login))


def methodist_logins(librarian_login: str) -> set[str]:
    librarian = user(librarian_login)
    query = select(User.login).join(mentorships, mentorships.c.methodist_id == User.id).where(
        mentorships.c.librarian_id == librarian.id)
    return set(db.session.scalars(query))


def school_name(login: str) -> str | None:
    school_id = user(login).school_id
    return db.session.get(School, school_id).name if school_id else None


def signs_in(app, login: str, password: str) -> bool:
    response = app.test_client().post("/login", data={"login": login, "password": password})
    return response.status_code == 303


def has_controls(text: str) -> bool:
    return any(ord(c) < 0x20 or ord(c) == 0x7f for c in text)


def write_csv(tmp_path, text: str, *, encoding: str = "utf-8", name: str = "users.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


# ---------------------------------------------------------------- create-user

def test_create_user_prints_an_invitation_link_that_works(app, runner):
    result = runner.invoke(args=["create-user", "admin", "--name", "Зайцева  Юлия Олеговна", "--role", "admin"])
    assert result.exit_code == 0, result.output
    assert "Создана учётная запись admin" in result.output
    links = LINK.findall(result.output)
    assert len(links) == 1 and links[0].startswith("http://127.0.0.1:5000/invite/")

    client = app.test_client()
    path = urlsplit(links[0]).path
    assert client.get(path).status_code == 200
    response = client.post(path, data={"password": "новый-пароль-1", "repeat": "новый-пароль-1"})
    assert response.status_code == 303
    created = user("admin")
    assert created.role == Role.ADMIN and created.display_name == "Зайцева Юлия Олеговна"
    assert signs_in(app, "admin", "новый-пароль-1")


def test_create_user_with_a_school_and_a_base_url(app, runner):
    result = runner.invoke(args=["create-user", "Ivanova", "--name", "Иванова Наталья", "--role", "librarian",
                                 "--school", "МОУ СОШ № 16", "--base-url", "https://rost.example.ru/"])
    assert result.exit_code == 0, result.output
    assert LINK.search(result.output).group().startswith("https://rost.example.ru/invite/")
    assert school_name("ivanova") == "МОУ СОШ № 16"


def test_create_user_finds_the_school_whatever_the_case(app, runner):
    factories.make_school("МОУ СОШ № 16")
    result = runner.invoke(args=["create-user", "ivanova", "--name", "Иванова", "--role", "librarian",
                                 "--school", "моу  сош № 16"])
    assert result.exit_code == 0, result.output
    assert school_name("ivanova") == "МОУ СОШ № 16"
    assert count(School) == 1


def test_create_user_with_a_password_from_stdin(app, runner):
    result = runner.invoke(args=["create-user", "petrova", "--name", "Петрова Елена", "--role", "methodist",
                                 "--password-stdin"], input="пароль-из-stdin\n")
    assert result.exit_code == 0, result.output
    assert not LINK.search(result.output)
    assert signs_in(app, "petrova", "пароль-из-stdin")


def test_create_user_refuses_a_short_password(app, runner):
    result = runner.invoke(args=["create-user", "petrova", "--name", "Петрова", "--role", "librarian",
                                 "--password-stdin"], input="short\n")
    assert result.exit_code == 1
    assert "Пароль слишком короткий" in result.output
    assert user("petrova") is None


def test_create_user_refuses_a_taken_login(app, runner):
    factories.make_user(login="ivanova")
    before = count(User)
    result = runner.invoke(args=["create-user", "IVANOVA", "--name", "Другая Иванова", "--role", "librarian"])
    assert result.exit_code == 1
    assert "Учётная запись не создана" in result.output and "ivanova" in result.output
    assert not LINK.search(result.output)
    assert count(User) == before


@pytest.mark.parametrize("args", [
    ["create-user", "x", "--name", "Икс", "--role", "librarian"],  # login too short
    ["create-user", "ok-login", "--name", "   ", "--role", "librarian"],  # no name
])
def test_create_user_reports_a_broken_rule(app, runner, args):
    result = runner.invoke(args=args)
    assert result.exit_code == 1
    assert "Учётная запись не создана" in result.output
    assert count(User) == 0


def test_create_user_refuses_a_name_over_120_characters_and_keeps_one_of_120(app, runner):
    long_name, full_name = "Иванова " + "Н" * 113, "Иванова " + "Н" * 112
    result = runner.invoke(args=["create-user", "ivanova", "--name", long_name, "--role", "librarian"])
    assert result.exit_code == 1
    assert "Имя (--name) длиннее 120 символов (121)" in result.output
    assert user("ivanova") is None

    result = runner.invoke(args=["create-user", "ivanova", "--name", full_name, "--role", "librarian"])
    assert result.exit_code == 0, result.output
    assert user("ivanova").display_name == full_name


def test_create_user_stores_no_control_characters(app, runner):
    result = runner.invoke(args=["create-user", "ivanova", "--name", "И\x00И \x1b[31mИванова\x07", "--role", "librarian",
                                 "--school", "МОУ\x00 СОШ\x1b № 16"])
    assert result.exit_code == 0, result.output
    assert user("ivanova").display_name == "ИИ [31mИванова"
    assert school_name("ivanova") == "МОУ СОШ № 16"
    assert not has_controls(result.output.replace("\n", ""))


# Bytes that are not UTF-8 (a terminal in another encoding) reach the command as lone surrogates.
@pytest.mark.parametrize(("args", "named"), [
    (["create-user", "ivanov", "--name", "\udcff\udcfe Иванов", "--role", "librarian"], "Имя (--name)"),
    (["create-user", "ivanov", "--name", "Иванов", "--role", "librarian", "--school", "\udcff"], "Школа (--school)"),
    (["create-user", "\udcff", "--name", "Иванов", "--role", "librarian"], "Логин"),
    (["issue-link", "\udcff"], "Логин"),
    (["issue-link", "ivanov", "--base-url", "http://\udcff"], "Адрес сайта (--base-url)"),
], ids=["name", "school", "login", "issue-link", "base-url"])
def test_text_not_in_utf8_is_refused_with_a_message(app, runner, args, named):
    result = runner.invoke(args=args)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert f"{named}: текст не в кодировке UTF-8" in result.output
    assert count(User) == count(School) == 0


def test_a_password_not_in_utf8_is_refused_with_a_message(app, runner):
    result = runner.invoke(args=["create-user", "ivanov", "--name", "Иванов", "--role", "librarian", "--password-stdin"],
                           input="пароль-длинный".encode() + b"\xff\n")
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "Пароль не в кодировке UTF-8" in result.output
    assert user("ivanov") is None


def test_issue_link_replaces_the_earlier_link(app, runner):
    first = LINK.search(runner.invoke(args=["create-user", "orlov", "--name", "Орлов", "--role", "librarian"]).output)
    result = runner.invoke(args=["issue-link", "orlov"])
    assert result.exit_code == 0, result.output
    second = LINK.search(result.output)
    client = app.test_client()
    assert client.get(urlsplit(first.group()).path).status_code == 404
    assert client.get(urlsplit(second.group()).path).status_code == 200

    assert runner.invoke(args=["issue-link", "nobody"]).exit_code == 1


# ---------------------------------------------------------------- import-users

GOOD_FILE = """\
login,display_name,role,school,methodists,locale
belova,Белова Ирина Васильевна,methodist,,,
ivanova,Иванова Наталья Сергеевна,librarian,МОУ СОШ № 16,belova existing,
petrova,"Петрова Елена Викторовна",librarian,МОУ Гимназия № 9,belova|existing,en
kuznetsova,Кузнецова Татьяна,librarian,МОУ СОШ № 16,,
"""


def test_import_creates_every_row_and_prints_links(app, runner, tmp_path):
    factories.make_user(Role.METHODIST, login="existing")
    factories.make_school("МОУ Гимназия № 9")
    result = runner.invoke(args=["import-users", str(write_csv(tmp_path, GOOD_FILE))])
    assert result.exit_code == 0, result.output
    assert "Создано учётных записей: 4; новых школ: 1." in result.output
    assert len(LINK.findall(result.output)) == 4

    assert user("belova").role == Role.METHODIST
    assert user("ivanova").display_name == "Иванова Наталья Сергеевна"
    assert school_name("ivanova") == school_name("kuznetsova") == "МОУ СОШ № 16"
    assert school_name("petrova") == "МОУ Гимназия № 9"
    assert methodist_logins("ivanova") == methodist_logins("petrova") == {"belova", "existing"}
    assert methodist_logins("kuznetsova") == set()
    assert user("petrova").locale == "en" and user("ivanova").locale == "ru"
    assert count(School) == 2

    path = urlsplit(LINK.findall(result.output)[1]).path
    assert app.test_client().get(path).status_code == 200


def test_import_with_bom_semicolons_and_russian_headers(app, runner, tmp_path):
    text = ("\ufeffлогин;ФИО;роль;школа;методисты\r\n"
            "trach;Трач Руслана;методист;;\r\n"
            "smirnova;Смирнова, Ольга;библиотекарь;МОУ Лицей № 1;trach\r\n")
    result = runner.invoke(args=["import-users", str(write_csv(tmp_path, text))])
    assert result.exit_code == 0, result.output
    assert user("smirnova").display_name == "Смирнова, Ольга"
    assert user("trach").role == Role.METHODIST
    assert methodist_logins("smirnova") == {"trach"}


def test_import_with_bad_rows_reports_their_lines_and_imports_nothing(app, runner, tmp_path):
    factories.make_user(login="librarian1")
    text = """\
login,display_name,role,school,methodists
good1,Хороший Первый,librarian,МОУ СОШ № 16,
bad3,Плохая Роль,librarian-ish,МОУ СОШ № 16,
good2,Хороший Второй,methodist,,
bad5,Чужой Методист,librarian,,librarian1
good3,Хороший Третий,librarian,,good2
"""
    users_before, schools_before = count(User), count(School)
    result = runner.invoke(args=["import-users", str(write_csv(tmp_path, text))])
    assert result.exit_code == 1
    assert re.search(r"Строка 3: неизвестная роль «librarian-ish»", result.output)
    assert re.search(r"Строка 5: librarian1 — не методист", result.output)
    assert "Строка 2" not in result.output and "Строка 4" not in result.output and "Строка 6" not in result.output
    assert "Ничего не импортировано" in result.output
    assert not LINK.search(result.output)
    assert (count(User), count(School)) == (users_before, schools_before)


@pytest.mark.parametrize(("row", "reason"), [
    ("nobody1,Имя,librarian,,ghost", "методист ghost не найден"),
    ("nobody2,,librarian,,", "не указано имя"),
    ("Й,Имя,librarian,,", "логин «й»"),
    ("taken,Имя,librarian,,", "логин «taken»"),
    ("meth,Имя,methodist,,taken", "методистов назначают только библиотекарям"),
    ("nobody3,Имя,librarian,,,de", "неизвестный язык «de»"),
])
def test_import_names_the_reason(app, runner, tmp_path, row, reason):
    factories.make_user(login="taken")
    text = f"login,display_name,role,school,methodists,locale\n{row}\n"
    result = runner.invoke(args=["import-users", str(write_csv(tmp_path, text))])
    assert result.exit_code == 1
    assert f"Строка 2: {reason}" in result.output
    assert count(User) == 1


def test_import_refuses_a_name_over_120_characters_and_imports_nothing(app, runner, tmp_path):
    text = f"login,display_name,role\nivanova,Иванова,librarian\npetrova,Петрова {'Е' * 113},librarian\n"
    result = runner.invoke(args=["import-users", str(write_csv(tmp_path, text))])
    assert result.exit_code == 1
    assert "Строка 3: имя длиннее 120 символов (121)" in result.output
    assert "Строка 2" not in result.output
    assert count(User) == 0


def test_import_stores_no_control_characters(app, runner, tmp_path):
    text = ("login,display_name,role,school\n"
            "ivanova,И\x00И \x1b[1mИванова,librarian,МОУ\x00 СОШ № 16\n"
            "petrova,Петрова\x7f,librarian\x00,\x1bМОУ СОШ № 16\n")
    result = runner.invoke(args=["import-users", str(write_csv(tmp_path, text))])
    assert result.exit_code == 0, result.output
    assert user("ivanova").display_name == "ИИ [1mИванова" and user("petrova").display_name == "Петрова"
    assert school_name("ivanova") == school_name("petrova") == "МОУ СОШ № 16"
    assert count(School) == 1


def test_import_puts_school_names_differing_by_case_into_one_school(app, runner, tmp_path):
    factories.make_school("МОУ СОШ № 16")
    text = ("login,display_name,role,school\n"
            "ivanova,Иванова,librarian,МОУ ГИМНАЗИЯ № 9\n"
            "petrova,Петрова,librarian,Моу Гимназия № 9\n"
            "orlova,Орлова,librarian,моу сош № 16\n")
    result = runner.invoke(args=["import-users", str(write_csv(tmp_path, text))])
    assert result.exit_code == 0, result.output
    assert "Создано учётных записей: 3; новых школ: 1." in result.output
    assert school_name("ivanova") == school_name("petrova") == "МОУ ГИМНАЗИЯ № 9"
    assert school_name("orlova") == "МОУ СОШ № 16"
    assert count(School) == 2


def test_import_catches_a_login_repeated_in_the_file(app, runner, tmp_path):
    text = "login,display_name,role\nivanova,Иванова,librarian\npetrova,Петрова,librarian\nIvanova,Иванова Н.,librarian\n"
    result = runner.invoke(args=["import-users", str(write_csv(tmp_path, text))])
    assert result.exit_code == 1
    assert "Строка 4: логин ivanova уже встречается в строке 2" in result.output
    assert count(User) == 0


def test_import_takes_a_header_ending_in_a_separator(app, runner, tmp_path):
    """Russian spreadsheets often save a separator after the last column: an unnamed column is fine
    while it is empty, and a value in it is named by its column's number."""
    text = "login;ФИО;роль;\nnewf;Фёдорова Ирина;библиотекарь;\n"
    result = runner.invoke(args=["import-users", str(write_csv(tmp_path, text))])
    assert result.exit_code == 0, result.output
    assert user("newf").display_name == "Фёдорова Ирина"
    text = "login;ФИО;роль;\nnewg;Громова Анна;библиотекарь;МОУ СОШ № 5\n"
    result = runner.invoke(args=["import-users", str(write_csv(tmp_path, text))])
    assert result.exit_code == 1
    assert "Строка 2: значение в столбце 4 без названия в заголовке" in result.output
    assert count(User) == 1


def test_import_refuses_a_file_with_a_wrong_header(app, runner, tmp_path):
    result = runner.invoke(args=["import-users", str(write_csv(tmp_path, "login,name,role,email\nx1,Икс,librarian,x@y\n"))])
    assert result.exit_code == 1
    assert "Строка 1" in result.output and "email" in result.output and "display_name" in result.output
    assert count(User) == 0


def test_import_refuses_a_file_not_in_utf8(app, runner, tmp_path):
    path = write_csv(tmp_path, "login,display_name,role\nivanova,Иванова,librarian\n", encoding="cp1251")
    result = runner.invoke(args=["import-users", str(path)])
    assert result.exit_code == 1
    assert "UTF-8" in result.output


@pytest.mark.parametrize(("text", "reason"), [
    ('login,display_name,role\nivanova,"Иванова,librarian\npetrova,Петрова,librarian\n',
     "Строка 2: кавычка «\"» открыта и не закрыта до конца файла"),
    ("login,display_name,role\nivanova,Иванова,librarian\npetrova," + "П" * 131_073 + ",librarian\n",
     "Строка 3: значение длиннее 131 072 символов"),
    ('login,display_name,role\nivanova,"Иванова" Наталья,librarian\n',
     "Строка 2: после закрывающей кавычки нужен разделитель «,»"),
    ('login,"display_name,role\nivanova,Иванова,librarian\n', "Строка 1: кавычка «\"» открыта и не закрыта"),
], ids=["unclosed quote", "overlong value", "text after a quote", "header"])
def test_import_names_a_broken_quote_or_an_overlong_value(app, runner, tmp_path, text, reason):
    result = runner.invoke(args=["import-users", str(write_csv(tmp_path, text))])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert reason in result.output
    assert "не указана роль" not in result.output
    assert count(User) == 0


def test_import_writes_links_to_a_file(app, runner, tmp_path):
    out = tmp_path / "links.csv"
    text = "login,display_name,role\nivanova,Иванова,librarian\npetrova,Петрова,librarian\n"
    result = runner.invoke(args=["import-users", str(write_csv(tmp_path, text)), "--links-out", str(out)])
    assert result.exit_code == 0, result.output
    assert not LINK.search(result.output)
    with out.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f, delimiter=";"))
    assert [r["login"] for r in rows] == ["ivanova", "petrova"]
    assert app.test_client().get(urlsplit(rows[0]["link"]).path).status_code == 200
    assert out.stat().st_mode & 0o077 == 0


# ---------------------------------------------------------------- seed-demo

def seeded(runner):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    return result


def test_seed_demo_builds_the_network(app, runner):
    seeded(runner)
    roles = dict(db.session.execute(select(User.role, func.count()).group_by(User.role)).all())
    assert roles == {Role.ADMIN: 1, Role.METHODIST: 2, Role.LIBRARIAN: 8}
    librarians = db.session.scalars(select(User).where(User.role == Role.LIBRARIAN)).all()
    assert count(School) == 4
    assert {u.school_id for u in librarians} == set(db.session.scalars(select(School.id)))
    assert all(methodist_logins(u.login) for u in librarians)
    used = set(db.session.scalars(select(mentorships.c.methodist_id)))
    assert used == set(db.session.scalars(select(User.id).where(User.role == Role.METHODIST)))

    visibilities = set(db.session.scalars(select(JournalEntry.visibility).distinct()))
    assert visibilities == {Visibility.PRIVATE, Visibility.MENTORS, Visibility.COLLEAGUES}
    entries = db.session.scalars(select(JournalEntry)).all()
    assert all(e.author_id in {u.id for u in librarians} for e in entries)
    days = {e.created_at.date() for e in entries}
    assert (max(days) - min(days)).days >= 40
    assert any("**" in e.body for e in entries) and any("\n> " in e.body for e in entries)


def test_seed_demo_prints_accounts_and_the_password_that_signs_in(app, runner):
    output = seeded(runner).output
    password = re.search(r"Пароль у всех демо-учётных записей: (\S+)", output).group(1)
    logins = re.findall(r"^(?:администратор|методист|педагог-библиотекарь)\s+(\S+)", output, re.MULTILINE)
    assert len(logins) == 11 and "admin" in logins
    for login in ("admin", logins[1], logins[-1]):
        assert signs_in(app, login, password)


def test_seed_demo_entries_are_readable_by_their_audience(app, runner):
    seeded(runner)
    colleagues = db.session.scalar(select(JournalEntry.id).where(JournalEntry.visibility == Visibility.COLLEAGUES))
    private = db.session.scalar(select(JournalEntry.id).where(JournalEntry.visibility == Visibility.PRIVATE))
    client = app.test_client()
    client.post("/login", data={"login": "metodist1", "password": "rost-demo"})
    page = client.get(f"/journal/{colleagues}")
    assert page.status_code == 200 and "<strong>" in page.text
    assert client.get(f"/journal/{private}").status_code == 404


def test_seed_demo_if_empty_changes_nothing_on_a_seeded_database(app, runner):
    seeded(runner)
    before = (count(User), count(School), count(JournalEntry))
    result = runner.invoke(args=["seed-demo", "--if-empty"])
    assert result.exit_code == 0
    assert "уже есть пользователи" in result.output
    assert (count(User), count(School), count(JournalEntry)) == before


def test_seed_demo_if_empty_leaves_a_real_database_alone(app, runner):
    factories.make_user(Role.ADMIN, login="admin")
    assert runner.invoke(args=["seed-demo", "--if-empty"]).exit_code == 0
    assert (count(User), count(School), count(JournalEntry)) == (1, 0, 0)


def test_seed_demo_refuses_a_database_with_users(app, runner):
    factories.make_user(login="someone")
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 1
    assert "только в пустую базу" in result.output
    assert count(User) == 1


def test_seed_demo_shows_mentoring(app, runner):
    from datetime import timedelta

    from webapp.mentoring.models import Comment, Feedback, FeedbackStatus, Notification, Plan, PlanComment, PlanStep, StepStatus
    from webapp.models import utcnow

    seeded(runner)
    assert count(Plan) >= 3 and count(PlanComment) >= 1
    statuses = set(db.session.scalars(select(PlanStep.status)))
    assert statuses == {StepStatus.PLANNED, StepStatus.IN_PROGRESS, StepStatus.DONE}
    assert db.session.scalar(select(func.count()).select_from(JournalEntry).where(JournalEntry.step_id.is_not(None))) >= 3
    assert count(Comment) >= 5
    assert set(db.session.scalars(select(Feedback.status))) == {FeedbackStatus.ACCEPTED, FeedbackStatus.NEEDS_WORK}
    assert count(Notification) > 0
    # Nobody is notified about an entry they may not read.
    from webapp import access
    for note in db.session.scalars(select(Notification).where(Notification.entry_id.is_not(None))):
        entry = db.session.get(JournalEntry, note.entry_id)
        assert access.can_view(db.session.get(User, note.recipient_id), entry)
    # At least one mentee has been quiet for two weeks.
    last = dict(db.session.execute(select(JournalEntry.author_id, func.max(JournalEntry.created_at))
                                   .group_by(JournalEntry.author_id)).all())
    assert any(when < utcnow() - timedelta(days=14) for when in last.values())


def test_seed_demo_holds_discussions(app, runner):
    from webapp import access
    from webapp.groups.models import Group, GroupKind, GroupMember, MemberRole, Post, Thread, ThreadState
    from webapp.mentoring.models import Notification, NotificationKind

    seeded(runner)
    groups = {g.name: g for g in db.session.scalars(select(Group))}
    association = next(g for g in groups.values() if g.kind == GroupKind.ASSOCIATION)
    assert association.is_open and "ГМО" in association.description
    closed = [g for g in groups.values() if not g.is_open]
    assert closed and all(g.kind == GroupKind.CREATIVE for g in closed)
    leaders = dict(db.session.execute(select(GroupMember.group_id, User.login).join(User, User.id == GroupMember.user_id)
                                      .where(GroupMember.role == MemberRole.LEADER)).all())
    assert leaders[association.id] == "metodist1" and leaders[closed[0].id] == "metodist2"
    closed_members = db.session.scalar(select(func.count()).select_from(GroupMember)
                                       .where(GroupMember.group_id == closed[0].id, GroupMember.role == MemberRole.MEMBER))
    assert 3 <= closed_members <= 4
    members = dict(db.session.execute(select(GroupMember.group_id, func.count()).group_by(GroupMember.group_id)).all())
    assert {g.id: g.member_count for g in groups.values()} == {g.id: members.get(g.id, 0) for g in groups.values()}

    threads = db.session.scalars(select(Thread)).all()
    pinned = [t for t in threads if t.pinned]
    assert len(pinned) == 1 and pinned[0].group_id == association.id and "План" in pinned[0].title
    assert any(t.locked for t in threads)
    assert {t.group_id for t in threads} >= {association.id, closed[0].id}
    for thread in threads:  # the counters the thread list reads agree with the posts
        posts = db.session.scalars(select(Post).where(Post.thread_id == thread.id).order_by(Post.id)).all()
        assert thread.post_count == len(posts) and thread.last_post_id == posts[-1].id, thread.title
        assert thread.last_post_at == posts[-1].created_at and thread.created_at == posts[0].created_at
        assert [p.created_at for p in posts] == sorted(p.created_at for p in posts)
        assert len(posts) >= 3 or thread.locked
    bodies = " ".join(db.session.scalars(select(Post.body)))
    assert "**" in bodies and "\n> " in bodies and "@" in bodies
    # Unread markers show for somebody, and read marks never point past the thread.
    states = db.session.scalars(select(ThreadState)).all()
    last = {t.id: t.last_post_id for t in threads}
    assert states and all(s.last_read_post_id <= last[s.thread_id] for s in states)
    assert any(s.last_read_post_id < last[s.thread_id] for s in states)

    notes = db.session.scalars(select(Notification).where(Notification.thread_id.is_not(None))).all()
    kinds = {n.kind for n in notes}
    assert {NotificationKind.MENTION, NotificationKind.THREAD_REPLY, NotificationKind.NEW_THREAD} <= kinds
    for note in notes:  # nobody is told of a group they cannot read
        recipient = db.session.get(User, note.recipient_id)
        assert db.session.scalar(access.visible_threads(recipient).where(Thread.id == note.thread_id)), note.kind
        assert note.recipient_id != note.actor_id


# ---------------------------------------------------------------- render-markdown

def test_render_markdown_makes_stored_html_again(app, client, runner):
    """After an upgrade that changes how Markdown is cleaned, the command brings every stored
    rendering in line with the renderer; pages show what it makes."""
    from sqlalchemy import text

    from .conftest import login

    author = factories.make_user(Role.LIBRARIAN)
    entry = factories.make_entry(author, visibility=Visibility.COLLEAGUES, body="Прочитала **три** книги")
    factories.make_comment(entry, author, body="Комментарий с *курсивом*")
    group = factories.make_group()
    factories.add_member(group, author)
    thread = factories.make_thread(group, author, body="Сообщение с `кодом`")
    # What an older renderer may have stored: something this one would never let through.
    stale = '<p hx-get="/admin">устарело</p>'
    for table in ("journal_entries", "comments", "posts"):
        db.session.execute(text(f"UPDATE {table} SET body_html = :stale"), {"stale": stale})
    db.session.execute(text("UPDATE journal_entries SET excerpt = 'устарело'"))
    db.session.commit()

    result = runner.invoke(args=["render-markdown"])
    assert result.exit_code == 0, result.output
    assert "записи дневников: 1" in result.output and "комментарии: 1" in result.output
    assert "сообщения обсуждений: 1" in result.output

    login(client, author)
    entry_page = client.get(f"/journal/{entry}").get_data(as_text=True)
    assert "<strong>три</strong>" in entry_page and "<em>курсивом</em>" in entry_page
    assert "hx-get=\"/admin\"" not in entry_page and "устарело" not in entry_page
    assert "<code>кодом</code>" in client.get(f"/threads/{thread}", follow_redirects=True).get_data(as_text=True)
    journal = client.get("/journal/").get_data(as_text=True)
    assert "Прочитала три книги" in journal and "устарело" not in journal


def test_render_markdown_lets_the_site_write_while_it_renders(app, runner, monkeypatch):
    """Rendering a long entry takes a while; meanwhile the site must still be able to save (on
    SQLite a transaction held open across the rendering would keep its one write lock)."""
    from sqlalchemy import text

    from webapp import rendered

    author = factories.make_user(Role.LIBRARIAN)
    factories.make_entry(author, body="Длинная запись")
    writes: list[str] = []
    render = rendered.rendered_fields

    def render_while_someone_saves(body, *, excerpt):
        with db.engine.connect() as other:
            if other.dialect.name == "sqlite":
                other.exec_driver_sql("PRAGMA busy_timeout=0")  # refused at once if the lock is held
            other.execute(text("UPDATE users SET locale = 'en' WHERE id = :id"), {"id": author})
            other.commit()
            writes.append("saved")
        return render(body, excerpt=excerpt)

    monkeypatch.setattr(rendered, "rendered_fields", render_while_someone_saves)
    result = runner.invoke(args=["render-markdown"])
    assert result.exit_code == 0, result.output
    assert writes == ["saved"]
    assert db.session.scalar(select(User.locale).where(User.id == author)) == "en"
