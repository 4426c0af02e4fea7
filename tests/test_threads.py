"""Discussion threads: starting one, replies with quotes, own edits and deletes, the leader's pin,
close and delete, unread markers and the jump to the first unread post, the live poll, counters,
muting, and the reply being typed is never lost (not even to a thread closed meanwhile).

Non-members of an open group read its threads but may not post: posting answers 404 (the page
offers "join the group" instead of a form). A closed group's threads answer 404 to non-members."""
from __future__ import annotations

import re
import time
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import func, select, update

from webapp.extensions import db
from webapp.groups.models import Post, PostDraft, Thread, ThreadDraft, ThreadState
from webapp.mentoring.models import Notification, NotificationKind
from webapp.models import User, utcnow
from webapp.threads.queries import POSTS_PER_PAGE

from . import factories
from .conftest import FRAGMENT, counted_queries, csrf_token_from, editor_base, hidden_fields, login

POST_ID = re.compile(r'<article id="post-(\d+)"')


def post_ids(html: str) -> list[int]:
    return [int(i) for i in POST_ID.findall(html)]


def article(html: str, post_id: int) -> str:
    match = re.search(rf'<article id="post-{post_id}".*?</article>', html, re.S)
    assert match, f"post {post_id} not shown"
    return match.group(0)


def textarea(html: str, field_id: str = "reply-body") -> str:
    match = re.search(rf'<textarea[^>]*id="{field_id}"[^>]*>(.*?)</textarea>', html, re.S)
    assert match, f"no textarea #{field_id}"
    return unescape(match.group(1)).lstrip("\r\n")


def poller_after(html: str) -> int:
    """The newest post id the page (or a poll's news) ends on: the marker the poll sends."""
    match = re.search(r'<input type="hidden" id="thread-end-(\d+)" class="thread-after" name="after" value="\1">', html)
    assert match, "no end marker"
    return int(match.group(1))


def has_reply_form(html: str) -> bool:
    return '<form id="reply-form"' in html


def thread_row(thread_id: int) -> Thread:
    db.session.expire_all()
    return db.session.get(Thread, thread_id)


def post_rows(thread_id: int) -> list[Post]:
    db.session.expire_all()
    return list(db.session.scalars(select(Post).where(Post.thread_id == thread_id).order_by(Post.id)))


def notifications_of(user_id: int, kind: str) -> int:
    return db.session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.recipient_id == user_id, Notification.kind == kind))


@pytest.fixture
def groups(people):
    """An open association (the methodist leads, the author is a member) and a closed creative group
    (the author leads, the librarian is a member; the methodist is not)."""
    return {
        "open": factories.make_group("ГМО библиотекарей", is_open=True, leaders=(people["methodist"],),
                                     members=(people["author"],)),
        "closed": factories.make_group("Творческая группа «Читаем вместе»", is_open=False, leaders=(people["author"],),
                                       members=(people["librarian"],)),
    }


@pytest.fixture
def closed_thread(people, groups):
    return factories.make_thread(groups["closed"], people["author"], title="План на год", body="Обсудим план.")


@pytest.fixture
def open_thread(people, groups):
    return factories.make_thread(groups["open"], people["methodist"], title="Неделя детской книги", body="Кто участвует?")


def first_post(thread_id: int) -> int:
    return post_rows(thread_id)[0].id


def reply(client, thread_id, body, htmx=False, after=None, page=None):
    data = {"body": body}
    if after is not None:
        data["after"] = str(after)
    if page is not None:
        data["page"] = str(page)
    return client.post(f"/threads/{thread_id}/posts", data=data, headers=FRAGMENT if htmx else None)


def page(client, thread_id, number=1, **args) -> str:
    query = "&".join(f"{k}={v}" for k, v in args.items())
    response = client.get(f"/threads/{thread_id}?page={number}" + (f"&{query}" if query else ""))
    assert response.status_code == 200
    return response.text


# Starting a thread ---------------------------------------------------------------------------------


def test_a_member_starts_a_thread_and_the_leader_hears_of_it(client, people, groups):
    login(client, people["librarian"])
    assert client.get(f"/threads/new?group_id={groups['closed']}").status_code == 200
    response = client.post("/threads/", data={"group_id": groups["closed"], "title": "Квест по Пушкину",
                                              "body": "Предлагаю **квест** для 5-х классов."})
    assert response.status_code == 303
    thread = db.session.scalar(select(Thread).where(Thread.title == "Квест по Пушкину"))
    (post,) = post_rows(thread.id)
    assert response.location == f"/threads/{thread.id}?page=1#post-{post.id}"
    assert (thread.post_count, thread.last_post_id, thread.author_id) == (1, post.id, people["librarian"])
    assert notifications_of(people["author"], NotificationKind.NEW_THREAD) == 1
    html = page(client, thread.id)
    assert "<strong>квест</strong>" in article(html, post.id)


def _start(client, group_id, title="Квест по Пушкину", body="Предлагаю квест.", headers=None):
    return client.post("/threads/", data={"group_id": group_id, "title": title, "body": body}, headers=headers or {})


def _threads_by(user_id: int) -> list[int]:
    return list(db.session.scalars(select(Thread.id).where(Thread.author_id == user_id)))


@pytest.mark.parametrize("headers", [{}, FRAGMENT], ids=["plain form", "htmx"])
def test_a_new_thread_sent_again_is_started_and_told_once(client, people, groups, headers):
    """The answer to «Начать обсуждение» was lost and the button pressed again, or pressed twice."""
    login(client, people["librarian"])
    first = _start(client, groups["closed"], body="Предлагаю квест\r\nдля 5-х классов.", headers=headers)
    again = _start(client, groups["closed"], body="Предлагаю квест\nдля 5-х классов.", headers=headers)
    (thread,) = _threads_by(people["librarian"])
    assert len(post_rows(thread)) == 1
    assert first.status_code == again.status_code and (first.headers.get("Location"), first.headers.get("HX-Redirect")) \
        == (again.headers.get("Location"), again.headers.get("HX-Redirect"))
    assert notifications_of(people["author"], NotificationKind.NEW_THREAD) == 1


def test_another_thread_or_the_same_after_a_reply_or_ten_minutes_is_new(client, people, groups):
    login(client, people["librarian"])
    _start(client, groups["closed"])
    _start(client, groups["closed"], title="Другая тема")
    assert len(_threads_by(people["librarian"])) == 2
    _start(client, groups["closed"], title="Другая тема", body="Другой текст.")
    # A reply since, even with the same words in the same thread: the same form again is a new thread
    factories.make_post(max(_threads_by(people["librarian"])), people["librarian"], body="Другой текст.")
    _start(client, groups["closed"], title="Другая тема", body="Другой текст.")
    assert len(_threads_by(people["librarian"])) == 4
    for post in db.session.scalars(select(Post)):
        post.created_at -= timedelta(minutes=10)
    db.session.commit()
    _start(client, groups["closed"], title="Другая тема", body="Другой текст.")
    assert len(_threads_by(people["librarian"])) == 5
