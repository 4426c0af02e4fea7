"""flask backup and flask restore: a consistent copy of the database while the app serves, and back.

SQLite goes through SQLite's online backup API (a file copy of a live WAL database can be torn);
PostgreSQL through pg_dump --format=custom and pg_restore. A backup is written beside its final
name and renamed only when complete and checked, so a half-written copy never looks like a backup.
"""
from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime
from glob import glob
from pathlib import Path
from urllib.parse import quote

import click
from alembic.script import ScriptDirectory
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db

# rost-20261125-031500.sqlite, rost-20261125-031500-2.dump (a second copy within the same second)
BACKUP_NAME = re.compile(r"^rost-(\d{8}-\d{6})(?:-(\d+))?\.(sqlite|dump)$")
PG_TOOL_DIRS = "/usr/lib/postgresql/*/bin"  # Debian keeps every installed major version here


class BackupError(Exception):
    """What went wrong, in words for the operator; the command exits with status 1."""


def init_app(app: Flask) -> None:
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)


# ---------------------------------------------------------------- the commands

@click.command("backup")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@with_appcontext
def backup_command(path: Path | None) -> None:
    """Сделать резервную копию базы данных (можно при работающем сайте).

    Без PATH копия ложится в BACKUP_DIR под именем rost-ГГГГММДД-ЧЧММСС.sqlite (или .dump для PostgreSQL),
    и там остаются только BACKUP_KEEP самых новых копий.
    """
    with reported():
        url = database_url()
        suffix = ".sqlite" if url.get_backend_name() == "sqlite" else ".dump"
        backup_dir, keep = None, 0
        if path is None:
            backup_dir, keep = configured_backup_dir(), keep_count()
            target = new_backup_name(backup_dir, suffix)
        elif path.is_dir():
            target = new_backup_name(path, suffix)
        else:
            target = path
        if url.get_backend_name() == "sqlite":
            backup_sqlite(sqlite_path(url), target)
        else:
            backup_postgresql(url, target)
        click.echo(f"Резервная копия записана: {target} ({human_size(target.stat().st_size)}).")
        if backup_dir is not None:
            removed = prune(backup_dir, suffix, keep)
            if removed:
                click.echo(f"Удалены старые копии ({len(removed)}): {', '.join(p.name for p in removed)}.")


@click.command("restore")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--yes", is_flag=True, help="Не спрашивать подтверждения (для сценариев).")
@with_appcontext
def restore_command(path: Path, yes: bool) -> None:
    """Восстановить базу данных из резервной копии: всё, что в базе сейчас, будет заменено."""
    with reported():
        url = database_url()
        if not path.is_file():
            raise BackupError(f"Файл резервной копии не найден: {path}.")
        sqlite = url.get_backend_name() == "sqlite"
        # The file is checked before anyone is asked anything: a bad file never gets near the database.
        if sqlite:
            verify_sqlite_backup(path)
        else:
            verify_postgresql_backup(url, path)
        what = f"файл базы SQLite {sqlite_path(url)}" if sqlite else describe_postgresql(url)
        click.echo(f"Копия {path} проверена.")
        if not yes and not confirmed(f"Заменить {what} содержимым копии? Текущие данные будут потеряны"):
            raise BackupError("Восстановление отменено, база данных не изменена.")
        if sqlite:
            restore_sqlite(path, sqlite_path(url))
        else:
            restore_postgresql(url, path)
        click.echo(f"База данных восстановлена из {path}.")
        restored, head = schema_versions()
        if restored != head:
            click.echo(f"Схема в копии — версия {restored}, эта версия Rost ждёт {head}: выполните flask db upgrade.")


def confirmed(question: str) -> bool:
    try:
        return click.confirm(question, default=False)
    except click.Abort:  # no terminal to answer from (cron, a pipe), or Ctrl-C
        click.echo()
        return False


@contextmanager
def reported() -> Iterator[None]:
    """Any failure ends as one clear line on stderr and exit status 1, never a traceback."""
    try:
        yield
    except BackupError as error:
        message = str(error)
    except sqlite3.Error as error:
        message = f"Ошибка SQLite: {error}."
    except SQLAlchemyError as error:
        message = f"Нет связи с базой данных: {str(getattr(error, 'orig', None) or error).strip().splitlines()[0]}"
    except OSError as error:
        message = f"Ошибка файла {error.filename or ''}: {error.strerror or error}.".replace("  ", " ")
    else:
        return
    db.session.rollback()
    click.secho(message, err=True, fg="red")
    raise click.exceptions.Exit(1)


def schema_versions() -> tuple[str | None, str | None]:
    """The migration the restored database is at, and the one this code expects."""
    with db.engine.connect() as connection:
        restored = connection.exec_driver_sql("SELECT max(version_num) FROM alembic_version").scalar()
    script = ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())
    return restored, script.get_current_head()


# ---------------------------------------------------------------- where and how many

def database_url() -> URL:
    return make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])


def sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise BackupError(f"Резервная копия делается только для базы SQLite в файле, а не {url.database!r}.")
    return Path(url.database).resolve()


