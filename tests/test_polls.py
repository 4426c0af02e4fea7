"""Polls (webapp.polls): one statement, built once, answers "nothing new" for the person the
session names before anyone is loaded. It must answer for that person only, and never for a
session that no longer signs anyone in."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import Integer, bindparam, select

from webapp import access
from webapp.extensions import db
from webapp.groups.nav import nav_state
from webapp.models import JournalEntry, User, Visibility
from webapp.polls import Poll

from . import factories
from .conftest import FRAGMENT, counted_queries, login

ENTRY = Poll(lambda viewer: access.visible_entries(viewer).with_only_columns(JournalEntry.id)
             .where(JournalEntry.id == bindparam("entry_id", type_=Integer)))


def sees(viewer: User, entry_id: int) -> bool:
    return ENTRY.for_user(viewer, entry_id=entry_id) is not None


def test_each_viewer_gets_their_own_answer_from_one_statement(app, people):
    private = factories.make_entry(people["author"], visibility=Visibility.PRIVATE)
    shared = factories.make_entry(people["author"], visibility=Visibility.MENTORS)
    author, methodist, other = (db.session.get(User, people[p]) for p in ("author", "methodist", "other_methodist"))
    assert sees(author, private) and sees(author, shared)
    assert not sees(methodist, private) and sees(methodist, shared)
    assert not sees(other, private) and not sees(other, shared)
    author.active = False  # a deactivated account sees nothing
    db.session.commit()
    assert not sees(author, private) and not sees(author, shared)


def test_a_rule_that_reads_more_than_the_id_is_refused_where_it_is_built(app):
    by_role = Poll(lambda viewer: select(User.id) if viewer.is_admin else select(User.id).where(User.id == viewer.id))
    with pytest.raises(AttributeError):
        by_role.statement  # noqa: B018  (building it is what fails)


@pytest.fixture
def world(app, people):
    """Each poll's URL with nothing new for the author, who may see everything asked about."""
    author = people["author"]
    entry = factories.make_entry(author)
    comment = factories.make_comment(entry, people["methodist"])
    group = factories.make_group(is_open=False, members=(author,))
    thread = factories.make_thread(group, author)
    post = factories.make_post(thread, author)
    return {
        "comments": f"/comments/entry/{entry}?after={comment}",
        "thread": f"/threads/{thread}/poll?after={post}&locked=0",
        "group": f"/groups/{group}?seen={post}",
        "badge": "/notifications/badge?shown=0",
        "nav": f"/groups/unread?shown={nav_state(author).seen}",
    }


POLLS = ("comments", "thread", "group", "badge", "nav")


@pytest.mark.parametrize("poll", POLLS)
def test_nothing_new_is_one_statement_and_an_empty_204(client, people, world, poll):
    login(client, people["author"])
    with counted_queries() as statements:
        response = client.get(world[poll], headers=FRAGMENT)
    assert response.status_code == 204 and response.data == b""
    assert response.headers["Cache-Control"] == "no-store"
    assert "Content-Type" not in response.headers  # an empty answer describes no content
    assert len(statements) == 1, statements


def _sign_out_everywhere(user_id: int) -> None:
    db.session.get(User, user_id).revoke_sessions()
    db.session.commit()


def _deactivate(user_id: int) -> None:
    db.session.get(User, user_id).active = False
    db.session.commit()


@pytest.mark.parametrize("poll", POLLS)
@pytest.mark.parametrize("end", [_sign_out_everywhere, _deactivate], ids=["signed out everywhere", "deactivated"])
def test_a_session_that_no_longer_signs_in_gets_no_answer(client, people, world, poll, end):
    login(client, people["author"])
    end(people["author"])
    response = client.get(world[poll])  # not from htmx: the usual way to the login form
    assert response.status_code == 302 and response.location.startswith("/login")


