"""Notifications: the badge and its poll, the list, reading, opening, privacy, settings, the digest."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from webapp.extensions import db
from webapp.mentoring.models import (
    Comment,
    Feedback,
    FeedbackStatus,
    Notification,
    NotificationKind,
    NotificationSettings,
    Plan,
    PlanComment,
)
from webapp.models import JournalEntry, User, Visibility, utcnow
from webapp.notifications import events
from webapp.notifications.inbox import mark_read_for

from . import factories
from .conftest import FRAGMENT, counted_queries, login

# ------------------------------------------------------------------ helpers: changes as the features make them


def comment(entry_id: int, author_id: int, body: str = "Спасибо, очень полезно.") -> int:
    entry = db.session.get(JournalEntry, entry_id)
    row = Comment(entry_id=entry_id, author_id=author_id, body=body)
    db.session.add(row)
    db.session.flush()
    events.comment_added(row, entry)
    db.session.commit()
    return row.id


def set_status(entry_id: int, methodist_id: int, status: str) -> None:
    entry = db.session.get(JournalEntry, entry_id)
    feedback = db.session.get(Feedback, (entry_id, methodist_id)) or Feedback(entry_id=entry_id, methodist_id=methodist_id)
    feedback.status = status
    db.session.add(feedback)
    db.session.flush()
    events.status_set(feedback, entry)
    db.session.commit()


def share(author_id: int, title: str, visibility: str = Visibility.MENTORS) -> int:
    entry = JournalEntry(author_id=author_id, title=title, body="…", visibility=visibility, tags=[])
    db.session.add(entry)
    db.session.flush()
    events.entry_shared(entry, was=None)
    db.session.commit()
    return entry.id


def make_plan(author_id: int, topic: str = "Читательская грамотность") -> int:
    plan = Plan(author_id=author_id, year=2026, topic=topic)
    db.session.add(plan)
    db.session.commit()
    return plan.id


def comment_plan(plan_id: int, author_id: int) -> int:
    plan = db.session.get(Plan, plan_id)
    row = PlanComment(plan_id=plan_id, author_id=author_id, body="Хорошая тема.")
    db.session.add(row)
    db.session.flush()
    events.plan_commented(row, plan)
    db.session.commit()
    return row.id


def notifications_of(user_id: int) -> list[Notification]:
    db.session.expire_all()
    return list(db.session.scalars(select(Notification).where(Notification.recipient_id == user_id).order_by(Notification.id)))


def unread_ids(user_id: int) -> set[int]:
    return {n.id for n in notifications_of(user_id) if n.read_at is None}


def item_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'id="notification-(\d+)"', html)]


# ------------------------------------------------------------------ the badge


def test_the_header_shows_the_unread_count_and_polls(client, people):
    entry = factories.make_entry(people["author"], title="Неделя чтения")
    comment(entry, people["methodist"])
    comment(entry, people["methodist"])
    login(client, people["author"])
    page = client.get("/journal/").text
    badge = re.search(r'<li id="notification-badge".*?</li>', page, re.S).group(0)
    assert 'href="/notifications/"' in badge
    assert 'data-count="2"' in badge
    assert 'hx-get="/notifications/badge?shown=2"' in badge
    assert 'hx-trigger="every 20s, notifications-changed from:body"' in badge
    assert 'hx-swap="outerHTML"' in badge


def test_the_poll_interval_comes_from_config(app, client, people):
    app.config["NOTIFICATION_POLL_SECONDS"] = 7
    login(client, people["librarian"])
    assert 'hx-trigger="every 7s, ' in client.get("/journal/").text


def test_signed_out_visitors_see_no_badge(client):
    assert "notification-badge" not in client.get("/login").text


def test_an_unchanged_count_is_204_after_one_statement(client, people):
    entry = factories.make_entry(people["author"])
    comment(entry, people["methodist"])
    login(client, people["author"])
    with counted_queries() as statements:
        response = client.get("/notifications/badge?shown=1", headers=FRAGMENT)
    assert response.status_code == 204
    assert response.data == b""
    assert len(statements) == 2, statements
    assert "FROM users" in statements[0]
    assert "notifications" in statements[1] and "count" in statements[1].lower()


def test_the_count_reads_the_unread_index(app, people):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's; PostgreSQL plans by table size")
    from webapp.notifications.inbox import unread_count
    with counted_queries() as statements:
        unread_count(people["author"])
    plan = db.session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + statements[0], (people["author"],)).all()
    assert "ix_notifications_unread" in " ".join(str(r) for r in plan)


def test_a_new_notification_changes_the_badge(client, people):
    login(client, people["author"])
    assert client.get("/notifications/badge?shown=0", headers=FRAGMENT).status_code == 204
    entry = factories.make_entry(people["author"])
    comment(entry, people["methodist"])
    response = client.get("/notifications/badge?shown=0", headers=FRAGMENT)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<li id="notification-badge"')
    assert "<html" not in response.text
    assert 'data-count="1"' in response.text and "shown=1" in response.text


def test_a_poll_without_a_usable_count_gets_the_badge(client, people):
    login(client, people["author"])
    for query in ("", "?shown=", "?shown=-1", "?shown=abc", "?shown=²", "?shown=" + "9" * 5000):
        response = client.get(f"/notifications/badge{query}", headers=FRAGMENT)
        assert response.status_code == 200
        assert "shown=0" in response.text and "data-count" not in response.text


def test_a_poll_after_sign_out_never_navigates_away(client, people):
    # The page may hold unsaved typing: a background poll gets nothing, not a redirect.
    response = client.get("/notifications/badge?shown=1", headers=FRAGMENT)
    assert response.status_code == 204 and "HX-Redirect" not in response.headers
    assert client.get("/notifications/badge?shown=1").status_code == 302


# ------------------------------------------------------------------ the list


def test_the_list_is_newest_first_and_says_who_did_what(client, people):
    entry = factories.make_entry(people["author"], title="Неделя чтения")
    first = comment(entry, people["methodist"], "Первый отзыв")
    comment(entry, people["librarian"], "Второй отзыв")  # mentors-only entry: the librarian may not see it
    set_status(entry, people["methodist"], FeedbackStatus.ACCEPTED)
    login(client, people["author"])
    page = client.get("/notifications/")
    assert page.status_code == 200
    ids = item_ids(page.text)
    assert ids == sorted(ids, reverse=True) and len(ids) == 3
    assert "Неделя чтения" in page.text and "Руслана Трач" in page.text and "Первый отзыв" in page.text
    assert page.text.count('class="badge badge-new"') == 3
    newest = re.search(rf'<li id="notification-{ids[0]}" class="([^"]+)"', page.text).group(1)
    assert "notification-entry_status" in newest and "status-accepted" in newest and "unread" in newest
    assert f'href="/notifications/{ids[0]}"' in page.text
    assert f"comment-{first}" not in page.text  # the anchor is for the redirect, not the list


def test_the_status_says_which(client, people):
    accepted = factories.make_entry(people["author"])
    needs_work = factories.make_entry(people["author"])
    set_status(accepted, people["methodist"], FeedbackStatus.ACCEPTED)
    set_status(needs_work, people["methodist"], FeedbackStatus.NEEDS_WORK)
    login(client, people["author"])
    page = client.get("/notifications/").text
    texts = dict(re.findall(r'class="notification entry-summary notification-entry_status status-(\w+) unread">\s*<p class="notification-text">(.*?)</p>',
                            page, re.S))
    assert set(texts) == {"accepted", "needs_work"}
    assert texts["accepted"] != texts["needs_work"]


def test_the_list_is_paginated(client, people):
    for _ in range(25):
        factories.make_notification(people["author"], NotificationKind.ENTRY_SHARED, actor_id=people["librarian"],
                                    entry_id=factories.make_entry(people["author"]))
    login(client, people["author"])
    first, second = client.get("/notifications/").text, client.get("/notifications/?page=2").text
    assert len(item_ids(first)) == 20 and len(item_ids(second)) == 5
    assert min(item_ids(first)) > max(item_ids(second))
    assert 'rel="next"' in first and 'rel="prev"' in second


def test_the_list_fragment_is_the_list_alone(client, people):
    login(client, people["author"])
    fragment = client.get("/notifications/", headers=FRAGMENT)
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and 'id="notification-list"' in fragment.text
    assert "Vary" in fragment.headers and fragment.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("count", [5, 40])
def test_the_list_query_count_does_not_grow(client, people, count, request):
    entry = factories.make_entry(people["author"])
    comment_id = comment(entry, people["methodist"])
    set_status(entry, people["methodist"], FeedbackStatus.NEEDS_WORK)
    plan = make_plan(people["author"])
    kinds = [
        dict(kind=NotificationKind.ENTRY_COMMENT, entry_id=entry, comment_id=comment_id),
        dict(kind=NotificationKind.ENTRY_STATUS, entry_id=entry),
        dict(kind=NotificationKind.PLAN_COMMENT, plan_id=plan),
        dict(kind=NotificationKind.ENTRY_SHARED, entry_id=entry),
    ]
    for n in range(count - 2):  # the comment and the status above made two
        factories.make_notification(people["author"], actor_id=people["methodist"], **kinds[n % len(kinds)])
    login(client, people["author"])
    client.get("/notifications/")  # warm up
    with counted_queries() as statements:
        html = client.get("/notifications/").text
    assert len(item_ids(html)) == min(count, 20)
    assert len(statements) == 3, statements  # the user, the page (one query), the header's badge


# ------------------------------------------------------------------ reading and opening


def test_mark_one_read_without_javascript(client, people):
    entry = factories.make_entry(people["author"])
    comment(entry, people["methodist"])
    comment(entry, people["methodist"])
    first, second = sorted(unread_ids(people["author"]))
    login(client, people["author"])
    response = client.post(f"/notifications/{first}/read?page=1")
    assert response.status_code == 303 and response.headers["Location"] == "/notifications/?page=1"
    assert unread_ids(people["author"]) == {second}


def test_mark_one_read_with_htmx_swaps_the_item_and_refreshes_the_badge(client, people):
    entry = factories.make_entry(people["author"])
    comment(entry, people["methodist"])
    (nid,) = unread_ids(people["author"])
    login(client, people["author"])
    response = client.post(f"/notifications/{nid}/read", headers=FRAGMENT)
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "notifications-changed"
    assert response.text.lstrip().startswith(f'<li id="notification-{nid}"')
    assert "unread" not in response.text.split(">", 1)[0] and "/read" not in response.text
    assert unread_ids(people["author"]) == set()


def test_mark_all_read(client, people):
    entry = factories.make_entry(people["author"])
    for _ in range(3):
        comment(entry, people["methodist"])
    factories.make_notification(people["librarian"], NotificationKind.ENTRY_COMMENT, entry_id=entry)
    login(client, people["author"])
    response = client.post("/notifications/read-all")
    assert response.status_code == 303 and response.headers["Location"].startswith("/notifications/")
    assert unread_ids(people["author"]) == set()
    assert len(unread_ids(people["librarian"])) == 1  # only one's own


def test_mark_all_read_with_htmx(client, people):
    entry = factories.make_entry(people["author"])
    comment(entry, people["methodist"])
    login(client, people["author"])
    response = client.post("/notifications/read-all", headers=FRAGMENT)
    assert response.status_code == 200 and response.headers["HX-Trigger"] == "notifications-changed"
    assert 'id="notification-list"' in response.text and "<html" not in response.text
    assert "badge-new" not in response.text
    assert client.get("/notifications/badge?shown=0", headers=FRAGMENT).status_code == 204


def test_open_leads_to_the_comment_and_marks_it_read(client, people):
    entry = factories.make_entry(people["author"])
    comment_id = comment(entry, people["methodist"])
    (nid,) = unread_ids(people["author"])
    login(client, people["author"])
    response = client.get(f"/notifications/{nid}")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/journal/{entry}#comment-{comment_id}"
    assert unread_ids(people["author"]) == set()


def test_open_waits_its_turn_behind_another_writer(app, client, people):
    """Opening writes on a GET: it must wait for a busy writer, not fail because its read went stale."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("about SQLite's single writer; PostgreSQL has row locks")
    import sqlite3
    import threading

    entry = factories.make_entry(people["author"])
    comment(entry, people["methodist"])
    (nid,) = unread_ids(people["author"])
    login(client, people["author"])
    db.session.commit()  # the test's own session lets go of the database
    other = sqlite3.connect(db.engine.url.database, isolation_level=None, check_same_thread=False, timeout=10)
    other.execute("BEGIN IMMEDIATE")
    other.execute("UPDATE users SET locale = locale WHERE id = ?", (people["librarian"],))
    timer = threading.Timer(0.5, other.execute, ("COMMIT",))
    timer.start()
    try:
        response = client.get(f"/notifications/{nid}")
    finally:
        timer.join()
        other.close()
    assert response.status_code == 303
    assert unread_ids(people["author"]) == set()


