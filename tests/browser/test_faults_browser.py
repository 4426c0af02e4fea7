"""A database that cannot take a write, seen in a real browser: with htmx the message appears in the
form's status line and the typed text stays in the editor; without JavaScript the error page holds
the text in a box to copy."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import JournalEntry

from ..test_faults import DatabaseFaults
from .conftest import sign_in

pytestmark = pytest.mark.browser

TITLE = "Неделя детской книги"
BODY = "Провели громкие чтения для третьих классов.\nДети сами выбрали книги."


@pytest.fixture
def librarian(live_server) -> dict:
    return live_server.user(login="anna", display_name="Анна Смирнова")


@pytest.fixture
def faults(live_server) -> Iterator[DatabaseFaults]:
    with live_server.app.app_context():
        yield DatabaseFaults(db.engine)


def test_the_message_goes_beside_the_text_not_over_it(page, live_server, faults, browser_watch, librarian):
    browser_watch.expect_status(503)
    sign_in(page, librarian)
    form = page.locator("#entry-form")
    with faults.read_only():
        form.locator("input[name=title]").fill(TITLE)
        form.locator("textarea[name=body]").fill(BODY)
        form.locator("button[type=submit]").click()
        expect(form.locator(".form-alert [data-fault=read-only]")).to_be_visible()
    expect(form.locator("input[name=title]")).to_have_value(TITLE)
    expect(form.locator("textarea[name=body]")).to_have_value(BODY)
    expect(page.locator("#entry-list article.entry-summary")).to_have_count(0)

    # The database takes writes again: the same form, as it stands, saves the entry.
    form.locator("button[type=submit]").click()
    expect(page.locator("#entry-list article.entry-summary", has_text=TITLE)).to_be_visible()
    with live_server.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(JournalEntry).where(JournalEntry.title == TITLE)) == 1


def test_without_javascript_the_error_page_holds_the_text(new_page, faults, browser_watch, librarian):
    browser_watch.expect_status(503)
    page = new_page(javascript=False)
    sign_in(page, librarian)
    with faults.read_only():
        page.locator("#entry-form input[name=title]").fill(TITLE)
        page.locator("#entry-form textarea[name=body]").fill(BODY)
        page.locator("#entry-form button[type=submit]").click()
        expect(page.locator(".error-page[data-fault=read-only]")).to_be_visible()
    kept = page.locator("textarea.kept-text")
    expect(kept).to_have_count(2)
    expect(kept.nth(0)).to_have_value(TITLE)
    expect(kept.nth(1)).to_have_value(BODY)


def test_an_entry_closed_while_a_comment_is_typed_keeps_the_text(page, live_server, browser_watch):
    """The author makes the entry private while a colleague writes under it: sending says so in the
    form's line, and the text stays in the box."""
    from webapp.models import Visibility

    from .. import factories

    browser_watch.expect_status(404)
    author, reader = live_server.user(login="anna"), live_server.user(login="olga")
    entry = live_server.seed(factories.make_entry, author["id"], visibility=Visibility.COLLEAGUES, title=TITLE)
    sign_in(page, reader)
    page.goto(f"/journal/{entry}")
    form = page.locator("#comment-form")
    form.locator("textarea[name=body]").fill(BODY)

    def close_entry():
        db.session.get(JournalEntry, entry).visibility = Visibility.PRIVATE
        db.session.commit()
    live_server.seed(close_entry)
    form.locator("button[type=submit]").click()
    expect(form.locator(".form-alert .error")).to_have_text(
        "Этого уже нет или оно вам больше недоступно, поэтому ничего не сохранено. "
        "Текст остался в форме: скопируйте его, прежде чем уходить со страницы.")
    expect(form.locator("textarea[name=body]")).to_have_value(BODY)
    expect(page.locator("h1")).to_have_count(1)


