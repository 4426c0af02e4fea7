"""Query budgets: every GET route (pages, htmx fragments, polls) and the posts people make most,
each with the number of SQL statements a request may run, counted after sign-in (the user load
counts). The same requests run against a small world and a larger one: the count must not grow
with the number of entries, comments, posts, threads, notifications, mentees or steps.

A GET route without a row here fails the test, like a route without a row in test_access_policy."""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from sqlalchemy import func, inspect, select

from webapp.auth import links
from webapp.extensions import db
from webapp.groups.models import Post
from webapp.mentoring.models import Comment, Notification, NotificationKind
from webapp.models import EntryDraft, User, Visibility
from webapp.plans.progress import current_year

from . import factories
from .conftest import FRAGMENT, counted_queries, login, make_people, make_test_app

SMALL, LARGE = 31, 91  # both fill more than one page of every paginated list; LARGE three times as much


# The world ---------------------------------------------------------------------------------------

def seed(n: int) -> dict:
    """A network where every list has `n` items: the author's entries and tags, comments under one
    entry, colleagues' entries in the feed, plan steps, notifications, a methodist's mentees and
    the entries awaiting their answer, groups, threads, posts in one thread, drafts, people."""
    w = make_people()
    author, methodist, librarian = w["author"], w["methodist"], w["librarian"]
    s1, s2 = (db.session.get(User, person).school_id for person in (author, librarian))
    w["school"] = s1
    for i in range(n):  # more mentees, each with an entry awaiting the methodist's answer
        mentee = factories.make_user(school_id=s1 if i % 2 else s2)
        factories.assign_mentor(methodist, mentee)
        factories.make_entry(mentee, title=f"Запись подопечной {i}")
    plan = factories.make_plan(author, year=current_year(), topic="Детское чтение", aim="Цель", tasks="Задачи")
    steps = [factories.make_step(plan, title=f"Шаг {i}") for i in range(n)]
    entries = [factories.make_entry(author, title=f"Моя запись {i}", tags=("чтение", f"тег{i % 5}"))
               for i in range(n)]
    for entry, step in zip(entries, steps, strict=True):
        factories.link_entry_to_step(entry, step)
    entry = w["entry"] = entries[-1]
    comments = [factories.make_comment(entry, author if i % 2 else methodist, body=f"Комментарий {i}")
                for i in range(n)]
    w["comment"] = next(c for c in reversed(comments) if db.session.get(Comment, c).author_id == author)
    w["last_comment"] = comments[-1]
    for i in range(n):
        factories.make_entry(librarian, visibility=Visibility.COLLEAGUES, title=f"Для коллег {i}")
        factories.make_notification(author, NotificationKind.ENTRY_COMMENT, actor_id=methodist,
                                    entry_id=entry, comment_id=comments[i])
        factories.make_notification(methodist, NotificationKind.ENTRY_SHARED, actor_id=author, entry_id=entries[i])
    w["notification"] = factories.make_notification(author, NotificationKind.PLAN_COMMENT, actor_id=methodist,
                                                    plan_id=plan)
    w["plan"], w["step"] = plan, steps[0]
    group = factories.make_group("Городское МО", leaders=(methodist,), members=(author, librarian))
    for i in range(n):
        factories.make_group(f"Группа {i}", is_open=i % 2 == 0, members=(author,) if i % 3 else ())
        factories.make_thread(group, librarian, title=f"Обсуждение {i}")
    thread = factories.make_thread(group, author, title="Большая тема")
    factories.make_posts(thread, librarian, n)
    w["post"] = db.session.scalar(select(Post.id).where(Post.thread_id == thread, Post.author_id == author))
    w["last_post"] = db.session.scalar(select(Post.id).where(Post.thread_id == thread).order_by(Post.id.desc()))
    w["group"], w["thread"], w["thread_pages"] = group, thread, (n + 1 + 29) // 30
    for i in range(n):
        db.session.add(EntryDraft(key=f"draft-key-{i}", user_id=author, title=f"Черновик {i}", body="текст"))
    db.session.commit()
    w["draft_key"] = "draft-key-0"
    with current_app_request():
        w["token"] = links.issue(db.session.get(User, librarian)).rsplit("/", 1)[1]
    db.session.commit()
    return w


def current_app_request():
    from flask import current_app

    return current_app.test_request_context()