def test_open_leads_to_the_entry_or_the_plan(client, people):
    entry = share(people["author"], "Новая запись")
    plan = make_plan(people["author"])
    comment_plan(plan, people["methodist"])
    (shared,) = unread_ids(people["methodist"])
    (planned,) = unread_ids(people["author"])
    login(client, people["methodist"])
    assert client.get(f"/notifications/{shared}").headers["Location"] == f"/journal/{entry}"
    login(client, people["author"])
    assert client.get(f"/notifications/{planned}").headers["Location"] == f"/plans/{plan}"


def test_opening_the_thing_itself_marks_its_notifications_read(app, people):
    entry, other = factories.make_entry(people["author"]), factories.make_entry(people["author"])
    comment(entry, people["methodist"])
    comment(entry, people["methodist"])
    comment(other, people["methodist"])
    plan = make_plan(people["author"])
    comment_plan(plan, people["methodist"])
    author = db.session.get(User, people["author"])
    with counted_queries() as statements:
        assert mark_read_for(author, entry_id=entry) == 2
    assert len(statements) == 1 and statements[0].lstrip().upper().startswith("UPDATE")
    assert mark_read_for(author, plan_id=plan) == 1
    db.session.commit()
    left = [n for n in notifications_of(people["author"]) if n.read_at is None]
    assert [n.entry_id for n in left] == [other]
    with pytest.raises(ValueError):
        mark_read_for(author)


