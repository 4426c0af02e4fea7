"""Issue 3's "Done when" in a real browser: a librarian and her methodist side by side, in two browser
contexts. The methodist answers the librarian's entry from «Ждут ответа»; without a reload the
librarian sees the comment appear under her open entry and her badge rise; she replies, and the
methodist, looking at the entry, sees the reply appear. All within one poll interval.

The live server here polls every second (the harness's app uses the slow defaults). Elements are
found by id, class and data-count, text only where it is data the test typed."""
from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from webapp.extensions import db
from webapp.mentoring.models import Comment, Feedback, NotificationKind
from webapp.models import Role

from .. import factories
from ..test_mentoring import _dated

pytestmark = pytest.mark.browser

POLL_SECONDS = 1
# One poll interval, plus a request's round trip and a margin for a busy machine.
WITHIN_ONE_POLL_MS = POLL_SECONDS * 1000 + 1_500

METHODIST_SAYS = "Хорошо описан **замысел**. Добавьте, что получилось у ребят."
LIBRARIAN_SAYS = "Спасибо! Допишу про *итоги* конкурса."


@pytest.fixture
def live_server_config() -> dict:
    """The harness's live server, with the comment list and the badge polling every second."""
    return {"COMMENT_POLL_SECONDS": POLL_SECONDS, "NOTIFICATION_POLL_SECONDS": POLL_SECONDS}


@pytest.fixture
def pair(live_server) -> dict:
    school = live_server.seed(factories.make_school, "Гимназия №3")
    librarian = live_server.user(login="anna", display_name="Анна Смирнова", school_id=school)
    methodist = live_server.user(login="ruslana", display_name="Руслана Трач", role=Role.METHODIST)
    live_server.seed(factories.assign_mentor, methodist["id"], librarian["id"])
    entry = live_server.seed(factories.make_entry, librarian["id"], title="Конкурс чтецов",
                             body="Провели **конкурс чтецов** в пятых классах.")
    later = live_server.seed(factories.make_entry, librarian["id"], title="Книжная выставка",
                             body="Собрали выставку к юбилею писателя.")
    live_server.seed(_dated, entry, 3)  # the oldest: «Ждут ответа» opens it first
    live_server.seed(_dated, later, 1)
    # Something already unread, unrelated to the entry (opening the entry page marks only its own read).
    plan = live_server.seed(factories.make_plan, librarian["id"], year=2025)
    live_server.seed(factories.make_notification, librarian["id"], NotificationKind.PLAN_COMMENT.value,
                     actor_id=methodist["id"], plan_id=plan)
    return {"librarian": librarian, "methodist": methodist, "entry": entry, "later": later}


def _sign_in(page: Page, person: dict, home: str) -> None:
    """Through the login form; a librarian lands on her journal, a methodist on the desk."""
    page.goto("/login")
    page.locator("input[name=login]").fill(person["login"])
    page.locator("input[name=password]").fill(person["password"])
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(home))


def _mark_page(page: Page) -> None:
    """A marker that only survives as long as the document does: gone after any page load."""
    page.evaluate("() => { window.__noReload = 1 }")


def _not_reloaded(page: Page) -> bool:
    return page.evaluate("() => window.__noReload") == 1


def _badge(page: Page) -> Locator:
    return page.locator("#notification-badge .badge-unread")


def _left_of_one_poll(since: float) -> float:
    """Milliseconds left of one poll interval (+ margin) counted from `since` (time.monotonic())."""
    return max(WITHIN_ONE_POLL_MS - (time.monotonic() - since) * 1000, 1)


def _appears(locator: Locator, text: str, since: float) -> float:
    """Waits for `locator` to show `text` within one poll interval of `since`; returns how long it took (s)."""
    expect(locator).to_contain_text(text, timeout=_left_of_one_poll(since))
    return time.monotonic() - since


def _thread(live_server, entry_id: int) -> tuple[list, list]:
    def read():
        feedback = [(f.methodist_id, f.status) for f in db.session.scalars(select(Feedback).where(Feedback.entry_id == entry_id))]
        comments = [(c.author_id, c.body) for c in db.session.scalars(
            select(Comment).where(Comment.entry_id == entry_id).order_by(Comment.id))]
        return feedback, comments
    return live_server.seed(read)