# The table ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Row:
    """One request: `endpoint` is the route it exercises; `label` tells variants apart."""

    label: str
    endpoint: str
    url: Callable[[dict], str]
    persona: str
    status: int
    budget: int
    method: str = "GET"
    headers: dict = field(default_factory=dict)
    data: Callable[[dict], dict] | None = None
    poll: bool = False  # a poll with nothing new: 204 and exactly one statement, nobody loaded (webapp.polls)


def get(label, url, persona, status, budget, *, endpoint=None, headers=None, poll=False) -> Row:
    return Row(label, endpoint or label.split("#")[0], url, persona, status, budget, headers=headers or {}, poll=poll)


def unread(person: int) -> int:
    """The count a badge with nothing new shows."""
    return db.session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.recipient_id == person, Notification.read_at.is_(None)))


F = FRAGMENT
ROWS: list[Row] = [
    # The load balancer's check: 503 here, as the test database is built by create_all, not by migrations
    get("health.healthz", lambda w: "/healthz", "anonymous", 503, 2),
    # Signing in, the account
    get("auth.home", lambda w: "/", "author", 302, 1),
    get("auth.login", lambda w: "/login", "anonymous", 200, 0),
    get("auth.accept_link", lambda w: f"/invite/{w['token']}", "anonymous", 200, 2),
    get("auth.account", lambda w: "/account", "author", 200, 1),
    # The journal
    get("journal.index", lambda w: "/journal/", "author", 200, 5),
    get("journal.index#page2", lambda w: "/journal/?page=2", "author", 200, 5),
    get("journal.index#fragment", lambda w: "/journal/?page=2", "author", 200, 4, headers=F),
    get("journal.index#tag", lambda w: "/journal/?tag=чтение&visibility=mentors", "author", 200, 5),
    get("journal.feed", lambda w: "/journal/feed", "author", 200, 2),
    get("journal.feed#fragment", lambda w: "/journal/feed?page=2", "author", 200, 2, headers=F),
    get("journal.new", lambda w: "/journal/new", "author", 200, 3),
    get("journal.new#fragment", lambda w: "/journal/new", "author", 200, 3, headers=F),
    # The first opening reads the entry's notifications (a write of its own); later ones find none and write nothing
    get("journal.show", lambda w: f"/journal/{w['entry']}", "author", 200, 9),
    get("journal.show#again", lambda w: f"/journal/{w['entry']}", "author", 200, 6),
    get("journal.show#methodist", lambda w: f"/journal/{w['entry']}", "methodist", 200, 11),
    get("journal.show#methodist-again", lambda w: f"/journal/{w['entry']}", "methodist", 200, 7),
    get("journal.show#fragment", lambda w: f"/journal/{w['entry']}", "author", 200, 6, headers=F),
    get("journal.edit", lambda w: f"/journal/{w['entry']}/edit", "author", 200, 5),
    get("journal.edit#fragment", lambda w: f"/journal/{w['entry']}/edit", "author", 200, 5, headers=F),
    get("journal.confirm_delete", lambda w: f"/journal/{w['entry']}/delete", "author", 200, 2),
    get("journal.drafts_index", lambda w: "/journal/drafts", "author", 200, 2),
    get("journal.resume_draft", lambda w: f"/journal/drafts/{w['draft_key']}", "author", 200, 3),
    # Comments
    get("comments.index", lambda w: f"/comments/entry/{w['entry']}", "author", 200, 4),
    get("comments.index#fragment", lambda w: f"/comments/entry/{w['entry']}", "author", 200, 4, headers=F),
    get("comments.index#poll", lambda w: f"/comments/entry/{w['entry']}?after={w['last_comment']}", "author", 204, 1,
        headers=F, poll=True),
    get("comments.show", lambda w: f"/comments/{w['comment']}", "author", 200, 2),
    get("comments.show#fragment", lambda w: f"/comments/{w['comment']}", "author", 200, 2, headers=F),
    get("comments.edit", lambda w: f"/comments/{w['comment']}/edit", "author", 200, 2),
    get("comments.edit#fragment", lambda w: f"/comments/{w['comment']}/edit", "author", 200, 2, headers=F),
    get("comments.confirm_delete", lambda w: f"/comments/{w['comment']}/delete", "author", 200, 2),
    # The methodist's desk and «awaiting answers»
    get("mentoring.desk", lambda w: "/mentoring/", "methodist", 200, 3),
    get("mentoring.awaiting", lambda w: "/mentoring/awaiting", "methodist", 200, 6),
    get("mentoring.awaiting#fragment", lambda w: "/mentoring/awaiting?page=2", "methodist", 200, 3, headers=F),
    get("mentoring.awaiting_entry", lambda w: f"/mentoring/awaiting/{w['entry']}", "methodist", 200, 7),
    get("mentoring.awaiting_entry#fragment", lambda w: f"/mentoring/awaiting/{w['entry']}", "methodist", 200, 7,
        headers=F),
    # Plans
    get("plans.index", lambda w: "/plans/", "author", 200, 4),
    get("plans.index#methodist", lambda w: "/plans/", "methodist", 200, 6),
    get("plans.new", lambda w: "/plans/new", "author", 200, 3),
    get("plans.new#fragment", lambda w: "/plans/new", "author", 200, 3, headers=F),
    get("plans.show", lambda w: f"/plans/{w['plan']}", "author", 200, 10),
    get("plans.show#again", lambda w: f"/plans/{w['plan']}", "author", 200, 8),
    get("plans.show#methodist", lambda w: f"/plans/{w['plan']}", "methodist", 200, 8),
    get("plans.show#fragment", lambda w: f"/plans/{w['plan']}", "author", 200, 7, headers=F),
    get("plans.edit", lambda w: f"/plans/{w['plan']}/edit", "author", 200, 7),
    # Notifications
    get("notifications.index", lambda w: "/notifications/", "author", 200, 2),
    get("notifications.index#page2", lambda w: "/notifications/?page=2", "author", 200, 2),
    get("notifications.index#fragment", lambda w: "/notifications/?page=2", "author", 200, 2, headers=F),
    get("notifications.badge#poll", lambda w: f"/notifications/badge?shown={unread(w['author'])}", "author",
        204, 1, headers=F, poll=True),
    get("notifications.badge#changed", lambda w: "/notifications/badge?shown=999", "author", 200, 2, headers=F),
    get("notifications.settings", lambda w: "/notifications/settings", "author", 200, 2),
    get("notifications.settings#fragment", lambda w: "/notifications/settings", "author", 200, 2, headers=F),
    get("notifications.open", lambda w: f"/notifications/{w['notification']}", "author", 303, 3),
    # Groups
    get("groups.index", lambda w: "/groups/", "author", 200, 3),
    get("groups.nav_unread#poll", lambda w: f"/groups/unread?shown={nav_seen(w['author'])}", "author", 204, 1,
        headers=F, poll=True),
    # The versions moved: the poll's statement, the user, the count with the versions anew.
    get("groups.nav_unread#changed", lambda w: "/groups/unread?shown=0.0", "author", 200, 3, headers=F),
    get("groups.show", lambda w: f"/groups/{w['group']}", "author", 200, 3),
    get("groups.show#page2", lambda w: f"/groups/{w['group']}?page=2", "author", 200, 3),
    get("groups.show#fragment", lambda w: f"/groups/{w['group']}?page=2", "author", 200, 3, headers=F),
    get("groups.show#poll", lambda w: f"/groups/{w['group']}?seen={newest_post(w['group'])}", "author", 204, 1,
        headers=F, poll=True),
    get("groups.members", lambda w: f"/groups/{w['group']}/members", "author", 200, 4),
    get("groups.members#leader", lambda w: f"/groups/{w['group']}/members", "methodist", 200, 6),
    get("groups.edit", lambda w: f"/groups/{w['group']}/edit", "methodist", 200, 3),
    # Threads
    get("threads.new", lambda w: f"/threads/new?group_id={w['group']}", "author", 200, 4),
    get("threads.new#fragment", lambda w: f"/threads/new?group_id={w['group']}", "author", 200, 4, headers=F),
    get("threads.show#jump", lambda w: f"/threads/{w['thread']}", "author", 303, 4, endpoint="threads.show"),
    # A page that moves the read mark moves the reader's version too (webapp.groups.versions).
    get("threads.show", lambda w: f"/threads/{w['thread']}?page=1", "author", 200, 7),
    get("threads.show#again", lambda w: f"/threads/{w['thread']}?page=1", "author", 200, 3),
    get("threads.show#last", lambda w: f"/threads/{w['thread']}?page={w['thread_pages']}", "author", 200, 7),
    get("threads.show#fragment", lambda w: f"/threads/{w['thread']}?page=1", "author", 200, 4, headers=F),
    get("threads.poll#poll", lambda w: f"/threads/{w['thread']}/poll?after={w['last_post']}&locked=0", "author",
        204, 1, headers=F, poll=True),
    get("threads.poll#news", lambda w: f"/threads/{w['thread']}/poll?after={w['last_post'] - 1}&locked=0", "author",
        200, 4, headers=F),
    get("threads.show_post", lambda w: f"/threads/posts/{w['post']}", "author", 303, 3),
    # The post, then the editor's membership: only members write in a group.
    get("threads.edit_post", lambda w: f"/threads/posts/{w['post']}/edit", "author", 200, 3),
    get("threads.edit_post#fragment", lambda w: f"/threads/posts/{w['post']}/edit", "author", 200, 3, headers=F),
    get("threads.confirm_delete_post", lambda w: f"/threads/posts/{w['post']}/delete", "author", 200, 2),
    # Administration
    get("admin.index", lambda w: "/admin/", "admin", 200, 6),
    get("admin.index#page2", lambda w: "/admin/?page=2", "admin", 200, 6),
    get("admin.index#fragment", lambda w: "/admin/?page=2", "admin", 200, 6, headers=F),
    get("admin.new_user", lambda w: "/admin/users/new", "admin", 200, 2),
    get("admin.show_user", lambda w: f"/admin/users/{w['librarian']}", "admin", 200, 7),
    get("admin.schools", lambda w: "/admin/schools", "admin", 200, 2),
    get("admin.school_methodist", lambda w: f"/admin/schools/{w['school']}/methodist", "admin", 200, 5),
    get("admin.groups", lambda w: "/admin/groups", "admin", 200, 3),
    get("admin.new_group", lambda w: "/admin/groups/new", "admin", 200, 2),
    get("admin.edit_group", lambda w: f"/admin/groups/{w['group']}", "admin", 200, 4),
    # What people post most (htmx, as the page sends it)
    Row("comments.autosave#nothing", "comments.autosave", lambda w: f"/comments/entry/{w['entry']}/draft", "methodist",
        204, 1, method="POST", headers=F, data=lambda w: {"body": ""}, poll=True),
    Row("comments.autosave", "comments.autosave", lambda w: f"/comments/entry/{w['entry']}/draft", "methodist",
        200, 6, method="POST", headers=F, data=lambda w: {"body": "Начало отзыва"}),
    Row("threads.autosave#nothing", "threads.autosave", lambda w: f"/threads/{w['thread']}/draft", "author",
        204, 1, method="POST", headers=F, data=lambda w: {"body": ""}, poll=True),
    # A comment or a reply first looks for the same text sent again (webapp.text.sent_again).
    Row("comments.create", "comments.create", lambda w: f"/comments/entry/{w['entry']}", "methodist", 201, 12,
        method="POST", headers={"HX-Request": "true"},
        data=lambda w: {"body": "Хорошая мысль.", "after": str(w["last_comment"])}),
    # … and the group's version and the author's: their own post is read.
    Row("threads.reply", "threads.reply", lambda w: f"/threads/{w['thread']}/posts", "author", 201, 20,
        method="POST", headers={"HX-Request": "true"},
        data=lambda w: {"body": "Согласна.", "after": str(w["last_post"]), "page": str(w["thread_pages"])}),
    Row("journal.create", "journal.create", lambda w: "/journal/", "author", 201, 12,
        method="POST", headers={"HX-Request": "true"},
        data=lambda w: {"title": "Новая запись", "body": "Текст", "visibility": "mentors", "tags": "чтение",
                        "draft_key": "draft-new-1"}),
]