@pytest.mark.parametrize("persona", ["librarian", "methodist", "other_methodist", "admin"])
def test_other_peoples_notifications_are_404_everywhere(client, people, persona):
    entry = factories.make_entry(people["author"], visibility=Visibility.COLLEAGUES, title="Для коллег")
    comment(entry, people["methodist"] if persona != "methodist" else people["librarian"])
    (nid,) = unread_ids(people["author"])
    login(client, people[persona])
    assert client.get(f"/notifications/{nid}").status_code == 404
    assert client.post(f"/notifications/{nid}/read").status_code == 404
    assert client.post(f"/notifications/{nid}/read", headers=FRAGMENT).status_code == 404
    client.post("/notifications/read-all")
    assert nid not in item_ids(client.get("/notifications/").text)
    assert unread_ids(people["author"]) == {nid}


# ------------------------------------------------------------------ privacy


def test_a_notification_never_reveals_an_entry_that_turned_private(client, people):
    entry = share(people["author"], "Тайный заголовок")
    comment(entry, people["methodist"], "Мой вопрос")
    comment(entry, people["author"], "Секретный ответ автора")
    shared, reply = sorted(unread_ids(people["methodist"]))
    login(client, people["methodist"])
    before = client.get("/notifications/").text
    assert "Тайный заголовок" in before and "Секретный ответ автора" in before

    db.session.get(JournalEntry, entry).visibility = Visibility.PRIVATE
    db.session.commit()
    page = client.get("/notifications/").text
    assert set(item_ids(page)) == {shared, reply}
    for secret in ("Тайный заголовок", "Секретный ответ автора", "Анна Смирнова", f"/journal/{entry}"):
        assert secret not in page
    for nid in (shared, reply):
        assert f'href="/notifications/{nid}"' not in page
        assert client.get(f"/notifications/{nid}").status_code == 404
        item = re.search(rf'<li id="notification-{nid}" class="([^"]+)"', page).group(1)
        assert "unavailable" in item
    # Still the recipient's own: it can be marked read, and the fragment says no more than the page.
    fragment = client.post(f"/notifications/{reply}/read", headers=FRAGMENT)
    assert fragment.status_code == 200 and "Секретный ответ автора" not in fragment.text and "Тайный" not in fragment.text


