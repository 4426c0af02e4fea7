"""Signing in and out: revocable sessions, throttling, safe redirects, one-time links."""
from __future__ import annotations

import socket
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import unquote

import pytest
from flask import session
from sqlalchemy import func, select, update

from webapp.auth import links, throttle
from webapp.extensions import db
from webapp.models import AccountLink, LoginFailure, User, utcnow

from . import factories
from .conftest import login, make_test_app


def sign_in(client, login_name="anna", password=factories.PASSWORD, **extra):
    return client.post("/login", data={"login": login_name, "password": password, **extra})


def test_sign_in_lands_on_the_journal(client, people):
    response = sign_in(client)
    assert response.status_code == 303
    assert response.location == "/journal/"
    assert "Анна Смирнова" in client.get("/journal/").text


def test_administrator_lands_on_administration(client, people):
    assert sign_in(client, "admin").location == "/admin/"


def test_login_is_case_insensitive(client, people):
    assert sign_in(client, "  ANNA ").status_code == 303


@pytest.mark.parametrize("login_name,password", [("anna", "wrong-password"), ("nobody", factories.PASSWORD)])
def test_wrong_login_and_wrong_password_read_the_same(client, people, login_name, password):
    response = sign_in(client, login_name, password)
    assert response.status_code == 422
    assert "Wrong login or password." in response.text or "Неверный логин или пароль." in response.text
    assert f'value="{login_name}"' in response.text  # what was typed is kept


def test_inactive_account_cannot_sign_in(client, people):
    db.session.get(User, people["author"]).active = False
    db.session.commit()
    assert sign_in(client).status_code == 422


def test_a_new_secret_key_keeps_people_signed_in_while_the_old_one_is_a_fallback(app, people):
    client = app.test_client()
    assert sign_in(client).status_code == 303
    assert "Анна Смирнова" in client.get("/journal/").text
    old_key = app.secret_key
    app.secret_key = "the-next-secret-key-of-this-server"
    app.config["SECRET_KEY_FALLBACKS"] = [old_key]
    assert "Анна Смирнова" in client.get("/journal/").text
    app.config["SECRET_KEY_FALLBACKS"] = []
    assert client.get("/journal/").status_code == 302  # the old key retired: its cookies sign nobody in


def test_cookie_captured_before_logout_does_not_work_after_it(app, people):
    victim = app.test_client()
    assert sign_in(victim, remember="y").status_code == 303
    stolen = {c.key: c.value for c in victim._cookies.values()}
    assert "session" in stolen and "remember_token" in stolen
    assert victim.post("/logout").status_code == 303

    replay = app.test_client()
    for name, value in stolen.items():
        replay.set_cookie(name, value)
    response = replay.get("/journal/")
    assert response.status_code == 302
    assert response.location.startswith("/login")


def test_password_change_signs_out_other_devices_but_not_this_one(app, people):
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop)
    sign_in(phone)
    response = laptop.post("/account/password", data={
        "current": factories.PASSWORD, "password": "новый-пароль-2026", "repeat": "новый-пароль-2026"})
    assert response.status_code == 303
    assert laptop.get("/journal/").status_code == 200
    assert phone.get("/journal/").status_code == 302
    assert sign_in(app.test_client(), password="новый-пароль-2026").status_code == 303


def test_password_change_with_wrong_current_password_is_refused(client, people):
    login(client, people["author"])
    response = client.post("/account/password", data={"current": "nope", "password": "abcdefgh1", "repeat": "abcdefgh1"})
    assert response.status_code == 422
    assert sign_in(client.application.test_client()).status_code == 303  # old password still works


@pytest.fixture(params=["database", "memory://"])
def backend(request, app):
    """Each throttle test runs on both ways of counting failures: the database (the single-server
    default) and Flask-Limiter's storage (memory:// here; Redis across two servers in
    test_two_instances.py). Bound before the app serves its first request, as create_app does."""
    if request.param != "database":
        app.config["RATELIMIT_STORAGE_URI"] = request.param
        throttle.init_app(app)
    return request.param


