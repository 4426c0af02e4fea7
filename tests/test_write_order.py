"""Polls ask "anything after id N?", so what they look for must be committed in the order of its
ids. A comment waits for its entry's row, and a post for its group's, before it takes its id; two
at once then commit one after the other, in id order. Shown on PostgreSQL, where writers run side
by side, by holding that row in another transaction: the write gives up at its lock timeout without
having taken an id (the next row's id follows the last one saved). The same row makes a comment
sent twice at once wait for the first, and find it (webapp.text.sent_again); the thread's row does
that for a reply, the group's for a new thread, the plan's for its steps and comments, and the
person's row for a new entry or plan. A change of a group's members takes the group's row first
too, as an administrator's save of the group does."""
from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from webapp.extensions import db
from webapp.groups import queries as groups
from webapp.groups.models import Group, GroupMember, MemberRole, Thread
from webapp.journal.entries import saved_already
from webapp.journal.forms import EntryForm
from webapp.mentoring.answers import add_comment_once
from webapp.mentoring.models import Comment, Plan
from webapp.models import JournalEntry, User, Visibility
from webapp.plans import queries as plans
from webapp.threads import queries

from . import factories

pytestmark = pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgresql"),
                                reason="SQLite lets one writer at a time hold the whole database: ids are taken in commit order")


@contextmanager
def _held(statement, *, as_an_update: bool = False) -> Iterator[None]:
    """Another transaction holds the row `statement` selects while the block runs: FOR UPDATE, or,
    `as_an_update`, as a writer's UPDATE of it does (FOR NO KEY UPDATE, which lets rows that only
    refer to it be inserted)."""
    with db.engine.connect() as other:
        transaction = other.begin()
        other.execute(statement.with_for_update(key_share=as_an_update))
        try:
            yield
        finally:
            transaction.rollback()


def _gives_up_without_an_id(write: Callable[[], object]) -> None:
    db.session.execute(text("SET LOCAL lock_timeout = '200ms'"))
    with pytest.raises(OperationalError, match="lock timeout"):
        write()
    db.session.rollback()


def test_a_comment_waits_for_its_entry_before_it_takes_an_id(app):
    author, reader = factories.make_user(login="anna"), factories.make_user(login="olga")
    entry_id = factories.make_entry(author, visibility=Visibility.COLLEAGUES)
    first = factories.make_comment(entry_id, reader)

    def comment():
        return add_comment_once(db.session.get(JournalEntry, entry_id), db.session.get(User, reader), "Жду очереди.", None)[0]
    with _held(select(JournalEntry.id).where(JournalEntry.id == entry_id)):
        _gives_up_without_an_id(comment)
    assert comment().id == first + 1
    db.session.commit()


def test_a_post_waits_for_its_group_before_it_takes_an_id(app):
    author = factories.make_user(login="anna")
    group_id = factories.make_group("Клуб", members=(author,))
    replied, other = (factories.make_thread(group_id, author) for _ in range(2))
    last = factories.make_post(other, author)

    def reply():
        return queries.add_reply(db.session.get(Thread, replied), author, "Ответ в другой теме.", None)[0]

    def start():
        return queries.start_thread(db.session.get(Group, group_id), author, "Новая тема", "Начало.")[1]
    for write in (reply, start):
        with _held(select(Group.id).where(Group.id == group_id), as_an_update=True):  # another post's version bump
            _gives_up_without_an_id(write)
    assert reply().id == last + 1
    assert start().id == last + 2
    db.session.commit()


def _waits_for_the_commit_of(first: Session, second: Callable[[], None]) -> None:
    """`second` runs in a thread while `first` holds the row it needs, its write not yet committed:
    it must still be waiting after half a second, and then go on once `first` commits."""
    worker = threading.Thread(target=second)
    worker.start()
    worker.join(0.5)
    assert worker.is_alive()  # waiting for the row
    first.commit()
    worker.join(10)
    assert not worker.is_alive()


def test_the_same_comment_sent_twice_at_once_is_saved_once(app):
    """The first request has its comment written, not yet committed, when the second arrives (a
    double press of a plain form's button): the second waits for the entry's row, then finds it."""
    reader = factories.make_user(login="olga")
    entry_id = factories.make_entry(factories.make_user(login="anna"), visibility=Visibility.COLLEAGUES)
    answers: list[bool] = []

    def second() -> None:
        with app.app_context():
            entry, person = db.session.get(JournalEntry, entry_id), db.session.get(User, reader)
            answers.append(add_comment_once(entry, person, "Дважды не нужно.", shown=None)[1])
            db.session.commit()

    with db.engine.connect() as connection, Session(bind=connection) as first:
        first.execute(select(JournalEntry.id).where(JournalEntry.id == entry_id).with_for_update())
        first.add(Comment(entry_id=entry_id, author_id=reader, body="Дважды не нужно."))
        first.flush()
        _waits_for_the_commit_of(first, second)
    assert answers == [False]
    assert db.session.scalar(select(func.count()).select_from(Comment).where(Comment.entry_id == entry_id)) == 1


def test_the_same_new_entry_sent_twice_at_once_is_saved_once(app):
    """The first request has its entry written, not yet committed, when the second arrives: the
    second waits for the person's row, then finds the entry."""
    author = factories.make_user(login="anna")
    found: list[int | None] = []

    def second() -> None:
        sent = {"title": "Итоги недели", "body": "Провела урок в читальном зале.", "visibility": "mentors"}
        with app.test_request_context("/journal/", method="POST", data=sent):
            entry = saved_already(author, EntryForm())
            found.append(entry.id if entry is not None else None)
            db.session.rollback()

    with db.engine.connect() as connection, Session(bind=connection) as first:
        first.execute(select(User.id).where(User.id == author).with_for_update())
        entry = JournalEntry(author_id=author, title="Итоги недели", body="Провела урок в читальном зале.",
                             visibility=Visibility.MENTORS)
        first.add(entry)
        first.flush()
        _waits_for_the_commit_of(first, second)
        saved = entry.id
    assert found == [saved]