def test_a_plan_notification_shows_only_while_the_plan_is_visible(client, people):
    plan = make_plan(people["librarian"], topic="Тема, которую видит только автор")
    # Someone the author no longer shares with (e.g. a methodist since unassigned) is told of the plan.
    nid = factories.make_notification(people["other_methodist"], NotificationKind.PLAN_COMMENT,
                                      actor_id=people["librarian"], plan_id=plan)
    login(client, people["other_methodist"])
    page = client.get("/notifications/").text
    assert item_ids(page) == [nid] and "Тема, которую" not in page and f'href="/notifications/{nid}"' not in page
    assert client.get(f"/notifications/{nid}").status_code == 404


# ------------------------------------------------------------------ settings


def test_settings_page_ticks_every_kind_by_default(client, people):
    login(client, people["author"])
    page = client.get("/notifications/settings")
    assert page.status_code == 200
    for kind in NotificationKind:
        assert re.search(rf'<input checked[^>]*value="{kind.value}"|<input[^>]*value="{kind.value}"[^>]*checked', page.text), kind


def test_a_muted_kind_is_not_created_and_the_others_still_are(client, people):
    login(client, people["author"])
    wanted = [k.value for k in NotificationKind if k != NotificationKind.ENTRY_COMMENT]
    response = client.post("/notifications/settings", data={"kinds": wanted, "email": ""})
    assert response.status_code == 303
    settings = db.session.get(NotificationSettings, people["author"])
    assert settings.muted_kinds == NotificationKind.ENTRY_COMMENT.value and not settings.weekly_digest
    page = client.get("/notifications/settings").text
    assert not re.search(r'<input[^>]*checked[^>]*value="entry_comment"', page)

    entry = factories.make_entry(people["author"], visibility=Visibility.COLLEAGUES)
    comment(entry, people["methodist"])
    assert notifications_of(people["author"]) == []  # muted
    comment(entry, people["author"])  # the author joins the conversation …
    comment(entry, people["librarian"])  # … and the librarian's comment is news to the methodist (thread)
    kinds = {(n.recipient_id, n.kind) for n in Notification.query.all()}
    assert (people["methodist"], NotificationKind.THREAD_COMMENT) in kinds
    assert (people["author"], NotificationKind.ENTRY_COMMENT) not in kinds

    set_status(entry, people["methodist"], FeedbackStatus.ACCEPTED)  # not muted: arrives
    assert [n.kind for n in notifications_of(people["author"])] == [NotificationKind.ENTRY_STATUS]


