"""Keyboard focus after htmx swaps (static/js/focus.js): someone working with the keyboard
presses a control that the answer replaces, and focus lands in what took its place, never back
on the page's top. Each control is pressed with Enter, as from the keyboard."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from webapp.mentoring.models import NotificationKind
from webapp.models import Visibility

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


def _sign_in_as(page: Page, person: dict) -> None:
    page.goto("/login")
    page.locator("input[name=login]").fill(person["login"])
    page.locator("input[name=password]").fill(person["password"])
    page.locator("main form button[type=submit]").click()
    expect(page.locator("main h1")).to_be_visible()


def _focus_lands(page: Page, where: str) -> None:
    """Wait until the focused element is `where` (a JS expression of `a`, the active element):
    focus.js moves it once htmx has settled the swap, a moment after the new content shows."""
    page.wait_for_function(f"() => {{ const a = document.activeElement; return !!a && a !== document.body && ({where}); }}")


def _focused(page: Page) -> dict:
    """What has focus, once it is somewhere (focus.js moves it after htmx has settled the swap)."""
    page.wait_for_function("() => document.activeElement && document.activeElement !== document.body")
    return page.evaluate(FOCUSED)


def _saved_in_place(page: Page, opener: str, editor: str, field: str, text: str, heading: str) -> None:
    """Open an editor with its link (focus lands in `field`), type `text`, save: focus lands on the
    saved thing's heading, which reads `text`."""
    _press(page.locator(opener))
    _focus_lands(page, f"a.name === '{field}'")
    page.locator(f"{editor} input[name={field}]").fill(text)
    _press(page.locator(f"{editor} button[type=submit]"))
    expect(page.locator(heading)).to_have_text(text)
    focused = _focused(page)
    assert focused["tag"] == "H1" and focused["text"] == text


@pytest.fixture
def live_server_config() -> dict:
    return {"GROUP_POLL_SECONDS": 1, "NOTIFICATION_POLL_SECONDS": 1, "THREAD_POLL_SECONDS": 1}


@pytest.fixture
def librarian(live_server: LiveServer) -> dict:
    return live_server.user(login="anna", display_name="Анна Смирнова")


def test_the_journal_pager_and_filter(page, live_server, librarian):
    for n in range(25):
        live_server.seed(factories.make_entry, librarian["id"], title=f"Запись {n}", tags=("чтение",) if n % 2 else ())
    sign_in(page, librarian)
    _press(page.locator("#entry-list .pager a[rel=next]"))
    expect(page).to_have_url(re.compile(r"page=2"))  # pushed before the swap: wait for focus to land
    _focus_lands(page, "a.id === 'entry-list-title'")  # the list's heading: the next Tab reads the new page

    page.locator("#filter-tag").select_option("чтение")
    _press(page.locator("#entry-list .filters button[type=submit]"))
    expect(page).to_have_url(re.compile(r"tag="))
    _focus_lands(page, "a.tagName === 'BUTTON' && a.id === 'filter-show'")  # the same button, to filter again



def test_the_notifications_pager_lands_on_the_list_s_heading(page, live_server, librarian):
    colleague = live_server.user(login="olga")
    entry = live_server.seed(factories.make_entry, librarian["id"], title="Запись")
    for _ in range(25):
        live_server.seed(factories.make_notification, librarian["id"], NotificationKind.ENTRY_COMMENT,
                         actor_id=colleague["id"], entry_id=entry)
    sign_in(page, librarian)
    page.goto("/notifications/")
    _press(page.locator("#notification-list .pager a[rel=next]"))
    expect(page).to_have_url(re.compile(r"page=2"))
    _focus_lands(page, "a.tagName === 'H1' && a.id === 'notification-list-title'")

def test_saving_an_entry_in_place(page, live_server, librarian):
    entry = live_server.seed(factories.make_entry, librarian["id"], title="Черновик плана")
    sign_in(page, librarian)
    page.goto(f"/journal/{entry}")
    _saved_in_place(page, "article.entry .entry-actions a[href$='/edit']", "#entry-form", "title", "План на четверть",
                    "article.entry h1.entry-title")


def test_editing_a_comment(page, live_server, librarian):
    entry = live_server.seed(factories.make_entry, librarian["id"], title="Запись")
    comment = live_server.seed(factories.make_comment, entry, librarian["id"], body="Первый вариант")
    sign_in(page, librarian)
    page.goto(f"/journal/{entry}")
    _press(page.locator(f"#comment-{comment} a", has_text=re.compile("Изменить|Edit")))
    _focus_lands(page, "a.tagName === 'TEXTAREA'")  # the editor the link opened: its text, not one Tab away
    page.locator(f"#comment-{comment} textarea").fill("Второй вариант")
    _press(page.locator(f"#comment-{comment} button[type=submit]"))
    expect(page.locator(f"#comment-{comment} .user-content")).to_have_text("Второй вариант")
    focused = _focused(page)
    assert focused["id"] == f"comment-{comment}" and "Второй вариант" in focused["text"]



