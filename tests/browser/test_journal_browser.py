"""The journal in a real browser, used the way a librarian uses it.

No Russian catalogue exists yet, so elements are found by role, name, id and class; text is
matched only where it is data the test typed (titles, bodies)."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from webapp.models import Visibility

from .. import factories
from .conftest import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def librarian(live_server) -> dict:
    school = live_server.seed(factories.make_school, "Гимназия №3")
    return live_server.user(login="anna", display_name="Анна Смирнова", school_id=school)


def _mark_page(page: Page) -> None:
    """A marker that only survives as long as the document does: gone after any page load."""
    page.evaluate("() => { window.__noReload = 1 }")


def _not_reloaded(page: Page) -> bool:
    return page.evaluate("() => window.__noReload") == 1


def test_sign_in_through_the_form_lands_on_my_journal(page, librarian):
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login$"))
    page.locator("input[name=login]").fill("anna")
    page.locator("input[name=password]").fill(librarian["password"])
    page.locator("main form button[type=submit]").click()

    expect(page).to_have_url(re.compile(r"/journal/$"))
    expect(page.locator("nav a[href='/account']")).to_have_text("Анна Смирнова")
    expect(page.locator("#entry-form")).to_be_visible()
    expect(page.locator("#entry-list")).to_be_visible()


def test_new_entry_appears_in_the_list_without_a_page_load(page, librarian):
    sign_in(page, librarian)
    _mark_page(page)
    form = page.locator("#entry-form")
    form.locator("input[name=title]").fill("Неделя детской книги")
    form.locator("textarea[name=body]").fill("Провели **громкие чтения** для третьих классов.")
    form.locator("input[name=tags]").fill("чтение, проект")
    form.locator("button[type=submit]").click()

    new_item = page.locator("#entry-list article.entry-summary", has_text="Неделя детской книги")
    expect(new_item).to_be_visible()
    expect(new_item).to_contain_text("громкие чтения")
    expect(new_item.locator("a.tag")).to_have_count(2)
    assert sorted(new_item.locator("a.tag").all_inner_texts()) == ["#проект", "#чтение"]
    assert _not_reloaded(page), "the page was reloaded"
    expect(page.locator("#entry-form input[name=title]")).to_have_value("")
    expect(page.locator("#entry-form textarea[name=body]")).to_have_value("")
    expect(page.locator("#entry-form .notice")).to_contain_text("Неделя детской книги")

    # The success was shown in the form; it must not turn up again as a stale message on the next page.
    page.reload()
    expect(page.locator("#entry-list article.entry-summary")).to_have_count(1)
    expect(page.locator(".flashes")).to_have_count(0)


def test_edit_an_entry_inline(page, live_server, librarian):
    live_server.seed(factories.make_entry, librarian["id"], title="Черновик плана", body="План на четверть.")
    sign_in(page, librarian)
    page.locator("#entry-list article.entry-summary a", has_text="Черновик плана").click()
    expect(page).to_have_url(re.compile(r"/journal/\d+$"))
    entry_url = page.url
    article = page.locator("article.entry")
    expect(article.locator(".badge")).to_have_class(re.compile(r"\bbadge-mentors\b"))

    _mark_page(page)
    article.locator(".entry-actions a[href$='/edit']").click()
    form = page.locator("#entry-form")
    expect(form).to_be_visible()
    expect(page.locator("article.entry")).to_have_count(0)  # the form took the article's place
    expect(form.locator("input[name=title]")).to_have_value("Черновик плана")
    form.locator("input[name=title]").fill("План на четверть")
    form.locator("select[name=visibility]").select_option(Visibility.COLLEAGUES.value)
    form.locator("button[type=submit]").click()

    expect(page.locator("#entry-form")).to_have_count(0)
    expect(article.locator("h1.entry-title")).to_have_text("План на четверть")
    expect(article.locator(".badge")).to_have_class(re.compile(r"\bbadge-colleagues\b"))
    assert page.url == entry_url
    assert _not_reloaded(page), "the page was reloaded"

    page.reload()
    expect(article.locator("h1.entry-title")).to_have_text("План на четверть")
    expect(article.locator(".badge")).to_have_class(re.compile(r"\bbadge-colleagues\b"))
    expect(article).to_contain_text("План на четверть.")


def test_delete_an_entry_after_confirming(page, live_server, browser_watch, librarian):
    entry_id = live_server.seed(factories.make_entry, librarian["id"], title="Лишняя запись")
    sign_in(page, librarian)
    page.goto(f"/journal/{entry_id}")
    dialogs = []

    def accept(dialog):
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    _mark_page(page)
    page.locator("article.entry a.danger").click()

    expect(page.locator("main p.notice[role=status]")).to_contain_text("Лишняя запись")
    expect(page.locator("article.entry")).to_have_count(0)
    expect(page.locator("#comment-form")).to_have_count(0)  # the page's comments went with it
    expect(page.locator("#comment-poller")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"/journal/$"))  # loading it again shows the journal
    assert len(dialogs) == 1 and "Лишняя запись" in dialogs[0], dialogs
    assert _not_reloaded(page), "the page was reloaded"

    browser_watch.expect_status(404)
    response = page.goto(f"/journal/{entry_id}")
    assert response.status == 404
    expect(page.locator("main .error-page")).to_be_visible()


def test_dismissing_the_confirmation_keeps_the_entry(page, live_server, librarian):
    entry_id = live_server.seed(factories.make_entry, librarian["id"], title="Нужная запись")
    sign_in(page, librarian)
    page.goto(f"/journal/{entry_id}")
    posts = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    page.on("dialog", lambda dialog: dialog.dismiss())
    page.locator("article.entry a.danger").click()
    page.wait_for_timeout(300)  # time enough for a request that should not be sent
    assert posts == []
    expect(page.locator("article.entry h1.entry-title")).to_have_text("Нужная запись")
    page.reload()
    expect(page.locator("article.entry h1.entry-title")).to_have_text("Нужная запись")


def test_autosave_keeps_a_draft_that_can_be_resumed(page, librarian):
    sign_in(page, librarian)
    page.goto("/journal/new")
    form = page.locator("#entry-form")
    form.locator("input[name=title]").fill("Заметки о клубе")
    form.locator("textarea[name=body]").press_sequentially("Клуб любителей чтения", delay=20)
    status = form.locator(".save-status")
    expect(status).to_be_empty()  # nothing is sent while the person is still typing
    expect(status).not_to_be_empty(timeout=4_000)  # ~2 s after the last key press

    page.goto("/journal/drafts")
    page.reload()
    draft = page.locator("main article.entry-summary", has_text="Заметки о клубе")
    expect(draft).to_contain_text("Клуб любителей чтения")
    draft.locator("h2 a").click()
    expect(page).to_have_url(re.compile(r"/journal/drafts/[\w-]+$"))
    expect(page.locator("#entry-form input[name=title]")).to_have_value("Заметки о клубе")
    expect(page.locator("#entry-form textarea[name=body]")).to_have_value("Клуб любителей чтения")


def test_invalid_entry_shows_the_error_and_keeps_the_text(page, browser_watch, librarian):
    browser_watch.expect_status(422)
    sign_in(page, librarian)
    form = page.locator("#entry-form")
    body = "\n\n".join(f"Абзац {n}: о том, как прошла неделя в библиотеке, что читали и что обсуждали." for n in range(60))

    # An empty title: the browser itself refuses to send the form.
    form.locator("textarea[name=body]").fill(body)
    form.locator("button[type=submit]").click()
    expect(form.locator("input[name=title]:invalid")).to_have_count(1)
    expect(form.locator(".has-error")).to_have_count(0)

    # A title of spaces passes the browser and is refused by the server: 422, form swapped in.
    _mark_page(page)
    form.locator("input[name=title]").fill("   ")
    form.locator("button[type=submit]").click()
    title_field = page.locator("#entry-form .field.has-error", has=page.locator("input[name=title]"))
    expect(title_field.locator("p.error")).to_be_visible()
    expect(title_field.locator("input[name=title]")).to_have_attribute("aria-invalid", "true")
    assert page.locator("#entry-form textarea[name=body]").input_value() == body
    assert _not_reloaded(page), "the page was reloaded"

    # Too long a text: refused, and every character is still in the editor.
    too_long = "Очень длинный текст. " * 5_000
    page.locator("#entry-form input[name=title]").fill("Отчёт за год")
    page.locator("#entry-form textarea[name=body]").fill(too_long)
    page.locator("#entry-form button[type=submit]").click()
    body_field = page.locator("#entry-form .field.has-error", has=page.locator("textarea[name=body]"))
    expect(body_field.locator("p.error")).to_be_visible()
    assert page.locator("#entry-form textarea[name=body]").input_value() == too_long
    expect(page.locator("#entry-form input[name=title]")).to_have_value("Отчёт за год")
    expect(page.locator("#entry-list article.entry-summary")).to_have_count(0)


def test_journal_works_without_javascript(new_page, librarian):
    page = new_page(javascript=False)
    sign_in(page, librarian)

    form = page.locator("#entry-form")
    form.locator("input[name=title]").fill("Без скриптов")
    form.locator("textarea[name=body]").fill("Обычная форма тоже работает.")
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/journal/\d+$"))
    expect(page.locator("article.entry h1.entry-title")).to_have_text("Без скриптов")
    expect(page.locator(".flashes")).to_be_visible()

    page.locator("article.entry a.danger").click()
    expect(page).to_have_url(re.compile(r"/journal/\d+/delete$"))
    expect(page.locator("main h1")).to_contain_text("Без скриптов")
    page.locator("main form button[type=submit]").click()

    expect(page).to_have_url(re.compile(r"/journal/$"))
    expect(page.locator(".flashes")).to_contain_text("Без скриптов")
    expect(page.locator("#entry-list article.entry-summary")).to_have_count(0)


def test_the_harness_reports_csp_violations_and_unexpected_errors(page, live_server, browser_watch):
    """The checks every test relies on do see problems (and are reset here so this test passes)."""
    page.goto("/login")
    page.evaluate("() => document.body.setAttribute('style', 'color: red')")  # style-src forbids inline styles
    page.wait_for_function("() => window.__cspViolations.length > 0")
    assert browser_watch.csp_violations and browser_watch.csp_violations[0]["directive"].startswith("style-src")
    assert browser_watch.unexpected_console_errors()  # Chromium logs the refusal too
    browser_watch.csp_violations.clear()
    browser_watch.console_errors.clear()

    page.goto("/journal/no-such-page")
    assert browser_watch.unexpected_console_errors(), "a 404 nobody expected went unnoticed"
    browser_watch.expect_status(404)
    assert not browser_watch.unexpected_console_errors()
