"""The schema comes only from migrations: they build exactly the models, go down and up again,
and no step loses a row of data."""
from __future__ import annotations

import unicodedata
from datetime import date, datetime, timedelta
from functools import partial

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import Boolean, Column, Date, DateTime, Integer, MetaData, String, Table, bindparam, func, inspect, select, text

from webapp.extensions import db, migrate


def _diff():
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"render_as_batch": True})
        return compare_metadata(context, db.metadata)


def _reset():
    db.session.remove()
    db.drop_all()
    with db.engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


def test_migrations_build_exactly_the_models_and_go_down_and_up(app):
    _reset()
    upgrade()
    assert _diff() == []
    downgrade(revision="base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    upgrade()
    assert _diff() == []
    if db.engine.dialect.name == "sqlite":
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    _reset()
    db.create_all()


# ---------------------------------------------------------------- no step loses data

ROWS_PER_TABLE = 3


def _revisions() -> list[str]:
    """Every revision, oldest first, from the script directory (a new migration joins by itself)."""
    script = ScriptDirectory.from_config(migrate.get_config())
    assert len(script.get_heads()) == 1, "the migrations have branched: merge the heads"
    return [revision.revision for revision in reversed(list(script.walk_revisions()))]


def _step(revision: str, *, down: bool = False) -> None:
    db.session.remove()
    # alembic itself rather than flask_migrate's wrappers, which turn a failure into sys.exit
    (command.downgrade if down else command.upgrade)(migrate.get_config(), revision)


def _schema(bind=None) -> MetaData:
    metadata = MetaData()
    metadata.reflect(bind if bind is not None else db.engine)
    metadata.remove(metadata.tables["alembic_version"])
    return metadata


def _row_counts() -> dict[str, int]:
    with db.engine.connect() as connection:
        return {name: connection.scalar(select(func.count()).select_from(table))
                for name, table in _schema(connection).tables.items()}


def _value(connection, table: Table, column: Column, k: int):
    """Something valid for row k: a real row of the table a foreign key points to (the k-th, so
    composite keys stay distinct), else a plain value of the column's type, different for each k."""
    if column.foreign_keys:
        target = next(iter(column.foreign_keys)).column
        ids = connection.scalars(select(target).order_by(target)).all()
        assert ids or column.nullable, f"{table.name}.{column.name}: no {target.table.name} row to point to"
        return ids[k % len(ids)] if ids else None
    kind = column.type
    if isinstance(kind, Boolean):
        return k % 2 == 0
    if isinstance(kind, DateTime):
        return datetime(2026, 9, 1, 8, 0) + timedelta(hours=k)
    if isinstance(kind, Date):
        return date(2026, 9, 1) + timedelta(days=k)
    if isinstance(kind, Integer):
        return 2026 + k
    if isinstance(kind, String):  # Text too; the number first, so a short column still tells rows apart
        return f"{k} {table.name}.{column.name}"[: kind.length or None]
    raise AssertionError(f"{table.name}.{column.name}: teach _value about {kind!r}")


def _seed(tables: set[str]) -> None:
    """ROWS_PER_TABLE rows in each of `tables`, parents before children."""
    with db.engine.begin() as connection:
        for table in _schema(connection).sorted_tables:
            if table.name not in tables:
                continue
            generated = {c.name for c in table.primary_key.columns
                         if len(table.primary_key.columns) == 1 and isinstance(c.type, Integer) and not c.foreign_keys}
            for k in range(ROWS_PER_TABLE):
                row = {c.name: _value(connection, table, c, k) for c in table.columns if c.name not in generated}
                connection.execute(table.insert().values(row))


def _checked_step(revision: str, *, down: bool = False) -> tuple[set[str], set[str]]:
    """Run one step; every table there before and after it keeps exactly its rows. Returns the
    tables the step created and the tables it dropped."""
    before = _row_counts()
    _step(revision, down=down)
    after = _row_counts()
    kept = before.keys() & after.keys()
    changed = {name: (before[name], after[name]) for name in kept if before[name] != after[name]}
    assert not changed, f"{'down' if down else 'up'} to {revision}: rows lost or gained {changed}"
    return set(after) - set(before), set(before) - set(after)


def test_every_migration_step_keeps_every_row(app):
    """Up one revision at a time from the first, seeding every table as it appears, then down one at a
    time to the first and up again to head: after each step every table that exists both before and
    after it has exactly the rows it had. A downgrade drops the tables its own revision created (that is
    what a downgrade is) and nothing else; SQLite's batch mode rebuilding a parent table while foreign
    keys with ON DELETE CASCADE are on would empty its children, and this test is what notices."""
    _reset()
    revisions = _revisions()
    created: dict[str, set[str]] = {}
    _step(revisions[0])
    created[revisions[0]] = set(_schema().tables)
    _seed(created[revisions[0]])
    for revision in revisions[1:]:
        created[revision], dropped = _checked_step(revision)
        assert not dropped, f"up to {revision} dropped {dropped}"
        _seed(created[revision])
    assert all(_row_counts().values()), "a table without rows proves nothing"

    for previous, revision in reversed(list(zip(revisions, revisions[1:], strict=False))):
        new, dropped = _checked_step(previous, down=True)
        assert (new, dropped) == (set(), created[revision]), f"down from {revision}"
    for revision in revisions[1:]:
        new, dropped = _checked_step(revision)
        assert (new, dropped) == (created[revision], set()), f"up again to {revision}"
        _seed(new)
    assert all(_row_counts().values())
    if db.engine.dialect.name == "sqlite":
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
    _reset()
    db.create_all()


# ---------------------------------------------------------------- stored renderings

def test_rows_written_before_stored_html_get_it_from_the_upgrade(app):
    """Entries, comments and posts that existed before their HTML was stored show their Markdown
    rendered and cleaned once the upgrade has run, hostile parts gone, as if written today."""
    from webapp.rendered import rendered_fields

    _reset()
    revisions = _revisions()
    stored_html = revisions.index("7f3b2c9e4a11")
    _step(revisions[stored_html - 1])
    _seed(set(_schema().tables))
    markdown = "**Итоги** недели\n\n<script>alert(1)</script> [ссылка](javascript:alert(1))\n\n" + "слово " * 80
    with db.engine.begin() as connection:
        for name in ("journal_entries", "comments", "posts"):
            connection.execute(text(f"UPDATE {name} SET body = :body"), {"body": markdown})
    _step(revisions[stored_html])
    expected = rendered_fields(markdown, excerpt=True)
    assert "<strong>Итоги</strong>" in expected["body_html"] and "<script" not in expected["body_html"]
    assert "href=\"javascript" not in expected["body_html"] and expected["excerpt"].endswith("…")
    with db.engine.connect() as connection:
        entries = connection.execute(text("SELECT body_html, excerpt FROM journal_entries")).all()
        assert entries and all(tuple(row) == (expected["body_html"], expected["excerpt"]) for row in entries)
        for name in ("comments", "posts"):
            stored = connection.scalars(text(f"SELECT body_html FROM {name}")).all()
            assert stored and set(stored) == {expected["body_html"]}
    _reset()
    db.create_all()


# ---------------------------------------------------------------- composed names

def test_names_stored_decomposed_are_composed_by_the_upgrade(app):
    """Names stored before typed text was composed (NFC) match today's after the upgrade: a tag is
    found by the filter and kept once per entry, a person's name is one letter per letter, a school
    that was the same school twice is one with everybody in it; a group that would take another's
    name keeps its own."""
    _reset()
    revisions = _revisions()
    composing = revisions.index("c81f4e2a9d37")
    _step(revisions[composing - 1])
    _seed(set(_schema().tables))
    nfd = partial(unicodedata.normalize, "NFD")
    person, school, other_school, group, other_group, tag = (
        "Андрей Йорданов", "Школа № 1 им. Н. Ё. Чехова", "Лицей «Ёлочка»", "Творческая группа «Новый взгляд»",
        "Клуб «Чтение вслух» — зимний", "новый год")
    assert all(nfd(name) != name for name in (person, school, other_school, group, other_group, tag))
    with db.engine.begin() as connection:
        schools = connection.scalars(text("SELECT id FROM schools ORDER BY id")).all()
        groups = connection.scalars(text("SELECT id FROM groups ORDER BY id")).all()
        entries = connection.scalars(text("SELECT entry_id FROM entry_tags ORDER BY entry_id")).all()
        connection.execute(text("UPDATE users SET display_name = :name"), {"name": nfd(person)})
        for school_id, name in zip(schools, (school, nfd(school), nfd(other_school)), strict=True):
            connection.execute(text("UPDATE schools SET name = :name WHERE id = :id"), {"name": name, "id": school_id})
        moving = connection.scalars(text("SELECT id FROM users WHERE school_id = :id"), {"id": schools[1]}).all()
        for group_id, name in zip(groups, (group, nfd(group), nfd(other_group)), strict=True):
            connection.execute(text("UPDATE groups SET name = :name WHERE id = :id"), {"name": name, "id": group_id})
        connection.execute(text("UPDATE entry_tags SET name = :name WHERE entry_id IN (:a, :b)"),
                           {"name": nfd(tag), "a": entries[0], "b": entries[1]})
        connection.execute(text("INSERT INTO entry_tags (entry_id, name) VALUES (:id, :name)"), {"id": entries[0], "name": tag})
    assert moving, "a person at the school written twice"

    _step(revisions[composing])
    with db.engine.connect() as connection:
        assert set(connection.scalars(text("SELECT display_name FROM users"))) == {person}
        assert connection.execute(text("SELECT id, name FROM schools ORDER BY id")).all() == [
            (schools[0], school), (schools[2], other_school)]
        assert set(connection.scalars(text("SELECT school_id FROM users WHERE id IN :ids").bindparams(
            bindparam("ids", expanding=True)), {"ids": moving})) == {schools[0]}
        assert connection.execute(text("SELECT id, name FROM groups ORDER BY id")).all() == [
            (groups[0], group), (groups[1], nfd(group)), (groups[2], other_group)]
        assert connection.execute(text("SELECT entry_id, name FROM entry_tags WHERE entry_id IN (:a, :b) ORDER BY entry_id"),
                                  {"a": entries[0], "b": entries[1]}).all() == [(entries[0], tag), (entries[1], tag)]
    _reset()
    db.create_all()


# ---------------------------------------------------------------- kept member counts

def test_groups_get_their_member_count_from_the_upgrade(app):
    """Groups that had members before the count was kept show how many they have once the
    upgrade has run; a group nobody is in shows none."""
    _reset()
    revisions = _revisions()
    counting = revisions.index("a6d4e8f2c913")
    _step(revisions[counting - 1])
    _seed(set(_schema().tables))
    with db.engine.begin() as connection:
        groups = connection.scalars(text("SELECT id FROM groups ORDER BY id")).all()
        users = connection.scalars(text("SELECT id FROM users ORDER BY id")).all()
        connection.execute(text("DELETE FROM group_members"))
        for group_id, members in zip(groups, (users, users[:1], []), strict=True):
            for user_id in members:
                connection.execute(text("INSERT INTO group_members (group_id, user_id, role, joined_at) "
                                        "VALUES (:g, :u, 'member', :at)"), {"g": group_id, "u": user_id, "at": datetime(2026, 11, 1)})
    _step(revisions[counting])
    with db.engine.connect() as connection:
        assert connection.execute(text("SELECT id, member_count FROM groups ORDER BY id")).all() == [
            (groups[0], len(users)), (groups[1], 1), (groups[2], 0)]
    _reset()
    db.create_all()
