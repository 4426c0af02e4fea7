"""flask backup and flask restore as an operator runs them, while the site serves.

On SQLite (a file in tmp_path) and, when DATABASE_URL points at PostgreSQL, on that; a fresh
PostgreSQL database for a restore is made on the same server (name: the test database's name
plus a suffix) and dropped afterwards.
"""
from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask_migrate import stamp
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from webapp import backup
from webapp.extensions import db
from webapp.models import JournalEntry, User, Visibility

from . import factories
from .conftest import make_test_app
from .servers import ROOT, Browser, ConnectionLost, server_env, start_gunicorn

FLASK = Path(sys.executable).parent / "flask"
WRITERS = 4
ACKNOWLEDGED = frozenset({201, 204, 303})
TOKEN = re.compile(r"w\d+:\d+")


def on_postgresql(app) -> bool:
    return app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")


def suffix(app) -> str:
    return ".dump" if on_postgresql(app) else ".sqlite"


@pytest.fixture
def rost(tmp_path):
    """The app on a database marked with the current migration, as `flask db upgrade` leaves it."""
    app = make_test_app(tmp_path)
    with app.app_context():
        stamp()
        try:
            yield app
        finally:
            db.session.remove()
            db.drop_all()
            with db.engine.begin() as connection:
                connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


def operator(database_uri: str, instance: Path, *args: str) -> subprocess.CompletedProcess:
    """`flask ARGS` in a process of its own, configured like the server (its environment only)."""
    instance.mkdir(parents=True, exist_ok=True)
    env = server_env(database_uri, instance, {"FLASK_APP": "wsgi.py"})
    return subprocess.run([str(FLASK), *args], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=120)


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def invoke(app, *args: str, input: str | None = None):
    db.session.commit()  # the test's own session holds no transaction the command would wait for
    result = app.test_cli_runner().invoke(args=list(args), input=input)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


# ---------------------------------------------------------------- a fresh database to restore into

@dataclass
class FreshDatabase:
    uri: str
    drop: Callable[[], None] = field(repr=False)


def fresh_database(app, tmp_path: Path) -> FreshDatabase:
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if not on_postgresql(app):
        path = tmp_path / "fresh" / "rost.sqlite"
        path.parent.mkdir()
        return FreshDatabase(f"sqlite:///{path}", lambda: None)
    url = make_url(uri)
    name = f"{url.database}_restore_{os.getpid()}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    return FreshDatabase(url.set(database=name).render_as_string(hide_password=False), drop)


# ---------------------------------------------------------------- writers through the real server

@dataclass
class Load:
    """Every write sent: (token, HTTP status or None when the connection was lost, when the answer came)."""
    sent: list[tuple[str, int | None, float]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)

    def acknowledged(self, before: float = float("inf")) -> set[str]:
        with self.lock:
            return {token for token, status, at in self.sent if status in ACKNOWLEDGED and at < before}


def write_until_stopped(load: Load, browser: Browser, n: int, entry_id: int) -> None:
    k = 0
    while not load.stop.is_set():
        token = f"w{n}:{k}"
        try:
            if k % 2:
                status = browser.post(f"/comments/entry/{entry_id}", {"body": f"Комментарий {token}"})[0]
            else:
                status = browser.post("/journal/", {"title": f"Запись {token}", "body": f"Текст {token}",
                                                    "visibility": Visibility.MENTORS.value, "tags": ""})[0]
        except ConnectionLost:
            status = None
        with load.lock:
            load.sent.append((token, status, time.monotonic()))
        k += 1


def saved_tokens(database_uri: str) -> list[str]:
    engine = create_engine(database_uri)
    try:
        with engine.connect() as connection:
            bodies = connection.execute(text("SELECT body FROM comments UNION ALL SELECT body FROM journal_entries"))
            return [m.group(0) for (body,) in bodies if (m := TOKEN.search(body))]
    finally:
        engine.dispose()