def test_a_comment_and_a_reply_reach_the_other_side_without_a_reload(new_page, live_server, pair, browser_watch):
    entry, later = pair["entry"], pair["later"]
    browser_watch.expect_status(422)  # the blank reply, refused on purpose
    librarian = new_page()
    methodist = new_page()

    # 1. The librarian opens her entry and keeps it open; one unread notification in the header.
    _sign_in(librarian, pair["librarian"], r"/journal/$")
    librarian.goto(f"/journal/{entry}")
    expect(librarian.locator("#comment-list .comment")).to_have_count(0)
    expect(_badge(librarian)).to_have_attribute("data-count", "1")
    _mark_page(librarian)

    # 2. The methodist opens «Ждут ответа»: the entry is in the reading pane. She answers «доработать» with a comment.
    _sign_in(methodist, pair["methodist"], r"/mentoring/$")
    methodist.locator("a.awaiting-total").click()
    expect(methodist.locator(f"#pane-entry-{entry}")).to_be_visible()
    expect(methodist.locator("#awaiting-list .awaiting-count")).to_have_attribute("data-count", "2")
    _mark_page(methodist)
    pane = methodist.locator("#reading-pane")
    pane.locator("textarea[name=feedback-body]").fill(METHODIST_SAYS)
    pane.locator("button[value=needs_work]").click()
    answered_at = time.monotonic()
    expect(methodist.locator(f"#pane-entry-{later}")).to_be_visible()  # on to the next one
    expect(methodist.locator(f"#awaiting-{entry}")).to_have_count(0)
    expect(methodist.locator("#awaiting-list .awaiting-count")).to_have_attribute("data-count", "1")
    assert _not_reloaded(methodist), "the methodist's page was reloaded"

    # 3. Without a reload, the comment appears under the librarian's entry, marked as the methodist's,
    #    and her badge rises: one notification for the comment, one for the status.
    comment_delay = _appears(librarian.locator("#comment-list .comment-by-methodist .user-content"),
                             "Добавьте, что получилось у ребят.", answered_at)
    expect(librarian.locator("#comment-list .comment-by-methodist .user-content strong")).to_have_text("замысел")
    expect(_badge(librarian)).to_have_attribute("data-count", "3", timeout=_left_of_one_poll(answered_at))
    badge_delay = time.monotonic() - answered_at
    assert _not_reloaded(librarian), "the librarian's page was reloaded"

    # The methodist looks at the entry with its comments: her comment and her mark are there.
    methodist.goto(f"/journal/{entry}")
    expect(methodist.locator(f"#entry-feedback-{entry} .verdict-needs_work")).to_be_visible()
    expect(methodist.locator("#comment-list .comment")).to_have_count(1)
    expect(_badge(methodist)).to_have_count(0)
    _mark_page(methodist)

    # 4. The librarian replies: a blank reply is refused beside the text box; then she writes, and
    #    the form clears (the refusal too), her comment appears under the methodist's.
    form = librarian.locator("#comment-form")
    form.locator("textarea[name=body]").fill("   ")
    form.locator("button[type=submit]").click()
    expect(librarian.locator("#comment-form .field.has-error .error")).to_be_visible()
    form = librarian.locator("#comment-form")
    form.locator("textarea[name=body]").fill(LIBRARIAN_SAYS)
    form.locator("button[type=submit]").click()
    replied_at = time.monotonic()
    expect(librarian.locator("#comment-form textarea[name=body]")).to_have_value("")
    expect(librarian.locator("#comment-form .has-error")).to_have_count(0)
    expect(librarian.locator("#comment-list .comment-by-author .user-content")).to_contain_text("Допишу про итоги конкурса.")
    expect(librarian.locator("#comment-list .comment")).to_have_count(2)

    #    The methodist sees the reply appear without a reload, and her badge rises (a reply in a thread she is in).
    reply_delay = _appears(methodist.locator("#comment-list .comment-by-author .user-content"),
                           "Допишу про итоги конкурса.", replied_at)
    expect(methodist.locator("#comment-list .comment-by-author .user-content em")).to_have_text("итоги")
    expect(_badge(methodist)).to_have_attribute("data-count", "1", timeout=_left_of_one_poll(replied_at))
    reply_badge_delay = time.monotonic() - replied_at

    # 5. Neither page was reloaded; each comment is shown once, in order, on both sides.
    assert _not_reloaded(librarian), "the librarian's page was reloaded"
    assert _not_reloaded(methodist), "the methodist's page was reloaded"
    for side in (librarian, methodist):
        expect(side.locator("#comment-list .comment")).to_have_count(2)
        expect(side.locator("#comment-list .comment").first).to_have_class(re.compile(r"\bcomment-by-methodist\b"))
        expect(side.locator("#comment-list .comment").last).to_have_class(re.compile(r"\bcomment-by-author\b"))
    assert _thread(live_server, entry) == (
        [(pair["methodist"]["id"], "needs_work")],
        [(pair["methodist"]["id"], METHODIST_SAYS), (pair["librarian"]["id"], LIBRARIAN_SAYS)],
    )
    print(f"\nthe librarian saw the comment {comment_delay:.2f}s after it was sent, her badge rise after {badge_delay:.2f}s; "
          f"the methodist saw the reply after {reply_delay:.2f}s, her badge rise after {reply_badge_delay:.2f}s")