@pytest.mark.parametrize("poll", ["comments", "thread", "group"])
def test_what_the_viewer_may_not_see_answers_404_not_nothing_new(client, people, world, poll):
    login(client, people["librarian"])  # not the author's methodist, not in the closed group
    response = client.get(world[poll], headers=FRAGMENT)
    assert response.status_code == 404


def test_a_forged_session_for_another_person_gets_no_answer(client, people, world):
    victim = db.session.get(User, people["author"])
    with client.session_transaction() as session:
        session["_user_id"] = f"{victim.id}:not-the-token"
    assert client.get(world["comments"]).status_code == 302


@pytest.mark.parametrize("poll", POLLS)
def test_signed_in_again_from_the_remember_me_cookie_the_poll_still_answers(client, people, world, poll):
    response = client.post("/login", data={"login": "anna", "password": factories.PASSWORD, "remember": "y"})
    assert response.status_code == 303
    client.delete_cookie("session")  # the browser was closed; the remember-me cookie stays
    response = client.get(world[poll], headers=FRAGMENT)
    assert response.status_code == 204 and response.data == b""


def test_the_request_log_names_the_person_a_poll_answered(client, people, world, caplog):
    login(client, people["author"])
    with caplog.at_level("INFO", logger="rost.request"):
        assert client.get(world["badge"], headers=FRAGMENT).status_code == 204
    (record,) = [r for r in caplog.records if r.name == "rost.request"]
    assert f'"user":{people["author"]}' in record.getMessage().replace(" ", "")


@pytest.mark.parametrize("disconnect", [False, True], ids=["an error", "a lost connection"])
def test_when_the_database_fails_the_poll_goes_the_usual_way(client, people, world, monkeypatch, disconnect):
    login(client, people["author"])
    engine = db.engine
    real = engine.raw_connection
    dbapi = engine.dialect.loaded_dbapi

    failures = []

    class Failing:
        """The pool's connection, except that the poll's statement fails on it, the first time."""

        def __init__(self, connection):
            self.connection, self.driver_connection = connection, connection.driver_connection
            self.invalidated = False

        def __getattr__(self, name):
            return getattr(self.connection, name)

        def cursor(self):
            cursor = self.connection.cursor()

            class Cursor:
                def __getattr__(self, name):
                    return getattr(cursor, name)

                def execute(self, sql, *args):
                    if sql.lstrip().startswith("SELECT asked.") and not failures:
                        failures.append(sql)
                        raise dbapi.OperationalError("the statement failed")
                    return cursor.execute(sql, *args)
            return Cursor()

        def invalidate(self):
            self.invalidated = True
            self.connection.invalidate()

    handed_out: list[Failing] = []

    def failing_connection():
        handed_out.append(Failing(real()))
        return handed_out[-1]

    monkeypatch.setattr(engine, "raw_connection", failing_connection)
    monkeypatch.setattr(engine.dialect, "is_disconnect", lambda *args: disconnect)
    with counted_queries() as statements:
        response = client.get(world["comments"], headers=FRAGMENT)
    assert failures and response.status_code == 204  # answered by the session, with the person loaded
    assert any(re.match(r"SELECT users\.", s.lstrip()) for s in statements)
    # A lost connection never goes back to the pool; one that merely failed a statement does.
    assert any(c.invalidated for c in handed_out) == disconnect


@pytest.mark.parametrize("value", ["abc", "1:", ":token", "-1:token", "1" * 19 + ":token", 7, None])
def test_a_session_naming_nobody_sensible_gets_the_usual_answer(client, people, world, value):
    with client.session_transaction() as session:
        session["_user_id"] = value
    for poll in POLLS:
        response = client.get(world[poll])
        assert response.status_code == 302 and response.location.startswith("/login"), (poll, value)


@pytest.mark.parametrize("poll", POLLS)
def test_a_signed_out_background_poll_never_navigates_away(client, people, world, poll):
    login(client, people["author"])
    _sign_out_everywhere(people["author"])
    response = client.get(world[poll], headers=FRAGMENT)
    assert response.status_code in (204, 401) and "HX-Redirect" not in response.headers
