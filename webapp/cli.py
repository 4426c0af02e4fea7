"""Command-line tasks: flask create-user, issue-link, import-users, seed-demo, send-digest and
render-markdown (backup and restore are in webapp.backup, check-deploy in webapp.deploy_check).

What the operator reads is plain Russian; messages from accounts.py come through
gettext in the default (Russian) locale.
"""
from __future__ import annotations

import csv
import io
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from . import backup, demo, deploy_check, rendered
from .accounts import (
    NAME_LIMIT,
    SCHOOL_NAME_LIMIT,
    AccountError,
    check_login,
    create_user,
    normalise_login,
    school_by_name,
    set_methodists,
    tidy_name,
)
from .auth import links
from .auth.forms import PASSWORD_MIN
from .extensions import db
from .models import Role, User
from .notifications.digest import send_digest_command
from .text import strip_controls

DEFAULT_BASE_URL = "http://127.0.0.1:5000"
ROLE_NAMES = {Role.LIBRARIAN: "педагог-библиотекарь", Role.METHODIST: "методист", Role.ADMIN: "администратор"}


def init_app(app: Flask) -> None:
    app.cli.add_command(create_user_command)
    app.cli.add_command(issue_link_command)
    app.cli.add_command(import_users_command)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(send_digest_command)
    app.cli.add_command(render_markdown_command)
    backup.init_app(app)
    deploy_check.init_app(app)


def fail(message: str) -> NoReturn:
    """Undo what this command wrote, say why on stderr, exit with status 1."""
    db.session.rollback()
    refuse(message)


def refuse(message: str) -> NoReturn:
    """Say why on stderr and exit with status 1 (also while the arguments are read, before any app context)."""
    click.secho(message, err=True, fg="red")
    raise click.exceptions.Exit(1)


PARAMETER_NAMES = {"login": "Логин", "display_name": "Имя (--name)", "school": "Школа (--school)",
                   "base_url": "Адрес сайта (--base-url)"}


def typed_text(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A text argument as the web forms take it: without control characters (webapp.text.strip_controls).
    Bytes that are not UTF-8 reach Python as lone surrogates, which can be neither stored nor printed:
    such a value is refused before anything is looked up or written."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            what = PARAMETER_NAMES.get(param.name or "", param.human_readable_name)
            refuse(f"{what}: текст не в кодировке UTF-8. Проверьте кодировку терминала (переменные LANG, LC_ALL) "
                   "и наберите значение заново.")
    return strip_controls(value)


base_url_option = click.option(
    "--base-url", metavar="URL", callback=typed_text,
    help=f"Адрес сайта для ссылок-приглашений (по умолчанию SERVER_NAME из настроек или {DEFAULT_BASE_URL}).",
)


def resolve_base_url(option: str | None) -> str:
    config = current_app.config
    if option:
        url = option.rstrip("/")
    elif config.get("SERVER_NAME"):
        url = f"{config['PREFERRED_URL_SCHEME']}://{config['SERVER_NAME']}{config.get('APPLICATION_ROOT') or ''}".rstrip("/")
    else:
        url = DEFAULT_BASE_URL
    if not re.match(r"https?://[^/\s]+", url):
        fail(f"Адрес сайта должен начинаться с http:// или https://, а не «{url}».")
    return url


def issue_links(users: list[User], base_url: str) -> dict[str, str]:
    """One-time links for these users, built for the site at `base_url` (url_for needs a request)."""
    # The write transaction is already open, so the GET request below starts none of its own.
    with current_app.test_request_context(base_url=base_url):
        return {user.login: links.issue(user) for user in users}


def link_note(many: bool = False) -> str:
    hours = current_app.config["INVITATION_HOURS"]
    return f"одноразовые, действуют {hours} ч" if many else f"одноразовая, действует {hours} ч"


# ---------------------------------------------------------------- create-user, issue-link

def read_password() -> str:
    try:
        if sys.stdin.isatty():
            password = click.prompt("Пароль", hide_input=True, confirmation_prompt="Повторите пароль")
        else:
            password = sys.stdin.readline().rstrip("\r\n")
        password.encode("utf-8")
    except UnicodeError:
        fail("Пароль не в кодировке UTF-8. Проверьте кодировку терминала (переменные LANG, LC_ALL).")
    if len(password) < PASSWORD_MIN:
        fail(f"Пароль слишком короткий: нужно не меньше {PASSWORD_MIN} символов.")
    return password


@click.command("create-user")
@click.argument("login", callback=typed_text)
@click.option("--name", "display_name", required=True, callback=typed_text, help="Фамилия, имя, отчество.")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role], case_sensitive=False),
              help="Роль: librarian (библиотекарь), methodist (методист) или admin (администратор).")