@pytest.mark.parametrize("persona", ["methodist", "other_methodist", "admin"])
def test_nobody_outside_a_closed_group_can_start_a_thread_there(client, people, groups, persona):
    login(client, people[persona])
    assert client.get(f"/threads/new?group_id={groups['closed']}").status_code == 404
    response = client.post("/threads/", data={"group_id": groups["closed"], "title": "Чужая тема", "body": "Текст"})
    assert response.status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Thread)) == 0


def test_an_open_groups_non_member_reads_but_cannot_post(client, people, groups, open_thread):
    login(client, people["librarian"])  # not a member of the open group
    assert client.get(f"/threads/new?group_id={groups['open']}").status_code == 404
    assert client.post("/threads/", data={"group_id": groups["open"], "title": "T", "body": "B"}).status_code == 404
    html = page(client, open_thread)
    assert "Кто участвует?" in html
    assert not has_reply_form(html) and 'class="notice reply-join"' in html
    assert f'href="/groups/{groups["open"]}"' in html  # "join the group to take part"
    assert 'class="quote-link"' not in html
    assert reply(client, open_thread, "Можно мне?").status_code == 404
    for body in ("x", ""):  # nothing typed is answered before anyone is loaded (webapp.polls): refused all the same
        assert client.post(f"/threads/{open_thread}/draft", data={"body": body}).status_code == 404, body
    assert len(post_rows(open_thread)) == 1


def test_a_thread_and_a_post_whose_authors_account_is_gone_still_read(client, people, groups, closed_thread):
    gone = factories.make_post(closed_thread, people["librarian"], body="Слова того, кого уже нет в сети.")
    other = factories.make_thread(groups["closed"], people["librarian"], title="Тема ушедшего")
    db.session.execute(update(Post).where(Post.id == gone).values(author_id=None))  # the account was deleted
    db.session.execute(update(Thread).where(Thread.id == other).values(author_id=None))
    db.session.commit()
    login(client, people["author"])
    html = page(client, closed_thread)
    assert f'id="post-{gone}"' in html and "Слова того, кого уже нет в сети." in html
    assert "Обсудим план." in html  # and the posts around it
    listed = client.get(f"/groups/{groups['closed']}").text
    assert f'href="/threads/{other}"' in listed and "Тема ушедшего" in listed and "План на год" in listed


def test_a_new_thread_s_draft_keeps_the_whole_of_an_overlong_title_and_message(client, people, groups):
    """Refused as too long, the person is told the text is kept: all of it, not the first part."""
    login(client, people["librarian"])
    title, body = "Тема " + "т" * 1995 + "КОНЕЦ", "Сообщение " + "s" * 1_100_000 + "КОНЕЦ"
    refused = client.post("/threads/", data={"group_id": groups["closed"], "title": title, "body": body})
    assert refused.status_code == 422
    draft = db.session.get(ThreadDraft, (people["librarian"], groups["closed"]))
    assert (draft.title, draft.body) == (title, body)
    saved = client.post("/threads/new/draft", data={"group_id": groups["closed"], "title": title + "!", "body": body},
                        headers=FRAGMENT)
    assert saved.status_code == 200
    db.session.expire_all()
    assert db.session.get(ThreadDraft, (people["librarian"], groups["closed"])).title == title + "!"


def test_the_new_thread_is_autosaved_and_comes_back(client, people, groups):
    login(client, people["librarian"])
    saved = client.post("/threads/new/draft", data={"group_id": groups["closed"], "title": "Черновик темы",
                                                     "body": "Начало мысли"}, headers=FRAGMENT)
    assert saved.status_code == 200
    draft = db.session.get(ThreadDraft, (people["librarian"], groups["closed"]))
    assert (draft.title, draft.body) == ("Черновик темы", "Начало мысли")
    html = client.get(f"/threads/new?group_id={groups['closed']}").text
    assert textarea(html, "thread-body") == "Начало мысли" and 'value="Черновик темы"' in html
    # An empty title is refused (422) and what was typed stays, in the form and in the draft.
    refused = client.post("/threads/", data={"group_id": groups["closed"], "title": " ", "body": "Вся мысль целиком"})
    assert refused.status_code == 422 and textarea(refused.text, "thread-body") == "Вся мысль целиком"
    assert db.session.get(ThreadDraft, (people["librarian"], groups["closed"])).body == "Вся мысль целиком"
    # Sent from that form (it carries what it saved), the draft goes with the thread started.
    seen = re.search(r'name="draft_seen" value="([0-9a-f]+)"', refused.text).group(1)
    created = client.post("/threads/", data={"group_id": groups["closed"], "title": "Готово", "body": "Вся мысль целиком",
                                             "draft_seen": seen})
    assert created.status_code == 303
    db.session.expire_all()
    assert db.session.get(ThreadDraft, (people["librarian"], groups["closed"])) is None


# Reading, unread markers and the jump to the first unread post -------------------------------------


@pytest.mark.parametrize("persona", ["methodist", "other_methodist", "admin"])
def test_a_closed_groups_thread_is_404_to_everyone_outside(app, people, closed_thread, persona):
    client = login(app.test_client(), people[persona])
    post = first_post(closed_thread)
    for url in (f"/threads/{closed_thread}", f"/threads/{closed_thread}?page=1", f"/threads/{closed_thread}/poll?after=0",
                f"/threads/posts/{post}", f"/threads/posts/{post}/edit", f"/threads/posts/{post}/delete"):
        assert client.get(url).status_code == 404, url
        assert client.get(url, headers=FRAGMENT).status_code == 404, url
    for url in (f"/threads/{closed_thread}/posts", f"/threads/{closed_thread}/draft", f"/threads/{closed_thread}/pin",
                f"/threads/{closed_thread}/lock", f"/threads/{closed_thread}/mute", f"/threads/posts/{post}",
                f"/threads/posts/{post}/delete", f"/threads/posts/{post}/quote"):
        assert client.post(url, data={"body": "x", "on": "1"}).status_code == 404, url
    # Nothing typed is answered before anyone is loaded (webapp.polls), and refused all the same.
    assert client.post(f"/threads/{closed_thread}/draft", data={"body": ""}, headers=FRAGMENT).status_code == 404


