"""Many people writing at once through the real server (gunicorn, several worker processes),
and the server killed under them: every write that was acknowledged is there exactly once,
each person's writes in the order they sent them, and nobody ever sees a server error.

Runs on SQLite (a file in tmp_path) and, when DATABASE_URL points at PostgreSQL, on that."""
from __future__ import annotations

import random
import re
import sqlite3
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select

from webapp.extensions import db
from webapp.groups.models import Group, GroupMember, MemberRole, Post, Thread
from webapp.mentoring.models import Comment
from webapp.models import JournalEntry, Visibility

from . import factories
from .conftest import FRAGMENT, make_test_app
from .servers import Browser, ConnectionLost, Server, start_gunicorn

CLIENTS = 8
LOAD_SECONDS = 10.0
KILLS = 5
ACKNOWLEDGED = frozenset({201, 204, 303})  # 2xx or a redirect after a saved form
KINDS = ("comment", "reply", "entry")
TOKEN = re.compile(r"c(\d+):(\d+)\b")


@dataclass
class Network:
    entry_id: int
    thread_id: int
    logins: list[str]


def _network(app) -> Network:
    """One shared entry every writer may comment on, one thread in a group they all belong to."""
    with app.app_context():
        logins = [f"writer{n}" for n in range(CLIENTS)]
        ids = [factories.make_user(login=login) for login in logins]
        group = Group(name="ГМО школьных библиотекарей", is_open=True)
        db.session.add(group)
        db.session.flush()
        db.session.add_all(GroupMember(group_id=group.id, user_id=i, role=MemberRole.MEMBER) for i in ids)
        thread = Thread(group_id=group.id, author_id=ids[0], title="Все сразу")
        entry = JournalEntry(author_id=ids[0], title="Открытая запись", body="Комментируйте",
                             visibility=Visibility.COLLEAGUES, tags=[])
        db.session.add_all([thread, entry])
        db.session.commit()
        return Network(entry.id, thread.id, logins)


@dataclass
class Writes:
    """What every client sent and what came back (None: the connection was lost)."""
    sent: list[tuple[int, int, str, int | None]] = field(default_factory=list)  # client, k, kind, status
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, client: int, k: int, kind: str, status: int | None) -> None:
        with self.lock:
            self.sent.append((client, k, kind, status))

    def acknowledged(self) -> set[tuple[str, str]]:
        return {(kind, f"c{n}:{k}") for n, k, kind, status in self.sent if status in ACKNOWLEDGED}

    def statuses(self) -> set[int | None]:
        return {status for *_, status in self.sent}


def _write(browser: Browser, net: Network, kind: str, token: str, htmx: bool) -> int:
    headers = FRAGMENT if htmx else None
    if kind == "comment":
        return browser.post(f"/comments/entry/{net.entry_id}", {"body": f"Комментарий {token}"}, headers)[0]
    if kind == "reply":
        return browser.post(f"/threads/{net.thread_id}/posts", {"body": f"Ответ {token}"}, headers)[0]
    return browser.post("/journal/", {"title": f"Запись {token}", "body": f"Текст {token}",
                                      "visibility": Visibility.MENTORS.value, "tags": ""}, headers)[0]


def _run_load(server: Server, net: Network, stop: threading.Event) -> tuple[Writes, list[threading.Thread]]:
    """CLIENTS threads write in turn a comment, a reply and an entry until `stop` is set; half the
    requests as htmx sends them. A lost connection counts as not acknowledged; the client goes on."""
    browsers = []
    for login in net.logins:
        browser = Browser(server.url)
        browser.sign_in(login, factories.PASSWORD)
        browsers.append(browser)
    writes = Writes()
    start = threading.Barrier(CLIENTS)

    def client(n: int, browser: Browser) -> None:
        start.wait()
        k = 0
        while not stop.is_set():
            kind = KINDS[k % len(KINDS)]
            try:
                status: int | None = _write(browser, net, kind, f"c{n}:{k}", htmx=k % 2 == 1)
            except ConnectionLost:
                status = None
                time.sleep(0.05)  # the server is down: wait for it rather than spin
            writes.add(n, k, kind, status)
            k += 1

    threads = [threading.Thread(target=client, args=(n, b), daemon=True) for n, b in enumerate(browsers)]
    for t in threads:
        t.start()
    return writes, threads


def _join(threads: list[threading.Thread]) -> None:
    for t in threads:
        t.join(timeout=40)
    assert not any(t.is_alive() for t in threads), "a client hung"