@click.option("--school", callback=typed_text, help="Название школы; если такой ещё нет, она будет создана.")
@click.option("--password-stdin", is_flag=True, help="Прочитать пароль из стандартного ввода вместо ссылки-приглашения.")
@base_url_option
@with_appcontext
def create_user_command(login: str, display_name: str, role: str, school: str | None, password_stdin: bool,
                        base_url: str | None) -> None:
    """Создать учётную запись и выдать ссылку-приглашение (или задать пароль).

    Первый администратор: flask create-user admin --name "Фамилия Имя Отчество" --role admin
    """
    base_url = resolve_base_url(base_url)
    password = read_password() if password_stdin else None
    if len(name := tidy_name(display_name)) > NAME_LIMIT:
        fail(f"Имя (--name) длиннее {NAME_LIMIT} символов ({len(name)}): сократите его, учётная запись не создана.")
    if len(tidy_name(school)) > SCHOOL_NAME_LIMIT:
        fail(f"Название школы длиннее {SCHOOL_NAME_LIMIT} символов.")
    try:
        found = school_by_name(school or "", create=True)
        user = create_user(login=login, display_name=display_name, role=role.lower(),
                           school_id=found.id if found else None, password=password)
    except AccountError as error:
        fail(f"Учётная запись не создана: {str(error).rstrip('.')}.")
    link = None if password else issue_links([user], base_url)[user.login]
    db.session.commit()
    click.echo(f"Создана учётная запись {user.login}: {user.display_name}, {ROLE_NAMES[Role(user.role)]}.")
    if link:
        click.echo(f"Ссылка-приглашение ({link_note()}) — передайте её владельцу:")
        click.echo(link)
    else:
        click.echo("Пароль задан.")


@click.command("issue-link")
@click.argument("login", callback=typed_text)
@base_url_option
@with_appcontext
def issue_link_command(login: str, base_url: str | None) -> None:
    """Выдать новую одноразовую ссылку для входа (приглашение или сброс пароля).

    Прежние неиспользованные ссылки этого человека перестают работать.
    """
    base_url = resolve_base_url(base_url)
    user = db.session.scalar(select(User).where(User.login == normalise_login(login)))
    if user is None:
        fail(f"Нет учётной записи с логином «{login}».")
    if not user.active:
        fail(f"Учётная запись {user.login} отключена; сначала включите её.")
    link = issue_links([user], base_url)[user.login]
    db.session.commit()
    click.echo(f"Ссылка для {user.login} ({user.display_name}, {link_note()}):")
    click.echo(link)


# ---------------------------------------------------------------- import-users

COLUMNS = ("login", "display_name", "role", "school", "methodists", "locale")
REQUIRED_COLUMNS = ("login", "display_name", "role")
COLUMN_ALIASES = {
    "логин": "login", "фио": "display_name", "имя": "display_name", "роль": "role", "школа": "school",
    "методисты": "methodists", "методист": "methodists", "язык": "locale",
}
ROLE_ALIASES = {
    "библиотекарь": Role.LIBRARIAN, "педагог-библиотекарь": Role.LIBRARIAN,
    "методист": Role.METHODIST, "администратор": Role.ADMIN,
}
LOCALES = ("ru", "en")


@dataclass
class ImportRow:
    line: int
    login: str
    display_name: str
    role: str
    school: str
    methodists: list[str]
    locale: str
    errors: list[str] = field(default_factory=list)


class ImportFileError(Exception):
    """The file as a whole cannot be read: encoding, header."""