@pytest.mark.parametrize("editing", ["comment", "entry"])
def test_cancel_returns_focus_to_the_link_that_opened_the_editor(page, live_server, librarian, editing):
    entry = live_server.seed(factories.make_entry, librarian["id"], title="Запись")
    comment = live_server.seed(factories.make_comment, entry, librarian["id"], body="Первый вариант")
    sign_in(page, librarian)
    page.goto(f"/journal/{entry}")
    where = f"#comment-{comment}" if editing == "comment" else f"#entry-{entry} .entry-actions"
    edit = page.locator(f"{where} a[href$='/edit']")
    # Its name says which comment it edits; the words that say so are not seen.
    name = re.compile("^Изменить комментарий от" if editing == "comment" else "^Изменить$")
    expect(page.get_by_role("link", name=name)).to_have_count(1)
    hidden = page.locator(f"{where} a[href$='/edit'] .visually-hidden")
    assert hidden.count() == 0 or hidden.bounding_box()["width"] <= 1
    _press(edit)
    _focus_lands(page, "a.tagName === 'TEXTAREA' || a.name === 'title'")
    _press(page.locator("main form a", has_text="Отмена"))
    _focus_lands(page, "a.tagName === 'A' && a.getAttribute('href').endsWith('/edit')")
    assert page.evaluate("() => document.activeElement.closest('article').id") == (
        f"comment-{comment}" if editing == "comment" else f"entry-{entry}")

def test_saving_the_plan_s_topic(page, live_server, librarian):
    from webapp.plans.progress import current_year

    plan = live_server.seed(lambda: factories.make_plan(librarian["id"], year=current_year(), topic="Старая тема"))
    sign_in(page, librarian)
    page.goto(f"/plans/{plan}")
    _saved_in_place(page, "#plan-header .plan-actions a", "#plan-header", "topic", "Новая тема", "#plan-header h1.plan-topic")


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
    _sign_in_as(page, live_server.user(login="root", role="admin"))
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


@pytest.fixture
def plan(live_server, librarian) -> dict:
    from webapp.plans.progress import current_year

    plan = live_server.seed(lambda: factories.make_plan(librarian["id"], year=current_year(), topic="Тема"))
    steps = [live_server.seed(factories.make_step, plan, title=f"Шаг {n}") for n in range(3)]
    return {"id": plan, "steps": steps}


def test_a_plan_step_saved_or_deleted(page, librarian, plan):
    sign_in(page, librarian)
    page.goto(f"/plans/{plan['id']}")
    first, second, third = (f"#step-{s}" for s in plan["steps"])
    _press(page.locator(f"{first} summary"))
    page.locator(f"{first} input[name$=title]").fill("Шаг первый")
    _press(page.locator(f"{first} button", has_text=re.compile("Сохранить шаг|Save the step")))
    expect(page.locator(f"{first} .step-title")).to_have_text("Шаг первый")
    assert _focused(page)["id"] == first[1:]  # the row: its edit form is folded away again

    page.on("dialog", lambda dialog: dialog.accept())
    _press(page.locator(f"{second} summary"))
    _press(page.locator(f"{second} button.danger"))
    expect(page.locator(second)).to_have_count(0)
    assert _focused(page)["id"] == third[1:]  # the row after the deleted one


def test_arrowing_through_a_step_s_status_saves_nothing_until_asked(page, live_server, librarian, plan):
    from webapp.mentoring.models import PlanStep

    sign_in(page, librarian)
    page.goto(f"/plans/{plan['id']}")
    step = plan["steps"][0]
    page.locator(f"#status-{step}").focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.wait_for_timeout(500)
    assert live_server.seed(lambda: factories.db.session.get(PlanStep, step).status) == "planned"
    _press(page.locator(f"#step-{step} form.step-status button"))
    expect(page.locator(f"#step-{step}")).not_to_have_class(re.compile(r"\bstep-planned\b"))


def test_a_refused_form_puts_focus_on_its_first_invalid_field(page, live_server, librarian, browser_watch):
    browser_watch.expect_status(422)
    entry = live_server.seed(factories.make_entry, librarian["id"], title="Запись")
    sign_in(page, librarian)
    page.goto(f"/journal/{entry}")
    _press(page.locator("article.entry .entry-actions a[href$='/edit']"))
    page.locator("#entry-form input[name=title]").fill(" ")
    page.locator("#entry-form input[name=title]").evaluate("(el) => el.removeAttribute('required')")
    _press(page.locator("#entry-form button[type=submit]"))
    expect(page.locator("#entry-form .field.has-error")).to_have_count(1)
    _focus_lands(page, "a.tagName === 'INPUT' && a.name === 'title'")
    described = page.evaluate("() => document.activeElement.getAttribute('aria-describedby')")
    assert page.locator(f"#{described.split()[0]}").inner_text().strip()  # read out with the field: its error


