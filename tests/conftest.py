from __future__ import annotations

import os
import re
from contextlib import contextmanager

import pytest
from flask import g, has_app_context
from flask.testing import FlaskClient

from webapp import create_app
from webapp.extensions import db
from webapp.models import User

from . import factories

FRAGMENT = {"HX-Request": "true", "HX-Request-Type": "partial"}


def _database_uri(tmp_path) -> str:
    return os.environ.get("DATABASE_URL") or f"sqlite:///{tmp_path / 'rost.sqlite'}"


class Client(FlaskClient):
    """Each request starts as in production: nothing cached in `g` (signed-in user,
    locale) from an earlier request, no ORM objects left over (the test holds one app context open throughout,
    which Flask reuses for every request)."""

    def open(self, *args, **kwargs):
        _forget_request_state()
        try:
            return super().open(*args, **kwargs)
        finally:
            _forget_request_state()


def _forget_request_state() -> None:
    if has_app_context():
        for name in list(vars(g)):
            g.pop(name)
        db.session.expire_all()


_apps: list = []


@pytest.fixture(autouse=True)
def _close_databases():
    """Every app a test made gives back its database connections (PostgreSQL counts them)."""
    yield
    while _apps:
        app = _apps.pop()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def make_test_app(tmp_path, **overrides):
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "SQLALCHEMY_DATABASE_URI": _database_uri(tmp_path),
        "WTF_CSRF_ENABLED": False,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "HTMX_SOURCE": "local",
    }
    config.update(overrides)
    app = create_app(config)
    app.test_client_class = Client
    _apps.append(app)
    with app.app_context():
        db.drop_all()
        db.create_all()
    return app


@pytest.fixture
def app(tmp_path):
    app = make_test_app(tmp_path)
    with app.app_context():
        yield app
        db.session.remove()
        db.drop_all()


@pytest.fixture
def csrf_app(tmp_path):
    """The app with CSRF protection on, as in production."""
    app = make_test_app(tmp_path, WTF_CSRF_ENABLED=True)
    with app.app_context():
        yield app
        db.session.remove()
        db.drop_all()


@pytest.fixture
def client(app) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def login(client: FlaskClient, user_id: int) -> FlaskClient:
    """Sign `user_id` in on this client the way a successful sign-in does."""
    user = db.session.get(User, user_id)
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
    return client


def editor_base(html: str) -> str:
    """The fingerprint an editor of a shared text opened on (webapp.text.saved_since_opened)."""
    return re.search(r'name="base" value="([0-9a-f]+)"', html).group(1)


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(r'"X-CSRFToken": "([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def hidden_fields(html: str, form_id: str) -> dict[str, str]:
    """The hidden fields a browser sends with the form `form_id` of a page."""
    form = re.search(rf'<form id="{form_id}".*?</form>', html, re.S)
    assert form, f"no form #{form_id}"
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(0)))


def make_people() -> dict:
    """A small network: two schools, two librarians, their methodist, another methodist, an administrator."""
    s1, s2 = factories.make_school("Гимназия №3"), factories.make_school("Лицей №1")
    ids = {
        "author": factories.make_user(login="anna", display_name="Анна Смирнова", school_id=s1),
        "librarian": factories.make_user(login="olga", display_name="Ольга Петрова", school_id=s2),
        "methodist": factories.make_user("methodist", login="ruslana", display_name="Руслана Трач"),
        "other_methodist": factories.make_user("methodist", login="lidia", display_name="Лидия Карма"),
        "admin": factories.make_user("admin", login="admin", display_name="Администратор"),
    }
    factories.assign_mentor(ids["methodist"], ids["author"])
    return ids


@pytest.fixture
def people(app):
    return make_people()


@contextmanager
def counted_queries():
    """The SQL statements run inside the block, e.g. for a query budget:

        with counted_queries() as statements:
            client.get(url)
        assert len(statements) <= 4
    """
    from sqlalchemy import event

    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")):
            statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


@contextmanager
def another_sqlite_writer(seconds: float = 0.5):
    """Another connection holds SQLite's write lock for `seconds` while the block runs: a request
    that writes must wait its turn, not fail with "database is locked"."""
    import sqlite3
    import threading

    db.session.commit()  # the test's own session lets go of the database
    other = sqlite3.connect(db.engine.url.database, isolation_level=None, check_same_thread=False, timeout=10)
    other.execute("BEGIN IMMEDIATE")
    other.execute("UPDATE users SET locale = locale WHERE id = (SELECT min(id) FROM users)")
    timer = threading.Timer(seconds, other.execute, ("COMMIT",))
    timer.start()
    try:
        yield
    finally:
        timer.join()
        other.close()
