"""Many people replying in one thread at once, through a real HTTP server: every reply is
saved once, each person's replies in the order they sent them, and nobody sees an error."""
from __future__ import annotations

import threading
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from webapp.extensions import db
from webapp.groups.models import Group, GroupMember, MemberRole, Post, Thread

from . import factories
from .conftest import make_test_app

CLIENTS = 8
REPLIES_EACH = 10


@pytest.fixture
def server(tmp_path):
    app = make_test_app(tmp_path)
    http = make_server("127.0.0.1", 0, app, threaded=True)
    runner = threading.Thread(target=http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    runner.start()
    try:
        yield app, f"http://127.0.0.1:{http.server_port}"
    finally:
        http.shutdown()
        http.server_close()
        runner.join(timeout=5)


class Person:
    def __init__(self, base: str, login: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()), NoRedirect())
        status = self.post("/login", {"login": login, "password": factories.PASSWORD})
        assert status == 303, f"{login} could not sign in: {status}"

    def post(self, path: str, fields: dict) -> int:
        data = urllib.parse.urlencode(fields).encode()
        try:
            with self.opener.open(self.base + path, data=data, timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as error:  # 3xx (not followed) and 4xx/5xx land here
            return error.code


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_concurrent_replies_are_all_saved_in_order(server):
    app, base = server
    with app.app_context():
        logins = [f"writer{n}" for n in range(CLIENTS)]
        ids = [factories.make_user(login=login) for login in logins]
        group = Group(name="ГМО школьных библиотекарей", is_open=True)
        db.session.add(group)
        db.session.flush()
        db.session.add_all(GroupMember(group_id=group.id, user_id=i, role=MemberRole.MEMBER) for i in ids)
        thread = Thread(group_id=group.id, author_id=ids[0], title="Все сразу")
        db.session.add(thread)
        db.session.commit()
        thread_id = thread.id

    people = [Person(base, login) for login in logins]
    statuses: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(CLIENTS)

    def write(n: int, person: Person) -> None:
        start.wait()
        for k in range(REPLIES_EACH):
            status = person.post(f"/threads/{thread_id}/posts", {"body": f"writer{n} reply {k}"})
            with lock:
                statuses.append(status)

    workers = [threading.Thread(target=write, args=(n, p)) for n, p in enumerate(people)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)

    assert len(statuses) == CLIENTS * REPLIES_EACH
    assert all(300 <= s < 400 for s in statuses), sorted(set(statuses))
    with app.app_context():
        posts = db.session.execute(select(Post.id, Post.body).where(Post.thread_id == thread_id).order_by(Post.id)).all()
        bodies = [body for _, body in posts]
        assert len(bodies) == len(set(bodies)) == CLIENTS * REPLIES_EACH  # all there, none twice
        for n in range(CLIENTS):
            mine = [b for b in bodies if b.startswith(f"writer{n} ")]
            assert mine == [f"writer{n} reply {k}" for k in range(REPLIES_EACH)]  # in the order sent
        thread = db.session.get(Thread, thread_id)
        assert thread.post_count == len(posts)
        assert thread.last_post_id == posts[-1].id