def test_opening_a_thread_jumps_to_the_first_unread_post(app, people, closed_thread):
    author = login(app.test_client(), people["author"])
    librarian = login(app.test_client(), people["librarian"])
    first = first_post(closed_thread)
    # Never opened: the first post.
    assert librarian.get(f"/threads/{closed_thread}").location == f"/threads/{closed_thread}?page=1#post-{first}"
    factories.make_posts(closed_thread, people["author"], 34)  # 35 posts: page 2 holds the last 5
    last_page = page(librarian, closed_thread, 2)
    assert len(post_ids(last_page)) == 5
    # Everything read: the newest post, on the last page.
    newest = post_rows(closed_thread)[-1].id
    assert librarian.get(f"/threads/{closed_thread}").location == f"/threads/{closed_thread}?page=2#post-{newest}"
    # Reading page 1 again does not move the mark back.
    page(librarian, closed_thread, 1)
    assert db.session.get(ThreadState, (people["librarian"], closed_thread)).last_read_post_id == newest
    # New posts by someone else: the jump goes to the first of them, which carries the unread marker.
    fresh = factories.make_posts(closed_thread, people["author"], 30, body="Новое {n}")
    location = librarian.get(f"/threads/{closed_thread}").location
    assert location == f"/threads/{closed_thread}?page=2#post-{fresh[0]}"
    html = page(librarian, closed_thread, 2)
    assert 'class="post"' in article(html, newest) and "badge-unread" not in article(html, newest)
    assert "post-unread" in article(html, fresh[0]) and "badge-unread" in article(html, fresh[0])
    assert db.session.get(ThreadState, (people["librarian"], closed_thread)).last_read_post_id == fresh[24]
    # The rest (page 3) is still unread; the author's own posts never are.
    assert librarian.get(f"/threads/{closed_thread}").location == f"/threads/{closed_thread}?page=3#post-{fresh[25]}"
    assert "post-unread" not in page(author, closed_thread, 3)


def test_opening_a_thread_reads_its_notifications(app, people, closed_thread):
    author = login(app.test_client(), people["author"])
    librarian = login(app.test_client(), people["librarian"])
    reply(librarian, closed_thread, "Я за!")
    unread = select(func.count()).select_from(Notification).where(
        Notification.recipient_id == people["author"], Notification.thread_id == closed_thread, Notification.read_at.is_(None))
    assert db.session.scalar(unread) == 1
    page(author, closed_thread, 1)
    db.session.expire_all()
    assert db.session.scalar(unread) == 0


def test_opening_a_thread_read_to_its_end_still_reads_its_notifications(app, people, closed_thread):
    """The read mark does not move, but a notification about the thread is still unread: it is read."""
    author = login(app.test_client(), people["author"])
    page(author, closed_thread, 1)
    notification = factories.make_notification(people["author"], NotificationKind.NEW_THREAD,
                                               actor_id=people["librarian"], thread_id=closed_thread)
    page(author, closed_thread, 1)
    db.session.expire_all()
    assert db.session.get(Notification, notification).read_at is not None


def test_every_page_of_a_long_thread_shows_its_own_thirty_posts_in_order(app, people, closed_thread):
    """The pages of the second half are picked from the newest post back: they show the same posts
    as counting from the first would, and the last says no later page follows."""
    posts = [first_post(closed_thread), *factories.make_posts(closed_thread, people["author"], 124)]  # pages of 30, 30, 30, 30, 5
    client = login(app.test_client(), people["librarian"])
    for number in range(1, 7):
        shown = page(client, closed_thread, number)
        assert [int(found) for found in re.findall(r'<article id="post-(\d+)"', shown)] == posts[(number - 1) * 30:number * 30], number
        assert ('rel="next"' in shown) == (number < 5), number


