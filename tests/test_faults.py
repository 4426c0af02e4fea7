"""The database cannot take a write (read-only, a full disk, a failing disk): the person gets a clear
503 that says so, keeps what they typed (a box to copy it from; with htmx the form is left alone and
only its status line speaks), never a stack trace; and once the fault is gone, writing works again.

The faults are real database errors, made per connection: tests run as root, so file permissions
would not stop a write. SQLite: `PRAGMA query_only` (SQLITE_READONLY) and `PRAGMA max_page_count`
at the current size (SQLITE_FULL); PostgreSQL: `default_transaction_read_only` (ReadOnlySqlTransaction)."""
from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html import unescape

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InternalError, OperationalError

from webapp.database import FULL, IO, READ_ONLY, storage_fault
from webapp.extensions import db
from webapp.groups.models import Post
from webapp.mentoring.models import Comment, EntryRead, NotificationKind
from webapp.models import JournalEntry, Role

from . import factories
from .conftest import FRAGMENT, login

# Longer than a few database pages, so that saving it needs new pages (a full disk refuses them).
TYPED = "Мысли после семинара о читательской грамотности. " * 120


def _postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


@dataclass(frozen=True)
class Fault:
    on: tuple[str, ...]  # statements that make a connection refuse to write
    off: tuple[str, ...]  # and that undo it


