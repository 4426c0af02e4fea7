"""What the benchmark drives: each endpoint with its persona, headers and expected answer,
and the SQL statements each one runs, counted in-process on the same database."""
from __future__ import annotations

import itertools
import urllib.parse
from dataclasses import dataclass, field

from .seed import Fixture

HTMX = {"HX-Request": "true", "HX-Request-Type": "partial"}  # what htmx 4 sends for a targeted swap
COMMENT_TEXT = "Спасибо, очень полезный опыт! Попробую провести такой же урок у себя в пятом классе."


@dataclass(frozen=True)
class Endpoint:
    key: str
    label: str
    kind: str  # ceiling | page | poll | write
    persona: str | None  # librarian | methodist | commenter; None: signed out (the ceiling only)
    path: str
    status: int
    headers: dict = field(default_factory=dict)
    post_text: str | None = None  # a form POST with this as its "body" field (and the CSRF token)
    token_page: str | None = None  # the page whose form token the POST sends

    @property
    def post(self) -> bool:
        return self.post_text is not None


def endpoints(f: Fixture, ceiling_path: str) -> list[Endpoint]:
    return [
        Endpoint("ceiling", "ceiling (constant, no DB)", "ceiling", None, ceiling_path, 200),
        Endpoint("journal", "journal list (20 entries)", "page", "librarian", "/journal/", 200),
        Endpoint("entry", "entry with 50 comments", "page", "librarian", f"/journal/{f.entry_with_comments}", 200),
        Endpoint("feed", "colleagues' feed", "page", "librarian", "/journal/feed", 200),
        Endpoint("thread", f"thread page {f.thread_page} (30 posts)", "page", "librarian",
                 f"/threads/{f.thread_id}?page={f.thread_page}", 200),
        Endpoint("threads", "group's thread list", "page", "librarian", f"/groups/{f.group_id}", 200),
        Endpoint("desk", "methodist's desk (10 mentees)", "page", "methodist", "/mentoring/", 200),
        Endpoint("badge_poll", "notification badge poll, nothing new", "poll", "librarian",
                 f"/notifications/badge?shown={f.unread_notifications}", 204, HTMX),
        Endpoint("comment_poll", "comment poll, nothing new", "poll", "librarian",
                 f"/comments/entry/{f.entry_with_comments}?after={f.last_comment_id}", 204, HTMX),
        Endpoint("thread_poll", "thread poll, nothing new", "poll", "librarian",
                 f"/threads/{f.thread_id}/poll?after={f.last_post_id}&locked=0", 204, HTMX),
        Endpoint("group_poll", "thread-list poll, nothing new", "poll", "librarian",
                 f"/groups/{f.group_id}?page=1&seen={f.newest_post_in_group}", 204, HTMX),
        Endpoint("nav_poll", "groups-in-navigation poll, nothing new", "poll", "librarian",
                 f"/groups/unread?shown={f.nav_seen}", 204, HTMX),
        Endpoint("autosave", "comment autosave, nothing typed", "background", "librarian",
                 f"/comments/entry/{f.entry_with_comments}/draft", 204, HTMX, post_text="",
                 token_page=f"/journal/{f.entry_with_comments}"),
        Endpoint("comment_post", "post a comment (htmx)", "write", "commenter",
                 f"/comments/entry/{f.sink_entry}", 201, HTMX, post_text=COMMENT_TEXT,
                 token_page=f"/journal/{f.sink_entry}"),
    ]


def form_data(point: Endpoint, token: str, number: object = None) -> dict[str, str]:
    """The form as posted. Its text ends in `number`, different for every request: the same
    comment again from the same person would be taken for one sent twice and saved once
    (webapp.text.sent_again). An empty text (the autosave with nothing typed) stays empty."""
    text = point.post_text
    return {"csrf_token": token, "body": f"{text} #{number}" if text and number is not None else text}


def form_body(point: Endpoint, token: str, number: object = None) -> str:
    """form_data url-encoded, the text last: without `number`, bench/wrk/post_form.lua numbers
    each request by appending to it."""
    return urllib.parse.urlencode(form_data(point, token, number))