def _saved(app, net: Network) -> dict[str, list[tuple[int, str]]]:
    """(id, token) of every comment, reply and entry the clients wrote, by kind, in id order."""
    with app.app_context():
        rows = {
            "comment": db.session.execute(select(Comment.id, Comment.body).where(Comment.entry_id == net.entry_id)
                                          .order_by(Comment.id)).all(),
            "reply": db.session.execute(select(Post.id, Post.body).where(Post.thread_id == net.thread_id)
                                        .order_by(Post.id)).all(),
            "entry": db.session.execute(select(JournalEntry.id, JournalEntry.body)
                                        .where(JournalEntry.id != net.entry_id).order_by(JournalEntry.id)).all(),
        }
    saved: dict[str, list[tuple[int, str]]] = {}
    for kind, found in rows.items():
        saved[kind] = []
        for row_id, body in found:
            match = TOKEN.search(body)
            assert match, f"a {kind} nobody sent: {body!r}"
            saved[kind].append((row_id, match.group(0)))
    return saved


def _check_saved(app, net: Network, writes: Writes, *, all_acknowledged: bool) -> None:
    saved = _saved(app, net)
    print(f"sent {len(writes.sent)}, acknowledged {len(writes.acknowledged())}, "
          f"saved {sum(map(len, saved.values()))}")  # shown with -s or when the test fails
    acknowledged = writes.acknowledged()
    for kind, rows in saved.items():
        tokens = [token for _, token in rows]
        assert len(tokens) == len(set(tokens)), f"a {kind} saved twice"
        missing = {t for k, t in acknowledged if k == kind} - set(tokens)
        assert not missing, f"acknowledged {kind}s lost: {sorted(missing)[:10]}"
        if all_acknowledged:
            assert set(tokens) == {t for k, t in acknowledged if k == kind}
        # Each client's writes in the order sent: their ids grow with the client's counter.
        by_client: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for row_id, token in rows:
            n, k = map(int, TOKEN.fullmatch(token).groups())
            by_client[n].append((row_id, k))
        for n, pairs in by_client.items():
            ks = [k for _, k in sorted(pairs)]
            assert ks == sorted(ks), f"client {n}'s {kind}s saved out of order"
    with app.app_context():
        thread = db.session.get(Thread, net.thread_id)
        count, newest = db.session.execute(
            select(func.count(Post.id), func.max(Post.id)).where(Post.thread_id == net.thread_id)).one()
        assert (thread.post_count, thread.last_post_id) == (count, newest)


def _check_log(server: Server) -> None:
    log = server.log()
    assert "database is locked" not in log, server.log_tail()
    assert "Traceback" not in log, server.log_tail()


def _check_sqlite_file(app) -> None:
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if not uri.startswith("sqlite:///"):
        return
    connection = sqlite3.connect(uri.removeprefix("sqlite:///"))
    try:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        connection.close()


def test_many_writers_at_once_lose_nothing(tmp_path):
    app = make_test_app(tmp_path)
    net = _network(app)
    stop = threading.Event()
    with start_gunicorn(app.config["SQLALCHEMY_DATABASE_URI"], workers=2) as server:
        writes, threads = _run_load(server, net, stop)
        try:
            time.sleep(LOAD_SECONDS)
        finally:
            stop.set()
            _join(threads)
        server.stop()
        assert writes.statuses() <= ACKNOWLEDGED, sorted(writes.statuses(), key=str)  # no 5xx, nothing refused
        assert len(writes.sent) >= CLIENTS * len(KINDS)
        _check_log(server)
    _check_saved(app, net, writes, all_acknowledged=True)
    _check_sqlite_file(app)


def test_acknowledged_writes_survive_the_server_being_killed(tmp_path):
    app = make_test_app(tmp_path)
    net = _network(app)
    rng = random.Random(6)  # the moments of the kills are random but the same in every run
    stop = threading.Event()
    with start_gunicorn(app.config["SQLALCHEMY_DATABASE_URI"], workers=2) as server:
        writes, threads = _run_load(server, net, stop)
        try:
            for _ in range(KILLS):
                # Each kill lands on a server that is taking writes, whatever the machine's speed.
                _wait_for_an_acknowledgement(writes, since=len(writes.sent))
                time.sleep(rng.uniform(0.2, 0.8))
                server.kill()
                time.sleep(rng.uniform(0.0, 0.3))
                server.start().wait_ready()
            _wait_for_an_acknowledgement(writes, since=len(writes.sent))  # it came back after the last kill too
        finally:
            stop.set()
            _join(threads)
        server.stop()
        assert writes.statuses() <= ACKNOWLEDGED | {None}, sorted(writes.statuses(), key=str)  # no 5xx
        assert None in writes.statuses(), "no request was cut off: the kills hit nothing"
        _check_log(server)
    _check_saved(app, net, writes, all_acknowledged=False)
    _check_sqlite_file(app)


def _wait_for_an_acknowledgement(writes: Writes, since: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(status in ACKNOWLEDGED for *_, status in writes.sent[since:]):
            return
        time.sleep(0.02)
    raise AssertionError(f"no write acknowledged within {timeout} s")
