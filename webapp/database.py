"""Connection settings for SQLite: WAL, a busy timeout, foreign keys, durable commits,
and BEGIN IMMEDIATE for transactions that write."""
from __future__ import annotations

from flask import Flask, g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def init_app(app: Flask, engine: Engine) -> None:
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


def _lower(value):
    return value.lower() if isinstance(value, str) else value


def only_reads_from_now() -> None:
    """The database refused to write (read-only, disk full): what is left of this request (the
    error page) only reads, so it must not ask for the write lock again (BEGIN IMMEDIATE)."""
    g.database_only_reads = True


def _writes() -> bool:
    if has_request_context():
        return request.method not in READ_METHODS and not g.get("database_only_reads")
    return True  # command-line work writes