def _later(monkeypatch, backend: str, delta: timedelta) -> None:
    """Move the throttle's clock forward (the database's timestamps, or the storage's)."""
    if backend == "database":
        real_now = throttle.utcnow
        monkeypatch.setattr(throttle, "utcnow", lambda: real_now() + delta)
    else:
        import limits.storage.memory as memory
        real_time = memory.time.time
        monkeypatch.setattr(memory, "time", SimpleNamespace(time=lambda: real_time() + delta.total_seconds()))


def from_address(client, address: str):
    client.environ_base["REMOTE_ADDR"] = address
    return client


def failure_rows() -> int:
    return db.session.scalar(select(func.count()).select_from(LoginFailure))


def test_throttle_blocks_before_checking_the_password(app, people, backend, monkeypatch):
    client = app.test_client()
    for _ in range(5):
        assert sign_in(client, password="wrong").status_code == 422
    checked = []
    monkeypatch.setattr(User, "check_password", lambda self, pw: checked.append(pw) or True)
    response = sign_in(client)  # even the right password waits now
    assert response.status_code == 429
    assert checked == []


def test_throttle_counts_per_address_across_accounts(app, people, backend):
    client = app.test_client()
    for n in range(5):
        sign_in(client, f"nobody{n}", "wrong")
    assert sign_in(client).status_code == 429


def test_throttle_counts_per_account_across_addresses(app, people, backend):
    for n in range(5):
        assert sign_in(from_address(app.test_client(), f"10.0.0.{n + 1}"), password="wrong").status_code == 422
    assert sign_in(from_address(app.test_client(), "10.0.0.99")).status_code == 429


def test_throttle_lets_go_after_a_minute(app, people, backend, monkeypatch):
    client = app.test_client()
    for _ in range(5):
        sign_in(client, password="wrong")
    _later(monkeypatch, backend, timedelta(minutes=2))
    assert sign_in(client).status_code == 303


def test_throttle_hourly_limit_outlasts_the_minute(app, people, backend, monkeypatch):
    app.config.update(LOGIN_LIMIT_PER_MINUTE=50, LOGIN_LIMIT_PER_HOUR=6)
    client = app.test_client()
    for _ in range(6):
        assert sign_in(client, password="wrong").status_code == 422
    _later(monkeypatch, backend, timedelta(minutes=30))
    assert sign_in(client).status_code == 429


def test_successful_sign_in_forgets_the_accounts_failures(app, people, backend):
    for _ in range(4):
        sign_in(from_address(app.test_client(), "10.0.0.1"), password="wrong")
    assert sign_in(from_address(app.test_client(), "10.0.0.2")).status_code == 303
    elsewhere = from_address(app.test_client(), "10.0.0.3")
    for _ in range(4):
        assert sign_in(elsewhere, password="wrong").status_code == 422
    assert sign_in(elsewhere).status_code == 303  # 4 failures since the sign-in, not 8


def test_storage_counting_leaves_the_database_alone(app, people):
    app.config["RATELIMIT_STORAGE_URI"] = "memory://"
    throttle.init_app(app)
    client = app.test_client()
    for _ in range(5):
        sign_in(client, password="wrong")
    assert sign_in(client).status_code == 429
    assert failure_rows() == 0


def test_throttle_storage_is_read_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "memory://")  # how gunicorn under systemd gets it
    app = make_test_app(tmp_path)
    with app.app_context():
        factories.make_user(login="anna")
        client = app.test_client()
        for _ in range(5):
            sign_in(client, password="wrong")
        assert sign_in(client).status_code == 429
        assert failure_rows() == 0  # counted in the storage, not in the database
        db.session.remove()
        db.drop_all()


def test_unreachable_storage_falls_back_to_the_database(app, people, caplog):
    """Redis down: sign-in still works, and guessing is still throttled (in the shared database)."""
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app.config["RATELIMIT_STORAGE_URI"] = f"redis://127.0.0.1:{port}"
    throttle.init_app(app)
    assert sign_in(app.test_client()).status_code == 303
    client = app.test_client()
    for _ in range(5):
        assert sign_in(client, "olga", "wrong").status_code == 422
    assert failure_rows() > 0
    assert sign_in(client, "olga").status_code == 429
    assert "counting in the database instead" in caplog.text