class DatabaseFaults:
    """Switches a fault on and off for every connection of an engine, whichever thread uses it: each
    connection catches up when it is next taken from the pool. (Emptying the pool instead would
    drop connections another thread, e.g. a live server's, still holds.) The listener stays for the
    engine's life: a pooled connection that had the fault undoes it when it is next used, e.g. by
    the fixture that drops the tables."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"
        self.active: Fault | None = None
        event.listen(engine, "checkout", self._catch_up)

    def _catch_up(self, connection, record, _proxy) -> None:
        applied = record.info.get("fault")
        if applied == self.active:
            return
        cursor = connection.cursor()
        for statement in (applied.off if applied else ()) + (self.active.on if self.active else ()):
            cursor.execute(statement)
        cursor.close()
        if self.postgres:
            connection.commit()  # a SET in a transaction rolled back later would be undone
        record.info["fault"] = self.active

    @contextmanager
    def _switched_on(self, fault: Fault) -> Iterator[None]:
        db.session.remove()  # the test's own session gives its connection back, to catch up
        self.active = fault
        try:
            yield
        finally:
            self.active = None
            db.session.remove()

    def read_only(self):
        if self.postgres:
            return self._switched_on(Fault(("SET default_transaction_read_only = on",),
                                           ("SET default_transaction_read_only = off",)))
        return self._switched_on(Fault(("PRAGMA query_only = ON",), ("PRAGMA query_only = OFF",)))

    def full_disk(self):
        """The database may not grow past its present size: what a full disk looks like to SQLite."""
        pages = db.session.execute(db.text("PRAGMA page_count")).scalar_one()
        free = db.session.execute(db.text("PRAGMA freelist_count")).scalar_one()
        assert free * 4096 < len(TYPED.encode()) // 2, "free pages would take the text: the disk would not look full"
        return self._switched_on(Fault((f"PRAGMA max_page_count = {pages}",), ("PRAGMA max_page_count = 2147483646",)))


@pytest.fixture
def faults(app) -> DatabaseFaults:
    return DatabaseFaults(db.engine)


@contextmanager
def failing_disk(message: str = "disk I/O error", code: int | None = sqlite3.SQLITE_IOERR_WRITE) -> Iterator[None]:
    """Every INSERT fails as SQLite fails when the disk does (there is no way to break a disk here)."""
    def execute(cursor, statement, parameters, context):
        if statement.lstrip().upper().startswith("INSERT"):
            error = sqlite3.OperationalError(message)
            if code is not None:
                error.sqlite_errorcode = code
            raise error
        return False  # not handled: SQLAlchemy runs the statement as usual

    event.listen(db.engine.dialect, "do_execute", execute)
    try:
        yield
    finally:
        event.remove(db.engine.dialect, "do_execute", execute)


@dataclass
class Scene:
    author: int
    entry: int
    thread: int


@pytest.fixture
def scene(app) -> Scene:
    author = factories.make_user(login="anna")
    group = factories.make_group(members=(author,))
    return Scene(author, factories.make_entry(author), factories.make_thread(group, author))


def _post(client, scene: Scene, kind: str, htmx: bool):
    headers = FRAGMENT if htmx else {}
    if kind == "entry":
        return client.post("/journal/", data={"title": "После семинара", "body": TYPED, "visibility": "mentors"},
                           headers=headers)
    if kind == "comment":
        return client.post(f"/comments/entry/{scene.entry}", data={"body": TYPED}, headers=headers)
    return client.post(f"/threads/{scene.thread}/posts", data={"body": TYPED}, headers=headers)


def _saved(kind: str) -> int:
    model = {"entry": JournalEntry, "comment": Comment, "reply": Post}[kind]
    return db.session.scalar(select(func.count()).select_from(model).where(model.body == TYPED))


def _assert_refused_clearly(response, fault: str, htmx: bool) -> None:
    html = response.get_data(as_text=True)
    assert response.status_code == 503
    assert f'data-fault="{fault}"' in html
    assert "Traceback" not in html and 'File "' not in html
    if htmx:
        # Only the form's status line changes: the form, holding the text, stays as it was.
        assert response.headers["HX-Retarget"] == "find .form-alert"
        assert response.headers["HX-Reswap"] == "innerHTML"
        assert "<form" not in html and "error-page" not in html
    else:
        # The database cannot keep a draft: the page holds the text, to be copied.
        assert 'class="kept-text"' in html
        assert TYPED.strip() in html


FAULTS = {"read-only": DatabaseFaults.read_only, "full": DatabaseFaults.full_disk}
KINDS = ("entry", "comment", "reply")


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fault", FAULTS)
def test_a_write_the_database_refuses_gets_a_clear_page_and_keeps_the_text(client, faults, scene, fault, kind, htmx):
    if fault == "full" and _postgres():
        pytest.skip("needs SQLite: a full disk is simulated with SQLite's max_page_count")
    login(client, scene.author)
    with FAULTS[fault](faults):
        response = _post(client, scene, kind, htmx)
        _assert_refused_clearly(response, {"read-only": READ_ONLY, "full": FULL}[fault], htmx)
        assert _saved(kind) == 0
    # The fault is gone: the same text goes in, once.
    response = _post(client, scene, kind, htmx)
    assert response.status_code in (201, 204, 303)
    assert _saved(kind) == 1


def test_reading_still_works_while_the_database_is_read_only(client, faults, scene):
    login(client, scene.author)
    with faults.read_only():
        response = client.get("/journal/")
    assert response.status_code == 200
    assert f'href="/journal/{scene.entry}"' in response.get_data(as_text=True)


def test_pages_that_keep_read_marks_still_open_while_the_database_is_read_only(client, faults, scene):
    """Opening an entry or a thread notes what was read (a write): without it the page still shows,
    for the author and for a methodist whose first reading would be recorded."""
    methodist = factories.make_user(Role.METHODIST, login="metod")
    factories.assign_mentor(methodist, scene.author)
    factories.make_notification(scene.author, NotificationKind.ENTRY_COMMENT, entry_id=scene.entry)
    pages = {scene.author: [f"/journal/{scene.entry}", f"/threads/{scene.thread}?page=1"],
             methodist: [f"/journal/{scene.entry}"]}
    for person, urls in pages.items():
        login(client, person)
        for url in urls:
            with faults.read_only():
                response = client.get(url)
            assert response.status_code == 200, url
            assert "data-fault" not in response.get_data(as_text=True)
    # Nothing was marked while the database could not write; the next opening marks it.
    assert db.session.scalar(select(func.count()).select_from(EntryRead)) == 0
    assert client.get(f"/journal/{scene.entry}").status_code == 200
    assert db.session.scalar(select(func.count()).select_from(EntryRead)) == 1


def test_an_autosave_the_database_refuses_says_so_in_its_own_status(client, faults, scene):
    login(client, scene.author)
    with faults.read_only():
        response = client.post(f"/comments/entry/{scene.entry}/draft", data={"body": TYPED}, headers=FRAGMENT)
    assert response.status_code == 503
    assert f'data-fault="{READ_ONLY}"' in response.get_data(as_text=True)
    assert "HX-Retarget" not in response.headers  # the autosave's status line is its own target


@pytest.mark.parametrize("code", [sqlite3.SQLITE_IOERR_WRITE, None], ids=["with-code", "message-only"])
def test_a_failing_disk_is_a_storage_fault_too(app, client, scene, code):
    if _postgres():
        pytest.skip("needs SQLite: the disk error is SQLite's")
    login(client, scene.author)
    with failing_disk(code=code):
        response = _post(client, scene, "comment", htmx=False)
    _assert_refused_clearly(response, IO, htmx=False)
    assert _saved("comment") == 0


def test_any_other_database_error_is_still_the_server_error_page(app, client, scene):
    if _postgres():
        pytest.skip("needs SQLite: the error is injected as SQLite raises it")
    login(client, scene.author)
    with failing_disk(message="no such table: comments", code=sqlite3.SQLITE_ERROR):
        response = _post(client, scene, "comment", htmx=False)
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "data-fault" not in html
    # Nothing was kept, and the page says so, holding the text to copy.
    assert "ничего не сохранено" in html and "Скопируйте" in html
    assert unescape(re.search(r'<textarea[^>]*class="kept-text"[^>]*>\n?(.*?)</textarea>', html, re.S).group(1)) == TYPED
    assert _saved("comment") == 0


@pytest.mark.parametrize("kind", ["comment", "reply"])
def test_a_plain_form_sent_where_it_no_longer_may_be_gets_its_text_back(app, client, scene, kind):
    """The entry was made private, or the person left the group, while the text was being typed: the
    404 page holds the text to copy (with htmx it stays in the form, webapp.errors)."""
    reader = factories.make_user(login="olga")
    login(client, reader)
    response = _post(client, scene, kind, htmx=False)
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Скопируйте" in html
    assert unescape(re.search(r'<textarea[^>]*class="kept-text"[^>]*>\n?(.*?)</textarea>', html, re.S).group(1)) == TYPED


@pytest.mark.parametrize(("message", "code", "fault"), [
    ("attempt to write a readonly database", sqlite3.SQLITE_READONLY, READ_ONLY),
    ("attempt to write a readonly database", None, READ_ONLY),
    ("database or disk is full", sqlite3.SQLITE_FULL, FULL),
    ("database or disk is full", None, FULL),
    ("disk I/O error", sqlite3.SQLITE_IOERR_FSYNC, IO),
    ("database is locked", sqlite3.SQLITE_BUSY, None),
    ("no such column: x", sqlite3.SQLITE_ERROR, None),
])
def test_sqlite_errors_that_mean_the_disk_or_settings_not_the_request(message, code, fault):
    error = sqlite3.OperationalError(message)
    if code is not None:
        error.sqlite_errorcode = code
    assert storage_fault(OperationalError("INSERT INTO comments …", {}, error)) == fault


def test_a_read_only_postgresql_is_a_storage_fault(faults):
    if not _postgres():
        pytest.skip("needs PostgreSQL (DATABASE_URL=postgresql://…)")
    with faults.read_only():
        with pytest.raises(InternalError) as caught:
            db.session.execute(db.text("INSERT INTO schools (name) VALUES ('Школа')"))
        db.session.rollback()
    assert type(caught.value.orig).__name__ == "ReadOnlySqlTransaction"
    assert storage_fault(caught.value) == READ_ONLY