def configured_backup_dir() -> Path:
    setting = current_app.config.get("BACKUP_DIR")
    if not setting:
        raise BackupError("Укажите, куда писать копию: flask backup ПУТЬ, или задайте BACKUP_DIR в instance/config.py.")
    folder = Path(setting).expanduser()
    if not folder.is_absolute():  # as the rest of the configuration: relative to the instance folder
        folder = Path(current_app.instance_path) / folder
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def keep_count() -> int:
    keep = current_app.config.get("BACKUP_KEEP")
    if not isinstance(keep, int) or isinstance(keep, bool) or keep < 1:
        raise BackupError(f"BACKUP_KEEP должно быть целым числом не меньше 1, а не {keep!r}.")
    return keep


def new_backup_name(folder: Path, suffix: str) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    target = folder / f"rost-{stamp}{suffix}"
    n = 2
    while target.exists():
        target = folder / f"rost-{stamp}-{n}{suffix}"
        n += 1
    return target


def prune(folder: Path, suffix: str, keep: int) -> list[Path]:
    """Remove all but the newest `keep` copies of this kind; only files named as `flask backup` names them."""
    ours = []
    for path in folder.iterdir():
        match = BACKUP_NAME.match(path.name)
        if match and "." + match.group(3) == suffix and path.is_file():
            ours.append(((match.group(1), int(match.group(2) or 1)), path))
    ours.sort(reverse=True)
    removed = [path for _, path in ours[keep:]]
    for path in removed:
        path.unlink()
    return removed


def human_size(size: int) -> str:
    for unit in ("Б", "КБ", "МБ"):
        if size < 1024:
            return f"{size} {unit}" if unit == "Б" else f"{size:.1f} {unit}".replace(".", ",")
        size /= 1024
    return f"{size:.1f} ГБ".replace(".", ",")


@contextmanager
def written_beside(target: Path) -> Iterator[Path]:
    """A temporary file next to `target` (same filesystem), readable by the owner only: a backup holds
    password hashes and private entries. Renamed to `target` when the block succeeds, removed otherwise."""
    tmp = target.parent / f".{target.name}.{os.getpid()}.tmp"
    try:
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    except OSError as error:
        raise BackupError(f"Не удаётся записать копию в папку {target.parent}: {error.strerror}.") from error
    try:
        yield tmp
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, target)
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)  # the rename itself survives a power cut
        finally:
            os.close(dir_fd)
    finally:
        tmp.unlink(missing_ok=True)


# ---------------------------------------------------------------- SQLite

def busy_timeout_seconds() -> float:
    return int(current_app.config.get("SQLITE_BUSY_TIMEOUT_MS", 15_000)) / 1000


def open_sqlite(path: Path, mode: str) -> sqlite3.Connection:
    # mode=rw never creates a missing file; mode=ro never writes to a backup.
    return sqlite3.connect(f"file:{quote(str(path))}?mode={mode}", uri=True, timeout=busy_timeout_seconds(),
                           isolation_level=None)


def backup_sqlite(live: Path, target: Path) -> None:
    if not live.is_file():
        raise BackupError(f"Файл базы данных не найден: {live}.")
    if target.resolve() == live:
        raise BackupError("Копию нельзя записать поверх самой базы данных.")
    with written_beside(target) as tmp:
        with closing(open_sqlite(live, "rw")) as source, closing(sqlite3.connect(tmp, isolation_level=None)) as copy:
            # All pages in one step: one read transaction, so one consistent moment. In WAL mode it
            # does not block the app's writers (a stepwise copy restarts whenever they write).
            source.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
            check_sqlite(copy, tmp)


def check_sqlite(connection: sqlite3.Connection, path: Path) -> None:
    try:
        result = [row[0] for row in connection.execute("PRAGMA integrity_check")]
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} — не база данных SQLite или файл повреждён ({error}).") from error
    if result != ["ok"]:
        raise BackupError(f"Проверка целостности {path} не пройдена: {'; '.join(result[:5])}.")
    if not {"alembic_version", "users"} <= tables:
        raise BackupError(f"{path} — база SQLite, но не база Rost (нет таблиц alembic_version и users).")


def verify_sqlite_backup(path: Path) -> None:
    with closing(open_sqlite(path.resolve(), "ro")) as copy:
        check_sqlite(copy, path)


def restore_sqlite(backup: Path, live: Path) -> None:
    if backup.resolve() == live:
        raise BackupError("Копия и база данных — один и тот же файл.")
    live.parent.mkdir(parents=True, exist_ok=True)
    db.session.remove()  # this process's own connection holds no read snapshot of the old data
    # Page by page into the live file through SQLite itself, under its write lock: a running app
    # waits (busy timeout) and then reads the restored data; its WAL and other connections stay
    # consistent, which replacing the file underneath them would not.
    with closing(open_sqlite(backup.resolve(), "ro")) as source, \
            closing(sqlite3.connect(live, timeout=busy_timeout_seconds(), isolation_level=None)) as target:
        source.backup(target)
        if target.execute("PRAGMA journal_mode").fetchone()[0] != "wal":  # a database new to this server
            target.execute("PRAGMA journal_mode=WAL")
        result = [row[0] for row in target.execute("PRAGMA quick_check")]
        if result != ["ok"]:
            raise BackupError(f"После восстановления проверка базы не пройдена: {'; '.join(result[:5])}.")