def _sent_twice_at_once(app, send: Callable[[], bool]) -> list[bool]:
    """`send` runs, and keeps its transaction open; the same `send` of a second request meanwhile
    must wait for it to commit, then find what it saved. What each `send` answered: True for
    something new saved."""
    answers = [send()]

    def second() -> None:
        with app.app_context():
            answers.append(send())
            db.session.commit()

    _waits_for_the_commit_of(db.session, second)
    return answers


def test_the_same_reply_or_new_thread_sent_twice_at_once_is_saved_once(app):
    author = factories.make_user(login="anna")
    group_id = factories.make_group("Клуб", members=(author,))
    thread_id = factories.make_thread(group_id, author)

    def reply() -> bool:
        return queries.add_reply(db.session.get(Thread, thread_id), author, "Дважды не нужно.", None)[1]

    def start() -> bool:
        return queries.start_thread_once(db.session.get(Group, group_id), author, "Новая тема", "Начало.")[2]
    assert _sent_twice_at_once(app, reply) == [True, False]
    assert _sent_twice_at_once(app, start) == [True, False]
    assert db.session.scalar(select(func.count()).select_from(Thread).where(Thread.group_id == group_id)) == 2
    assert db.session.get(Thread, thread_id).post_count == 2


def test_the_same_plan_step_or_plan_comment_sent_twice_at_once_is_saved_once(app):
    author = factories.make_user(login="anna")
    plan_id = factories.make_plan(author, year=2026)

    def step() -> bool:
        return plans.add_step_once(plan_id, None, title="Выступить на ГМО", due_date=None, status="planned")[1]

    def comment() -> bool:
        return plans.add_comment_once(plan_id, author, "Дважды не нужно.", None)[1]
    assert _sent_twice_at_once(app, step) == [True, False]
    assert _sent_twice_at_once(app, comment) == [True, False]
    assert [len(plans.steps_of(plan_id)), len(plans.comments_of(plan_id))] == [1, 1]


def test_the_same_new_plan_sent_twice_at_once_is_saved_once(app):
    author = factories.make_user(login="anna")
    text = {"topic": "Медиаграмотность", "aim": "", "tasks": ""}

    def create() -> bool:
        if plans.own_plan_held(author, 2026) is not None:
            return False
        db.session.add(Plan(author_id=author, year=2026, **text))
        db.session.flush()
        return True
    assert _sent_twice_at_once(app, create) == [True, False]


def _wait_until_one_waits_for_a_lock() -> None:
    """Until another connection of this database waits for a row lock (within ten seconds)."""
    waiting = text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                   "AND wait_event_type = 'Lock'")
    deadline = time.monotonic() + 10
    with db.engine.connect() as watcher:
        while not watcher.execute(waiting).scalar():
            assert time.monotonic() < deadline, "nobody waits for a lock"
            time.sleep(0.01)
            watcher.rollback()  # a new snapshot of pg_stat_activity


def _during_a_save_naming_a_leader(group_id: int, member: int, change: Callable[[], None]) -> None:
    """`change` runs in a thread while an administrator's save holds the group's row (as
    update_group does); once it waits for a lock, the save names `member` leader and commits, and
    `change` must then finish."""
    with db.engine.connect() as connection, Session(bind=connection) as save:
        save.execute(select(Group.id).where(Group.id == group_id).with_for_update())
        worker = threading.Thread(target=change)
        worker.start()
        _wait_until_one_waits_for_a_lock()
        save.execute(update(GroupMember).where(GroupMember.group_id == group_id, GroupMember.user_id == member)
                     .values(role=MemberRole.LEADER))
        save.commit()
        worker.join(10)
    assert not worker.is_alive()


def test_a_member_leaving_during_an_administrator_s_save_waits_for_it(app):
    """The administrator's save holds the group's row, then changes who leads it; the person leaving
    at that moment waits for the group's row before their own membership. Neither holds a row the
    other needs (PostgreSQL would refuse one of them as a deadlock), and the count stays right."""
    leader, member = factories.make_user(login="anna"), factories.make_user(login="olga")
    group_id = factories.make_group("Клуб", leaders=(leader,), members=(member,))
    failed: list[Exception] = []

    def leaving() -> None:
        with app.app_context():
            try:
                groups.remove_member(group_id, member)
                db.session.commit()
            except Exception as error:  # noqa: BLE001 - the assertion below shows it
                failed.append(error)

    _during_a_save_naming_a_leader(group_id, member, leaving)
    assert failed == []
    assert db.session.get(GroupMember, (group_id, member)) is None
    assert db.session.get(Group, group_id).member_count == 1


def test_a_leader_removing_someone_an_administrator_is_naming_leader_removes_nobody(app):
    """The leader's "remove" was sent while the administrator's save, naming that member leader,
    held the group: it waits for the save, then finds a leader, and says so instead of removing."""
    from .conftest import login

    leader, member = factories.make_user(login="anna"), factories.make_user(login="olga")
    group_id = factories.make_group("Клуб", leaders=(leader,), members=(member,))
    client = login(app.test_client(), leader)
    answers = []

    def removing() -> None:
        answers.append(client.post(f"/groups/{group_id}/members/remove", data={"user_id": member}))

    _during_a_save_naming_a_leader(group_id, member, removing)
    assert answers[0].status_code == 422 and "Руководителей назначает администратор." in answers[0].text
    assert db.session.get(GroupMember, (group_id, member)).role == MemberRole.LEADER
    assert db.session.get(Group, group_id).member_count == 2
