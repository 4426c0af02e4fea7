"""One JSON line per request on "rost.request": what it holds, and what must never be in it."""
from __future__ import annotations

import json
import logging
import re

import pytest
from flask import request, url_for

from webapp.auth import links
from webapp.extensions import db
from webapp.models import User

from . import factories
from .conftest import counted_queries, login, make_test_app


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    @property
    def info(self) -> list[dict]:
        return [json.loads(r.getMessage()) for r in self.records if r.levelno >= logging.INFO]

    @property
    def text(self) -> str:
        return "\n".join(r.getMessage() for r in self.records)


@pytest.fixture
def lines():
    logger = logging.getLogger("rost.request")
    handler = Lines()
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def test_one_line_per_request_with_route_status_timing_size_and_id(client, lines):
    response = client.get("/login")
    (line,) = lines.info
    assert line["method"] == "GET"
    assert line["route"] == "/login"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["bytes"] == len(response.data)
    assert line["user"] is None
    assert line["remote"] == "127.0.0.1"
    assert re.fullmatch(r"[0-9a-f]{32}", line["request_id"])
    assert response.headers["X-Request-Id"] == line["request_id"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["time"])


def test_the_proxy_request_id_is_kept_when_sane_and_replaced_when_not(client, lines):
    from_nginx = "0f6a3c5e9b2d4f7a8c1e3b5d7f9a2c4e"
    assert client.get("/login", headers={"X-Request-Id": from_nginx}).headers["X-Request-Id"] == from_nginx
    for bad in ("<script>alert(1)</script>", "a b", "x" * 500, "short"):
        echoed = client.get("/login", headers={"X-Request-Id": bad}).headers["X-Request-Id"]
        assert re.fullmatch(r"[0-9a-f]{32}", echoed)
    assert [line["request_id"] for line in lines.info][0] == from_nginx
    assert "<script>" not in lines.text


def test_a_signed_in_person_is_named_by_id_only(app, client, people, lines):
    login(client, people["author"])
    client.get("/journal/")
    (line,) = lines.info
    assert line["user"] == people["author"]
    user = db.session.get(User, people["author"])
    for secret in (user.login, user.display_name, user.session_token):
        assert secret not in lines.text


def test_invitation_token_query_string_and_password_never_appear(app, client, lines):
    user_id = factories.make_user(login="newcomer", display_name="Новая Коллега", password=None)
    with app.test_request_context():
        link = links.issue(db.session.get(User, user_id))
    db.session.commit()
    token = link.rsplit("/", 1)[1]
    assert client.get(f"/invite/{token}?next=/secret-place").status_code == 200
    password = "Очень-секретный-пароль-2026"
    assert client.post(f"/invite/{token}", data={"password": password, "repeat": password}).status_code == 303
    client.post("/logout")
    assert client.post("/login", data={"login": "newcomer", "password": password}).status_code == 303
    assert [line["route"] for line in lines.info] == ["/invite/<token>", "/invite/<token>", "/logout", "/login"]
    for secret in (token, "secret-place", password, "newcomer", "Новая Коллега"):
        assert secret not in lines.text
        assert json.dumps(secret)[1:-1] not in lines.text  # nor in its JSON-escaped form


def test_entry_text_never_appears(app, client, people, lines):
    login(client, people["author"])
    title, body = "Заголовок для журнала", "Совершенно личный текст записи про уроки чтения"
    response = client.post("/journal/", data={"title": title, "body": body, "visibility": "private", "tags": ""})
    assert response.status_code in (302, 303)
    line = lines.info[-1]
    assert (line["method"], line["route"], line["user"]) == ("POST", "/journal/", people["author"])
    for secret in (title, body, "уроки чтения"):
        assert secret not in lines.text
        assert json.dumps(secret)[1:-1] not in lines.text


def test_logging_costs_no_query_of_its_own(client, people, lines):
    login(client, people["author"])
    with counted_queries() as statements:
        client.get("/healthz")  # answers without asking who is there
    assert len(statements) == 2  # the health check's own: SELECT 1, the schema's revision
    (line,) = lines.info
    assert line["route"] == "/healthz" and line["user"] is None


def test_an_unknown_path_is_logged_without_it(client, lines):
    client.get("/no/such/page/with-a-token-abc123")
    (line,) = lines.info
    assert line["status"] == 404 and line["route"] is None
    assert "abc123" not in lines.text


def test_a_healthy_health_check_is_not_logged_at_info(client, lines):
    client.get("/healthz")  # test schemas are not migrated: 503, which is worth a line
    client.get("/login")
    assert [line["route"] for line in lines.info] == ["/healthz", "/login"]


def test_a_server_error_keeps_its_traceback_on_the_app_logger(tmp_path, lines, caplog):
    app = make_test_app(tmp_path)

    @app.get("/boom-probe")
    def boom():
        raise RuntimeError("probe failure")

    response = app.test_client().get("/boom-probe")
    assert response.status_code == 500
    (line,) = lines.info
    assert (line["route"], line["status"]) == ("/boom-probe", 500)
    (error,) = [r for r in caplog.records if r.name == app.logger.name and r.exc_info]
    assert error.request_id == line["request_id"]  # the traceback and its request line are found together
    assert "RuntimeError" in caplog.text


def _probe(app):
    @app.get("/proxy-probe")
    def probe():
        return {"secure": request.is_secure, "remote": request.remote_addr,
                "link": url_for("auth.login", _external=True)}


def test_behind_one_proxy_the_forwarded_client_https_and_host_are_used(tmp_path, lines):
    app = make_test_app(tmp_path, PROXY_COUNT=1)
    _probe(app)
    forwarded = {"X-Forwarded-For": "198.51.100.1, 203.0.113.7", "X-Forwarded-Proto": "https",
                 "X-Forwarded-Host": "rost.school.example"}
    seen = app.test_client().get("/proxy-probe", headers=forwarded).json
    assert seen == {"secure": True, "remote": "203.0.113.7", "link": "https://rost.school.example/login"}
    assert lines.info[-1]["remote"] == "203.0.113.7"


def test_without_a_proxy_forwarded_headers_are_ignored(tmp_path, lines):
    app = make_test_app(tmp_path)  # PROXY_COUNT = 0: anybody could send these headers
    _probe(app)
    forged = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"}
    seen = app.test_client().get("/proxy-probe", headers=forged).json
    assert seen == {"secure": False, "remote": "127.0.0.1", "link": "http://localhost/login"}
    assert lines.info[-1]["remote"] == "127.0.0.1"
