"""GET /healthz: what a load balancer sees, with the schema at the newest migration and without."""
from __future__ import annotations

import pytest
from alembic.script import ScriptDirectory
from flask_migrate import stamp
from sqlalchemy import text

from webapp import create_app
from webapp.extensions import db

from .conftest import counted_queries, login


@pytest.fixture
def versioned(app):
    """The test schema (made by create_all) marked as migrated to the given revision, as `flask db stamp` does."""
    def mark(revision: str = "head") -> None:
        stamp(revision=revision)
    yield mark
    db.session.remove()
    with db.engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


def _heads(app) -> list[str]:
    return ScriptDirectory(app.extensions["migrate"].directory).get_heads()


def test_schema_at_the_newest_migration_is_healthy(app, client, versioned):
    versioned("head")
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


def test_a_schema_never_migrated_answers_503_naming_migrations(client):
    # create_all made the tables, but there is no alembic_version: nobody ran `flask db upgrade`.
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "fail", "failed": "migrations"}
    assert response.headers["Cache-Control"] == "no-store"


def test_a_schema_behind_the_code_answers_503(app, client, versioned):
    (head,) = _heads(app)
    previous = ScriptDirectory(app.extensions["migrate"].directory).get_revision(head).down_revision
    assert previous, "there is more than one migration"
    versioned(previous)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json["failed"] == "migrations"


def test_an_unknown_revision_answers_503(app, client, versioned):
    versioned("head")
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'f00dfeedbeef'"))
    assert client.get("/healthz").status_code == 503


def test_an_unreachable_database_answers_503_naming_the_database(tmp_path):
    missing = f"sqlite:///{tmp_path / 'no-such-folder' / 'rost.sqlite'}"
    app = create_app({"TESTING": True, "SECRET_KEY": "x" * 40, "DATABASE_URL": missing,
                      "SQLALCHEMY_DATABASE_URI": missing})
    try:
        response = app.test_client().get("/healthz")
        assert response.status_code == 503
        assert response.json == {"status": "fail", "failed": "database"}
    finally:
        with app.app_context():
            db.engine.dispose()


def test_two_reads_no_writes_no_session_and_never_throttled(app, client, versioned):
    versioned("head")
    with counted_queries() as statements:
        responses = [client.get("/healthz") for _ in range(30)]
    assert {r.status_code for r in responses} == {200}
    assert all("Set-Cookie" not in r.headers for r in responses)
    assert len(statements) == 2 * 30
    assert all(s.lstrip().upper().startswith("SELECT") for s in statements)


@pytest.mark.parametrize("persona", ["author", "methodist", "admin"])
def test_public_and_the_same_for_a_signed_in_person(app, client, people, versioned, persona):
    versioned("head")
    login(client, people[persona])
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}