def nav_seen(user_id: int) -> str:
    from webapp.groups.nav import nav_state

    return nav_state(user_id).seen


def newest_post(group_id: int) -> int:
    from sqlalchemy import func

    from webapp.groups.models import Thread

    return db.session.scalar(select(func.max(Thread.last_post_id)).where(Thread.group_id == group_id)) or 0


# Measuring ---------------------------------------------------------------------------------------

@dataclass
class Seen:
    status: int
    statements: list[str]
    html: str


def measure(app, w: dict) -> dict[str, Seen]:
    """Each row's request once, in table order (the posts come last: they add to the lists)."""
    seen = {}
    for row in ROWS:
        client = app.test_client()
        if row.persona != "anonymous":
            login(client, w[row.persona])
        url = row.url(w)
        data = row.data(w) if row.data else None
        with counted_queries() as statements:
            response = client.open(url, method=row.method, headers=row.headers, data=data)
        seen[row.label] = Seen(response.status_code, list(statements), response.get_data(as_text=True))
        response.close()
    return seen


@pytest.fixture(scope="module")
def measured(tmp_path_factory) -> dict[int, dict[str, Seen]]:
    """The table measured against a small world and a larger one (each in a fresh database)."""
    results = {}
    for size in (SMALL, LARGE):
        app = make_test_app(tmp_path_factory.mktemp(f"world{size}"))
        with app.app_context():
            try:
                results[size] = measure(app, seed(size))
            finally:
                db.session.remove()
                db.drop_all()
    return results