def test_the_thread_page_costs_the_same_for_30_and_300_posts(app, people, groups):
    client = login(app.test_client(), people["author"])
    counts = []
    for n in (POSTS_PER_PAGE, 300):
        thread = factories.make_thread(groups["closed"], people["librarian"], body=None)
        factories.make_posts(thread, people["librarian"], n)
        for number in sorted({1, n // POSTS_PER_PAGE}):  # each view moves the read mark further
            with counted_queries() as statements:
                html = page(client, thread, number)
            assert len(post_ids(html)) == POSTS_PER_PAGE
            counts.append(len(statements))
    assert len(set(counts)) == 1, counts


# Replying --------------------------------------------------------------------------------------------


def test_a_member_replies_without_javascript(client, people, closed_thread):
    login(client, people["librarian"])
    response = reply(client, closed_thread, "Согласна, *начнём* в сентябре.")
    assert response.status_code == 303
    posts = post_rows(closed_thread)
    assert response.location == f"/threads/{closed_thread}?page=1#post-{posts[-1].id}"
    html = page(client, closed_thread)
    assert "<em>начнём</em>" in article(html, posts[-1].id)
    thread = thread_row(closed_thread)
    assert (thread.post_count, thread.last_post_id) == (2, posts[-1].id)
    assert notifications_of(people["author"], NotificationKind.THREAD_REPLY) == 1
    # My own reply leaves nothing unread for me.
    assert db.session.get(ThreadState, (people["librarian"], closed_thread)).last_read_post_id == posts[-1].id


def header_count(html: str) -> int | None:
    """The post count a fragment hands the thread's header, or None."""
    match = re.search(r'<hx-partial hx-target="#post-count-\d+"[^>]*>\s*<span class="post-count"[^>]*>(\d+)', html)
    return int(match.group(1)) if match else None


def test_a_reply_sent_again_before_the_page_showed_it_is_saved_once(app, people, closed_thread):
    """The answer was lost on the way and the button pressed again: same text, same end marker."""
    librarian = login(app.test_client(), people["librarian"])
    after = poller_after(page(librarian, closed_thread))
    first = reply(librarian, closed_thread, "Беру на себя выставку.", htmx=True, after=after)
    assert first.status_code == 201
    mine = post_rows(closed_thread)[-1].id
    notified = notifications_of(people["author"], NotificationKind.THREAD_REPLY)
    meanwhile = factories.make_post(closed_thread, people["author"], body="Спасибо!")

    again = reply(librarian, closed_thread, "Беру на себя выставку.", htmx=True, after=after)
    assert again.status_code == 201
    assert [p.id for p in post_rows(closed_thread)][-2:] == [mine, meanwhile]
    assert thread_row(closed_thread).post_count == len(post_rows(closed_thread)) == 3
    assert notifications_of(people["author"], NotificationKind.THREAD_REPLY) == notified
    assert post_ids(again.text) == [mine, meanwhile]  # what the page lacks, mine once
    assert header_count(again.text) == 3


def test_the_same_reply_after_the_page_showed_it_is_a_new_post(app, people, closed_thread):
    librarian = login(app.test_client(), people["librarian"])
    reply(librarian, closed_thread, "Согласна.", htmx=True, after=poller_after(page(librarian, closed_thread)))
    mine = post_rows(closed_thread)[-1].id
    assert reply(librarian, closed_thread, "Согласна.", htmx=True, after=mine).status_code == 201
    assert len(post_rows(closed_thread)) == 3


def test_a_plain_reply_form_sent_twice_saves_the_post_once(app, people, closed_thread):
    librarian = login(app.test_client(), people["librarian"])
    first = reply(librarian, closed_thread, "Без скриптов.")
    second = reply(librarian, closed_thread, "Без скриптов.")
    assert first.status_code == second.status_code == 303 and second.location == first.location
    assert len(post_rows(closed_thread)) == 2 and thread_row(closed_thread).post_count == 2
    # Deleted meanwhile, or ten minutes old: the same words are a new post.
    post_rows(closed_thread)[-1].deleted_at = utcnow()
    db.session.commit()
    assert reply(librarian, closed_thread, "Без скриптов.").location != first.location
    newest = post_rows(closed_thread)[-1]
    newest.created_at -= timedelta(minutes=10)
    db.session.commit()
    assert reply(librarian, closed_thread, "Без скриптов.").status_code == 303
    assert len(post_rows(closed_thread)) == 4


def test_a_plain_reply_form_saves_the_same_words_again_once_its_page_showed_them(app, people, closed_thread):
    librarian = login(app.test_client(), people["librarian"])

    def send(html: str):
        return librarian.post(f"/threads/{closed_thread}/posts", data={**hidden_fields(html, "reply-form"), "body": "Согласна."})

    shown = page(librarian, closed_thread)
    first = send(shown)
    assert send(shown).location == first.location  # the same page's form pressed twice
    assert len(post_rows(closed_thread)) == 2
    again = send(librarian.get(first.location).text)  # from the page it landed on, which shows it
    assert again.status_code == 303 and again.location != first.location
    assert len(post_rows(closed_thread)) == 3 and thread_row(closed_thread).post_count == 3


def test_a_reply_from_a_page_before_the_last_goes_to_where_it_landed(app, people, closed_thread):
    for n in range(POSTS_PER_PAGE):
        factories.make_post(closed_thread, people["author"], body=f"Сообщение {n}")
    librarian = login(app.test_client(), people["librarian"])
    fields = hidden_fields(page(librarian, closed_thread, 1), "reply-form")
    assert "after" not in fields and fields["page_end"]  # no end marker: the last page is elsewhere
    response = librarian.post(f"/threads/{closed_thread}/posts", data={**fields, "body": "Отвечу позже."},
                              headers=FRAGMENT)
    mine = post_rows(closed_thread)[-1]
    assert response.status_code == 204 and response.headers["HX-Redirect"] == f"/threads/{closed_thread}?page=2#post-{mine.id}"
    assert mine.body == "Отвечу позже."


def test_the_form_a_reopened_thread_gets_back_claims_no_page_it_did_not_see(app, people, closed_thread):
    """Reopened from page 1 of 2: the form comes back from the thread's head, which shows no posts,
    so it names none, and the leader's own first words, which page 1 shows, sent again are saved."""
    factories.make_posts(closed_thread, people["librarian"], POSTS_PER_PAGE)
    leader = login(app.test_client(), people["author"])
    leader.post(f"/threads/{closed_thread}/lock", data={"on": "1", "page": "1"}, headers=FRAGMENT)
    reopened = leader.post(f"/threads/{closed_thread}/lock", data={"on": "0", "page": "1"}, headers=FRAGMENT)
    fields = hidden_fields(reopened.text, "reply-form")
    assert "page_end" not in fields
    leader.post(f"/threads/{closed_thread}/posts", data={**fields, "body": "Обсудим план."}, headers=FRAGMENT)
    assert [p.body for p in post_rows(closed_thread)].count("Обсудим план.") == 2


def test_a_reply_with_htmx_appends_what_is_new_and_clears_the_form(app, people, closed_thread):
    librarian = login(app.test_client(), people["librarian"])
    after = poller_after(page(librarian, closed_thread))
    other = factories.make_post(closed_thread, people["author"], body="Пока вы писали")
    client_draft = librarian.post(f"/threads/{closed_thread}/draft", data={"body": "Мой ответ"}, headers=FRAGMENT)
    assert client_draft.status_code == 200
    response = reply(librarian, closed_thread, "Мой ответ", htmx=True, after=after)
    assert response.status_code == 201
    # At the page's end marker; the poller asks at once too, in case a poll answered first and took it.
    assert f'<hx-partial hx-target="#thread-end-{after}" hx-swap="outerHTML">' in response.text
    assert response.headers["HX-Trigger"] == "reply-added" and "reply-added from:body" in page(librarian, closed_thread)
    mine = post_rows(closed_thread)[-1].id
    assert post_ids(response.text) == [other, mine]  # what the page lacked, in order
    assert "post-unread" in article(response.text, other) and "post-unread" not in article(response.text, mine)
    assert poller_after(response.text) == mine
    assert header_count(response.text) == len(post_rows(closed_thread))  # the header counts them too
    # In place of the count named by the page's end marker, under the name of the new one.
    assert f'<hx-partial hx-target="#post-count-{after}" hx-swap="outerHTML">' in response.text
    assert f'id="post-count-{mine}"' in response.text
    assert has_reply_form(response.text) and textarea(response.text) == ""
    db.session.expire_all()
    assert db.session.get(PostDraft, (people["librarian"], closed_thread)) is None


def test_an_empty_or_too_long_reply_is_refused_and_kept(client, people, closed_thread):
    login(client, people["librarian"])
    empty = reply(client, closed_thread, "   ", htmx=True, after=0)
    assert empty.status_code == 422 and has_reply_form(empty.text)
    long_text = "слово " * 10_000
    refused = reply(client, closed_thread, long_text, htmx=True, after=0)
    assert refused.status_code == 422 and textarea(refused.text) == long_text
    assert db.session.get(PostDraft, (people["librarian"], closed_thread)).body == long_text
    plain = reply(client, closed_thread, long_text)  # without JavaScript: the whole page, the text in the form
    assert plain.status_code == 422 and "Обсудим план." in plain.text and textarea(plain.text) == long_text
    assert len(post_rows(closed_thread)) == 1


def test_the_reply_being_typed_is_autosaved_and_comes_back(client, people, closed_thread):
    login(client, people["librarian"])
    html = page(client, closed_thread)
    autosave = re.search(r'<span class="save-status"[^>]*>', html, re.S).group(0)
    assert f'hx-post="/threads/{closed_thread}/draft"' in autosave and "thread-locked from:document" in autosave
    assert client.post(f"/threads/{closed_thread}/draft", data={"body": "Недописанное"}, headers=FRAGMENT).status_code == 200
    assert textarea(page(client, closed_thread)) == "Недописанное"
    # Emptied in a form that was opened with it: the draft goes; nothing to save is 204.
    seen = re.search(r'name="draft_seen" value="([0-9a-f]+)"', page(client, closed_thread)).group(1)
    emptied = client.post(f"/threads/{closed_thread}/draft", data={"body": "", "draft_seen": seen}, headers=FRAGMENT)
    assert emptied.status_code == 200
    again = re.search(r'name="draft_seen" value="([0-9a-f]+)"[^>]*hx-swap-oob', emptied.text).group(1)
    assert client.post(f"/threads/{closed_thread}/draft", data={"body": "", "draft_seen": again}, headers=FRAGMENT).status_code == 204
    assert db.session.get(PostDraft, (people["librarian"], closed_thread)) is None


def test_an_idle_tab_leaves_the_reply_typed_in_another_alone(app, people, closed_thread):
    idle, typing = (login(app.test_client(), people["librarian"]) for _ in range(2))
    idle_seen = re.search(r'name="draft_seen" value="([0-9a-f]*)"', page(idle, closed_thread)).group(1)
    typing.post(f"/threads/{closed_thread}/draft", data={"body": "Почти дописанный ответ"}, headers=FRAGMENT)
    assert idle.post(f"/threads/{closed_thread}/draft", data={"body": "", "draft_seen": idle_seen},
                     headers=FRAGMENT).status_code == 204
    assert db.session.get(PostDraft, (people["librarian"], closed_thread)).body == "Почти дописанный ответ"


def test_each_member_s_reply_form_opens_with_their_own_unsent_text_only(app, people, closed_thread):
    member = login(app.test_client(), people["librarian"])
    leader = login(app.test_client(), people["author"])
    member.post(f"/threads/{closed_thread}/draft", data={"body": "Ответ участницы"}, headers=FRAGMENT)
    assert textarea(page(leader, closed_thread)) == ""
    leader.post(f"/threads/{closed_thread}/draft", data={"body": "Ответ ведущей"}, headers=FRAGMENT)
    member_page = page(member, closed_thread)
    assert textarea(member_page) == "Ответ участницы" and "Ответ ведущей" not in member_page
    # Closed and reopened: the leader's answer brings back her form, the member's poll hers.
    leader.post(f"/threads/{closed_thread}/lock", data={"on": "1"}, headers=FRAGMENT)
    reopened = leader.post(f"/threads/{closed_thread}/lock", data={"on": "0"}, headers=FRAGMENT)
    assert textarea(reopened.text) == "Ответ ведущей" and "Ответ участницы" not in reopened.text
    news = member.get(f"/threads/{closed_thread}/poll?after={poller_after(member_page)}&locked=1", headers=FRAGMENT)
    assert news.status_code == 200
    assert textarea(news.text) == "Ответ участницы" and "Ответ ведущей" not in news.text


def test_quoting_adds_the_post_to_what_is_typed(client, people, closed_thread):
    login(client, people["librarian"])
    quoted = factories.make_post(closed_thread, people["author"], body="Первая строка\n\nВторая строка")
    # Without JavaScript: the link opens the page with the form holding the draft, then the quote.
    client.post(f"/threads/{closed_thread}/draft", data={"body": "Начало"}, headers=FRAGMENT)
    html = page(client, closed_thread, 1, quote=quoted)
    assert textarea(html) == "Начало\n\n> Первая строка\n>\n> Вторая строка\n\n"
    link = re.search(r'<a class="quote-link"[^>]*>', article(html, quoted)).group(0)
    assert f'href="/threads/{closed_thread}?page=1&amp;quote={quoted}#reply-form"' in link
    assert f'hx-post="/threads/posts/{quoted}/quote"' in link and 'hx-include="#reply-form"' in link
    assert 'hx-target="#reply-form"' in link
    # With htmx: what is typed right now, then the quote; kept as the draft at once.
    response = client.post(f"/threads/posts/{quoted}/quote", data={"body": "Уже набрано"}, headers=FRAGMENT)
    assert response.status_code == 200 and has_reply_form(response.text)
    assert textarea(response.text) == "Уже набрано\n\n> Первая строка\n>\n> Вторая строка\n\n"
    assert db.session.get(PostDraft, (people["librarian"], closed_thread)).body.startswith("Уже набрано\n\n> Первая")
    # Opening the thread without ?page keeps the quote through the jump.
    assert client.get(f"/threads/{closed_thread}?quote={quoted}").location.startswith(
        f"/threads/{closed_thread}?page=1&quote={quoted}#post-")


def test_quoting_a_post_deleted_meanwhile_keeps_the_form_and_says_so(client, people, closed_thread):
    """The page still shows the post (deletions do not travel with the poll); its «Цитировать» leaves
    the form holding what is typed, says why nothing was quoted, and shows the post as deleted."""
    login(client, people["librarian"])
    quoted = factories.make_post(closed_thread, people["author"], body="Скоро удалю")
    db.session.execute(update(Post).where(Post.id == quoted).values(deleted_at=db.func.now()))
    db.session.commit()
    response = client.post(f"/threads/posts/{quoted}/quote", data={"body": "Уже набрано"}, headers=FRAGMENT)
    assert response.status_code == 410 and has_reply_form(response.text)
    assert textarea(response.text) == "Уже набрано" and "Это сообщение удалено" in response.text
    gone = re.search(rf'<hx-partial hx-target="#post-{quoted}" hx-swap="outerHTML">(.*?)</hx-partial>', response.text, re.S)
    assert gone and "post-deleted" in gone.group(1) and "Скоро удалю" not in response.text
    plain = client.post(f"/threads/posts/{quoted}/quote", data={"body": "Уже набрано"})
    assert plain.status_code == 303 and plain.location.endswith("#reply-form")
    assert "Это сообщение удалено" in client.get(plain.location).text
    # Closed meanwhile too: the notice in the form's place says the text is kept, and it is.
    db.session.execute(update(Thread).where(Thread.id == closed_thread).values(locked=True))
    db.session.commit()
    locked = client.post(f"/threads/posts/{quoted}/quote", data={"body": "Набрано до закрытия"}, headers=FRAGMENT)
    assert locked.status_code == 410 and not has_reply_form(locked.text)
    assert db.session.get(PostDraft, (people["librarian"], closed_thread)).body == "Набрано до закрытия"


# Editing and deleting ----------------------------------------------------------------------------------


def test_editing_ones_own_post_marks_it_edited(client, people, closed_thread):
    login(client, people["librarian"])
    post = factories.make_post(closed_thread, people["librarian"], body="Было")
    assert client.get(f"/threads/posts/{post}/edit", headers=FRAGMENT).status_code == 200
    response = client.post(f"/threads/posts/{post}", data={"body": "Стало"}, headers=FRAGMENT)
    assert response.status_code == 200
    assert "Стало" in article(response.text, post) and "post-edited" in article(response.text, post)
    assert "post-edited" not in article(page(client, closed_thread), first_post(closed_thread))
    assert client.post(f"/threads/posts/{post}", data={"body": ""}).status_code == 422
    plain = client.post(f"/threads/posts/{post}", data={"body": "Стало снова"})
    assert plain.status_code == 303 and plain.location == f"/threads/{closed_thread}?page=1#post-{post}"


def test_a_closed_thread_takes_no_changes_to_its_posts_and_keeps_what_was_typed(app, client, people, closed_thread):
    login(client, people["librarian"])
    post = factories.make_post(closed_thread, people["librarian"], body="Было")
    editor = client.get(f"/threads/posts/{post}/edit", headers=FRAGMENT).text  # opened before the thread closed
    db.session.execute(update(Thread).where(Thread.id == closed_thread).values(locked=True))
    db.session.commit()
    assert f"/threads/posts/{post}/edit" not in article(page(client, closed_thread), post)
    assert client.get(f"/threads/posts/{post}/edit", headers=FRAGMENT).status_code == 409
    response = client.post(f"/threads/posts/{post}", data={"body": "Стало, @ruslana", "csrf_token": csrf_token_from(editor)},
                           headers=FRAGMENT)
    assert response.status_code == 409
    assert "Тема закрыта" in response.text and "Стало, @ruslana" in unescape(response.text)
    assert db.session.get(Post, post).body == "Было"
    assert db.session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.recipient_id == people["methodist"])) == 0


