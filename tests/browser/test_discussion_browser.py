"""Issue 4's "Done when" in a real browser: two people in one thread, each in a browser context of
their own. The leader replies and the member, without a reload, sees the reply appear at the end
with the unread marker; the member starts a reply, the leader closes the thread, and on the member's
next refresh the reply form is gone while the unsent text is kept as a draft. And a group's thread
list and the navigation's unread count refresh themselves when a thread or a post appears.

The live server here polls every second (the harness's app uses the slow defaults). Elements are
found by id, class and data-count, text only where it is data the test typed."""
from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from webapp.extensions import db
from webapp.groups.models import Post, PostDraft, Thread

from .. import factories
from .conftest import LiveServer, sign_in

pytestmark = pytest.mark.browser

POLL_SECONDS = 1
# One poll interval, plus a request's round trip and a margin for a busy machine.
WITHIN_ONE_POLL_MS = POLL_SECONDS * 1000 + 1_500

FIRST_POST = "С чего начнём подготовку к **Неделе детской книги**?"
LEADER_SAYS = "Предлагаю начать с *выставки* новинок."
MEMBER_TYPES = "Согласна, а ещё можно"
MEMBER_GOES_ON = " устроить громкие чтения в 3-х классах."


@pytest.fixture
def live_server_config() -> dict:
    """The harness's live server, with the thread, the thread list and the badges polling every second.
    The reply form's periodic autosave is off: only typing, and the thread's poll, make it save."""
    return {"THREAD_POLL_SECONDS": POLL_SECONDS, "GROUP_POLL_SECONDS": POLL_SECONDS,
            "NOTIFICATION_POLL_SECONDS": POLL_SECONDS, "AUTOSAVE_SECONDS": 600}


@pytest.fixture
def circle(live_server) -> dict:
    """A closed group with a leader and a member, and a thread the leader started."""
    leader = live_server.user(login="marina", display_name="Марина Котова")
    member = live_server.user(login="olga", display_name="Ольга Белова")
    group = live_server.seed(factories.make_group, "Творческая группа «Читай-город»", is_open=False,
                             leaders=(leader["id"],), members=(member["id"],))
    thread = live_server.seed(factories.make_thread, group, leader["id"], title="Неделя детской книги", body=FIRST_POST)
    return {"leader": leader, "member": member, "group": group, "thread": thread}


def _mark_page(page: Page) -> None:
    """A marker that only survives as long as the document does: gone after any page load."""
    page.evaluate("() => { window.__noReload = 1 }")


def _not_reloaded(page: Page) -> bool:
    return page.evaluate("() => window.__noReload") == 1


def _left_of_one_poll(since: float, extra_ms: int = 0) -> float:
    """Milliseconds left of one poll interval (+ margin) counted from `since` (time.monotonic())."""
    return max(WITHIN_ONE_POLL_MS + extra_ms - (time.monotonic() - since) * 1000, 1)


def _open_thread(page: Page, person: dict, thread_id: int) -> None:
    sign_in(page, person)
    page.goto(f"/threads/{thread_id}")
    expect(page).to_have_url(re.compile(rf"/threads/{thread_id}\?page=1#post-\d+$"))
    expect(page.locator("form#reply-form")).to_be_visible()
    _mark_page(page)


def _posts(page: Page) -> Locator:
    return page.locator("#post-list article.post")


def _newest_post_id(live_server: LiveServer, thread_id: int) -> int:
    return live_server.seed(lambda: db.session.scalar(
        select(Post.id).where(Post.thread_id == thread_id).order_by(Post.id.desc()).limit(1)))


def _draft(live_server: LiveServer, user_id: int, thread_id: int) -> str | None:
    def read():
        draft = db.session.get(PostDraft, (user_id, thread_id))
        return draft.body if draft else None
    return live_server.seed(read)


