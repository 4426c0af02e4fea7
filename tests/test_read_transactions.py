"""How a request ends its transaction (webapp.database). On PostgreSQL one that only read ends with
COMMIT, so that psycopg keeps the statements it prepared (it forgets them all on ROLLBACK), and a
GET reads outside a transaction until it first writes. One that wrote and did not commit ends with
ROLLBACK on either database, and nothing it wrote is kept, a GET's writes included."""
from __future__ import annotations

import os

import pytest
from flask import abort
from sqlalchemy import event, func, select, update

from webapp.extensions import db
from webapp.models import School, User

from . import factories
from .conftest import login, make_test_app

ON_POSTGRESQL = os.environ.get("DATABASE_URL", "").startswith("postgresql")
postgresql_only = pytest.mark.skipif(not ON_POSTGRESQL, reason="SQLite keeps its statements on ROLLBACK: the rule is PostgreSQL's")


@pytest.fixture
def app(tmp_path):
    """The app with routes that read, write without committing, or fail, requested without a test's
    own app context around them, as in production (each request ends its own session)."""
    app = make_test_app(tmp_path)

    @app.get("/t/reads")
    def reads():
        return str(db.session.scalar(select(func.count()).select_from(User)))

    @app.post("/t/flushes")
    def flushes():
        db.session.add(School(name="Не сохранится"))
        db.session.flush()
        return "no", 422

    @app.post("/t/updates")
    def updates():
        db.session.scalar(select(func.count()).select_from(User))
        db.session.execute(update(User).values(display_name="Не сохранится"))
        return "no", 422

    @app.post("/t/adds")
    def adds():
        db.session.scalar(select(func.count()).select_from(User))
        db.session.add(School(name="Не сохранится"))
        return "no", 422

    @app.get("/t/writes-twice-then-fails")
    def writes_twice_then_fails():
        db.session.scalar(select(func.count()).select_from(User))
        db.session.execute(update(User).values(display_name="Не сохранится"))
        db.session.add(School(name="Не сохранится"))
        db.session.flush()
        db.session.scalar(select(func.count()).select_from(School))
        raise RuntimeError("a fault half way")

    @app.get("/t/fails")
    def fails():
        db.session.scalar(select(func.count()).select_from(User))
        abort(404)

    @app.post("/t/writes-twice-then-fails")
    def posts_twice_then_fails():
        return writes_twice_then_fails()

    with app.app_context():
        app.reader_id = factories.make_user(login="reader", display_name="Читатель")
        db.session.commit()
    return app


@pytest.fixture
def endings(app):
    """How each transaction on the app's engine ended, in order."""
    seen: list[str] = []
    with app.app_context():
        engine = db.engine
    handlers = {name: (lambda _conn, name=name: seen.append(name)) for name in ("commit", "rollback")}
    for name, handler in handlers.items():
        event.listen(engine, name, handler)
    yield seen
    for name, handler in handlers.items():
        event.remove(engine, name, handler)


@postgresql_only
def test_a_request_that_only_read_ends_with_commit(app, endings):
    assert app.test_client().get("/t/reads").status_code == 200
    assert endings == ["commit"]


@postgresql_only
def test_a_request_that_only_read_and_answered_an_error_ends_with_commit_too(app, endings):
    assert app.test_client().get("/t/fails").status_code == 404
    assert endings == ["commit"]


@pytest.mark.parametrize("route", ["/t/flushes", "/t/updates", "/t/adds"])
def test_a_request_that_wrote_without_committing_keeps_nothing(app, endings, route):
    assert app.test_client().post(route).status_code == 422
    assert "commit" not in endings
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(School)) == 0
        assert db.session.scalars(select(User.display_name)).all() == ["Читатель"]


@pytest.mark.skipif(not ON_POSTGRESQL, reason="PostgreSQL's rule: on SQLite a BEGIN is no round trip, and it keeps one snapshot for the page")
def test_a_page_that_only_reads_sends_no_begin(app):
    """Each statement of a GET that only reads runs in a transaction of its own (psycopg's
    autocommit): no BEGIN before it, no COMMIT after the last."""
    from psycopg.pq import TransactionStatus

    states = []
    with app.app_context():
        engine = db.engine

    def note(_conn, cursor, *_args):
        states.append((cursor.connection.autocommit, cursor.connection.info.transaction_status))

    event.listen(engine, "before_cursor_execute", note)
    try:
        assert app.test_client().get("/t/reads").text == "1"
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert states and all(state == (True, TransactionStatus.IDLE) for state in states), states


def test_a_read_request_that_writes_keeps_none_of_it_when_it_fails(app):
    """A GET that writes (opening an entry marks its notifications read) writes in one transaction:
    when it fails half way, none of its writes is kept."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert app.test_client().get("/t/writes-twice-then-fails").status_code == 500
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(School)) == 0
        assert db.session.scalars(select(User.display_name)).all() == ["Читатель"]


@pytest.mark.skipif(not ON_POSTGRESQL, reason="on SQLite a poll runs as every statement does: it sets no autocommit to hand back")
def test_a_write_after_a_poll_on_the_same_connection_is_one_transaction(app):
    """A poll that found nothing new leaves its connection reading outside a transaction (on
    PostgreSQL, in autocommit): the next request on it that writes still writes in one
    transaction, and keeps none of it when it fails half way."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = app.test_client()
    with app.app_context():
        login(client, app.reader_id)
        engine = db.engine
    used = []

    def note(_conn, cursor, *_args):
        used.append(cursor.connection)

    event.listen(engine, "before_cursor_execute", note)
    try:
        assert client.get("/notifications/badge?shown=0").status_code == 204
        poll_connection = used[-1]
        assert client.post("/t/writes-twice-then-fails").status_code == 500
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert used[-1] is poll_connection, "the same pooled connection served the poll and the write"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(School)) == 0
        assert db.session.scalars(select(User.display_name)).all() == ["Читатель"]


def test_a_request_that_failed_keeps_nothing(app, endings):
    @app.before_request
    def _write_then_fail():
        db.session.execute(update(User).values(display_name="Не сохранится"))
        raise RuntimeError("a fault half way")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert app.test_client().get("/t/reads").status_code == 500
    assert "commit" not in endings
    with app.app_context():
        assert db.session.scalars(select(User.display_name)).all() == ["Читатель"]
