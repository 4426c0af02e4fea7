"""Polls: "anything new?", asked by every open page many times a minute, answered in one statement.

A poll's statement applies webapp.access's rules for the viewer and webapp.identity's rule for
the person the session names, both with the viewer as bound parameters. It is built and compiled
once per process (building a statement and its cache key costs more than running it) and runs
before anyone is loaded: when it finds nothing new, that is the whole request, one statement and
a 204. Anything else (news to show, nobody signed in, nothing visible) goes the usual way, through
Flask-Login and the ORM session, so what a person sees is decided exactly as on every other
request.

Polls and autosaves are nine requests in ten: their cost is what decides how many people one
server holds (docs/performance.md)."""
from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import Response, g, request
from flask_login import current_user
from sqlalchemy import Row, Select, String, bindparam, exists, select

from . import database, identity, prebuilt
from .extensions import db, login_manager
from .htmx import is_htmx_request

if TYPE_CHECKING:
    from .models import User

_VIEWER_ID = prebuilt.VIEWER_ID
_VIEWER_TOKEN = bindparam("viewer_token", type_=String)


class Poll:
    """One poll's statement, built on first use from `build(viewer)`, with labelled columns. A row
    answers when the person the session names is signed in and may see what is asked about; no
    row answers for nobody, or for something out of their sight."""

    def __init__(self, build: Callable[[Any], Select]) -> None:
        self._build = build
        self._statement: Select | None = None
        self._compiled: dict[tuple[str, str], _Compiled] = {}  # by dialect and driver

    @property
    def statement(self) -> Select:
        if self._statement is None:
            asked = self._build(prebuilt.AnyViewer()).subquery("asked")
            self._statement = select(*asked.c).where(exists().where(identity.signed_in(_VIEWER_ID, _VIEWER_TOKEN)))
        return self._statement

    def ask(self, **params: Any) -> tuple | None:
        """The row for the person the session names, before anyone is loaded; None when the
        session names nobody signed in (or the remember-me cookie would have to sign them in
        again), when there is nothing of theirs to see, or when the database failed: then the
        view goes the usual way (`row_for(current_user, …)`), which reports a failure as every
        request does. Ask first, before anything else in the request reads the database: the
        statement does not see what the request's own session has not committed."""
        if login_manager.session_protection == "strong":
            return None  # that protection is Flask-Login's to apply, on every request
        ids = identity.from_session()
        if ids is None:
            return None
        row = self._run_alone({**params, "viewer_id": ids[0], "viewer_token": ids[1]})
        if row is not None:
            g.signed_in_id = ids[0]  # for the request log, and for row_for: nobody was loaded
        return row

    def row_for(self, user: User, asked: tuple | None, **params: Any) -> tuple | Row | None:
        """The row for a person Flask-Login loaded: the one `ask` found if it was asked for
        them, else asked now in the request's session. None: nothing of theirs to see."""
        if asked is not None and g.get("signed_in_id") == user.id:
            return asked
        return self.for_user(user, **params)

    def for_user(self, user: User, **params: Any) -> Row | None:
        """The row for a person Flask-Login loaded, in the request's session; None: nothing of
        theirs to see."""
        params = {**params, "viewer_id": user.id, "viewer_token": user.session_token}
        return database.run(self.statement, params).first()

    def _run_alone(self, params: dict[str, Any]) -> tuple | None:
        """The statement on a pooled connection of its own, outside the ORM session and any
        transaction (one statement reads one consistent state by itself), as the compiled SQL:
        a third of a poll's cost went into the session's BEGIN and ROLLBACK and SQLAlchemy's
        execution. Listeners for executed statements (the tests' and the benchmark's counts) are
        told of it before it runs, with no SQLAlchemy connection or context to go with it."""
        engine = db.engine
        dialect = engine.dialect
        compiled = self._compiled.get((dialect.name, dialect.driver))
        if compiled is None:
            compiled = self._compiled[(dialect.name, dialect.driver)] = _Compiled(self.statement, dialect)
        values = compiled.values(params)
        connection = engine.raw_connection()
        cursor = None
        try:
            driver = connection.driver_connection
            autocommit = getattr(driver, "autocommit", None)
            if autocommit is False:  # PostgreSQL: no BEGIN, and so no ROLLBACK on return to the pool
                driver.autocommit = True
            try:
                cursor = connection.cursor()
                if engine.dispatch.before_cursor_execute:
                    engine.dispatch.before_cursor_execute(None, cursor, compiled.sql, values, None, False)
                cursor.execute(compiled.sql, values)
                row = cursor.fetchone()
                cursor.close()
            finally:
                if autocommit is False:
                    driver.autocommit = False  # before anything else: the pool hands it to the ORM next
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, connection.dbapi_connection, cursor):
                connection.invalidate()
            return None
        except BaseException:
            connection.invalidate()  # interrupted half way: its state is unknown
            raise
        finally:
            connection.close()
        return None if row is None else compiled.row(*row)


class _Compiled:
    """A statement compiled once for one dialect, the order of its parameters, and its row type."""

    def __init__(self, statement: Select, dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        # Run as compiled, nothing of SQLAlchemy's execution is applied: no SQL completed at
        # execution (in_() of a list), no conversion of parameters or results by their types.
        if compiled.post_compile_params or compiled.literal_execute_params or compiled._bind_processors:
            raise ValueError("a poll's statement must run as compiled, with plain parameters")
        self._compiled = compiled
        self.sql: str = compiled.string
        self._order: tuple[str, ...] | None = tuple(compiled.positiontup) if compiled.positional else None
        self.row = namedtuple("PollRow", [column.key for column in statement.selected_columns])

    def values(self, params: dict[str, Any]) -> tuple | dict[str, Any]:
        if self._order is None:  # named parameters, under the names the SQL gives them
            return self._compiled.construct_params(params)
        every = self._compiled.construct_params(params, escape_names=False)  # with the statement's constants
        return tuple(every[name] for name in self._order)


class _NoContent(Response):
    default_mimetype = None  # no body, so no Content-Type, and no Vary for HTML (webapp.htmx.add_vary)


def nothing_new() -> Response:
    """The answer to a poll that found nothing new: no body, and, as for anything a signed-in
    person is sent, never stored by a cache. With nothing to describe and nothing stored, it
    carries no Content-Type and no Vary for htmx's headers: building and writing those was a
    tenth of what such a poll costs (docs/performance.md, finding 13)."""
    return _NoContent(status=204, headers={"Cache-Control": "no-store"})


def answer_unless_shown(poll: Poll, shown_of: Callable[[Any], str], changed: Callable[[Any], Response]) -> Response | tuple:
    """An item that polls with what it shows (?shown=): the notification badge's count, the groups
    item's versions. Unchanged (`shown_of(row)` is what the item shows): 204, no body. Changed:
    `changed(row)`, the item drawn again. Signed out: 204 to htmx too, as a background poll must
    never take away a page where someone may be typing."""
    shown = request.args.get("shown", "")
    asked = poll.ask()
    if asked is not None and shown_of(asked) == shown:
        return nothing_new()
    if not current_user.is_authenticated:
        return ("", 204) if is_htmx_request() else login_manager.unauthorized()
    row = poll.row_for(current_user, asked)
    return nothing_new() if shown_of(row) == shown else changed(row)