def test_a_reply_appears_for_the_other_and_closing_keeps_the_unsent_reply(new_page, live_server, circle):
    thread = circle["thread"]
    leader, member = new_page(), new_page()
    _open_thread(member, circle["member"], thread)
    _open_thread(leader, circle["leader"], thread)
    expect(_posts(member)).to_have_count(1)
    expect(_posts(leader)).to_have_count(1)

    # The member starts typing before anything happens: a poll must never touch it.
    member.locator("#reply-body").fill(MEMBER_TYPES)

    # 1. The leader replies through the form: the form empties, her post appears at the end, not marked new for her.
    leader.locator("#reply-body").fill(LEADER_SAYS)
    leader.locator("#reply-form button[type=submit]").click()
    sent_at = time.monotonic()
    expect(_posts(leader)).to_have_count(2)
    expect(leader.locator("#reply-body")).to_have_value("")
    reply_id = _newest_post_id(live_server, thread)
    expect(_posts(leader).last).to_have_id(f"post-{reply_id}")
    expect(_posts(leader).last).not_to_have_class(re.compile(r"\bpost-unread\b"))
    expect(leader.locator(f"#post-{reply_id} .user-content em")).to_have_text("выставки")
    expect(leader.locator("#thread-head .post-count")).to_have_text("2 сообщения")

    #    Without a reload, the member sees it appear at the end within one poll, with the unread marker.
    expect(_posts(member)).to_have_count(2, timeout=_left_of_one_poll(sent_at))
    reply_delay = time.monotonic() - sent_at
    appended = _posts(member).last
    expect(appended).to_have_id(f"post-{reply_id}")
    expect(appended).to_have_class(re.compile(r"\bpost-unread\b"))
    expect(appended.locator(".badge-unread")).to_have_count(1)
    expect(appended.locator(".user-content")).to_contain_text("Предлагаю начать с выставки новинок.")
    expect(member.locator("#reply-body")).to_have_value(MEMBER_TYPES)
    expect(member.locator("#thread-head .post-count")).to_have_text("2 сообщения")
    assert _not_reloaded(member), "the member's page was reloaded"
    assert _not_reloaded(leader), "the leader's page was reloaded"

    # 2. The member goes on typing; nothing is sent. Her form autosaves the text once she pauses;
    #    after that save nothing but the thread's poll can change her form (the periodic autosave
    #    is off here), so what follows is the work of "the next refresh".
    member.locator("#reply-body").press("End")
    member.locator("#reply-body").press_sequentially(MEMBER_GOES_ON)
    unsent = MEMBER_TYPES + MEMBER_GOES_ON
    expect(member.locator("#reply-form .save-status")).not_to_be_empty(timeout=4_000)
    assert _draft(live_server, circle["member"]["id"], thread) == unsent
    #    The leader closes the thread through its switch.
    leader.once("dialog", lambda dialog: dialog.accept())
    leader.locator("#thread-head .lock-switch").click()
    expect(leader.locator("#thread-head .badge-locked")).to_be_visible()
    closed_at = time.monotonic()
    expect(leader.locator("form#reply-form")).to_have_count(0)
    assert live_server.seed(lambda: db.session.get(Thread, thread).locked)

    #    On the member's next refresh: the reply form is gone, the page says the thread is closed,
    #    and what she typed is kept, shown in the notice and still stored as her draft (the form's
    #    last save, sent when the poll tells it the thread was closed: one more round trip allowed).
    expect(member.locator("form#reply-form")).to_have_count(0, timeout=_left_of_one_poll(closed_at, extra_ms=500))
    close_delay = time.monotonic() - closed_at
    expect(member.locator("section#reply-form.reply-locked")).to_be_visible()
    expect(member.locator("#thread-head .badge-locked")).to_be_visible()
    expect(member.locator("#thread-head .thread-locked-banner")).to_be_visible()
    expect(member.locator("#reply-kept")).to_have_value(unsent)
    assert _draft(live_server, circle["member"]["id"], thread) == unsent

    # 3. Neither page was reloaded; each post is shown once, in order, on both sides; nothing more was posted.
    assert _not_reloaded(member), "the member's page was reloaded"
    assert _not_reloaded(leader), "the leader's page was reloaded"
    first_id = live_server.seed(lambda: db.session.scalar(select(Post.id).where(Post.thread_id == thread).order_by(Post.id)))
    for side in (member, leader):
        expect(_posts(side)).to_have_count(2)
        expect(_posts(side).first).to_have_id(f"post-{first_id}")
        expect(_posts(side).last).to_have_id(f"post-{reply_id}")
    assert live_server.seed(lambda: list(db.session.scalars(
        select(Post.author_id).where(Post.thread_id == thread).order_by(Post.id)))) == [circle["leader"]["id"]] * 2
    print(f"\nthe member saw the reply {reply_delay:.2f}s after it was sent; "
          f"her form gave way to the closed notice {close_delay:.2f}s after the thread was closed")


