"""GET /healthz for the load balancer: the database answers and its schema is the one this code expects.

Public, no session, no writes, two SQL statements; the answer is never cached.
"""
from __future__ import annotations

from functools import cache

from alembic.script import ScriptDirectory
from flask import Blueprint, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db

bp = Blueprint("health", __name__)


@cache
def migration_heads(directory: str) -> frozenset[str]:
    """The newest revision(s) of the migration scripts: read from disk once per process."""
    return frozenset(ScriptDirectory(directory).get_heads())


def failed_check() -> str | None:
    """The name of the first check that fails ("database", "migrations"), or None when all pass."""
    heads = migration_heads(current_app.extensions["migrate"].directory)
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            try:
                revisions = set(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
            except SQLAlchemyError as error:  # no alembic_version table: never migrated
                current_app.logger.warning("health check: schema not migrated (%s)", type(error).__name__)
                return "migrations"
    except SQLAlchemyError as error:
        current_app.logger.warning("health check: database unreachable (%s)", type(error).__name__)
        return "database"
    if revisions != heads:
        current_app.logger.warning("health check: schema at %s, code expects %s",
                                   ", ".join(sorted(revisions)) or "nothing", ", ".join(sorted(heads)))
        return "migrations"
    return None


@bp.get("/healthz")
def healthz():
    failed = failed_check()
    body, status = ({"status": "ok"}, 200) if failed is None else ({"status": "fail", "failed": failed}, 503)
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response
