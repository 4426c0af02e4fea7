"""Every statement the heaviest pages and the everyday writes run reads entries, comments, posts and
notifications through an index, at a size where a missing index matters (thousands of rows).

Each page is requested once (each write sent once) while a listener records its exact statements and parameters; each
statement is then explained. On SQLite, EXPLAIN QUERY PLAN must show no bare `SCAN` of those tables
and no temporary B-tree sorting a page's worth out of all their rows. On PostgreSQL, with sequential
scans priced out (the planner would rightly seq-scan tables this small), EXPLAIN must show no
`Seq Scan` node over them. (Priced out, a seq scan may give way to a whole index read with a filter,
which at this size is also the planner's honest choice: SQLite's half of the test is the stricter.)"""
from __future__ import annotations

import json
import os
import random
import re
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event, func, insert, select, text

from webapp.extensions import db
from webapp.groups.models import Group, GroupMember, MemberRole, Post, Thread, ThreadState
from webapp.mentoring.models import Comment, Notification, NotificationKind, Plan, PlanStep
from webapp.models import EntryTag, JournalEntry, Role, User, Visibility, mentorships
from webapp.plans.progress import current_year

from .conftest import FRAGMENT, login, make_test_app

# The tables that grow without bound: no statement may read all of them.
WATCHED = ("journal_entries", "comments", "posts", "notifications", "threads")

PEOPLE, ENTRIES, COMMENTS, POSTS, NOTIFICATIONS, THREADS = 200, 6000, 6000, 6000, 6000, 400
BIG_THREAD_POSTS = 320
START = datetime(2025, 9, 1)


# The world ---------------------------------------------------------------------------------------

def _ids(model, column="id") -> list[int]:
    return list(db.session.scalars(select(getattr(model, column)).order_by(getattr(model, column))))