def test_someone_elses_post_cannot_be_edited_even_by_the_leader(app, people, closed_thread):
    post = factories.make_post(closed_thread, people["librarian"], body="Моё")
    leader = login(app.test_client(), people["author"])
    assert leader.get(f"/threads/posts/{post}/edit").status_code == 404
    assert leader.post(f"/threads/posts/{post}", data={"body": "Чужое"}).status_code == 404
    assert post_rows(closed_thread)[-1].body == "Моё"


def test_after_leaving_an_open_group_one_deletes_but_no_longer_edits_ones_posts(app, people, groups, open_thread):
    author = login(app.test_client(), people["author"])
    post = factories.make_post(open_thread, people["author"], body="Моё сообщение")
    assert f"/threads/posts/{post}/edit" in article(page(author, open_thread), post)
    assert author.post(f"/groups/{groups['open']}/leave").status_code == 303
    shown = article(page(author, open_thread), post)  # an open group: still read
    assert f"/threads/posts/{post}/edit" not in shown and f"/threads/posts/{post}/delete" in shown
    assert author.get(f"/threads/posts/{post}/edit", headers=FRAGMENT).status_code == 404
    edited = author.post(f"/threads/posts/{post}", data={"body": "Исправлено, @ruslana"}, headers=FRAGMENT)
    assert edited.status_code == 404
    assert db.session.get(Post, post).body == "Моё сообщение"
    assert notifications_of(people["methodist"], NotificationKind.MENTION) == 0
    assert author.post(f"/threads/posts/{post}/delete").status_code == 303  # withdrawing one's own words
    assert db.session.get(Post, post).deleted_at is not None


