"""Text not saved yet (static/js/unsaved.js): leaving a page with text typed since the form's last
save asks first; a save that cannot reach the server says so and leaves the text in place."""
from __future__ import annotations

import time

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from .. import factories
from .conftest import LiveServer, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def librarian(live_server: LiveServer) -> dict:
    return live_server.user(login="anna", display_name="Анна Смирнова")


@pytest.fixture
def comment_page(page: Page, live_server: LiveServer, librarian: dict) -> dict:
    entry = live_server.seed(factories.make_entry, librarian["id"], title="Запись")
    comment = live_server.seed(factories.make_comment, entry, librarian["id"], body="Первый вариант")
    sign_in(page, librarian)
    page.goto(f"/journal/{entry}")
    return {"entry": entry, "comment": comment}


def _leaving_asks(page: Page) -> bool:
    """Close the tab as a person would (its beforeunload handlers run); True if the browser asked
    first, and then the person stays on the page."""
    asked = []

    def stay(dialog):
        asked.append(dialog.type)
        dialog.dismiss()
    page.on("dialog", stay)
    page.close(run_before_unload=True)
    deadline = time.monotonic() + 10
    while not asked and not page.is_closed() and time.monotonic() < deadline:
        try:
            page.wait_for_event("close", timeout=100)  # events, the dialog among them, are handled meanwhile
        except PlaywrightError:
            pass
    return asked == ["beforeunload"]


def _open_the_editor(page: Page, comment: int) -> None:
    page.locator(f"#comment-{comment} a[href$='/edit']").click()
    box = page.locator(f"#comment-{comment} textarea")
    box.press("End")
    box.press_sequentially(" и исправленный")


def test_leaving_with_an_edit_not_saved_asks_first(page, comment_page):
    _open_the_editor(page, comment_page["comment"])
    assert _leaving_asks(page)
    assert not page.is_closed()
    expect(page.locator(f"#comment-{comment_page['comment']} textarea")).to_have_value("Первый вариант и исправленный")


def test_leaving_after_saving_asks_nothing(page, comment_page):
    comment = comment_page["comment"]
    _open_the_editor(page, comment)
    page.locator(f"#comment-{comment} button[type=submit]").click()
    expect(page.locator(f"#comment-{comment} .user-content")).to_have_text("Первый вариант и исправленный")
    assert not _leaving_asks(page)
    assert page.is_closed()


def test_leaving_after_the_autosave_asks_nothing(page, comment_page):
    page.locator("#comment-form textarea").press_sequentially("Комментарий, сохранённый как черновик")
    expect(page.locator("#comment-form .save-status")).to_contain_text("Черновик сохранён", timeout=10_000)
    assert not _leaving_asks(page)


def test_a_save_that_cannot_reach_the_server_says_so_and_keeps_the_text(page, comment_page, browser_watch):
    comment = comment_page["comment"]
    _open_the_editor(page, comment)
    page.route(f"**/comments/{comment}", lambda route: route.abort() if route.request.method == "POST" else route.continue_())
    page.locator(f"#comment-{comment} button[type=submit]").click()
    expect(page.locator(f"#comment-{comment} .form-alert")).to_have_text(
        "Сервер не ответил, поэтому сохранение не подтверждено. Ваш текст остался здесь: нажмите кнопку ещё раз через минуту.")
    expect(page.locator(f"#comment-{comment} textarea")).to_have_value("Первый вариант и исправленный")
    assert _leaving_asks(page)
    # What the cut network itself logs: the failed request, and htmx reporting it.
    browser_watch.console_errors[:] = [(text, url) for text, url in browser_watch.console_errors
                                       if "ERR_FAILED" not in text and "Failed to fetch" not in text]


def test_a_refused_edit_is_still_unsaved(page, comment_page, browser_watch):
    browser_watch.expect_status(422)
    comment = comment_page["comment"]
    page.locator(f"#comment-{comment} a[href$='/edit']").click()
    box = page.locator(f"#comment-{comment} textarea")
    box.fill("Слишком длинный комментарий. " * 800)  # over the 20,000 characters a comment may have
    box.press("End")
    box.press_sequentially("!")
    page.locator(f"#comment-{comment} button[type=submit]").click()
    expect(page.locator(f"#comment-{comment} .field.has-error")).to_be_visible()
    assert _leaving_asks(page)


def test_an_autosave_after_the_session_ended_is_no_save(page, comment_page, browser_watch):
    browser_watch.expect_status(401)
    page.context.clear_cookies()
    page.locator("#comment-form textarea").press_sequentially("Комментарий после конца сеанса")
    expect(page.locator("#comment-form .save-status")).to_contain_text("Сеанс завершился", timeout=10_000)
    assert _leaving_asks(page)


def test_requests_that_come_from_no_element_break_nothing(page: Page, comment_page: dict, browser_watch):
    """htmx may fire its request events on the document itself (a poll's news can ask from there):
    the handlers take them as what they are, with no script error (browser_watch fails on one)."""
    page.evaluate("""() => {
      const ctx = {response: {status: 200}, sentAt: Date.now()};
      document.dispatchEvent(new CustomEvent("htmx:after:request", {detail: {ctx}}));
      document.dispatchEvent(new CustomEvent("htmx:error", {detail: {ctx: {}}}));
    }""")
    page.wait_for_timeout(100)  # page errors are reported asynchronously
    assert browser_watch.page_errors == []