# The tests -------------------------------------------------------------------------------------------

def get_routes(app) -> set[str]:
    return {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in rule.methods and rule.endpoint != "static"}


def test_every_get_route_has_a_budget(app):
    covered = {row.endpoint for row in ROWS if row.method == "GET"}
    missing = sorted(get_routes(app) - covered)
    assert not missing, "GET routes without a row in ROWS (add one):\n" + "\n".join(missing)


def test_rows_name_existing_routes(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert {row.endpoint for row in ROWS} <= endpoints
    assert len({row.label for row in ROWS}) == len(ROWS)


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.label)
def test_request_stays_within_its_budget_at_any_size(measured, row):
    small, large = measured[SMALL][row.label], measured[LARGE][row.label]
    assert (small.status, large.status) == (row.status, row.status)
    assert len(large.statements) <= row.budget, "\n\n".join(large.statements)
    assert len(large.statements) == len(small.statements), (
        f"{len(small.statements)} statements with {SMALL} items, {len(large.statements)} with {LARGE}")


@pytest.mark.parametrize("row", [row for row in ROWS if row.poll], ids=lambda row: row.label)
def test_a_poll_with_nothing_new_is_one_statement(measured, row):
    seen = measured[LARGE][row.label]
    assert seen.status == 204 and seen.html == ""
    (statement,) = seen.statements
    assert not re.match(r"SELECT users\.", statement.lstrip()), "a poll that finds nothing loads nobody"