def seed() -> dict:
    """Bulk inserts: a network of librarians with years of entries, comments, a discussion group with
    a long thread and hundreds of others, notifications; `author` is a librarian with a methodist."""
    rnd = random.Random(5)
    db.session.execute(insert(User), [
        {"login": f"u{i}", "display_name": f"Библиотекарь {i:03d}", "role": Role.LIBRARIAN, "active": True,
         "locale": "ru", "password_hash": "x", "session_token": f"t{i}", "created_at": START}
        for i in range(PEOPLE)])
    db.session.execute(insert(User), [
        {"login": f"m{i}", "display_name": f"Методист {i}", "role": Role.METHODIST, "active": True, "locale": "ru",
         "password_hash": "x", "session_token": f"mt{i}", "created_at": START} for i in range(5)])
    librarians = list(db.session.scalars(select(User.id).where(User.role == Role.LIBRARIAN).order_by(User.id)))
    methodists = list(db.session.scalars(select(User.id).where(User.role == Role.METHODIST).order_by(User.id)))
    author, methodist = librarians[0], methodists[0]
    db.session.execute(insert(mentorships), [
        {"methodist_id": methodists[i % 5], "librarian_id": lib, "created_at": START}
        for i, lib in enumerate(librarians)])
    visibilities = (Visibility.PRIVATE, Visibility.MENTORS, Visibility.COLLEAGUES)
    db.session.execute(insert(JournalEntry), [
        {"author_id": author if i % 20 == 0 else rnd.choice(librarians), "title": f"Запись {i}",
         "body": "Текст записи о прочитанном. " * 5, "visibility": visibilities[i % 3],
         "created_at": START + timedelta(minutes=i), "updated_at": START + timedelta(minutes=i), "version": 1}
        for i in range(ENTRIES)])
    entry_ids = _ids(JournalEntry)
    authors = dict(db.session.execute(select(JournalEntry.id, JournalEntry.author_id)).all())
    db.session.execute(insert(EntryTag), [{"entry_id": e, "author_id": authors[e], "name": f"тег{e % 30}"}
                                          for e in entry_ids])
    entry = db.session.scalar(select(JournalEntry.id).where(JournalEntry.author_id == author,
                                                            JournalEntry.visibility == Visibility.MENTORS)
                              .order_by(JournalEntry.id.desc()).limit(1))
    db.session.execute(insert(Comment), [
        {"entry_id": entry if i % 100 == 0 else rnd.choice(entry_ids),
         "author_id": rnd.choice((author, methodist) if i % 100 == 0 else librarians), "body": f"Комментарий {i}",
         "created_at": START + timedelta(minutes=i)} for i in range(COMMENTS)])
    plan = db.session.execute(insert(Plan).returning(Plan.id), [
        {"author_id": lib, "year": current_year(), "topic": "Тема", "aim": "", "tasks": "", "created_at": START,
         "updated_at": START} for lib in librarians]).scalars().all()[0]
    db.session.execute(insert(PlanStep), [
        {"plan_id": plan, "position": i, "title": f"Шаг {i}", "status": "planned"} for i in range(20)])
    db.session.execute(insert(PlanStep), [  # every other plan has steps too, and entries report on them
        {"plan_id": p, "position": 1, "title": "Шаг", "status": "planned"}
        for p in db.session.scalars(select(Plan.id).where(Plan.id != plan))])
    step_of_author = (select(func.max(PlanStep.id)).join(Plan, Plan.id == PlanStep.plan_id)
                      .where(Plan.author_id == JournalEntry.author_id).scalar_subquery())
    db.session.execute(JournalEntry.__table__.update().where(JournalEntry.id % 3 == 0).values(step_id=step_of_author))
    groups = db.session.execute(insert(Group).returning(Group.id), [
        {"name": f"Группа {i}", "description": "", "kind": "association", "is_open": i % 2 == 0, "created_at": START}
        for i in range(30)]).scalars().all()
    group = groups[0]
    db.session.execute(insert(GroupMember), [
        {"group_id": group, "user_id": lib, "role": MemberRole.LEADER if lib == methodist else MemberRole.MEMBER,
         "joined_at": START} for lib in [*librarians[:100], methodist]])
    db.session.execute(insert(Thread), [
        {"group_id": group if i % 4 == 0 else rnd.choice(groups), "author_id": rnd.choice(librarians[:100]),
         "title": f"Тема {i}", "pinned": i < 2,
         "locked": False, "created_at": START, "post_count": 0, "last_post_at": START} for i in range(THREADS)])
    threads = _ids(Thread)
    big = max(t for t in threads if db.session.get(Thread, t).group_id == group)
    db.session.execute(insert(Post), [
        {"thread_id": big if i < BIG_THREAD_POSTS else rnd.choice(threads), "author_id": rnd.choice(librarians[:100]),
         "body": f"Сообщение {i}", "created_at": START + timedelta(minutes=i)} for i in range(POSTS)])
    counts = db.session.execute(select(Post.thread_id, func.count(), func.max(Post.id), func.max(Post.created_at))
                                .group_by(Post.thread_id)).all()
    for thread_id, count, last_id, last_at in counts:
        db.session.execute(Thread.__table__.update().where(Thread.id == thread_id)
                           .values(post_count=count, last_post_id=last_id, last_post_at=last_at))
    db.session.execute(insert(ThreadState), [
        {"user_id": author, "thread_id": t, "last_read_post_id": 0, "muted": False} for t in threads[::3]])
    kinds = (NotificationKind.ENTRY_COMMENT, NotificationKind.THREAD_REPLY, NotificationKind.ENTRY_SHARED)
    db.session.execute(insert(Notification), [
        {"recipient_id": author if i % 50 == 0 else rnd.choice(librarians), "kind": kinds[i % 3],
         "actor_id": methodist, "entry_id": entry if i % 3 != 1 else None,
         "thread_id": big if i % 3 == 1 else None, "created_at": START + timedelta(minutes=i),
         "read_at": START if i % 2 else None} for i in range(NOTIFICATIONS)])
    db.session.commit()
    last_post = db.session.scalar(select(func.max(Post.id)).where(Post.thread_id == big))
    last_comment = db.session.scalar(select(func.max(Comment.id)).where(Comment.entry_id == entry))
    return {"author": author, "methodist": methodist, "entry": entry, "plan": plan, "group": group, "thread": big,
            "last_post": last_post, "last_comment": last_comment,
            "last_page": -(-db.session.scalar(select(Thread.post_count).where(Thread.id == big)) // 30)}


def analyze() -> None:
    """Fresh statistics, as a database in use has; PostgreSQL's VACUUM also marks the pages all-visible
    (what lets it answer from an index alone), and cannot run inside a transaction."""
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    else:
        db.session.connection().exec_driver_sql("ANALYZE")
        db.session.commit()


# The pages -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Page:
    label: str
    persona: str
    url: str  # formatted with the world
    headers: tuple = ()
    form: tuple | None = None  # a form sent (POST), its values formatted with the world


PAGES = [
    Page("journal list", "author", "/journal/"),
    Page("journal list, page 3", "author", "/journal/?page=3"),
    Page("colleagues' feed", "author", "/journal/feed"),
    Page("colleagues' feed, page 5", "author", "/journal/feed?page=5"),
    Page("entry page with comments", "author", "/journal/{entry}"),
    Page("entry page, the methodist", "methodist", "/journal/{entry}"),
    Page("comment poll", "author", "/comments/entry/{entry}?after={last_comment}", tuple(FRAGMENT.items())),
    Page("thread, first page", "author", "/threads/{thread}?page=1"),
    Page("thread, a middle page", "author", "/threads/{thread}?page=4"),
    Page("thread, last page", "author", "/threads/{thread}?page={last_page}"),
    Page("thread list", "author", "/groups/{group}"),
    Page("thread list, page 3", "author", "/groups/{group}?page=3"),
    Page("thread poll", "author", "/threads/{thread}/poll?after={last_post}&locked=0", tuple(FRAGMENT.items())),
    Page("desk", "methodist", "/mentoring/"),
    Page("awaiting answers", "methodist", "/mentoring/awaiting"),
    Page("notification list", "author", "/notifications/"),
    Page("notification list, page 3", "author", "/notifications/?page=3"),
    Page("notification badge poll", "author", "/notifications/badge?shown=0", tuple(FRAGMENT.items())),
    Page("groups index", "author", "/groups/"),
    Page("plan page", "author", "/plans/{plan}"),
    # Writes, last: they change the world. What they read (the same text sent again, the place's
    # row held, the counts and marks they move) must come through indexes too.
    Page("posting a comment", "author", "/comments/entry/{entry}", tuple(FRAGMENT.items()),
         (("body", "Новый комментарий."), ("after", "{last_comment}"))),
    Page("posting a reply", "author", "/threads/{thread}/posts", tuple(FRAGMENT.items()),
         (("body", "Новый ответ."), ("after", "{last_post}"))),
    Page("a new entry", "author", "/journal/", (), (("title", "Итоги недели"), ("body", "Провела урок."),
                                                  ("visibility", "mentors"))),
    Page("a new thread", "author", "/threads/", (), (("group_id", "{group}"), ("title", "Новая тема"), ("body", "Начало."))),
    Page("adding a plan step", "author", "/plans/{plan}/steps", tuple(FRAGMENT.items()), (("title", "Новый шаг"), ("after", "0"))),
    Page("a methodist's plan comment", "methodist", "/plans/{plan}/comments", tuple(FRAGMENT.items()), (("body", "Хорошо."),)),
    Page("every notification read", "author", "/notifications/read-all", (), ()),
]


@contextmanager
def recorded_statements():
    """The statements run inside the block, with their parameters (BEGIN/COMMIT and the like left out)."""
    seen: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if not executemany and statement.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE", "WITH")):
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


# Reading plans -------------------------------------------------------------------------------------

WATCHED_RE = "|".join(WATCHED)


def sqlite_offences(statement: str, parameters) -> tuple[list[str], list[str]]:
    try:
        rows = db.session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
    finally:
        db.session.rollback()
    lines = [row[3] for row in rows]
    bad = [line for line in lines if re.fullmatch(rf"SCAN ({WATCHED_RE})( AS \w+)?", line)]
    # A derived table computed whole before the join (e.g. every thread one may read) reads far more
    # than the rows it is joined to.
    parents = {row[0]: row[1] for row in rows}
    materialized = {row[0] for row in rows if row[3].startswith("MATERIALIZE")}

    def inside_materialized(node: int) -> bool:
        while node in parents:
            node = parents[node]
            if node in materialized:
                return True
        return False

    bad += [f"{row[3]} (materialized)" for row in rows
            if re.match(rf"(SCAN|SEARCH) ({WATCHED_RE})\b", row[3]) and inside_materialized(row[0])]
    # Sorting rows of a big table for a page (LIMIT) means reading all candidate rows first: a
    # page must come straight out of an index, in order. The statement's own sort (parent 0)
    # counts when the statement itself ends in a LIMIT; without one it sorts only the rows it
    # returns (the desk's mentees), whatever LIMIT 1 lookups its columns make.
    limited = "LIMIT" in statement.upper()
    page_limited = re.search(r"\bLIMIT \S+( OFFSET \S+)?\s*$", statement.strip(), re.I) is not None
    reads_watched = any(re.match(rf"(SCAN|SEARCH) ({WATCHED_RE})\b", line) for line in lines)
    if limited and reads_watched:
        bad += [row[3] for row in rows if row[3].startswith("USE TEMP B-TREE FOR ORDER BY")
                and (row[1] != 0 or page_limited)]
    # Without a LIMIT that stops it, a range on visibility alone reads a share of every entry there is.
    # (A statement with LIMIT 1 lookups among its columns, as the desk's, is not checked for it: its
    # awaiting count is, in the «awaiting answers» page's count of the same entries.)
    if not limited:
        bad += [line for line in lines if re.fullmatch(r"SEARCH journal_entries USING (COVERING )?INDEX \w+ \(visibility=\?\)", line)]
    return bad, lines


def _pg_nodes(node: dict):
    yield node
    for child in node.get("Plans", []):
        yield from _pg_nodes(child)


def postgresql_offences(statement: str, parameters) -> tuple[list[str], list[str]]:
    try:
        connection = db.session.connection()
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")  # until the rollback below
        raw = connection.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters).scalar()
    finally:
        db.session.rollback()
    plan = raw if isinstance(raw, list) else json.loads(raw)
    nodes = list(_pg_nodes(plan[0]["Plan"]))
    lines = [f"{n['Node Type']} {n.get('Relation Name', '')} {n.get('Index Name', '')}".strip() for n in nodes]
    bad = [f"Seq Scan on {n['Relation Name']}" for n in nodes
           if n["Node Type"] == "Seq Scan" and n.get("Relation Name") in WATCHED]
    return bad, lines


def offences(statement: str, parameters) -> tuple[list[str], list[str]]:
    if db.engine.dialect.name == "postgresql":
        return postgresql_offences(statement, parameters)
    return sqlite_offences(statement, parameters)


def record_plans(folder, *, analyzed: bool) -> dict[str, list[tuple[str, list[str], list[str]]]]:
    """For each page: each statement with what its plan does wrong, and the plan."""
    app = make_test_app(folder)
    found = {}
    with app.app_context():
        try:
            world = seed()
            if analyzed:
                analyze()
            for page in PAGES:
                client = login(app.test_client(), world[page.persona])
                with recorded_statements() as statements:
                    if page.form is None:
                        response = client.get(page.url.format(**world), headers=dict(page.headers))
                    else:
                        response = client.post(page.url.format(**world), headers=dict(page.headers),
                                               data={name: value.format(**world) for name, value in page.form})
                assert response.status_code in (200, 201, 204, 303), (page.label, response.status_code)
                response.close()
                found[page.label] = [(s, *offences(s, p)) for s, p in statements]
        finally:
            db.session.remove()
            db.drop_all()
    return found


@pytest.fixture(scope="module")
def plans(tmp_path_factory):
    return record_plans(tmp_path_factory.mktemp("plans"), analyzed=True)


@pytest.fixture(scope="module")
def fresh_plans(tmp_path_factory):
    """Before any ANALYZE, as a new or freshly restored database is: the planner has only the
    indexes to go by, and must still not walk a whole table."""
    return record_plans(tmp_path_factory.mktemp("fresh_plans"), analyzed=False)


# Sorts no index can spare, over a bounded set of rows rather than a table.
ACCEPTED = {
    # Oldest first across all of one methodist's mentees: an index orders one author's entries, not
    # several authors' at once, so their shared entries (found through ix_entries_author_created) are sorted.
    ("awaiting answers", "USE TEMP B-TREE FOR ORDER BY"),
    # A thread page's 31 ids are picked from ix_posts_thread_id_id first (LIMIT/OFFSET in a
    # subquery, from either end); SQLite may then sort those 31 rows rather than walk the index again.
    ("thread, first page", "USE TEMP B-TREE FOR ORDER BY"),
    ("thread, a middle page", "USE TEMP B-TREE FOR ORDER BY"),
    ("thread, last page", "USE TEMP B-TREE FOR ORDER BY"),
}


def _failures(found, label: str) -> list[str]:
    return [f"{' '.join(statement.split())}\n  offends: {bad}\n  plan: {lines}"
            for statement, bad, lines in found[label]
            if [line for line in bad if (label, line) not in ACCEPTED]]


@pytest.mark.parametrize("label", [page.label for page in PAGES])
def test_heavy_pages_and_writes_read_big_tables_through_indexes(plans, label):
    failures = _failures(plans, label)
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("label", [page.label for page in PAGES])
def test_heavy_pages_and_writes_read_big_tables_through_indexes_before_any_analyze(fresh_plans, label):
    failures = _failures(fresh_plans, label)
    assert not failures, "\n\n".join(failures)


def assert_read_from_index_alone(lines: list[str], table: str, index: str) -> None:
    if os.environ.get("DATABASE_URL", "").startswith("postgresql"):  # as make_test_app chooses
        assert f"Index Only Scan {table} {index}" in lines, "; ".join(lines)
    else:
        assert any(line.startswith(f"SEARCH {table} USING COVERING INDEX {index}") for line in lines), lines


def test_a_page_of_a_long_thread_skips_posts_in_the_index_alone(plans):
    """OFFSET steps through ix_posts_thread_id_id (thread_id, id), not through posts and their authors."""
    page_queries = [lines for statement, _bad, lines in plans["thread, a middle page"]
                    if "OFFSET" in statement.upper() and "FROM posts" in statement]
    assert len(page_queries) == 1
    assert_read_from_index_alone(page_queries[0], "posts", "ix_posts_thread_id_id")


def test_the_last_page_of_a_long_thread_is_read_from_its_newest_post_back(plans):
    """ix_posts_thread_id_id from its end back to the page's first post: none of the posts before
    the page is stepped over."""
    page_queries = [lines for statement, _bad, lines in plans["thread, last page"]
                    if "FROM posts" in statement and "posts.id DESC" in statement]
    assert len(page_queries) == 1
    assert_read_from_index_alone(page_queries[0], "posts", "ix_posts_thread_id_id")


def test_the_journal_s_tag_filter_reads_one_person_s_tags_in_one_index(plans):
    """Every tag the author has used, from ix_entry_tags_author_id alone: not one look-up per entry
    they have written."""
    tag_queries = [(statement, lines) for statement, _bad, lines in plans["journal list"]
                   if "FROM entry_tags" in statement and "GROUP BY" in statement]
    assert len(tag_queries) == 1
    statement, lines = tag_queries[0]
    assert "journal_entries" not in statement
    assert_read_from_index_alone(lines, "entry_tags", "ix_entry_tags_author_id")


# Plans kept ----------------------------------------------------------------------------------------

LISTS = [("colleagues' feed", "/journal/feed", "FROM journal_entries"),
         ("journal list", "/journal/", "FROM journal_entries")]


@pytest.fixture(scope="module")
def kept_plans(tmp_path_factory):
    """For each listing page opened a dozen times by one person: how PostgreSQL ran its listing
    statement, as `pg_prepared_statements` of the one connection the requests took turns on
    counts it (generic plans, custom plans), each page on a connection of its own."""
    app = make_test_app(tmp_path_factory.mktemp("kept_plans"))
    found = {}
    with app.app_context():
        try:
            world = seed()
            analyze()
            client = login(app.test_client(), world["author"])
            for label, url, source in LISTS:
                db.session.remove()
                db.engine.dispose()  # this page's statements prepared on a new connection
                for _ in range(12):  # psycopg prepares on the 6th run; PostgreSQL weighs a generic plan from its 6th
                    assert client.get(url.format(**world)).status_code == 200
                found[label] = db.session.execute(text(
                    "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
                    " WHERE statement LIKE '%' || :source || '%' AND statement LIKE '%LIMIT%'"), {"source": source}).all()
        finally:
            db.session.remove()
            db.drop_all()
    return found


@pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgresql"),
                    reason="PostgreSQL's plans kept for a prepared statement; SQLite plans every statement it compiles")
@pytest.mark.parametrize("label", [label for label, _url, _source in LISTS])
def test_a_listing_page_runs_from_the_plan_postgresql_keeps_not_planned_again(kept_plans, label):
    """With a page's LIMIT and OFFSET as parameters, PostgreSQL priced its generic plan for a tenth of
    the rows and planned the feed's listing again on every run (0.4 ms at the benchmark's large
    size, as long as the statement took to run)."""
    counts = kept_plans[label]
    assert len(counts) == 1, counts
    generic, custom = counts[0]
    assert generic >= 1, f"planned again on each of {custom} runs"