def test_deleting_ones_own_post_leaves_a_placeholder(client, people, closed_thread):
    login(client, people["librarian"])
    mine = factories.make_post(closed_thread, people["librarian"], body="Ошибся темой")
    after = factories.make_post(closed_thread, people["author"], body="Следующий ответ")
    assert client.get(f"/threads/posts/{mine}/delete").status_code == 200  # the confirmation page without JavaScript
    response = client.post(f"/threads/posts/{mine}/delete", headers=FRAGMENT)
    assert response.status_code == 200 and "post-deleted" in article(response.text, mine)
    html = page(client, closed_thread)
    assert "post-deleted" in article(html, mine) and "Ошибся темой" not in html
    assert "Следующий ответ" in article(html, after)  # the thread still reads
    assert thread_row(closed_thread).post_count == 3  # the placeholder keeps its place
    assert client.post(f"/threads/posts/{mine}/delete").status_code == 404  # gone already
    assert client.get(f"/threads/posts/{mine}/edit").status_code == 404


def test_a_member_cannot_delete_someone_elses_post(app, people, closed_thread):
    member = login(app.test_client(), people["librarian"])
    post = first_post(closed_thread)
    assert member.get(f"/threads/posts/{post}/delete").status_code == 404
    assert member.post(f"/threads/posts/{post}/delete").status_code == 404
    assert post_rows(closed_thread)[0].deleted_at is None
    assert "/delete" not in article(page(member, closed_thread), post)


def test_the_leader_deletes_any_post_in_the_group(app, people, closed_thread):
    post = factories.make_post(closed_thread, people["librarian"], body="Не по теме")
    leader = login(app.test_client(), people["author"])
    assert f'/threads/posts/{post}/delete' in article(page(leader, closed_thread), post)
    response = leader.post(f"/threads/posts/{post}/delete")
    assert response.status_code == 303
    assert post_rows(closed_thread)[-1].deleted_at is not None


# The leader's switches -----------------------------------------------------------------------------------


def test_the_leader_pins_and_unpins(client, people, closed_thread):
    login(client, people["author"])
    response = client.post(f"/threads/{closed_thread}/pin", data={"on": "1"}, headers=FRAGMENT)
    assert response.status_code == 200 and 'id="thread-head"' in response.text and "badge-pinned" in response.text
    assert thread_row(closed_thread).pinned
    assert client.post(f"/threads/{closed_thread}/pin", data={"on": "1"}).status_code == 303  # twice: still pinned
    assert thread_row(closed_thread).pinned
    client.post(f"/threads/{closed_thread}/pin", data={"on": "0"})
    assert not thread_row(closed_thread).pinned
    assert client.post(f"/threads/{closed_thread}/pin", data={}).status_code == 422


@pytest.mark.parametrize("switch", ["pin", "lock"])
def test_a_member_who_does_not_lead_cannot_pin_or_close(client, people, closed_thread, switch):
    login(client, people["librarian"])
    assert client.post(f"/threads/{closed_thread}/{switch}", data={"on": "1"}).status_code == 404
    thread = thread_row(closed_thread)
    assert not thread.pinned and not thread.locked
    assert 'class="secondary pin-switch"' not in page(client, closed_thread)


def test_a_closed_thread_refuses_replies_and_keeps_the_text_as_a_draft(app, people, closed_thread):
    member = login(app.test_client(), people["librarian"])
    leader = login(app.test_client(), people["author"])
    html = page(member, closed_thread)
    after = poller_after(html)
    assert has_reply_form(html)
    assert leader.post(f"/threads/{closed_thread}/lock", data={"on": "1"}).status_code == 303
    # The reply sent from the page loaded before: refused, kept, said so; the form is gone.
    response = reply(member, closed_thread, "Не успела отправить", htmx=True, after=after)
    assert response.status_code == 409
    assert not has_reply_form(response.text) and 'id="reply-form"' in response.text
    assert textarea(response.text, "reply-kept") == "Не успела отправить"
    assert db.session.get(PostDraft, (people["librarian"], closed_thread)).body == "Не успела отправить"
    assert len(post_rows(closed_thread)) == 1 and thread_row(closed_thread).post_count == 1
    # Without JavaScript: the same, on the whole page.
    plain = reply(member, closed_thread, "Ещё раз")
    assert plain.status_code == 409 and not has_reply_form(plain.text) and "Обсудим план." in plain.text
    # The page of a closed thread says so, offers no form and no quoting, and shows the kept text.
    html = page(member, closed_thread)
    assert "badge-locked" in html and not has_reply_form(html) and 'class="quote-link"' not in html
    assert textarea(html, "reply-kept") == "Ещё раз"
    # Reopened: the form comes back holding the draft.
    leader.post(f"/threads/{closed_thread}/lock", data={"on": "0"})
    assert textarea(page(member, closed_thread)) == "Ещё раз"