@pytest.mark.parametrize("target,expected", [
    ("/journal/feed", "/journal/feed"),
    ("/journal/?tag=чтение", "/journal/?tag=чтение"),
    ("https://evil.example/steal", "/journal/"),
    ("//evil.example/steal", "/journal/"),
    ("/\\evil.example", "/journal/"),
    ("javascript:alert(1)", "/journal/"),
    ("http://localhost/journal/feed", "/journal/feed"),
])
def test_next_only_redirects_inside_the_site(client, people, target, expected):
    response = client.post("/login", query_string={"next": target},
                           data={"login": "anna", "password": factories.PASSWORD})
    assert response.status_code == 303
    assert unquote(response.location) == expected


def test_session_is_renewed_at_sign_in(client, people):
    with client.session_transaction() as s:
        s["planted"] = "by someone else"
    sign_in(client)
    with client.session_transaction() as s:
        assert "planted" not in s


def test_cookies_are_http_only_and_lax(client, people):
    response = sign_in(client, remember="y")
    cookies = response.headers.getlist("Set-Cookie")
    for name in ("session=", "remember_token="):
        cookie = next(c for c in cookies if c.startswith(name))
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_cookies_are_secure_behind_https(tmp_path):
    from .conftest import make_test_app
    app = make_test_app(tmp_path, PREFERRED_URL_SCHEME="https")
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    assert app.config["REMEMBER_COOKIE_DURATION"] <= timedelta(days=30)


def test_invitation_link_sets_a_password_once(app, people):
    newcomer = factories.make_user(login="newbie", password=None)
    with app.test_request_context():
        url = links.issue(db.session.get(User, newcomer))
    db.session.commit()
    path = url.replace("http://localhost", "")
    client = app.test_client()
    assert client.get(path).status_code == 200
    response = client.post(path, data={"password": "длинный-пароль", "repeat": "длинный-пароль"})
    assert response.status_code == 303
    assert client.get("/journal/").status_code == 200
    used = app.test_client().get(path)  # used up: it says so, and opens no form
    assert used.status_code == 410 and "Пароль по этой ссылке уже задан" in used.text and 'name="password"' not in used.text


def test_an_invitation_form_sent_twice_is_told_to_sign_in_not_that_the_link_is_dead(app, people):
    """The button pressed twice, or the answer lost and the form sent again: the second answer says
    the password is set and to sign in with it, not «the link does not work any more». Nobody is
    signed in by the link a second time, whatever password comes with it."""
    newcomer = factories.make_user(login="newbie", password=None)
    with app.test_request_context():
        path = links.issue(db.session.get(User, newcomer)).replace("http://localhost", "")
    db.session.commit()
    typed = {"password": "длинный-пароль", "repeat": "длинный-пароль"}
    assert app.test_client().post(path, data=typed).status_code == 303  # its answer never arrived
    again = app.test_client()
    for response in (again.post(path, data=typed), again.get(path)):
        assert response.status_code == 410 and "Пароль по этой ссылке уже задан" in response.text
        assert 'href="/login"' in response.text
    assert again.get("/journal/").status_code == 302  # not signed in by it
    db.session.execute(update(AccountLink).values(used_at=utcnow() - timedelta(minutes=11)))
    db.session.commit()
    late = app.test_client().post(path, data=typed)
    assert late.status_code == 404 and "больше не действует" in late.text


def test_an_invitation_form_sent_twice_at_once_is_told_to_sign_in(app, people, monkeypatch):
    if db.engine.dialect.name == "sqlite":
        pytest.skip("SQLite takes the write lock as a POST begins: two sends of one form run one after the other")
    newcomer = factories.make_user(login="newbie", password=None)
    with app.test_request_context():
        path = links.issue(db.session.get(User, newcomer)).replace("http://localhost", "")
    db.session.commit()
    use = links.use

    def the_other_send_first(link):  # committed while this send was checking its form
        with db.engine.begin() as other:
            other.execute(update(AccountLink).where(AccountLink.id == link.id).values(used_at=utcnow()))
        return use(link)

    monkeypatch.setattr(links, "use", the_other_send_first)
    response = app.test_client().post(path, data={"password": "длинный-пароль", "repeat": "длинный-пароль"})
    assert response.status_code == 410 and "Пароль по этой ссылке уже задан" in response.text