WRITES = re.compile(r"\s*(INSERT|UPDATE|DELETE)\b")


@pytest.mark.parametrize("label", ["journal.show", "journal.show#methodist", "plans.show", "threads.show"])
def test_opening_a_page_again_writes_nothing(measured, label):
    """The first opening reads the notifications about it (and moves a thread's read mark, notes
    a methodist's first reading); opening it again finds nothing to mark and takes no write
    transaction."""
    again_label = f"{label}-again" if "#" in label else f"{label}#again"
    first, again = measured[LARGE][label].statements, measured[LARGE][again_label].statements
    assert [s for s in first if WRITES.match(s)], "the first opening has something to mark"
    assert not [s for s in again if WRITES.match(s)]


# A full page of a list shows at most one page of items, and a way to the next page.
PAGED = [  # (row label, the items' HTML, the page size)
    ("journal.index", r'<article id="entry-\d+" class="entry-summary"', 20),
    ("journal.index#fragment", r'<article id="entry-\d+" class="entry-summary"', 20),
    ("journal.feed", r'<article id="entry-\d+" class="entry-summary"', 20),
    ("notifications.index", r'<li id="notification-\d+"', 20),
    ("notifications.index#fragment", r'<li id="notification-\d+"', 20),
    ("groups.show", r'<tr id="thread-\d+"', 20),
    ("threads.show", r'<article id="post-\d+"', 30),
    ("mentoring.awaiting", r'<li id="awaiting-\d+"', 50),
    ("admin.index", r'<tr id="person-\d+"', 25),
]


@pytest.mark.parametrize("label,item,per_page", PAGED, ids=[p[0] for p in PAGED])
def test_a_full_page_shows_at_most_one_page_of_items(measured, label, item, per_page):
    html = measured[LARGE][label].html
    shown = len(re.findall(item, html))
    assert 0 < shown <= per_page
    assert 'class="pager' in html and 'rel="next"' in html


def test_the_desk_lists_every_mentee_at_the_same_cost(measured):
    for size in (SMALL, LARGE):
        assert measured[size]["mentoring.desk"].html.count('class="mentee') == size + 1  # with the author


def test_every_relationship_raises_when_loaded_lazily():
    """An N+1 cannot slip in: a relationship that is not eager-loaded raises instead of querying."""
    lazy = sorted(f"{mapper.class_.__name__}.{rel.key} (lazy={rel.lazy!r})"
                  for mapper in db.Model.registry.mappers for rel in inspect(mapper).relationships
                  if rel.lazy != "raise")
    assert not lazy, "relationships that load lazily:\n" + "\n".join(lazy)