def test_removing_a_member_never_lands_on_the_next_member_s_button(page, live_server, librarian):
    members = [live_server.user(login=login, display_name=name) for login, name in (("alla", "Алла"), ("boris", "Борис"))]
    group = live_server.seed(factories.make_group, "Клуб", leaders=(librarian["id"],),
                             members=tuple(m["id"] for m in members))
    sign_in(page, librarian)
    page.goto(f"/groups/{group}/members")
    page.on("dialog", lambda dialog: dialog.accept())
    _press(page.locator(f"#member-{members[0]['id']} button"))
    expect(page.locator(f"#member-{members[0]['id']}")).to_have_count(0)
    focused = _focused(page)
    assert focused["tag"] != "BUTTON", focused  # Enter again must not remove Борис


def test_a_quote_puts_the_caret_after_it_in_the_reply_box(page, live_server, librarian):
    group = live_server.seed(factories.make_group, "Клуб", members=(librarian["id"],))
    thread = live_server.seed(factories.make_thread, group, librarian["id"], title="Тема", body="Цитируемый текст")
    sign_in(page, librarian)
    page.goto(f"/threads/{thread}")
    _press(page.locator(".post a.quote-link").first)
    box = page.locator("#reply-form textarea")
    expect(box).to_have_value(re.compile("> Цитируемый текст"))
    _focus_lands(page, "a.tagName === 'TEXTAREA' && a.selectionStart === a.value.length")


def test_answering_an_awaiting_entry_goes_to_the_next_entry_s_title(page, live_server):
    methodist = live_server.user(login="ruslana", role="methodist")
    mentee = live_server.user(login="anna")
    live_server.seed(factories.assign_mentor, methodist["id"], mentee["id"])
    for n in range(3):
        live_server.seed(factories.make_entry, mentee["id"], title=f"Запись {n}", visibility=Visibility.MENTORS)
    _sign_in_as(page, methodist)
    page.goto("/mentoring/awaiting")
    _press(page.locator("#awaiting-list li a").first)
    expect(page).to_have_url(re.compile(r"/mentoring/awaiting/\d+"))
    title = page.locator("#reading-pane-title").inner_text()
    _press(page.locator("#reading-pane button[value=accepted]"))
    expect(page.locator("#reading-pane-title")).not_to_have_text(title)
    focused = _focused(page)
    assert focused["id"] == "reading-pane-title", focused  # not the next entry's "Accepted": read, then answer


def test_the_button_kept_in_focus_after_sending_a_comment_is_in_view(page, live_server, librarian):
    entry = live_server.seed(factories.make_entry, librarian["id"], title="Запись", body="Текст\n\n" * 30)
    for n in range(5):
        live_server.seed(factories.make_comment, entry, librarian["id"], body=f"Комментарий {n}\n\n" * 4)
    page.set_viewport_size({"width": 1000, "height": 600})
    sign_in(page, librarian)
    page.goto(f"/journal/{entry}")
    form = page.locator("form.comment-form")
    form.locator("textarea").fill("Длинный ответ\n\n" * 12)
    _press(form.locator("button[type=submit]"))
    expect(page.locator(".comment", has_text="Длинный ответ")).to_have_count(1)
    assert _focused(page)["tag"] == "BUTTON"
    page.wait_for_function("""() => { const r = document.activeElement.getBoundingClientRect();
                                         return r.top >= 0 && r.bottom <= window.innerHeight; }""")


def _lock(thread_id: int, locked: bool) -> None:
    from webapp.groups.models import Thread

    factories.db.session.get(Thread, thread_id).locked = locked
    factories.db.session.commit()


def test_a_thread_closed_and_reopened_while_replying_keeps_focus_in_the_reply_area(page, live_server, librarian):
    leader = live_server.user(login="marina")
    group = live_server.seed(factories.make_group, "Клуб", leaders=(leader["id"],), members=(librarian["id"],))
    thread = live_server.seed(factories.make_thread, group, leader["id"], title="Тема")
    sign_in(page, librarian)
    page.goto(f"/threads/{thread}")
    page.locator("#reply-form textarea").focus()
    page.keyboard.type("Мой ответ")
    live_server.seed(_lock, thread, True)
    expect(page.locator("#reply-form.reply-locked")).to_have_count(1)
    _focus_lands(page, "a.closest('#reply-form') !== null")
    live_server.seed(_lock, thread, False)
    expect(page.locator("#reply-form textarea")).to_have_value(re.compile("Мой ответ"))
    page.wait_for_function("() => document.activeElement.closest('#reply-form form, form#reply-form') !== null")


def test_a_switch_keeps_focus_when_its_words_change(page, live_server, librarian):
    group = live_server.seed(factories.make_group, "Клуб", leaders=(librarian["id"],))
    thread = live_server.seed(factories.make_thread, group, librarian["id"], title="Тема")
    sign_in(page, librarian)
    page.goto(f"/threads/{thread}")
    words = page.locator("#thread-head .pin-switch").inner_text()
    _press(page.locator("#thread-head .pin-switch"))
    expect(page.locator("#thread-head .pin-switch")).not_to_have_text(words)
    _focus_lands(page, "a.classList.contains('pin-switch')")