def logins(f: Fixture) -> dict[str, str]:
    return {"librarian": f.librarian, "methodist": f.methodist, "commenter": f.commenter}


ALONE_SECONDS = 1.0  # per endpoint: enough requests for a steady median, at least ALONE_MIN
ALONE_MIN, ALONE_MAX = 10, 300


def _alone_ms(send) -> float:
    """The median time of one request alone, in process: no server, no load, no other client.
    Under wrk the same endpoint moves with how connections spread over the workers; this does not."""
    import statistics
    import time

    times: list[float] = []
    deadline = time.perf_counter() + ALONE_SECONDS
    while len(times) < ALONE_MIN or (len(times) < ALONE_MAX and time.perf_counter() < deadline):
        started = time.perf_counter()
        send()
        times.append(time.perf_counter() - started)
    return round(statistics.median(times) * 1000, 2)


def count_queries(url: str, fixture: Fixture, points: list[Endpoint]) -> dict[str, dict]:
    """Statements per request for each endpoint, and the time of one request alone: the real app
    on the same database, the Flask test client signed in as the same persona, and a
    before_cursor_execute counter (BEGIN/COMMIT and the like are not counted). The comments it
    posts are removed with the benchmark's others."""
    import logging

    from sqlalchemy import event

    from webapp import create_app
    from webapp.extensions import db

    from .ceiling import add_ceiling
    from .measure import csrf_token

    app = add_ceiling(create_app({"DATABASE_URL": url}))
    request_log = logging.getLogger("rost.request")
    level = request_log.level
    request_log.setLevel(logging.WARNING)  # the served app logs each request; here it would only be noise
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")):
            statements.append(statement)

    clients = {}
    for persona, login in logins(fixture).items():
        client = app.test_client()
        token = csrf_token(client.get("/login").data)
        answer = client.post("/login", data={"csrf_token": token, "login": login, "password": fixture.password})
        if answer.status_code != 303:
            raise RuntimeError(f"in-process sign-in as {login} failed: {answer.status_code}")
        clients[persona] = client
    anonymous = app.test_client()
    counts: dict[str, dict] = {}
    senders = {}
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        for point in points:
            client = clients.get(point.persona, anonymous)
            token = csrf_token(client.get(point.token_page).data) if point.post else ""

            def send(client=client, point=point, token=token, numbers=itertools.count(1)):
                if point.post:
                    data = form_data(point, token, f"alone.{next(numbers)}")
                    return client.post(point.path, data=data, headers=point.headers)
                return client.get(point.path, headers=point.headers)

            senders[point.key] = send
            statements.clear()
            answer = send()
            counts[point.key] = {"queries": len(statements), "status": answer.status_code,
                                 "statements": list(statements)}
        event.remove(engine, "before_cursor_execute", record)
        for key, send in senders.items():
            counts[key]["alone_ms"] = _alone_ms(send)
    finally:
        if event.contains(engine, "before_cursor_execute", record):
            event.remove(engine, "before_cursor_execute", record)
        request_log.setLevel(level)
        with app.app_context():
            db.engine.dispose()
    return counts


def remove_posted_comments(url: str, fixture: Fixture) -> int:
    """The benchmark's own comments (and the notifications they made) go, so every run starts alike."""
    from sqlalchemy import delete

    from webapp import create_app
    from webapp.extensions import db
    from webapp.mentoring.models import Comment, CommentDraft, Notification

    app = create_app({"DATABASE_URL": url})
    with app.app_context():
        mine = (Comment.entry_id == fixture.sink_entry, Comment.author_id == fixture.commenter_id)
        db.session.execute(delete(Notification).where(Notification.entry_id == fixture.sink_entry,
                                                      Notification.actor_id == fixture.commenter_id))
        removed = db.session.execute(delete(Comment).where(*mine)).rowcount
        db.session.execute(delete(CommentDraft).where(CommentDraft.entry_id == fixture.sink_entry))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return removed
