"""Keyboard focus after htmx swaps (static/js/focus.js): someone working with the keyboard
presses a control that the answer replaces, and focus lands in what took its place, never back
on the page's top. Each control is pressed with Enter, as from the keyboard."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from webapp.mentoring.models import NotificationKind

from .. import factories
from .conftest import LiveServer, sign_in

pytestmark = pytest.mark.browser

FOCUSED = """() => {
  const a = document.activeElement;
  if (!a || a === document.body) return null;
  return {tag: a.tagName, id: a.id, text: a.textContent.trim().slice(0, 120)};
}"""


def _press(locator: Locator) -> None:
    locator.focus()
    locator.press("Enter")


def _focused(page: Page) -> dict:
    """What has focus, once it is somewhere (focus.js moves it after htmx has settled the swap)."""
    page.wait_for_function("() => document.activeElement && document.activeElement !== document.body")
    return page.evaluate(FOCUSED)


@pytest.fixture
def live_server_config() -> dict:
    return {"GROUP_POLL_SECONDS": 1, "NOTIFICATION_POLL_SECONDS": 1}


@pytest.fixture
def librarian(live_server: LiveServer) -> dict:
    return live_server.user(login="anna", display_name="Анна Смирнова")


def test_the_journal_pager_and_filter(page, live_server, librarian):
    for n in range(25):
        live_server.seed(factories.make_entry, librarian["id"], title=f"Запись {n}", tags=("чтение",) if n % 2 else ())
    sign_in(page, librarian)
    _press(page.locator("#entry-list .pager a[rel=next]"))
    expect(page).to_have_url(re.compile(r"page=2"))
    assert _focused(page)["id"] == "entry-list-title"  # the list's heading: the next Tab reads the new page

    page.locator("#filter-tag").select_option("чтение")
    _press(page.locator("#entry-list .filters button[type=submit]"))
    expect(page).to_have_url(re.compile(r"tag="))
    focused = _focused(page)
    assert focused["tag"] == "BUTTON" and focused["id"] == "filter-show"  # the same button, to filter again


def test_saving_an_entry_in_place(page, live_server, librarian):
    entry = live_server.seed(factories.make_entry, librarian["id"], title="Черновик плана")
    sign_in(page, librarian)
    page.goto(f"/journal/{entry}")
    _press(page.locator("article.entry .entry-actions a[href$='/edit']"))
    form = page.locator("#entry-form")
    form.locator("input[name=title]").fill("План на четверть")
    _press(form.locator("button[type=submit]"))
    expect(page.locator("article.entry h1.entry-title")).to_have_text("План на четверть")
    focused = _focused(page)
    assert focused["tag"] == "H1" and focused["text"] == "План на четверть"


def test_editing_a_comment(page, live_server, librarian):
    entry = live_server.seed(factories.make_entry, librarian["id"], title="Запись")
    comment = live_server.seed(factories.make_comment, entry, librarian["id"], body="Первый вариант")
    sign_in(page, librarian)
    page.goto(f"/journal/{entry}")
    _press(page.locator(f"#comment-{comment} a", has_text=re.compile("Изменить|Edit")))
    page.locator(f"#comment-{comment} textarea").fill("Второй вариант")
    _press(page.locator(f"#comment-{comment} button[type=submit]"))
    expect(page.locator(f"#comment-{comment} .user-content")).to_have_text("Второй вариант")
    focused = _focused(page)
    assert focused["id"] == f"comment-{comment}" and "Второй вариант" in focused["text"]


def test_saving_the_plan_s_topic(page, live_server, librarian):
    from webapp.plans.progress import current_year

    plan = live_server.seed(lambda: factories.make_plan(librarian["id"], year=current_year(), topic="Старая тема"))
    sign_in(page, librarian)
    page.goto(f"/plans/{plan}")
    _press(page.locator("#plan-header .plan-actions a"))
    page.locator("#plan-header input[name=topic]").fill("Новая тема")
    _press(page.locator("#plan-header button[type=submit]"))
    expect(page.locator("#plan-header h1.plan-topic")).to_have_text("Новая тема")
    focused = _focused(page)
    assert focused["tag"] == "H1" and focused["text"] == "Новая тема"


def test_marking_a_notification_read(page, live_server, librarian):
    colleague = live_server.user(login="olga")
    entry = live_server.seed(factories.make_entry, librarian["id"], title="Запись")
    notification = live_server.seed(factories.make_notification, librarian["id"], NotificationKind.ENTRY_COMMENT,
                                    actor_id=colleague["id"], entry_id=entry)
    sign_in(page, librarian)
    page.goto("/notifications/")
    _press(page.locator(f"#notification-{notification} button[type=submit]"))
    expect(page.locator(f"#notification-{notification}")).not_to_have_class(re.compile(r"\bunread\b"))
    assert _focused(page)["id"] == f"notification-{notification}"  # the row, now read: Tab goes on to the next


def test_sending_a_reply(page, live_server, librarian):
    group = live_server.seed(factories.make_group, "Клуб", members=(librarian["id"],))
    thread = live_server.seed(factories.make_thread, group, librarian["id"], title="Тема")
    sign_in(page, librarian)
    page.goto(f"/threads/{thread}")
    page.locator("#reply-form textarea").fill("Мой ответ")
    _press(page.locator("#reply-form button[type=submit]"))
    expect(page.locator(".post", has_text="Мой ответ")).to_have_count(1)
    focused = _focused(page)  # the same button, in the emptied form
    assert focused["tag"] == "BUTTON" and page.evaluate("() => document.activeElement.closest('form').id") == "reply-form"


def test_adding_a_school(page, live_server):
    admin = live_server.user(login="root", role="admin")
    page.goto("/login")
    page.locator("input[name=login]").fill(admin["login"])
    page.locator("input[name=password]").fill(admin["password"])
    page.locator("main form button[type=submit]").click()
    expect(page.locator("main h1")).to_be_visible()
    page.goto("/admin/schools")
    page.locator("#new-school input[name=name]").fill("Лицей №1")
    _press(page.locator("#new-school button[type=submit]"))
    expect(page.locator("#schools-panel table input[value='Лицей №1']")).to_have_count(1)
    focused = _focused(page)  # the same button, in the emptied form: the next school
    assert focused["tag"] == "BUTTON" and page.evaluate("() => document.activeElement.closest('form').id") == "new-school"


def test_a_poll_never_takes_focus_from_where_it_is(page, live_server, librarian):
    """focus.js moves focus only when a swap removed the focused control: typing elsewhere stays put."""
    for n in range(25):
        live_server.seed(factories.make_entry, librarian["id"], title=f"Запись {n}")
    sign_in(page, librarian)
    box = page.locator("#entry-form input[name=title]")
    box.focus()
    box.type("Заголовок")
    # An entry saved in another tab refreshes the list below (the "entry-saved" event).
    page.evaluate("() => document.body.dispatchEvent(new CustomEvent('entry-saved'))")
    page.wait_for_timeout(500)
    expect(page.locator("#entry-list")).to_be_visible()
    assert page.evaluate("() => document.activeElement.name") == "title"


def test_a_poll_that_replaces_the_focused_link_keeps_focus_on_the_same_link(page, live_server, librarian):
    colleague = live_server.user(login="olga")
    group = live_server.seed(factories.make_group, "Клуб", members=(librarian["id"], colleague["id"]))
    threads = [live_server.seed(factories.make_thread, group, colleague["id"], title=f"Тема {n}") for n in range(3)]
    sign_in(page, librarian)
    page.goto(f"/groups/{group}")
    link = page.locator("#thread-list a", has_text="Тема 1")
    link.focus()
    live_server.seed(factories.make_post, threads[2], colleague["id"], body="Новое")  # the list's poll brings it
    expect(page.locator("#thread-list tr.thread-row").first).to_contain_text("Тема 2")
    assert _focused(page)["text"] == "Тема 1"

    notifications = page.locator("#notification-badge a")
    notifications.focus()
    live_server.seed(factories.make_notification, librarian["id"], NotificationKind.THREAD_REPLY, actor_id=colleague["id"])
    expect(page.locator("#notification-badge .badge-unread")).to_have_text("1")
    focused = _focused(page)
    assert focused["tag"] == "A" and page.evaluate("() => document.activeElement.closest('li').id") == "notification-badge"