def test_muting_everything_mutes_everything(client, people):
    login(client, people["methodist"])
    assert client.post("/notifications/settings", data={}).status_code == 303
    share(people["author"], "Ещё запись")
    assert notifications_of(people["methodist"]) == []


def test_the_digest_needs_a_valid_address_and_keeps_what_was_typed(client, people):
    login(client, people["author"])
    for data in ({"weekly_digest": "y", "email": ""}, {"weekly_digest": "y", "email": "anna at school"},
                 {"email": "a@b"}, {"kinds": ["nonsense"]}):
        response = client.post("/notifications/settings", data=data)
        assert response.status_code == 422, data
        if data.get("email"):
            assert f'value="{data["email"]}"' in response.text
    assert db.session.get(NotificationSettings, people["author"]) is None
    fragment = client.post("/notifications/settings", data={"weekly_digest": "y", "email": "x"}, headers=FRAGMENT)
    assert fragment.status_code == 422 and fragment.text.lstrip().startswith('<form id="settings-form"')
    saved = client.post("/notifications/settings", headers=FRAGMENT,
                        data={"kinds": ["entry_comment"], "weekly_digest": "y", "email": " anna@school.example "})
    assert saved.status_code == 200 and 'role="status"' in saved.text
    settings = db.session.get(NotificationSettings, people["author"])
    assert settings.weekly_digest and settings.email == "anna@school.example"


# ------------------------------------------------------------------ the weekly digest


class FakeSMTP:
    """Stands in for smtplib.SMTP: records what would be sent."""

    instances: list[FakeSMTP] = []

    def __init__(self, host, port, timeout=None):
        self.host, self.port, self.sent, self.calls = host, port, [], []
        FakeSMTP.instances.append(self)

    def starttls(self, context=None):
        self.calls.append("starttls")

    def login(self, user, password):
        self.calls.append(("login", user, password))

    def send_message(self, message):
        self.sent.append(message)

    def quit(self):
        self.calls.append("quit")

    def close(self):
        self.calls.append("close")


@pytest.fixture
def fake_smtp(monkeypatch):
    import smtplib
    FakeSMTP.instances = []
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    return FakeSMTP


def subscribe(user_id: int, email: str, last_digest_at=None) -> None:
    db.session.add(NotificationSettings(user_id=user_id, weekly_digest=True, email=email, last_digest_at=last_digest_at))
    db.session.commit()