def test_an_autosave_in_a_thread_closed_meanwhile_keeps_the_text_and_replaces_the_form(app, people, closed_thread):
    member = login(app.test_client(), people["librarian"])
    leader = login(app.test_client(), people["author"])
    leader.post(f"/threads/{closed_thread}/lock", data={"on": "1"}, headers=FRAGMENT)
    response = member.post(f"/threads/{closed_thread}/draft", data={"body": "Печатала, пока закрывали"}, headers=FRAGMENT)
    assert response.status_code == 200
    assert response.headers["HX-Retarget"] == "#reply-form" and response.headers["HX-Reswap"] == "outerHTML"
    assert not has_reply_form(response.text) and textarea(response.text, "reply-kept") == "Печатала, пока закрывали"
    assert db.session.get(PostDraft, (people["librarian"], closed_thread)).body == "Печатала, пока закрывали"


def test_an_autosave_with_nothing_typed_needs_a_session_that_still_signs_in(app, people, closed_thread):
    member = login(app.test_client(), people["librarian"])
    assert member.post(f"/threads/{closed_thread}/draft", data={"body": ""}, headers=FRAGMENT).status_code == 204
    db.session.get(User, people["librarian"]).revoke_sessions()
    db.session.commit()
    response = member.post(f"/threads/{closed_thread}/draft", data={"body": ""})
    assert response.status_code == 302 and response.location.startswith("/login")


def test_an_autosave_with_nothing_typed_still_finds_the_thread_closed(app, people, closed_thread):
    member = login(app.test_client(), people["librarian"])
    assert member.post(f"/threads/{closed_thread}/draft", data={"body": ""}, headers=FRAGMENT).status_code == 204
    login(app.test_client(), people["author"]).post(f"/threads/{closed_thread}/lock", data={"on": "1"}, headers=FRAGMENT)
    response = member.post(f"/threads/{closed_thread}/draft", data={"body": ""}, headers=FRAGMENT)
    assert response.status_code == 200 and response.headers["HX-Retarget"] == "#reply-form"
    assert not has_reply_form(response.text)


def test_closing_tells_the_leaders_own_form_to_save_and_reopening_brings_it_back(client, people, closed_thread):
    login(client, people["author"])
    closed = client.post(f"/threads/{closed_thread}/lock", data={"on": "1"}, headers=FRAGMENT)
    assert closed.status_code == 200 and closed.headers["HX-Trigger"] == "thread-locked"
    assert "badge-locked" in closed.text
    reopened = client.post(f"/threads/{closed_thread}/lock", data={"on": "0"}, headers=FRAGMENT)
    assert "HX-Trigger" not in reopened.headers
    assert '<hx-partial hx-target="#reply-form"' in reopened.text and has_reply_form(reopened.text)


# The live poll ----------------------------------------------------------------------------------------


def test_a_poll_with_nothing_new_is_204_after_one_statement(app, people, closed_thread):
    client = login(app.test_client(), people["librarian"])
    after = poller_after(page(client, closed_thread))
    with counted_queries() as statements:
        response = client.get(f"/threads/{closed_thread}/poll?after={after}&locked=0", headers=FRAGMENT)
    assert response.status_code == 204 and response.data == b""
    (statement,) = statements  # who is signed in is checked inside it (webapp.polls)
    assert "threads" in statement and "posts" not in statement


def test_a_poll_brings_another_persons_post_with_the_unread_marker(app, people, closed_thread):
    librarian = login(app.test_client(), people["librarian"])
    author = login(app.test_client(), people["author"])
    html = page(librarian, closed_thread)
    after = poller_after(html)
    assert f'hx-get="/threads/{closed_thread}/poll?locked=0" hx-include=".thread-after"' in html
    assert reply(author, closed_thread, "Новость от руководителя").status_code == 303
    new = post_rows(closed_thread)[-1].id
    response = librarian.get(f"/threads/{closed_thread}/poll?after={after}&locked=0", headers=FRAGMENT)
    assert response.status_code == 200
    assert f'<hx-partial hx-target="#thread-end-{after}" hx-swap="outerHTML">' in response.text
    assert post_ids(response.text) == [new] and "post-unread" in article(response.text, new)
    assert poller_after(response.text) == new
    assert header_count(response.text) == len(post_rows(closed_thread))
    assert not has_reply_form(response.text)  # the form being typed in is never touched by a poll
    assert librarian.get(f"/threads/{closed_thread}/poll?after={new}&locked=0", headers=FRAGMENT).status_code == 204


def test_a_poll_tells_the_page_that_the_thread_was_closed(app, people, closed_thread):
    librarian = login(app.test_client(), people["librarian"])
    leader = login(app.test_client(), people["author"])
    after = poller_after(page(librarian, closed_thread))
    leader.post(f"/threads/{closed_thread}/lock", data={"on": "1"})
    response = librarian.get(f"/threads/{closed_thread}/poll?after={after}&locked=0", headers=FRAGMENT)
    assert response.status_code == 200 and response.headers["HX-Trigger"] == "thread-locked"
    assert '<hx-partial hx-target="#thread-head"' in response.text and "badge-locked" in response.text
    assert "locked=1" in response.text and not has_reply_form(response.text)
    assert librarian.get(f"/threads/{closed_thread}/poll?after={after}&locked=1", headers=FRAGMENT).status_code == 204
    leader.post(f"/threads/{closed_thread}/lock", data={"on": "0"})
    reopened = librarian.get(f"/threads/{closed_thread}/poll?after={after}&locked=1", headers=FRAGMENT)
    assert reopened.status_code == 200 and has_reply_form(reopened.text) and "HX-Trigger" not in reopened.headers


def test_a_poll_after_the_session_ended_stops_without_leaving_the_page(client, closed_thread):
    response = client.get(f"/threads/{closed_thread}/poll?after=1&locked=0", headers=FRAGMENT)
    assert response.status_code == 401 and "HX-Redirect" not in response.headers
    assert 'id="thread-poller"' in response.text and "hx-trigger" not in response.text
    assert client.get(f"/threads/{closed_thread}/poll?after=1").status_code == 302


# Counters and notifications ---------------------------------------------------------------------------


def test_counters_follow_replies(app, people, closed_thread):
    librarian = login(app.test_client(), people["librarian"])
    author = login(app.test_client(), people["author"])
    for n in range(3):
        reply(librarian, closed_thread, f"Ответ {n}")
        reply(author, closed_thread, f"Спасибо {n}")
    posts = post_rows(closed_thread)
    thread = thread_row(closed_thread)
    assert thread.post_count == len(posts) == 7
    assert thread.last_post_id == posts[-1].id and thread.last_post_at == posts[-1].created_at


def test_muting_a_thread_stops_reply_notifications(app, people, closed_thread):
    author = login(app.test_client(), people["author"])
    librarian = login(app.test_client(), people["librarian"])
    reply(librarian, closed_thread, "Первый ответ")
    assert notifications_of(people["author"], NotificationKind.THREAD_REPLY) == 1
    muted = author.post(f"/threads/{closed_thread}/mute", data={"on": "1"}, headers=FRAGMENT)
    assert muted.status_code == 200 and "badge-muted" in muted.text
    reply(librarian, closed_thread, "Второй ответ")
    assert notifications_of(people["author"], NotificationKind.THREAD_REPLY) == 1
    author.post(f"/threads/{closed_thread}/mute", data={"on": "0"})
    reply(librarian, closed_thread, "Третий ответ")
    assert notifications_of(people["author"], NotificationKind.THREAD_REPLY) == 2


