"""Seed the benchmark's databases (small and large) with the app's own models, in bulk.

A seeded database is kept and reused while its stamp matches: the alembic head, a hash of the
migration files and of this seeder. Any schema change re-seeds it. SQLite: one file per size in
bench/data/. PostgreSQL: one schema per size (bench_small, bench_large) inside the database that
DATABASE_URL names, selected through the connection's search_path.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Flask
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
MIGRATIONS = ROOT / "migrations"
PASSWORD = "bench-password-2026"
BATCH = 5_000
STAMP_TABLE = "bench_stamp"


@dataclass(frozen=True)
class Size:
    name: str
    librarians: int
    methodists: int
    entries: int
    comments: int
    thread_posts: int  # the benchmarked thread
    group_threads: int  # threads in the benchmarked group
    notifications: int
    persona_entries: int  # entries of the benchmarked librarian
    other_groups: int = 5


# Every list the benchmark shows is a full page at both sizes (the journal's 20 entries, the
# group's 20 threads), so that the scaling target compares the same page over more data.
SIZES = {
    "small": Size("small", librarians=10, methodists=2, entries=100, comments=300, thread_posts=50,
                  group_threads=30, notifications=200, persona_entries=30, other_groups=2),
    "large": Size("large", librarians=2_000, methodists=40, entries=200_000, comments=500_000, thread_posts=10_000,
                  group_threads=1_000, notifications=50_000, persona_entries=200),
}
MENTEES_OF_BENCH_METHODIST = 10  # the same desk at both sizes: the scaling target compares like with like
ENTRY_COMMENTS = 50


@dataclass
class Fixture:
    """The ids the benchmark needs, stored with the stamp."""

    librarian: str  # logins
    methodist: str
    commenter: str
    password: str
    entry_with_comments: int
    last_comment_id: int
    sink_entry: int  # where the commenter posts (not shown by any other endpoint)
    group_id: int
    newest_post_in_group: int
    thread_id: int
    thread_page: int
    last_post_id: int
    unread_notifications: int
    nav_seen: str  # what the librarian's groups item shows it was counted at (webapp.groups.versions)
    commenter_id: int
    counts: dict


# Where each size lives ------------------------------------------------------------------------------

def database_url(size: str, base_url: str | None) -> str:
    if not base_url:
        return f"sqlite:///{DATA / f'{size}.sqlite'}"
    parts = urlsplit(base_url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "options"]
    query.append(("options", f"-csearch_path=bench_{size}"))
    return urlunsplit(parts._replace(query=urlencode(query)))


def stamp_key() -> str:
    """The alembic head(s) and a hash of the migrations and of the seed code."""
    from alembic.script import ScriptDirectory

    heads = "+".join(sorted(ScriptDirectory(str(MIGRATIONS)).get_heads()))
    digest = hashlib.sha256()
    here = Path(__file__).parent
    files = sorted(MIGRATIONS.rglob("*.py")) + [here / "seed.py", here / "seeder.py", here / "text.py"]
    for path in files:
        if "__pycache__" not in path.parts:
            digest.update(path.relative_to(ROOT).as_posix().encode())
            digest.update(path.read_bytes())
    return f"{heads}-{digest.hexdigest()[:16]}"


def make_app(url: str) -> Flask:
    from webapp import create_app

    return create_app({"DATABASE_URL": url})


def read_stamp(app: Flask) -> tuple[str, Fixture] | None:
    from webapp.extensions import db

    with app.app_context():
        try:
            with db.engine.connect() as conn:
                row = conn.execute(text(f"SELECT key, fixture FROM {STAMP_TABLE} WHERE complete = 1")).first()
        except Exception:  # no stamp table: never seeded
            return None
    if row is None or row[0] != stamp_key():
        return None  # never seeded, or by other seed code: its fixture may not even fit Fixture
    return row[0], Fixture(**json.loads(row[1]))


def ensure(size_name: str, base_url: str | None, log=print) -> tuple[str, Fixture, float | None]:
    """The database URL and fixture of a seeded database of this size; seeds it when needed.
    Returns the seeding time in seconds, or None when an existing database was reused."""
    size = SIZES[size_name]
    url = database_url(size_name, base_url)
    key = stamp_key()
    if not base_url:
        DATA.mkdir(parents=True, exist_ok=True)
    if (base_url or (DATA / f"{size_name}.sqlite").exists()):
        found = read_stamp(make_app(url))
        if found is not None:
            log(f"[{size_name}] reusing the seeded database (stamp {key})")
            return url, found[1], None
    log(f"[{size_name}] seeding (stamp {key}) …")
    started = time.monotonic()
    _reset(size_name, base_url)
    app = make_app(url)
    with app.app_context():
        from flask_migrate import upgrade

        upgrade(directory=str(MIGRATIONS))
        from .seeder import Seeder

        fixture = Seeder(app, size).run()
        _write_stamp(key, fixture)
    seconds = time.monotonic() - started
    log(f"[{size_name}] seeded in {seconds:.0f} s")
    return url, fixture, seconds


def _reset(size_name: str, base_url: str | None) -> None:
    if not base_url:
        for suffix in ("", "-wal", "-shm"):
            (DATA / f"{size_name}.sqlite{suffix}").unlink(missing_ok=True)
        return
    from sqlalchemy import create_engine

    engine = create_engine(base_url)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS bench_{size_name} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA bench_{size_name}"))
    engine.dispose()


def _write_stamp(key: str, fixture: Fixture) -> None:
    from webapp.extensions import db

    with db.engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE {STAMP_TABLE} (key VARCHAR(200), fixture TEXT, complete INTEGER, seeded_at VARCHAR(40))"))
        conn.execute(text(f"INSERT INTO {STAMP_TABLE} VALUES (:key, :fixture, 1, :at)"),
                     {"key": key, "fixture": json.dumps(asdict(fixture)), "at": datetime.now().isoformat()})