def test_the_digest_sends_what_is_unread_and_still_visible(app, runner, people, fake_smtp):
    app.config.update(MAIL_SERVER="smtp.example.org", MAIL_PORT=2525, MAIL_USERNAME="rost@example.org",
                      MAIL_PASSWORD="secret", MAIL_FROM="Рост <rost@example.org>")
    subscribe(people["methodist"], "ruslana@example.org", last_digest_at=utcnow() - timedelta(days=3))
    subscribe(people["librarian"], "olga@example.org")  # nothing for her: no mail
    visible = share(people["author"], "Открытая запись")
    hidden = share(people["author"], "Скрытая запись")
    db.session.get(JournalEntry, hidden).visibility = Visibility.PRIVATE
    read = share(people["author"], "Прочитанная запись")
    old = factories.make_notification(people["methodist"], NotificationKind.ENTRY_SHARED, actor_id=people["author"],
                                      entry_id=factories.make_entry(people["author"], title="Давняя запись"),
                                      created_at=utcnow() - timedelta(days=5))
    db.session.execute(Notification.__table__.update().where(Notification.entry_id == read).values(read_at=utcnow()))
    db.session.commit()

    result = runner.invoke(args=["send-digest", "--base-url", "https://rost.example"])
    assert result.exit_code == 0, result.output
    (smtp,) = fake_smtp.instances
    assert (smtp.host, smtp.port) == ("smtp.example.org", 2525)
    assert smtp.calls == ["starttls", ("login", "rost@example.org", "secret"), "quit"]
    (message,) = smtp.sent
    assert "ruslana@example.org" in message["To"]
    assert message["From"] == "Рост <rost@example.org>"
    body = message.get_content()
    (nid,) = [n.id for n in notifications_of(people["methodist"]) if n.entry_id == visible]
    assert "Открытая запись" in body and f"https://rost.example/notifications/{nid}" in body
    for absent in ("Скрытая запись", "Прочитанная запись", "Давняя запись", f"/notifications/{old}"):
        assert absent not in body
    settings = db.session.get(NotificationSettings, people["methodist"])
    db.session.refresh(settings)
    assert settings.last_digest_at > utcnow() - timedelta(minutes=1)
    assert db.session.get(NotificationSettings, people["librarian"]).last_digest_at is None

    again = runner.invoke(args=["send-digest", "--base-url", "https://rost.example"])
    assert again.exit_code == 0
    assert all(not s.sent for s in fake_smtp.instances[1:])  # nothing new since the last digest


def test_without_smtp_the_digest_sends_nothing_and_fails_nothing(app, runner, people, fake_smtp):
    assert app.config["MAIL_SERVER"] is None
    subscribe(people["methodist"], "ruslana@example.org")
    share(people["author"], "Открытая запись")
    result = runner.invoke(args=["send-digest"])
    assert result.exit_code == 0
    assert "SMTP не настроен: письма не отправлены" in result.output
    assert fake_smtp.instances == []
    assert db.session.get(NotificationSettings, people["methodist"]).last_digest_at is None


def test_an_unreachable_mail_server_fails_clearly_and_advances_nothing(app, runner, people, monkeypatch):
    import smtplib

    def refuse(*args, **kwargs):
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(smtplib, "SMTP", refuse)
    app.config["MAIL_SERVER"] = "smtp.example.org"
    subscribe(people["methodist"], "ruslana@example.org")
    share(people["author"], "Открытая запись")
    result = runner.invoke(args=["send-digest", "--base-url", "https://rost.example"])
    assert result.exit_code == 1
    assert "smtp.example.org" in result.output
    assert db.session.get(NotificationSettings, people["methodist"]).last_digest_at is None


def test_opening_the_entry_reads_its_notifications(client, people):
    from webapp.mentoring.models import Notification, NotificationKind

    entry = factories.make_entry(people["author"])
    comment = factories.make_comment(entry, people["methodist"])
    note = factories.make_notification(people["author"], NotificationKind.ENTRY_COMMENT, actor_id=people["methodist"],
                                       entry_id=entry, comment_id=comment)
    other = factories.make_notification(people["author"], NotificationKind.ENTRY_SHARED, actor_id=people["methodist"],
                                        entry_id=factories.make_entry(people["author"]))
    login(client, people["author"])
    assert client.get(f"/journal/{entry}").status_code == 200
    assert db.session.get(Notification, note).read_at is not None
    assert db.session.get(Notification, other).read_at is None
