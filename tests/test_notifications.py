"""Notifications: the badge and its poll, the list, reading, opening, privacy, settings, the digest."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from webapp.extensions import db
from webapp.groups.models import Group, GroupMember, Post, Thread, ThreadState
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
from .conftest import FRAGMENT, another_sqlite_writer, counted_queries, login

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


def _add_post(thread: Thread, author_id: int, body: str) -> Post:
    post = Post(thread_id=thread.id, author_id=author_id, body=body)
    db.session.add(post)
    db.session.flush()
    thread.post_count += 1
    thread.last_post_id, thread.last_post_at = post.id, post.created_at
    return post


def start_thread(group_id: int, author_id: int, title: str = "Летнее чтение",
                 body: str = "Как вы составляете списки?") -> tuple[int, int]:
    """A thread with its first post, as the threads feature makes it: (thread id, post id)."""
    thread = Thread(group_id=group_id, author_id=author_id, title=title, post_count=0)
    db.session.add(thread)
    db.session.flush()
    post = _add_post(thread, author_id, body)
    events.thread_created(thread, post, db.session.get(Group, group_id))
    db.session.commit()
    return thread.id, post.id


def reply(thread_id: int, author_id: int, body: str = "Делаем закладку со списком.") -> int:
    thread = db.session.get(Thread, thread_id)
    post = _add_post(thread, author_id, body)
    events.post_added(post, thread, db.session.get(Group, thread.group_id))
    db.session.commit()
    return post.id


def add_notification(recipient_id: int, kind: str, **fields) -> int:
    """Like factories.make_notification, for any target (a thread and post too)."""
    row = Notification(recipient_id=recipient_id, kind=kind, **fields)
    db.session.add(row)
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
    group = factories.make_group("ГМО", members=(people["author"], people["methodist"]))
    thread, post = start_thread(group, people["methodist"], body="Вопрос к @anna")  # a mention: a third
    closed = factories.make_group("Закрытая", is_open=False, members=(people["methodist"],))
    hidden, hidden_post = start_thread(closed, people["methodist"])
    kinds = [
        dict(kind=NotificationKind.THREAD_REPLY, thread_id=thread, post_id=post),
        dict(kind=NotificationKind.MENTION, thread_id=hidden, post_id=hidden_post),  # a group she cannot read
        dict(kind=NotificationKind.ENTRY_COMMENT, entry_id=entry, comment_id=comment_id),
        dict(kind=NotificationKind.ENTRY_STATUS, entry_id=entry),
        dict(kind=NotificationKind.PLAN_COMMENT, plan_id=plan),
        dict(kind=NotificationKind.ENTRY_SHARED, entry_id=entry),
        dict(kind=NotificationKind.NEW_THREAD, thread_id=thread, post_id=post),
    ]
    for n in range(count - 3):  # the comment, the status and the mention above made three
        add_notification(people["author"], actor_id=people["methodist"], **kinds[n % len(kinds)])
    login(client, people["author"])
    client.get("/notifications/")  # warm up
    with counted_queries() as statements:
        html = client.get("/notifications/").text
    assert len(item_ids(html)) == min(count, 20)
    assert "notification-thread_reply" in html and "notification-mention" in html and "unavailable" in html
    # The user with the header's two counts (notifications, unread discussions), and the page.
    assert len(statements) == 2, statements


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
    entry = factories.make_entry(people["author"])
    comment(entry, people["methodist"])
    (nid,) = unread_ids(people["author"])
    login(client, people["author"])
    with another_sqlite_writer():
        response = client.get(f"/notifications/{nid}")
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
        if data.get("kinds"):
            assert "Отмечайте только перечисленные здесь виды уведомлений." in response.text
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


# ------------------------------------------------------------------ discussions


@pytest.fixture
def association(people):
    """The open city association: the methodist leads; the author and the librarian are members."""
    return factories.make_group("ГМО школьных библиотекарей", leaders=(people["methodist"],),
                      members=(people["author"], people["librarian"]))


def by_kind(user_id: int) -> dict[str, list[Notification]]:
    found: dict[str, list[Notification]] = {}
    for note in notifications_of(user_id):
        found.setdefault(note.kind, []).append(note)
    return found


def item_html(html: str, nid: int) -> str:
    return re.search(rf'<li id="notification-{nid}".*?</li>', html, re.S).group(0)


def test_a_new_thread_a_reply_and_a_mention_each_reach_the_right_person(client, people, association):
    thread, first = start_thread(association, people["author"], "Список летнего чтения", "Как вы оформляете списки?")
    answer = reply(thread, people["librarian"], "Делаем закладку. @anna, пришлю шаблон.")
    (new_thread,) = by_kind(people["methodist"])[NotificationKind.NEW_THREAD]  # she leads the group
    (mention,) = by_kind(people["author"])[NotificationKind.MENTION]
    assert (new_thread.thread_id, new_thread.post_id) == (thread, first)
    assert (mention.thread_id, mention.post_id) == (thread, answer)
    assert NotificationKind.THREAD_REPLY not in by_kind(people["author"])  # one notification for one post
    second = reply(thread, people["librarian"], "И ещё: QR-код на обороте.")
    (reply_note,) = by_kind(people["author"])[NotificationKind.THREAD_REPLY]
    assert reply_note.post_id == second
    assert notifications_of(people["librarian"]) == []  # nobody hears of their own posts

    login(client, people["author"])
    page = client.get("/notifications/").text
    for note, kind in ((reply_note, "thread_reply"), (mention, "mention")):
        item = item_html(page, note.id)
        assert f"notification-{kind}" in item and "unread" in item
        assert "Список летнего чтения" in item and "Ольга Петрова" in item
        assert f'href="/notifications/{note.id}"' in item
    assert "QR-код на обороте" in item_html(page, reply_note.id)  # the post's words, as an excerpt
    login(client, people["methodist"])
    item = item_html(client.get("/notifications/").text, new_thread.id)
    assert "notification-new_thread" in item and "ГМО школьных библиотекарей" in item and "Анна Смирнова" in item


def test_the_excerpt_is_plain_text_and_a_deleted_post_shows_none(client, people, association):
    thread, _ = start_thread(association, people["librarian"])
    post = reply(thread, people["methodist"], "**Важно:** <script>alert(1)</script> сроки до мая")
    (note,) = notifications_of(people["librarian"])
    login(client, people["librarian"])
    item = item_html(client.get("/notifications/").text, note.id)
    assert "Важно: " in item and "<strong>" not in item and "<script>" not in item
    db.session.get(Post, post).deleted_at = utcnow()
    db.session.commit()
    item = item_html(client.get("/notifications/").text, note.id)
    assert "сроки до мая" not in item and 'class="excerpt"' not in item
    assert client.get(f"/notifications/{note.id}").headers["Location"] == f"/threads/posts/{post}"  # the placeholder


def test_open_leads_to_the_post_in_its_thread_and_marks_it_read(client, people, association):
    thread, _ = start_thread(association, people["author"])
    mention = reply(thread, people["librarian"], "Вопрос к @anna")
    reply(thread, people["librarian"], "И ещё одно сообщение")
    mention_note, reply_note = notifications_of(people["author"])
    login(client, people["author"])
    assert client.get("/notifications/badge?shown=2", headers=FRAGMENT).status_code == 204
    response = client.get(f"/notifications/{mention_note.id}")
    assert response.status_code == 303 and response.headers["Location"] == f"/threads/posts/{mention}"
    assert unread_ids(people["author"]) == {reply_note.id}
    # The post's address lands on its page at the post, not at the first unread post of the thread.
    landing = client.get(response.headers["Location"])
    assert landing.status_code == 303 and landing.headers["Location"].endswith(f"#post-{mention}")
    assert landing.headers["Location"].startswith(f"/threads/{thread}?")
    page = client.get(landing.headers["Location"])
    assert page.status_code == 200 and f'id="post-{mention}"' in page.text


def test_open_with_htmx_is_told_where_to_go(client, people, association):
    thread, _ = start_thread(association, people["author"])
    post = reply(thread, people["librarian"])
    (note,) = notifications_of(people["author"])
    login(client, people["author"])
    response = client.get(f"/notifications/{note.id}", headers=FRAGMENT)
    assert response.status_code == 204 and response.headers["HX-Redirect"] == f"/threads/posts/{post}"


def test_removed_from_a_closed_group_the_notification_says_nothing_of_it(client, people):
    closed = factories.make_group("Творческая группа «Библиотечный урок»", is_open=False, leaders=(people["methodist"],),
                        members=(people["author"], people["librarian"]))
    thread, _ = start_thread(closed, people["author"], "Тайный сценарий урока", "Черновик сценария")
    reply(thread, people["librarian"], "Секретное замечание к сценарию, @anna")
    reply(thread, people["librarian"], "И ещё одно замечание")
    notes = by_kind(people["author"])
    ids = {notes[NotificationKind.MENTION][0].id, notes[NotificationKind.THREAD_REPLY][0].id}
    login(client, people["author"])
    assert "Тайный сценарий урока" in client.get("/notifications/").text

    db.session.delete(db.session.get(GroupMember, (closed, people["author"])))
    db.session.commit()
    page = client.get("/notifications/").text
    assert set(item_ids(page)) == ids
    for secret in ("Тайный сценарий урока", "Секретное замечание", "Ольга Петрова", "Творческая группа", "/threads/"):
        assert secret not in page
    for nid in ids:
        item = item_html(page, nid)
        assert "unavailable" in item and f'href="/notifications/{nid}"' not in item
        assert client.get(f"/notifications/{nid}").status_code == 404
        fragment = client.post(f"/notifications/{nid}/read", headers=FRAGMENT)
        assert fragment.status_code == 200 and "Секретное" not in fragment.text and "Тайный" not in fragment.text
    # Still counted and still one's own to mark read: the badge is about notifications, not their subjects.
    assert unread_ids(people["author"]) == set()


def test_a_closed_group_tells_only_its_members(people):
    closed = factories.make_group("Закрытая группа", is_open=False, leaders=(people["methodist"],), members=(people["author"],))
    thread, _ = start_thread(closed, people["author"], body="Позовём @olga и @lidia?")  # neither is a member
    reply(thread, people["methodist"], "Сначала доработаем, @anna.")
    assert notifications_of(people["librarian"]) == [] and notifications_of(people["other_methodist"]) == []
    assert [n.kind for n in notifications_of(people["methodist"])] == [NotificationKind.NEW_THREAD]
    assert [n.kind for n in notifications_of(people["author"])] == [NotificationKind.MENTION]


def test_a_muted_thread_sends_no_replies_but_a_mention_still_arrives(people, association):
    thread, _ = start_thread(association, people["author"])
    db.session.add(ThreadState(user_id=people["author"], thread_id=thread, muted=True))
    db.session.commit()
    reply(thread, people["librarian"], "Ответ в заглушённой теме")
    assert notifications_of(people["author"]) == []
    reply(thread, people["librarian"], "Но вот вопрос лично к @anna")
    assert [n.kind for n in notifications_of(people["author"])] == [NotificationKind.MENTION]


def test_a_muted_kind_is_not_sent_for_discussions_either(client, people, association):
    login(client, people["author"])
    wanted = [k.value for k in NotificationKind if k != NotificationKind.THREAD_REPLY]
    assert client.post("/notifications/settings", data={"kinds": wanted}).status_code == 303
    thread, _ = start_thread(association, people["author"])
    reply(thread, people["librarian"], "Просто ответ")
    reply(thread, people["librarian"], "А это для @anna")
    assert [n.kind for n in notifications_of(people["author"])] == [NotificationKind.MENTION]


@pytest.mark.parametrize("body,mentioned", [
    ("Спасибо, @anna.", True),
    ("@ANNA, посмотрите", True),
    ("(@anna)", True),
    ("пишите на anna@school.ru", False),
    ("> @anna писала об этом\n\nсогласна", False),  # a quote repeats someone else's words
    ("пример: `@anna` в коде", False),
    ("```\n@anna\n```\nблок кода", False),
    ("@annabel не существует", False),
])
def test_what_counts_as_a_mention(people, association, body, mentioned):
    thread, _ = start_thread(association, people["librarian"])
    reply(thread, people["methodist"], body)
    kinds = [n.kind for n in notifications_of(people["author"])]
    assert kinds == ([NotificationKind.MENTION] if mentioned else [])


def test_an_edit_that_adds_a_mention_tells_only_the_newly_mentioned(people, association):
    thread, _ = start_thread(association, people["author"])
    post_id = reply(thread, people["librarian"], "Черновик ответа для @anna")
    post = db.session.get(Post, post_id)
    old, post.body = post.body, "Черновик ответа для @anna и @ruslana"
    events.post_edited(post, db.session.get(Thread, thread), db.session.get(Group, association), old)
    db.session.commit()
    assert [n.kind for n in notifications_of(people["author"])] == [NotificationKind.MENTION]  # not twice
    assert [(n.kind, n.post_id) for n in notifications_of(people["methodist"])][-1] == (NotificationKind.MENTION, post_id)


def test_opening_a_thread_reads_its_notifications(people, association):
    thread, _ = start_thread(association, people["author"])
    other, _ = start_thread(association, people["author"], "Другая тема")
    reply(thread, people["librarian"])
    reply(thread, people["librarian"])
    reply(other, people["librarian"])
    author = db.session.get(User, people["author"])
    with counted_queries() as statements:
        assert mark_read_for(author, thread_id=thread) == 2
    assert len(statements) == 1
    db.session.commit()
    assert [n.thread_id for n in notifications_of(people["author"]) if n.read_at is None] == [other]
    with pytest.raises(ValueError):
        mark_read_for(author, entry_id=1, thread_id=thread)


def test_the_digest_tells_of_discussions_still_readable(app, runner, people, fake_smtp):
    app.config.update(MAIL_SERVER="smtp.example.org")
    subscribe(people["author"], "anna@example.org")
    open_group = factories.make_group("ГМО", members=(people["author"], people["librarian"]))
    closed = factories.make_group("Закрытая", is_open=False, members=(people["author"], people["librarian"]))
    visible, _ = start_thread(open_group, people["author"], "Открытая тема")
    hidden, _ = start_thread(closed, people["author"], "Скрытая тема")
    reply(visible, people["librarian"], "Ответ в открытой теме")
    reply(hidden, people["librarian"], "Ответ в скрытой теме")
    db.session.delete(db.session.get(GroupMember, (closed, people["author"])))
    db.session.commit()
    result = runner.invoke(args=["send-digest", "--base-url", "https://rost.example"])
    assert result.exit_code == 0, result.output
    (message,) = fake_smtp.instances[0].sent
    body = message.get_content()
    assert "Открытая тема" in body and "Ответ в открытой теме" in body
    assert "Скрытая тема" not in body and "Ответ в скрытой теме" not in body