def csv_rows(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """Each row with the line it starts on (a quoted value may span lines). A broken quote or an
    overlong value stops the reading with an ImportFileError naming that line."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    line = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise ImportFileError(f"Строка {line}: {broken_csv_reason(str(error), delimiter)}. Ничего не импортировано.") from error
        yield line, cells
        line = reader.line_num + 1


def broken_csv_reason(error: str, delimiter: str) -> str:
    if error.startswith("unexpected end of data"):
        return "кавычка «\"» открыта и не закрыта до конца файла — закройте её или уберите"
    if error.startswith("field larger than field limit"):
        limit = f"{csv.field_size_limit():,}".replace(",", " ")
        return f"значение длиннее {limit} символов — проверьте, закрыта ли кавычка «\"» перед ним"
    if error.startswith(f"'{delimiter}' expected after '\"'"):
        return (f"после закрывающей кавычки нужен разделитель «{delimiter}» — значение в кавычках заключают "
                "в кавычки целиком, а кавычку внутри него пишут дважды (\"\")")
    return "строка не читается как CSV (проверьте кавычки и разделители)"


def read_import_file(path: Path) -> list[ImportRow]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportFileError("Файл не в кодировке UTF-8. Сохраните его как «CSV UTF-8 (разделитель — запятая)».") from error
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    rows_read = csv_rows(text, delimiter)
    header = next(rows_read, (1, None))[1]
    if not header or not any(cell.strip() for cell in header):
        raise ImportFileError("Файл пуст: нужна строка заголовка (login, display_name, role, …).")
    columns = [COLUMN_ALIASES.get(name.strip().lower(), name.strip().lower()) for name in header]
    # A column without a name is fine while nothing is in it: spreadsheets save "login;ФИО;роль;".
    unnamed = [number for number, name in enumerate(columns, 1) if not name]
    unknown = [name for name in columns if name and name not in COLUMNS]
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    doubled = sorted({name for name in columns if name and columns.count(name) > 1})
    problems = ([f"неизвестные столбцы: {', '.join(unknown)}"] if unknown else []) + \
               ([f"нет обязательных столбцов: {', '.join(missing)}"] if missing else []) + \
               ([f"столбцы повторяются: {', '.join(doubled)}"] if doubled else [])
    if problems:
        raise ImportFileError(f"Строка 1 (заголовок): {'; '.join(problems)}. Допустимые столбцы: {', '.join(COLUMNS)}.")

    rows: list[ImportRow] = []
    for start, cells in rows_read:
        if not any(cell.strip() for cell in cells):
            continue
        extra = [cell for cell in cells[len(columns):] if cell.strip()]
        values = dict(zip(columns, [strip_controls(cell).strip() for cell in cells], strict=False))
        row = ImportRow(
            line=start,
            login=normalise_login(values.get("login", "")),
            display_name=tidy_name(values.get("display_name")),
            role=values.get("role", "").lower(),
            school=tidy_name(values.get("school")),
            methodists=list(dict.fromkeys(normalise_login(m) for m in re.split(r"[\s|]+", values.get("methodists", "")) if m)),
            locale=values.get("locale", "").lower() or "ru",
        )
        row.role = ROLE_ALIASES.get(row.role, row.role)
        if extra:
            row.errors.append("значений больше, чем столбцов в заголовке (проверьте разделитель и кавычки)")
        filled = [number for number in unnamed if number <= len(cells) and cells[number - 1].strip()]
        if filled:
            row.errors.append(f"значение в столбце {', '.join(map(str, filled))} без названия в заголовке "
                              "(подпишите столбец или уберите значение)")
        rows.append(row)
    if not rows:
        raise ImportFileError("В файле нет ни одной строки с пользователями, только заголовок.")
    return rows


def validate_rows(rows: list[ImportRow]) -> None:
    """Fill each row's `errors`: every rule is checked for every row, nothing is written."""
    first_line: dict[str, int] = {}
    in_file_role: dict[str, str] = {}
    for row in rows:
        if row.login and row.login not in first_line:
            first_line[row.login] = row.line
            in_file_role[row.login] = row.role
    referenced = {m for row in rows for m in row.methodists} - in_file_role.keys()
    known_role = dict(db.session.execute(select(User.login, User.role).where(User.login.in_(referenced))).all()) \
        if referenced else {}

    for row in rows:
        errors = row.errors
        if not row.login:
            errors.append("не указан логин")
        elif first_line[row.login] != row.line:
            errors.append(f"логин {row.login} уже встречается в строке {first_line[row.login]}")
        else:
            try:
                check_login(row.login)
            except AccountError as error:
                errors.append(f"логин «{row.login}»: {str(error).rstrip('.')}")
        if not row.display_name:
            errors.append("не указано имя (display_name)")
        elif len(row.display_name) > NAME_LIMIT:
            errors.append(f"имя длиннее {NAME_LIMIT} символов ({len(row.display_name)})")
        if row.role not in set(Role):
            what = f"неизвестная роль «{row.role}»" if row.role else "не указана роль"
            errors.append(f"{what} (допустимо: librarian, methodist, admin)")
        if len(row.school) > SCHOOL_NAME_LIMIT:
            errors.append(f"название школы длиннее {SCHOOL_NAME_LIMIT} символов")
        if row.locale not in LOCALES:
            errors.append(f"неизвестный язык «{row.locale}» (допустимо: ru, en)")
        if row.methodists and row.role in set(Role) and row.role != Role.LIBRARIAN:
            errors.append("методистов назначают только библиотекарям")
        for login in row.methodists:
            role = in_file_role.get(login, known_role.get(login))
            if role is None:
                errors.append(f"методист {login} не найден ни в базе, ни в этом файле")
            elif role != Role.METHODIST:
                errors.append(f"{login} — не методист")


def create_imported(rows: list[ImportRow]) -> tuple[list[User], int]:
    """Write the validated rows; returns the new users and how many schools were added."""
    new_schools: set[str] = set()
    users: dict[str, User] = {}
    for row in rows:
        school = None
        if row.school:
            if school_by_name(row.school) is None:
                new_schools.add(row.school)
            school = school_by_name(row.school, create=True)
        users[row.login] = create_user(login=row.login, display_name=row.display_name, role=row.role,
                                       school_id=school.id if school else None, locale=row.locale)
    existing = {m for row in rows for m in row.methodists} - users.keys()
    methodist_ids = dict(db.session.execute(select(User.login, User.id).where(User.login.in_(existing))).all()) \
        if existing else {}
    for row in rows:
        if row.methodists:
            ids = [users[m].id if m in users else methodist_ids[m] for m in row.methodists]
            set_methodists(users[row.login], ids)
    return list(users.values()), len(new_schools)


def open_private(path: Path):
    """A file only its owner can read: it holds working sign-in links."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    return open(fd, "w", encoding="utf-8-sig", newline="")


@click.command("import-users")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--links-out", type=click.Path(dir_okay=False, path_type=Path),
              help="Записать ссылки-приглашения в этот CSV-файл (login;display_name;link) вместо вывода на экран.")
@base_url_option
@with_appcontext
def import_users_command(csv_file: Path, links_out: Path | None, base_url: str | None) -> None:
    """Создать учётные записи из CSV-файла (формат — docs/import-users.md).

    Сначала проверяются все строки; если хоть одна с ошибкой, не создаётся никто.
    """
    base_url = resolve_base_url(base_url)
    try:
        rows = read_import_file(csv_file)
    except ImportFileError as error:
        fail(str(error))
    validate_rows(rows)
    bad = [row for row in rows if row.errors]
    if bad:
        for row in bad:
            click.secho(f"Строка {row.line}: {'; '.join(row.errors)}.", err=True, fg="red")
        fail(f"Ошибок в строках: {len(bad)}. Ничего не импортировано — исправьте файл и запустите команду снова.")
    try:
        out = open_private(links_out) if links_out else None
    except OSError as error:
        fail(f"Не удаётся записать файл {click.format_filename(links_out)}: {error.strerror}.")
    try:
        users, school_count = create_imported(rows)
        issued = issue_links(users, base_url)
        db.session.commit()
    except (AccountError, IntegrityError) as error:  # someone took a login between the check and the write
        if out is not None:
            out.close()
        reason = str(error).rstrip(".") if isinstance(error, AccountError) else "данные изменились во время импорта, запустите команду снова"
        fail(f"Ничего не импортировано: {reason}.")
    click.echo(f"Создано учётных записей: {len(users)}; новых школ: {school_count}.")
    if out is not None:
        with out:
            writer = csv.writer(out, delimiter=";")
            writer.writerow(("login", "display_name", "link"))
            writer.writerows((user.login, user.display_name, issued[user.login]) for user in users)
        click.echo(f"Ссылки-приглашения ({link_note(many=True)}) записаны в {click.format_filename(links_out)}.")
        return
    click.echo(f"Ссылки-приглашения ({link_note(many=True)}):")
    for user in users:
        click.echo(f"{user.login}\t{user.display_name}\t{issued[user.login]}")


# ---------------------------------------------------------------- seed-demo

@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Ничего не делать, если в базе уже есть пользователи (для make run).")
@with_appcontext
def seed_demo_command(if_empty: bool) -> None:
    """Заполнить пустую базу демонстрационными данными: школы, люди, записи дневников."""
    if demo.has_users():
        db.session.rollback()
        if if_empty:
            click.echo("В базе уже есть пользователи — демо-данные не нужны.")
            return
        fail("В базе уже есть пользователи. Демо-данные добавляются только в пустую базу.")
    accounts = demo.seed()
    db.session.commit()
    click.echo(f"Демо-данные созданы. Учётных записей: {len(accounts)}, школ: {len(demo.SCHOOLS)}, "
               f"записей в дневниках: {len(demo.ENTRIES)}.\n")
    table = [("Роль", "Логин", "Имя", "Школа")] + [
        (ROLE_NAMES[Role(a.role)], a.login, a.name, a.school) for a in accounts
    ]
    widths = [max(len(row[i]) for row in table) for i in range(3)]
    for row in table:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[3])
    click.echo(f"\nПароль у всех демо-учётных записей: {demo.PASSWORD}")


# ---------------------------------------------------------------- render-markdown

TABLE_NAMES = {"journal_entries": "записи дневников", "comments": "комментарии", "posts": "сообщения обсуждений"}


@click.command("render-markdown")
@with_appcontext
def render_markdown_command() -> None:
    """Заново сделать сохранённый HTML записей, комментариев и сообщений (после обновления, меняющего разметку)."""
    with db.engine.connect() as connection:
        done = rendered.render_stored(connection, rendered.STORED, live=True)
    for table, count in done.items():
        click.echo(f"{TABLE_NAMES[table]}: {count}")
