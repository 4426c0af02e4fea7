"""Once: a comment or a post is shown once, however late an answer comes, and saved once, however
quickly its button is pressed twice.

A comment or a post is shown once, however late an answer comes. A poll that takes longer than
the poll interval has the next one wait behind it (htmx's default for one element) with the same
"after" it was triggered with; both answers bring the same news. Each answer goes in at the list's
end marker for the id it asked after, so the second finds that marker gone and adds nothing.

The live server polls every second; the test holds one poll's request for two and a half seconds,
as a busy server would.

A second press of a form's button while its request is on its way would be queued the same way,
with the same text: the forms that add something drop it instead (hx-sync="this:drop")."""
from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, Route, expect
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.mentoring.models import Comment
from webapp.models import JournalEntry, Visibility

from .. import factories
from .conftest import sign_in

pytestmark = pytest.mark.browser

POLL_SECONDS = 1
HELD_SECONDS = 2.5  # more than two poll intervals: the next poll is queued behind the held one


@pytest.fixture
def live_server_config() -> dict:
    return {"COMMENT_POLL_SECONDS": POLL_SECONDS, "THREAD_POLL_SECONDS": POLL_SECONDS, "AUTOSAVE_SECONDS": 600}


def _hold_the_next_poll(page: Page, pattern: str, polls: list[str]) -> None:
    """From now on, the first poll is held HELD_SECONDS before it goes to the server; every poll's
    address is noted."""
    def handle(route: Route) -> None:
        polls.append(route.request.url)
        if len(polls) == 1:
            time.sleep(HELD_SECONDS)
        route.continue_()
    page.route(re.compile(pattern), handle)


def _until(page: Page, condition, seconds: float = 10) -> bool:
    """Waits (letting the page's events run) until `condition()` holds; whether it did."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        page.wait_for_timeout(100)
    return True


def _reading_a_colleague_s_entry(new_page, live_server) -> tuple[Page, int]:
    """Olga has Anna's entry open; Anna has just commented on it. The page and the entry's id."""
    author = live_server.user(login="anna")
    reader = live_server.user(login="olga")
    entry = live_server.seed(factories.make_entry, author["id"], title="Конкурс чтецов", visibility=Visibility.COLLEAGUES)
    page = new_page()
    sign_in(page, reader)
    page.goto(f"/journal/{entry}")
    expect(page.locator("#comment-list .comment")).to_have_count(0)
    live_server.seed(factories.make_comment, entry, author["id"], body="Спасибо всем за участие!")
    return page, entry


def test_a_comment_a_late_poll_brings_again_is_shown_once(new_page, live_server):
    page, entry = _reading_a_colleague_s_entry(new_page, live_server)
    polls: list[str] = []
    _hold_the_next_poll(page, rf"/comments/entry/{entry}\?after=", polls)

    expect(page.locator("#comment-list .comment")).to_have_count(1)
    # The poll queued behind the held one asked with the same id, and got the same comment.
    assert _until(page, lambda: sum(url.endswith("after=0") for url in polls) > 1)
    page.wait_for_timeout(POLL_SECONDS * 2000)  # its answer, and the next poll's, have come
    expect(page.locator("#comment-list .comment")).to_have_count(1)
    assert page.locator(".comment-after").count() == 1


def _reading_a_thread(new_page, live_server) -> tuple[Page, int, dict]:
    """Olga has the thread Marina started open, on its one post. The page, the thread's id, Marina."""
    member = live_server.user(login="olga")
    leader = live_server.user(login="marina")
    group = live_server.seed(factories.make_group, "Творческая группа", is_open=False,
                             leaders=(leader["id"],), members=(member["id"],))
    thread = live_server.seed(factories.make_thread, group, leader["id"], title="Неделя детской книги")
    page = new_page()
    sign_in(page, member)
    page.goto(f"/threads/{thread}")
    expect(page.locator("#post-list article.post")).to_have_count(1)
    return page, thread, leader


def test_a_post_a_late_poll_brings_again_is_shown_once(new_page, live_server):
    page, thread, leader = _reading_a_thread(new_page, live_server)

    live_server.seed(factories.make_post, thread, leader["id"], body="Начнём с выставки новинок.")
    polls: list[str] = []
    _hold_the_next_poll(page, rf"/threads/{thread}/poll\?", polls)

    expect(page.locator("#post-list article.post")).to_have_count(2)
    first = re.search(r"after=(\d+)", polls[0]).group(1)
    assert _until(page, lambda: sum(f"after={first}" in url for url in polls) > 1)
    page.wait_for_timeout(POLL_SECONDS * 2000)
    expect(page.locator("#post-list article.post")).to_have_count(2)
    assert page.locator(".thread-after").count() == 1