def test_backup_during_writes_restores_every_write_acknowledged_before_it(rost, tmp_path):
    uri = rost.config["SQLALCHEMY_DATABASE_URI"]
    logins = [f"writer{n}" for n in range(WRITERS)]
    ids = [factories.make_user(login=login) for login in logins]
    entry_id = factories.make_entry(ids[0], visibility=Visibility.COLLEAGUES, title="Открытая запись")
    db.session.remove()
    target = tmp_path / "backups" / f"during-load{suffix(rost)}"
    target.parent.mkdir()
    fresh = fresh_database(rost, tmp_path)
    load = Load()
    try:
        with start_gunicorn(uri, workers=2) as server:
            browsers = [Browser(server.url) for _ in logins]
            for browser, login in zip(browsers, logins, strict=True):
                browser.sign_in(login, factories.PASSWORD)
            writers = [threading.Thread(target=write_until_stopped, args=(load, b, n, entry_id), daemon=True)
                       for n, b in enumerate(browsers)]
            for writer in writers:
                writer.start()
            try:
                deadline = time.monotonic() + 15
                while len(load.acknowledged()) < 20 and time.monotonic() < deadline:
                    time.sleep(0.05)
                started = time.monotonic()
                made = operator(uri, tmp_path / "ops", "backup", str(target))
                finished = time.monotonic()
                time.sleep(0.3)
            finally:
                load.stop.set()
                for writer in writers:
                    writer.join(timeout=40)
            assert not any(w.is_alive() for w in writers), "a writer hung"
        assert made.returncode == 0, made.stderr
        assert str(target) in made.stdout
        before = load.acknowledged(before=started)
        during = load.acknowledged(before=finished) - before
        print(f"acknowledged before the backup {len(before)}, while it ran {len(during)}, "
              f"backup took {finished - started:.1f} s")  # shown with -s or when the test fails
        assert len(before) >= 20
        assert during, "nothing was written while the backup ran"
        assert {status for _, status, _ in load.sent} <= ACKNOWLEDGED  # the site kept serving, no errors

        restored = operator(fresh.uri, tmp_path / "fresh-instance", "restore", "--yes", str(target))
        assert restored.returncode == 0, restored.stderr
        tokens = saved_tokens(fresh.uri)
        assert len(tokens) == len(set(tokens)), "a write restored twice"
        assert before <= set(tokens), f"acknowledged before the backup, missing: {sorted(before - set(tokens))[:10]}"
        assert set(tokens) <= set(saved_tokens(uri))  # nothing the live database never had
        if not on_postgresql(rost):
            with sqlite3.connect(make_url(fresh.uri).database) as copy:
                assert copy.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
                assert copy.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        fresh.drop()


def test_restore_into_the_live_database_while_the_server_runs(rost, tmp_path):
    """The running server reads the restored data at once and goes on writing (SQLite: its WAL stays whole)."""
    author = factories.make_user(login="anna")
    kept = factories.make_entry(author, title="Была до копии")
    target = tmp_path / f"before{suffix(rost)}"
    assert invoke(rost, "backup", str(target)).exit_code == 0
    with start_gunicorn(rost.config["SQLALCHEMY_DATABASE_URI"], workers=2) as server:
        browser = Browser(server.url)
        browser.sign_in("anna", factories.PASSWORD)
        status, _, headers = browser.post("/journal/", {"title": "После копии", "body": "Исчезнет при восстановлении",
                                                        "visibility": Visibility.MENTORS.value, "tags": ""})
        assert status == 303
        later = headers["Location"]
        assert browser.get(later)[0] == 200

        result = invoke(rost, "restore", "--yes", str(target))
        assert result.exit_code == 0, result.output

        assert browser.get(later)[0] == 404
        assert browser.get(f"/journal/{kept}")[0] == 200
        status, _, headers = browser.post("/journal/", {"title": "После восстановления", "body": "Текст",
                                                        "visibility": Visibility.MENTORS.value, "tags": ""})
        assert status == 303 and browser.get(headers["Location"])[0] == 200
        server.stop()
        assert "Traceback" not in server.log()
    assert [e.title for e in db.session.scalars(select(JournalEntry).order_by(JournalEntry.id))] == \
        ["Была до копии", "После восстановления"]
    if not on_postgresql(rost):
        assert db.session.execute(text("PRAGMA integrity_check")).scalar() == "ok"


# ---------------------------------------------------------------- refusals leave the database alone

def test_restore_asks_first_and_a_no_changes_nothing(rost, tmp_path):
    factories.make_user(login="anna")
    target = tmp_path / f"copy{suffix(rost)}"
    assert invoke(rost, "backup", str(target)).exit_code == 0
    factories.make_user(login="olga")  # would vanish if the restore went ahead

    for answer in ("n\n", "\n", None):  # "no", Enter, no terminal at all
        result = invoke(rost, "restore", str(target), input=answer)
        assert result.exit_code == 1
        named = make_url(rost.config["SQLALCHEMY_DATABASE_URI"]).database
        assert (Path(named).name if not on_postgresql(rost) else named) in result.output  # says what it would replace
        assert count(User) == 2

    result = invoke(rost, "restore", str(target), input="y\n")
    assert result.exit_code == 0, result.output
    assert count(User) == 1


