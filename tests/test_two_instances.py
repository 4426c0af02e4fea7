"""Two app servers (separate gunicorn processes on different ports) in front of one PostgreSQL,
with sign-in throttling counted in one Redis: what one server does, the other sees.

Needs PostgreSQL (DATABASE_URL) and Debian's redis-server; without them the test is skipped,
unless ROST_REQUIRE_MULTI=1 (as in .ci/run), where a missing piece is a failure."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import pytest
import redis
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import LoginFailure

from . import factories
from .conftest import make_test_app
from .servers import Browser, Server, free_port

FRAGMENT = {"HX-Request": "true", "HX-Request-Type": "partial"}


def _missing() -> str | None:
    if not os.environ.get("DATABASE_URL", "").startswith("postgresql"):
        return "needs PostgreSQL: set DATABASE_URL=postgresql://…"
    if shutil.which("redis-server") is None:
        return "needs the redis-server binary (apt-get install redis-server)"
    return None


@pytest.fixture(autouse=True)
def _needs_postgresql_and_redis():
    reason = _missing()
    if reason and os.environ.get("ROST_REQUIRE_MULTI") == "1":
        pytest.fail(f"ROST_REQUIRE_MULTI=1 but the two-instance test cannot run: {reason}")
    if reason:
        pytest.skip(reason)


@contextmanager
def redis_server(timeout: float = 10.0) -> Iterator[tuple[str, subprocess.Popen]]:
    """A throwaway redis-server on 127.0.0.1: no persistence, its own folder, killed on the way out."""
    folder = tempfile.mkdtemp(prefix="rost-redis-")
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
         "--dir", folder, "--daemonize", "no", "--logfile", os.path.join(folder, "redis.log")],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        deadline = time.monotonic() + timeout
        while True:
            try:
                client.ping()
                break
            except redis.exceptions.RedisError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start on port {port}") from None
                time.sleep(0.05)
        client.close()
        yield url, process
    finally:
        process.kill()
        process.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


def failure_rows() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(LoginFailure))


def _with_session_of(signed_in: Browser, base_url: str) -> Browser:
    """A browser on another server carrying the same cookies (cookies do not depend on the port)."""
    other = Browser(base_url)
    for cookie in signed_in.cookies:
        other.cookies.set_cookie(cookie)
    return other


def test_two_servers_share_comments_sessions_and_the_sign_in_throttle(tmp_path):
    app = make_test_app(tmp_path)  # the tables, in the one PostgreSQL database both servers use
    with app.app_context():
        author = factories.make_user(login="anna", display_name="Анна Смирнова")
        methodist = factories.make_user("methodist", login="ruslana", display_name="Руслана Трач")
        factories.make_user(login="olga", display_name="Ольга Петрова")
        factories.assign_mentor(methodist, author)
        entry = factories.make_entry(author, title="Читательский марафон")
        last_seen = factories.make_comment(entry, author, body="Первый комментарий.")
    database = app.config["SQLALCHEMY_DATABASE_URI"]

    with ExitStack() as stack:
        storage, redis_process = stack.enter_context(redis_server())
        env = {"RATELIMIT_STORAGE_URI": storage}
        # Both start at once, then each is waited for: the start-up costs overlap.
        a = stack.enter_context(Server(database, env=env)).start()
        b = stack.enter_context(Server(database, env=env)).start()
        a.wait_ready()
        b.wait_ready()

        # A session made by A is valid on B: nothing about it lives in a process.
        anna_on_a = Browser(a.url)
        anna_on_a.sign_in("anna", factories.PASSWORD)
        anna_on_b = _with_session_of(anna_on_a, b.url)
        status, page, _ = anna_on_b.get("/journal/")
        assert status == 200
        assert "Анна Смирнова" in page

        # A comment posted through A shows up in B's poll of the entry's comments.
        poll = f"/comments/entry/{entry}?after={last_seen}"
        assert anna_on_b.get(poll, FRAGMENT)[0] == 204  # nothing new yet
        methodist_on_a = Browser(a.url)
        methodist_on_a.sign_in("ruslana", factories.PASSWORD)
        status, _, headers = methodist_on_a.post(f"/comments/entry/{entry}", {"body": "Отличная идея, Анна!"})
        assert status == 303
        comment_id = int(re.search(r"#comment-(\d+)$", headers["Location"]).group(1))
        status, news, _ = anna_on_b.get(poll, FRAGMENT)
        assert status == 200
        assert f'id="comment-{comment_id}"' in news
        assert "Отличная идея, Анна!" in news

        # Signing out on B ends the session on A too.
        assert anna_on_b.post("/logout", {})[0] == 303
        status, _, headers = anna_on_a.get("/journal/")
        assert status == 302 and headers["Location"].startswith("/login")

        # Failed sign-ins alternating between the servers count together: five are allowed in a
        # minute, the sixth is refused, and refused on both (even with the right password).
        guessers = [Browser(a.url), Browser(b.url)]
        for n in range(5):
            status, _, _ = guessers[n % 2].post("/login", {"login": "olga", "password": f"guess-{n}"})
            assert status == 422, f"failure {n + 1} on {'AB'[n % 2]}"
        assert guessers[1].post("/login", {"login": "olga", "password": "guess-5"})[0] == 429
        assert guessers[0].post("/login", {"login": "olga", "password": factories.PASSWORD})[0] == 429
        assert guessers[1].post("/login", {"login": "olga", "password": factories.PASSWORD})[0] == 429

        # The counting is in Redis; the database's table of failures is not touched.
        counted = redis.Redis.from_url(storage)
        try:
            assert any(b"login:olga" in key for key in counted.keys("*rost-signin*"))
        finally:
            counted.close()
        with app.app_context():
            assert failure_rows() == 0

        # Redis goes away: signing in still works, and failures are counted in the database instead.
        redis_process.kill()
        redis_process.wait(10)
        assert Browser(b.url).post("/login", {"login": "anna", "password": factories.PASSWORD})[0] == 303
        assert Browser(a.url).post("/login", {"login": "olga", "password": "guess-6"})[0] == 422
        with app.app_context():
            assert failure_rows() == 2  # one for the account, one for the address
