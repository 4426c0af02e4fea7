"""The session cookie: it signs in for its lifetime only, and remembering the cookies already
verified (webapp.sessions) changes nothing a request opens."""
from __future__ import annotations

import time

from flask import request

from .conftest import login


def test_a_session_past_its_lifetime_signs_nobody_in_even_just_after_it_was_used(app, client, people, monkeypatch):
    login(client, people["author"])
    client.get("/journal/")  # its form's token goes into the session: a new cookie
    assert "Анна Смирнова" in client.get("/journal/").text  # that cookie, now verified once
    lifetime = app.permanent_session_lifetime.total_seconds()
    later = time.time() + lifetime + 60
    monkeypatch.setattr(time, "time", lambda: later)
    response = client.get("/journal/")
    assert response.status_code == 302 and response.location.startswith("/login")


def test_a_cookie_signed_later_than_now_signs_nobody_in(app, client, people, monkeypatch):
    """The clock put back: itsdangerous refuses a signature from the future, and so does what was remembered."""
    login(client, people["author"])
    client.get("/journal/")
    assert "Анна Смирнова" in client.get("/journal/").text
    earlier = time.time() - 3600
    monkeypatch.setattr(time, "time", lambda: earlier)
    response = client.get("/journal/")
    assert response.status_code == 302 and response.location.startswith("/login")


def _opened(app, cookie: str):
    with app.test_request_context(headers={"Cookie": f"session={cookie}"}):
        return app.session_interface.open_session(app, request)


def test_what_one_request_changes_in_its_session_is_not_what_the_next_one_opens(app):
    with app.test_request_context():
        cookie = app.session_interface.get_signing_serializer(app).dumps(
            {"_user_id": "1:token", "_flashes": [["success", "План сохранён."]]})
    first = _opened(app, cookie)
    first["_flashes"].append(["success", "Шаг удалён."])  # as flash() adds a message, in place
    first["_user_id"] = "2:another"
    second = _opened(app, cookie)  # the same cookie again: the browser had not got the new one yet
    assert second["_flashes"] == [["success", "План сохранён."]]
    assert second["_user_id"] == "1:token"
    assert not second.modified


def test_a_cookie_signed_with_another_key_opens_an_empty_session(app):
    with app.test_request_context():
        cookie = app.session_interface.get_signing_serializer(app).dumps({"_user_id": "1:token"})
    assert _opened(app, cookie)["_user_id"] == "1:token"
    app.secret_key = "a-key-this-cookie-was-never-signed-with"
    assert dict(_opened(app, cookie)) == {}