def test_a_cancelled_link_says_it_does_not_work_not_that_a_password_was_set(app, people):
    user = db.session.get(User, people["librarian"])
    with app.test_request_context():
        first = links.issue(user).replace("http://localhost", "")
        links.issue(user)
    db.session.commit()
    for response in (app.test_client().get(first), app.test_client().post(first, data={"password": "x" * 12, "repeat": "x" * 12})):
        assert response.status_code == 404 and "больше не действует" in response.text


def test_expired_invitation_is_refused(app, people):
    with app.test_request_context():
        url = links.issue(db.session.get(User, people["librarian"]))
    link = db.session.scalar(select(AccountLink))
    link.expires_at = link.created_at - timedelta(seconds=1)
    db.session.commit()
    refused = app.test_client().get(url.replace("http://localhost", ""))
    assert refused.status_code == 404 and "действует 72 часа и только один раз" in refused.text
    app.config["INVITATION_HOURS"] = 24
    assert "действует 24 часа" in app.test_client().get(url.replace("http://localhost", "")).text
    app.config["INVITATION_HOURS"] = 1
    assert "действует 1 час и" in app.test_client().get(url.replace("http://localhost", "")).text


def test_a_new_link_cancels_the_old_one(app, people):
    user = db.session.get(User, people["librarian"])
    with app.test_request_context():
        first = links.issue(user)
        second = links.issue(user)
    db.session.commit()
    client = app.test_client()
    assert client.get(first.replace("http://localhost", "")).status_code == 404
    assert client.get(second.replace("http://localhost", "")).status_code == 200



def test_a_link_issued_before_deactivation_opens_nothing(app, people):
    from webapp import accounts

    user = db.session.get(User, people["librarian"])
    password_hash = user.password_hash
    with app.test_request_context():
        path = links.issue(user).replace("http://localhost", "")
    accounts.deactivate(user)
    db.session.commit()
    client = app.test_client()
    page = client.get(path)
    assert page.status_code == 404 and "Ольга Петрова" not in page.text
    refused = client.post(path, data={"password": "длинный-пароль", "repeat": "длинный-пароль"})
    db.session.expire_all()
    assert refused.status_code == 404 and db.session.get(User, people["librarian"]).password_hash == password_hash

def test_language_can_be_switched_to_english(client, people):
    login(client, people["author"])
    client.post("/account/locale", data={"locale": "en"})
    assert "My journal" in client.get("/journal/").text
    client.post("/account/locale", data={"locale": "ru"})
    page = client.get("/journal/").text
    assert "Мой журнал" in page


def test_signed_out_visitor_sees_only_the_login_page(client, people):
    for url in ("/", "/journal/", "/journal/feed", "/account", "/admin/"):
        response = client.get(url)
        assert response.status_code == 302 and response.location.startswith("/login")
    assert session_free(client)


def test_a_button_pressed_signed_out_comes_back_to_its_page_after_sign_in(client, people):
    """Not to the button's own address, which takes only the form (405 to the browser's GET)."""
    sent = client.post("/notifications/read-all", headers={"Referer": "http://localhost/notifications/?page=2"})
    assert sent.status_code == 302 and sent.location == "/login?next=/notifications/?page%3D2"
    assert client.post("/notifications/read-all").location == "/login"
    edited = client.post("/groups/1/edit", data={"description": ""})  # an address that is a page too
    assert edited.location == "/login?next=/groups/1/edit"


def session_free(client) -> bool:
    with client.session_transaction() as s:
        return "_user_id" not in s


def test_htmx_request_with_expired_session_is_sent_to_login(client, people):
    response = client.get("/journal/", headers={"HX-Request": "true", "HX-Request-Type": "partial",
                                                 "HX-Current-URL": "http://localhost/journal/feed"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login?next=/journal/feed"
    assert session is not None