def test_reading_state_and_muting_survive_each_other(client, people, closed_thread):
    login(client, people["librarian"])
    page(client, closed_thread)
    client.post(f"/threads/{closed_thread}/mute", data={"on": "1"})
    state = db.session.get(ThreadState, (people["librarian"], closed_thread))
    assert state.muted and state.last_read_post_id == first_post(closed_thread)


# Text is never lost to an expired form token -------------------------------------------------------------


def _thread_of_one_member():
    member = factories.make_user(login="olga")
    group = factories.make_group("Проектная группа", is_open=False, members=(member,))
    return member, factories.make_thread(group, member)


def test_a_reply_with_an_expired_token_is_kept_and_the_form_comes_back(csrf_app, monkeypatch):
    member, thread = _thread_of_one_member()
    client = login(csrf_app.test_client(), member)
    stale = csrf_token_from(client.get(f"/threads/{thread}?page=1").text)
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 2 * 3600)  # the form token has expired
    autosaved = client.post(f"/threads/{thread}/draft", data={"body": "Черновик", "csrf_token": stale}, headers=FRAGMENT)
    assert autosaved.status_code == 200
    assert re.search(r'name="csrf_token" value="[^"]+" id="reply-csrf" hx-swap-oob="true"', autosaved.text)
    response = client.post(f"/threads/{thread}/posts", data={"body": "Длинный ответ", "csrf_token": stale},
                           headers=FRAGMENT)
    assert response.status_code == 200 and has_reply_form(response.text)
    assert textarea(response.text) == "Длинный ответ"
    assert db.session.get(PostDraft, (member, thread)).body == "Длинный ответ"
    fresh = csrf_token_from(response.text)
    sent = client.post(f"/threads/{thread}/posts", data={"body": "Длинный ответ", "csrf_token": fresh})
    assert sent.status_code == 303 and len(post_rows(thread)) == 2


@pytest.mark.parametrize("sent_token", ["", "another-session-s-token"])
def test_a_reply_without_this_session_s_token_leaves_the_draft_alone(csrf_app, sent_token):
    """Another site's form, or a page from before the last sign-in: the reply kept in the thread
    stays as it was; the text sent comes back in the form, with a fresh token."""
    member, thread = _thread_of_one_member()
    client = login(csrf_app.test_client(), member)
    token = csrf_token_from(client.get(f"/threads/{thread}?page=1").text)
    client.post(f"/threads/{thread}/draft", data={"body": "Мой ответ", "csrf_token": token}, headers=FRAGMENT)

    autosaved = client.post(f"/threads/{thread}/draft", data={"body": "Подброшенный текст", "csrf_token": sent_token},
                            headers=FRAGMENT)
    assert autosaved.status_code == 400
    assert re.search(r'name="csrf_token" value="[^"]+" id="reply-csrf" hx-swap-oob="true"', autosaved.text)
    sent = client.post(f"/threads/{thread}/posts", data={"body": "Подброшенный текст", "csrf_token": sent_token},
                       headers=FRAGMENT)
    assert sent.status_code == 400 and textarea(sent.text) == "Подброшенный текст"
    assert "открыта до последнего входа" in sent.text
    plain = client.post(f"/threads/{thread}/posts", data={"body": "Подброшенный текст", "csrf_token": sent_token})
    assert plain.status_code == 400 and "Подброшенный текст" in plain.text

    assert db.session.get(PostDraft, (member, thread)).body == "Мой ответ"
    assert len(post_rows(thread)) == 1
    assert textarea(client.get(f"/threads/{thread}?page=1").text) == "Мой ответ"
    resent = client.post(f"/threads/{thread}/posts", data={"body": "Мой ответ", "csrf_token": csrf_token_from(sent.text)})
    assert resent.status_code == 303 and len(post_rows(thread)) == 2


@pytest.mark.parametrize("sent_token", ["", "another-session-s-token"])
def test_a_new_thread_without_this_session_s_token_leaves_the_draft_alone(csrf_app, sent_token):
    member = factories.make_user(login="olga")
    group = factories.make_group("Проектная группа", is_open=False, members=(member,))
    client = login(csrf_app.test_client(), member)
    token = csrf_token_from(client.get(f"/threads/new?group_id={group}").text)
    client.post("/threads/new/draft", data={"group_id": group, "title": "Моя тема", "body": "Моя мысль", "csrf_token": token},
                headers=FRAGMENT)

    forged = {"group_id": group, "title": "Подброшенная тема", "body": "Подброшенный текст", "csrf_token": sent_token}
    assert client.post("/threads/new/draft", data=forged, headers=FRAGMENT).status_code == 400
    sent = client.post("/threads/", data=forged, headers=FRAGMENT)
    assert sent.status_code == 400 and textarea(sent.text, "thread-body") == "Подброшенный текст"
    assert "открыта до последнего входа" in sent.text
    plain = client.post("/threads/", data=forged)
    assert plain.status_code == 400 and "Подброшенный текст" in plain.text and "Location" not in plain.headers

    db.session.expire_all()
    draft = db.session.get(ThreadDraft, (member, group))
    assert (draft.title, draft.body) == ("Моя тема", "Моя мысль")
    assert db.session.scalar(select(func.count()).select_from(Thread)) == 0


def test_a_signed_out_reply_stays_on_the_page(csrf_app):
    member, thread = _thread_of_one_member()
    client = login(csrf_app.test_client(), member)
    token = csrf_token_from(client.get(f"/threads/{thread}?page=1").text)
    client.delete_cookie("session")
    response = client.post(f"/threads/{thread}/posts", data={"body": "Не пропади", "csrf_token": token}, headers=FRAGMENT)
    assert response.status_code == 401 and "HX-Redirect" not in response.headers
    assert response.headers["HX-Retarget"] == "find .form-alert"  # only the form's message line changes
    autosaved = client.post(f"/threads/{thread}/draft", data={"body": "Не пропади", "csrf_token": token}, headers=FRAGMENT)
    assert autosaved.status_code == 401 and 'href="/login?next=' in autosaved.text


def test_a_post_edited_in_two_tabs_loses_neither_text(client, people, closed_thread):
    login(client, people["librarian"])
    post = factories.make_post(closed_thread, people["librarian"], body="Было")
    bases = [editor_base(client.get(f"/threads/posts/{post}/edit", headers=FRAGMENT).text)
             for _ in range(2)]
    assert client.post(f"/threads/posts/{post}", data={"body": "Первая правка", "base": bases[0]},
                       headers=FRAGMENT).status_code == 200
    refused = client.post(f"/threads/posts/{post}", data={"body": "Вторая правка", "base": bases[1]}, headers=FRAGMENT)
    assert refused.status_code == 409
    assert "Вторая правка</textarea>" in refused.text and "Первая правка</textarea>" in refused.text
    assert db.session.get(Post, post).body == "Первая правка"