def _nav_count(page: Page) -> Locator:
    return page.locator("#nav-groups .badge-unread")


def _rows(page: Page) -> Locator:
    return page.locator("#thread-list tbody tr.thread-row")


def test_the_thread_list_and_the_nav_count_refresh_themselves(new_page, live_server, circle):
    group, old = circle["group"], circle["thread"]
    leader, member = new_page(), new_page()

    # The member has read the thread; she keeps her group's page open: nothing new anywhere.
    _open_thread(member, circle["member"], old)
    member.goto(f"/groups/{group}")
    expect(_rows(member)).to_have_count(1)
    expect(member.locator(f"#thread-{old}")).not_to_have_class(re.compile(r"\bunread\b"))
    expect(member.locator(f"#thread-{old} .post-count")).to_have_attribute("data-count", "1")
    expect(_nav_count(member)).to_have_count(0)
    _mark_page(member)

    # The leader replies in the thread: the member's list marks it new, counts the post; her nav count rises.
    _open_thread(leader, circle["leader"], old)
    leader.locator("#reply-body").fill(LEADER_SAYS)
    leader.locator("#reply-form button[type=submit]").click()
    expect(_posts(leader)).to_have_count(2)
    replied_at = time.monotonic()
    expect(member.locator(f"#thread-{old}")).to_have_class(re.compile(r"\bunread\b"), timeout=_left_of_one_poll(replied_at))
    list_delay = time.monotonic() - replied_at
    expect(member.locator(f"#thread-{old} .post-count")).to_have_attribute("data-count", "2")
    expect(_nav_count(member)).to_have_attribute("data-count", "1", timeout=_left_of_one_poll(replied_at))
    nav_delay = time.monotonic() - replied_at

    # The leader starts a new thread through the form: it comes first in the member's list, marked new; the count rises again.
    leader.goto(f"/threads/new?group_id={group}")
    leader.locator("#thread-title").fill("План заседания в марте")
    leader.locator("#thread-body").fill("Повестка: итоги конкурса чтецов, обмен опытом.")
    leader.locator("#thread-form button[type=submit]").click()
    expect(leader).to_have_url(re.compile(r"/threads/\d+\?page=1#post-\d+$"))
    started_at = time.monotonic()
    new = live_server.seed(lambda: db.session.scalar(select(Thread.id).where(Thread.group_id == group).order_by(Thread.id.desc())))
    assert new != old
    expect(_rows(member)).to_have_count(2, timeout=_left_of_one_poll(started_at))
    expect(_rows(member).first).to_have_id(f"thread-{new}")
    expect(_rows(member).first).to_have_class(re.compile(r"\bunread\b"))
    expect(member.locator(f"#thread-{new} a")).to_have_text("План заседания в марте")
    expect(_nav_count(member)).to_have_attribute("data-count", "2", timeout=_left_of_one_poll(started_at))

    assert _not_reloaded(member), "the member's page was reloaded"
    print(f"\nthe member's thread list showed the reply after {list_delay:.2f}s, her nav count rose after {nav_delay:.2f}s")