def test_a_late_poll_answer_leaves_the_newer_post_count(new_page, live_server):
    """A poll's answer, counted before my reply, comes after my reply's: the header keeps the count
    my reply brought."""
    page, thread, leader = _reading_a_thread(new_page, live_server)
    expect(page.locator("#thread-head .post-count")).to_have_text("1 сообщение")
    page.locator("#reply-form textarea[name=body]").fill("Я принесу новинки из нашей библиотеки.")

    held: list[str] = []

    def late(route: Route) -> None:
        answer = route.fetch()
        if answer.status == 200 and not held:  # the poll that found the new post: counted now, two posts
            held.append(route.request.url)
            page.evaluate("document.querySelector('#reply-form button[type=submit]').click()")
            time.sleep(HELD_SECONDS)  # my reply is sent and its answer shown meanwhile
        route.fulfill(response=answer)
    page.route(re.compile(rf"/threads/{thread}/poll\?"), late)
    live_server.seed(factories.make_post, thread, leader["id"], body="Начнём с выставки новинок.")

    expect(page.locator("#post-list article.post")).to_have_count(3)
    expect(page.locator("#thread-head .post-count")).to_have_text("3 сообщения")
    assert held, "no poll brought the leader's post"
    page.wait_for_timeout(POLL_SECONDS * 2000)  # the late answer, and the next poll's, have come
    expect(page.locator("#thread-head .post-count")).to_have_text("3 сообщения")
    expect(page.locator("#post-list article.post")).to_have_count(3)


def _count(live_server, model) -> int:
    return live_server.seed(lambda: db.session.scalar(select(func.count()).select_from(model)))


def _slow_posts(page: Page, pattern: str) -> None:
    """Every POST to `pattern` reaches the server a second late, as on a busy day."""
    def handle(route: Route) -> None:
        if route.request.method == "POST":
            time.sleep(1)
        route.continue_()
    page.route(re.compile(pattern), handle)


def test_a_comment_sent_with_a_double_click_is_saved_once(new_page, live_server):
    author = live_server.user(login="anna")
    entry = live_server.seed(factories.make_entry, author["id"], title="Конкурс чтецов", visibility=Visibility.COLLEAGUES)
    page = new_page()
    sign_in(page, author)
    page.goto(f"/journal/{entry}")
    page.locator("#comment-form textarea[name=body]").fill("Спасибо всем за участие!")
    _slow_posts(page, rf"/comments/entry/{entry}$")
    page.locator("#comment-form button[type=submit]").dblclick()
    expect(page.locator("#comment-form textarea[name=body]")).to_have_value("", timeout=10_000)
    page.wait_for_timeout(2500)  # a second request, had one been queued, has come and gone
    assert _count(live_server, Comment) == 1
    expect(page.locator("#comment-list .comment")).to_have_count(1)


def test_an_entry_saved_with_a_double_click_is_saved_once(new_page, live_server):
    author = live_server.user(login="anna")
    page = new_page()
    sign_in(page, author)
    page.locator("#entry-form input[name=title]").fill("Неделя детской книги")
    page.locator("#entry-form textarea[name=body]").fill("Провели громкие чтения.")
    _slow_posts(page, r"/journal/$")
    page.locator("#entry-form button[type=submit]").first.dblclick()
    expect(page.locator("#entry-form input[name=title]")).to_have_value("", timeout=10_000)
    page.wait_for_timeout(2500)
    assert _count(live_server, JournalEntry) == 1


@pytest.mark.parametrize("live_server_config", [{"COMMENT_POLL_SECONDS": 60, "AUTOSAVE_SECONDS": 600}])
def test_my_comment_shows_even_when_a_poll_answered_first(new_page, live_server, live_server_config):
    """The page's poll brings someone's comment while mine is on its way: my comment's answer finds
    the end marker it asked after gone, and the poller, asked at once, brings mine (polls here come
    only once a minute, so nothing else could)."""
    page, entry = _reading_a_colleague_s_entry(new_page, live_server)

    def held(route: Route) -> None:
        if route.request.method == "POST":
            page.evaluate("document.body.dispatchEvent(new Event('comment-added'))")  # the page polls meanwhile
            time.sleep(1.5)
        route.continue_()
    page.route(re.compile(rf"/comments/entry/{entry}$"), held)
    page.locator("#comment-form textarea[name=body]").fill("И от меня спасибо!")
    page.locator("#comment-form button[type=submit]").click()
    expect(page.locator("#comment-list .comment")).to_have_count(2, timeout=5_000)
    expect(page.locator("#comment-list .comment").last).to_contain_text("И от меня спасибо!")
    assert page.locator(".comment-after").count() == 1
