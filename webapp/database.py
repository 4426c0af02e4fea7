"""Connection settings for SQLite: WAL, a busy timeout, foreign keys, durable commits,
and BEGIN IMMEDIATE for transactions that write; on PostgreSQL, reading requests outside a
transaction until they write, and how a request that only read ends its transaction; what a
database that cannot write looks like."""
from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import CursorResult, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import Executable

from .extensions import db

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def init_app(app: Flask, engine: Engine) -> None:
    _note_writes(engine)
    if engine.dialect.name == "postgresql":
        _reads_outside_a_transaction(engine)
        _keep_prepared_statements(app, engine)
    if engine.dialect.name != "sqlite":
        return
    timeout = int(app.config["SQLITE_BUSY_TIMEOUT_MS"])

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # pysqlite's own transaction handling would send a plain BEGIN; take it over.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={timeout}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()
        # SQLite's own lower() folds ASCII only; searches compare Cyrillic case-insensitively too.
        dbapi_connection.create_function("lower", 1, _lower, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # A plain (deferred) BEGIN that later writes fails with "database is locked"
        # under concurrent writers; a writer takes the lock up front instead.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _writes() else "BEGIN")


def _reads_outside_a_transaction(engine: Engine) -> None:
    """On PostgreSQL a request that reads (GET, HEAD, OPTIONS) runs each statement in a transaction
    of its own (psycopg's autocommit) until it first writes: no BEGIN before its first statement
    and no COMMIT after its last, two round trips to the server fewer for every page. Under READ
    COMMITTED, PostgreSQL's default and this app's, each statement of a transaction already sees
    what was committed when that statement began, so a page reads exactly what it read before.
    The first statement that is not a plain SELECT (a write, a SELECT … FOR UPDATE, SQL written
    out) opens a transaction, which the view commits or rolls back as ever; the next transaction
    of the same request reads outside one again. A GET that needs a transaction for what it reads
    (a SELECT with side effects, an advisory lock, a server-side cursor) must write first or open
    one itself: none does."""
    info_key = "rost.reading_outside"

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        if "isolation_level" in conn.get_execution_options():
            return  # chosen for this connection (AUTOCOMMIT for VACUUM): SQLAlchemy's to set and reset
        reading = has_request_context() and request.method in READ_METHODS
        # conn.info is the driver connection's own, kept across checkouts: True while it reads outside.
        if reading or conn.info.get(info_key):
            conn.connection.driver_connection.autocommit = reading  # idle here: a transaction starts with its first statement
        conn.info[info_key] = reading

    @event.listens_for(engine, "before_cursor_execute")
    def _on_statement(conn, _cursor, _statement, _parameters, context, _executemany):
        if conn is not None and conn.info.get(info_key) and not _plain_select(context):
            conn.connection.driver_connection.autocommit = False  # psycopg sends BEGIN before this one
            conn.info[info_key] = False


def _plain_select(context) -> bool:
    statement = context.compiled.statement if context is not None and context.compiled is not None else None
    return statement is not None and statement.is_select and getattr(statement, "_for_update_arg", None) is None


def _keep_prepared_statements(app: Flask, engine: Engine) -> None:
    """A request whose transaction only read ends it with COMMIT instead of the session's ROLLBACK.
    psycopg prepares a statement (parses and plans it once per connection) from its fifth run on,
    and forgets every prepared statement on ROLLBACK. Nearly every request reads and rolls back,
    so no statement of a page ever ran prepared (parsing and planning them all again cost a page
    about a millisecond), and a page's rollback also threw away what the polls had prepared. For a transaction
    that wrote nothing, COMMIT and ROLLBACK are the same. Any statement but a SELECT counts as a
    write, and so does a change the session has not yet sent: those still end in ROLLBACK."""
    info_key = "rost.only_read"

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.info[info_key] = True

    @event.listens_for(engine, "before_cursor_execute")
    def _on_statement(conn, _cursor, _statement, _parameters, context, _executemany):
        if conn is not None and not _plain_select(context):
            conn.info[info_key] = False

    @app.teardown_request
    def _end_reading_transaction(error: BaseException | None) -> None:
        if not db.session.registry.has():
            return  # nothing in this request used the session (a poll that found nothing new)
        session = db.session()
        if error is not None or not session.in_transaction() or session.new or session.dirty or session.deleted:
            return  # the session's ROLLBACK, as ever
        try:
            if session.connection().info.get(info_key):
                session.commit()
        except DBAPIError:
            session.rollback()  # the connection is gone: the teardown's ROLLBACK finds nothing to undo


def _note_writes(engine: Engine) -> None:
    @event.listens_for(engine, "before_execute")
    def _on_execute(_conn, statement, *_args):
        # Statements of SQLAlchemy's (Core or ORM, a flush's too); the connection's own BEGIN and
        # PRAGMAs are sent as driver SQL and are not seen here.
        if not getattr(statement, "is_select", False) and has_request_context():
            g.database_wrote = True


def wrote() -> bool:
    """Whether this request has sent the database anything but a SELECT: what it read before may
    have changed since."""
    return g.get("database_wrote", False)


def insert_on_conflict(table):
    """INSERT that takes ON CONFLICT … DO NOTHING / DO UPDATE, in the dialect of the database in use."""
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def run(statement: Executable, params: Mapping[str, Any] | None = None) -> CursorResult:
    """A statement that reads columns, not objects (a count, a few ids), on the session's connection
    and in its transaction: the ORM's way of executing costs more than such a query (polls run one
    many times a minute). Pending changes are flushed first, as the session would do."""
    session = db.session
    if session.autoflush:
        session.flush()
    return session.connection().execute(statement, params)


def _lower(value):
    return value.lower() if isinstance(value, str) else value


def read_for_update(obj) -> None:
    """Read `obj`'s row again and hold it until the transaction ends, so that two saves of it come
    one after the other. Its own table's row only (FOR UPDATE OF): PostgreSQL refuses to lock the
    nullable side of the outer joins that load its relationships. On SQLite a writer holds the
    whole database already."""
    db.session.refresh(obj, with_for_update={"of": type(obj)})


def only_reads_from_now() -> None:
    """The database refused to write (read-only, disk full): what is left of this request (the
    error page) only reads, so it must not ask for the write lock again (BEGIN IMMEDIATE)."""
    g.database_only_reads = True


def _writes() -> bool:
    if has_request_context():
        return request.method not in READ_METHODS and not g.get("database_only_reads")
    return True  # command-line work writes


# A database that cannot take writes: read-only, a full disk, a failing disk -------------------------

READ_ONLY, FULL, IO = "read-only", "disk-full", "disk-error"
_SQLITE_FAULTS = {sqlite3.SQLITE_READONLY: READ_ONLY, sqlite3.SQLITE_FULL: FULL, sqlite3.SQLITE_IOERR: IO}
# SQLite's own wording, for errors that come without a code.
_SQLITE_MESSAGES = {"attempt to write a readonly database": READ_ONLY, "database or disk is full": FULL,
                    "disk i/o error": IO}
# PostgreSQL SQLSTATEs: read_only_sql_transaction (a read-only server or setting), disk_full, io_error.
_POSTGRES_FAULTS = {"25006": READ_ONLY, "53100": FULL, "58030": IO}


def storage_fault(error: DBAPIError) -> str | None:
    """READ_ONLY, FULL or IO when the database refused to write for a reason that is not the
    request's (the server's disk or settings), else None: a bug, answered by the 500 page."""
    original = error.orig
    code = getattr(original, "sqlite_errorcode", None)
    if code is not None and code & 0xFF in _SQLITE_FAULTS:  # extended codes keep the primary in the low byte
        return _SQLITE_FAULTS[code & 0xFF]
    sqlstate = getattr(original, "sqlstate", None)
    if sqlstate in _POSTGRES_FAULTS:
        return _POSTGRES_FAULTS[sqlstate]
    if isinstance(original, sqlite3.Error):
        return _SQLITE_MESSAGES.get(str(original).strip().lower())
    return None


@contextmanager
def bookkeeping() -> Iterator[None]:
    """Writes a GET makes while showing a page (read marks, notifications read). When the database
    cannot take writes just now (read-only, disk full) the page is still shown: the marks are
    skipped, not the reading. Commits on success; any other error goes on as usual. The writes run
    in a savepoint: undoing them must not expire what the page has already loaded."""
    try:
        with db.session.begin_nested():
            yield
        db.session.commit()
    except DBAPIError as error:
        fault = storage_fault(error)
        if fault is None:
            raise
        only_reads_from_now()
        current_app.logger.warning("read marks not saved on %s (%s)", request.url_rule, fault)