def garbage_files(rost, tmp_path: Path) -> list[Path]:
    random_bytes = tmp_path / f"random{suffix(rost)}"
    random_bytes.write_bytes(os.urandom(64 * 1024))
    real = tmp_path / f"real{suffix(rost)}"
    assert invoke(rost, "backup", str(real)).exit_code == 0
    cut = tmp_path / f"cut{suffix(rost)}"
    data = real.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    other = tmp_path / "other.sqlite"  # a sound SQLite database, but not Rost's
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE notes (body TEXT)")
    empty = tmp_path / "empty.sqlite"
    empty.write_bytes(b"")
    return [random_bytes, cut, other, empty]


def test_a_garbage_or_damaged_file_is_refused_and_the_database_untouched(rost, tmp_path):
    factories.make_user(login="anna")
    for path in garbage_files(rost, tmp_path):
        before = count(User)
        factories.make_user()  # something the restore would lose
        result = invoke(rost, "restore", "--yes", str(path))
        assert result.exit_code == 1, (path.name, result.output)
        assert str(path) in result.output  # names the file it refused
        assert count(User) == before + 1


def test_a_failed_backup_leaves_nothing_under_the_final_name(rost, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise backup.BackupError("the copy did not pass its check")

    monkeypatch.setattr(backup, "run_tool" if on_postgresql(rost) else "check_sqlite", broken)
    folder = tmp_path / "backups"
    folder.mkdir()
    result = invoke(rost, "backup", str(folder / f"copy{suffix(rost)}"))
    assert result.exit_code == 1
    assert list(folder.iterdir()) == []  # no copy, no half-written temporary file


def test_backup_needs_a_path_or_backup_dir(rost, tmp_path, monkeypatch):
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    result = invoke(rost, "backup")
    assert result.exit_code == 1
    assert "BACKUP_DIR" in result.output
    assert list(here.iterdir()) == []


def test_backup_dir_names_each_copy_by_time_and_keeps_the_newest(rost, tmp_path):
    folder = tmp_path / "backups"
    folder.mkdir()
    mine, other = suffix(rost), ".sqlite" if on_postgresql(rost) else ".dump"
    strangers = ["notes.txt", f"rost-latest{mine}", f"rost-20200101-000000{other}", f"weekly-20200101-000000{mine}"]
    for name in strangers:
        (folder / name).write_text("not ours to delete")
    (folder / f"rost-20200101-000000{mine}").write_bytes(b"an old copy of ours")
    rost.config.update(BACKUP_DIR=str(folder), BACKUP_KEEP=2)

    written = []
    for _ in range(3):
        result = invoke(rost, "backup")
        assert result.exit_code == 0, result.output
        written += re.findall(rf"{re.escape(str(folder))}/(rost-\d{{8}}-\d{{6}}(?:-\d+)?{re.escape(mine)})",
                              result.output)
    assert len(written) == 3
    ours = sorted(p.name for p in folder.iterdir() if backup.BACKUP_NAME.match(p.name) and p.suffix == mine)
    assert len(ours) == 2 and set(ours) <= set(written)  # the two newest; the 2020 copy and the first went
    assert f"rost-20200101-000000{mine}" not in ours
    assert all((folder / name).read_text() == "not ours to delete" for name in strangers)
    assert all((folder / name).stat().st_mode & 0o077 == 0 for name in ours)  # owner-only: it holds password hashes


def test_the_password_never_reaches_the_command_line():
    uri, env = backup.libpq_target(make_url("postgresql://rost:s3cr%40t@db.example:5433/rost?sslmode=require"))
    assert "s3cr" not in uri and uri.startswith("postgresql://rost@db.example:5433/rost")
    assert "sslmode=require" in uri
    assert env["PGPASSWORD"] == "s3cr@t"


def test_pg_dump_older_than_the_server_is_named_not_run(rost, tmp_path, monkeypatch):
    if not on_postgresql(rost):
        pytest.skip("needs PostgreSQL (DATABASE_URL=postgresql://…)")
    monkeypatch.setattr(backup, "server_major", lambda: 99)
    result = invoke(rost, "backup", str(tmp_path / "copy.dump"))
    assert result.exit_code == 1
    assert "postgresql-client-99" in result.output
    assert list(tmp_path.glob("*.dump")) == []