# ---------------------------------------------------------------- PostgreSQL

@dataclass(frozen=True)
class PgTool:
    path: str
    major: int


def describe_postgresql(url: URL) -> str:
    return f"базу PostgreSQL «{url.database}» на {url.host or 'локальном сокете'}{f':{url.port}' if url.port else ''}"


def libpq_target(url: URL) -> tuple[str, dict[str, str]]:
    """The database as a libpq URI without the password, and an environment with it: a password on
    the command line would show in `ps` to every user of the server."""
    uri = URL.create("postgresql", username=url.username, host=url.host, port=url.port,
                     database=url.database, query=url.query).render_as_string(hide_password=False)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    # Waiting for a table lock held by a stuck session ends with an error, not a restore that hangs for ever.
    env["PGOPTIONS"] = f"{env.get('PGOPTIONS', '')} -c lock_timeout=60000".strip()
    return uri, env


def server_major() -> int:
    with db.engine.connect() as connection:
        number = int(connection.exec_driver_sql("SHOW server_version_num").scalar())
    return number // 10000


def tool_major(path: str) -> int | None:
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"\b(\d+)(?:\.\d+)*\b", out)
    return int(match.group(1)) if match else None


def find_pg_tool(name: str, needed_major: int) -> PgTool:
    """The PATH's `name`, or Debian's per-version copies, newest first: the first at least as new as
    the server (pg_dump refuses a newer server)."""
    candidates = [shutil.which(name)] + sorted(glob(f"{PG_TOOL_DIRS}/{name}"),
                                                key=lambda p: int(re.sub(r"\D", "", p.split("/")[-3]) or 0),
                                                reverse=True)
    found: list[PgTool] = []
    for path in dict.fromkeys(p for p in candidates if p):
        major = tool_major(path)
        if major is not None:
            found.append(PgTool(path, major))
            if major >= needed_major:
                return found[-1]
    if not found:
        raise BackupError(f"Не найдена программа {name}. Установите клиент PostgreSQL: "
                          f"apt-get install postgresql-client-{needed_major}.")
    newest = max(tool.major for tool in found)
    raise BackupError(f"{name} версии {newest} старше сервера PostgreSQL {needed_major} и не сможет с ним работать. "
                      f"Установите postgresql-client-{needed_major}.")


def run_tool(args: list[str], env: dict[str, str], failure: str) -> str:
    result = subprocess.run(args, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if result.returncode != 0:
        detail = " ".join(result.stderr.strip().splitlines()[-3:]) or f"код выхода {result.returncode}"
        raise BackupError(f"{failure}: {detail}")
    return result.stdout


def backup_postgresql(url: URL, target: Path) -> None:
    major = server_major()
    pg_dump = find_pg_tool("pg_dump", major)
    uri, env = libpq_target(url)
    with written_beside(target) as tmp:
        run_tool([pg_dump.path, "--format=custom", "--no-password", f"--file={tmp}", f"--dbname={uri}"],
                 env, "pg_dump не смог сделать копию")
        read_whole_dump(find_pg_tool("pg_restore", major), tmp, env, "Записанная копия не читается")


def read_whole_dump(pg_restore: PgTool, path: Path, env: dict[str, str], failure: str) -> str:
    """Its table of contents, after reading every block of it: --list alone reads only the table of
    contents, which a copy cut short still has."""
    listing = run_tool([pg_restore.path, "--list", str(path)], env, failure)
    run_tool([pg_restore.path, f"--file={os.devnull}", str(path)], env, failure)
    return listing


def verify_postgresql_backup(url: URL, path: Path) -> None:
    pg_restore = find_pg_tool("pg_restore", server_major())
    _, env = libpq_target(url)
    listing = read_whole_dump(pg_restore, path, env,
                              f"{path} — не копия PostgreSQL, сделанная pg_dump --format=custom, или файл повреждён")
    if not re.search(r"TABLE \S+ alembic_version ", listing):
        raise BackupError(f"{path} — копия PostgreSQL, но не базы Rost (нет таблицы alembic_version).")


def restore_postgresql(url: URL, path: Path) -> None:
    pg_restore = find_pg_tool("pg_restore", server_major())
    uri, env = libpq_target(url)
    db.session.remove()
    db.engine.dispose()  # this process holds no connection that would wait on the restore's locks
    # One transaction: if anything fails, the database is left exactly as it was.
    run_tool([pg_restore.path, "--clean", "--if-exists", "--no-owner", "--single-transaction", "--no-password",
              f"--dbname={uri}", str(path)], env, f"Не удалось восстановить базу из {path} (она не изменена)")