def test_a_form_left_open_past_its_token_keeps_the_text_and_saves_on_the_next_press(page, live_server, browser_watch):
    """Editing a comment, the page's form token expires (here after a second): pressing Save keeps the
    text and says so; the page's forms get a fresh token, and the next press saves."""
    from webapp.mentoring.models import Comment
    from webapp.models import Visibility

    from .. import factories

    browser_watch.expect_status(400)
    author, reader = live_server.user(login="anna"), live_server.user(login="olga")
    entry = live_server.seed(factories.make_entry, author["id"], visibility=Visibility.COLLEAGUES, title=TITLE)
    comment = live_server.seed(factories.make_comment, entry, reader["id"], body="Было")
    sign_in(page, reader)
    page.goto(f"/journal/{entry}")
    page.locator(f"#comment-{comment} a", has_text="Изменить").click()
    form = page.locator(f"#comment-{comment} form")
    form.locator("textarea[name=body]").fill(BODY)
    live_server.app.config["WTF_CSRF_TIME_LIMIT"] = 1
    try:
        page.wait_for_timeout(2500)  # token times are whole seconds: at least two have passed
        form.locator("button[type=submit]").click()
        expect(form.locator(".form-alert .error")).to_contain_text("Ваш текст остался здесь")
        expect(form.locator("textarea[name=body]")).to_have_value(BODY)
    finally:
        live_server.app.config["WTF_CSRF_TIME_LIMIT"] = 3600
    form.locator("button[type=submit]").click()
    expect(page.locator(f"#comment-{comment} .user-content")).to_contain_text("Дети сами выбрали книги.")
    with live_server.app.app_context():
        assert db.session.get(Comment, comment).body.replace("\r\n", "\n") == BODY


def _thread_with_a_reply_typed(page, live_server) -> tuple[int, object]:
    """A member's thread page with a reply typed and not sent; (the post under it, the reply form)."""
    from .. import factories

    member = live_server.user(login="anna")
    group = live_server.seed(factories.make_group, "Клуб", members=(member["id"],))
    thread = live_server.seed(factories.make_thread, group, member["id"], title="Тема", body="Цитируемый текст")
    post = live_server.seed(factories.make_post, thread, member["id"], body="Второе сообщение")
    sign_in(page, member)
    page.goto(f"/threads/{thread}")
    form = page.locator("#reply-form")
    form.locator("textarea[name=body]").fill(BODY)
    return post, form


def test_quoting_a_post_deleted_meanwhile_says_so_in_the_reply_form(page, live_server, browser_watch):
    """«Цитировать» is a link outside the reply form that sends the form's text along. On a post
    deleted since the page showed it, the form stays with the text as typed and says why nothing
    was quoted; the post shows as deleted."""
    from webapp.groups.models import Post
    from webapp.models import utcnow

    browser_watch.expect_status(410)
    post, form = _thread_with_a_reply_typed(page, live_server)

    def delete_post():
        db.session.get(Post, post).deleted_at = utcnow()
        db.session.commit()
    live_server.seed(delete_post)
    page.locator(f"#post-{post} a.quote-link").click()
    expect(form.locator(".form-alert")).to_have_text("Это сообщение удалено, цитировать нечего.")
    expect(form.locator("textarea[name=body]")).to_have_value(BODY)
    expect(page.locator(f"#post-{post}.post-deleted")).to_be_visible()
    expect(page.locator(f"#post-{post} a.quote-link")).to_have_count(0)


def test_quoting_after_the_session_ended_says_so_in_the_reply_form(page, live_server, browser_watch):
    browser_watch.expect_status(401)
    post, form = _thread_with_a_reply_typed(page, live_server)
    page.context.clear_cookies()
    page.locator(f"#post-{post} a.quote-link").click()
    expect(form.locator(".form-alert .error")).to_contain_text("Сеанс завершился, поэтому ничего не сохранено.")
    expect(form.locator(".form-alert a", has_text="Войти снова")).to_be_visible()
    expect(form.locator("textarea[name=body]")).to_have_value(BODY)
