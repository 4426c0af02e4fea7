"""The methodist's round in a real browser: the desk, «Ждут ответа» read and answered one after
another without a page load, and the status form on an entry page.

Elements are found by id, class and the data the test typed, not by UI wording."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from webapp.extensions import db
from webapp.mentoring.models import Comment, Feedback

from .. import factories
from ..test_mentoring import _dated

pytestmark = pytest.mark.browser


@pytest.fixture
def round_trip(live_server) -> dict:
    school = live_server.seed(factories.make_school, "Гимназия №3")
    author = live_server.user(login="anna", display_name="Анна Смирнова", school_id=school)
    methodist = live_server.user(login="ruslana", display_name="Руслана Трач")
    live_server.seed(_make_methodist, methodist["id"])
    live_server.seed(factories.assign_mentor, methodist["id"], author["id"])
    entries = []
    for days, title in ((5, "Первая запись"), (3, "Вторая запись"), (1, "Третья запись")):
        entry = live_server.seed(factories.make_entry, author["id"], title=title, body=f"**{title}**: текст.")
        live_server.seed(_dated, entry, days)
        entries.append(entry)
    return {"author": author, "methodist": methodist, "entries": entries}


def _make_methodist(user_id: int) -> None:
    from webapp.models import Role, User

    db.session.get(User, user_id).role = Role.METHODIST
    db.session.commit()


def _sign_in(page: Page, person: dict) -> None:
    page.goto("/login")
    page.locator("input[name=login]").fill(person["login"])
    page.locator("input[name=password]").fill(person["password"])
    page.locator("main form button[type=submit]").click()


def _answers(live_server, entry_id: int) -> tuple[list, list]:
    def read():
        feedback = [(f.methodist_id, f.status) for f in db.session.scalars(select(Feedback).where(Feedback.entry_id == entry_id))]
        comments = list(db.session.scalars(select(Comment.body).where(Comment.entry_id == entry_id)))
        return feedback, comments
    return live_server.seed(read)


def test_the_round_needs_no_page_load(page, live_server, round_trip, browser_watch):
    first, second, third = round_trip["entries"]
    methodist = round_trip["methodist"]["id"]
    _sign_in(page, round_trip["methodist"])
    expect(page).to_have_url(re.compile(r"/mentoring/$"))
    expect(page.locator(f"#mentee-{round_trip['author']['id']} .awaiting")).to_have_attribute("data-count", "3")
    page.locator("a.awaiting-total").click()
    expect(page.locator(f"#pane-entry-{first}")).to_be_visible()
    expect(page.locator(f"#pane-entry-{first} .user-content strong")).to_have_text("Первая запись")
    page.evaluate("() => { window.__noReload = 1 }")

    pane = page.locator("#reading-pane")
    pane.locator("textarea[name=feedback-body]").fill("Добавьте, что получилось.")
    pane.locator("button[value=needs_work]").click()
    expect(page.locator(f"#pane-entry-{second}")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/mentoring/awaiting/{second}$"))
    expect(page.locator(f"#awaiting-{first}")).to_have_count(0)
    expect(page.locator("#awaiting-list .awaiting-count")).to_have_attribute("data-count", "2")
    expect(page.locator("#reading-pane textarea[name=feedback-body]")).to_have_value("")
    assert _answers(live_server, first) == ([(methodist, "needs_work")], ["Добавьте, что получилось."])

    browser_watch.expect_status(422)
    page.locator("#reading-pane button[value=comment]").click()  # nothing typed: refused, nothing lost
    expect(page.locator("#feedback-body-error")).to_be_visible()
    expect(page.locator(f"#pane-entry-{second}")).to_be_visible()

    page.locator(f"#awaiting-{third} a").click()  # read out of order
    expect(page.locator(f"#pane-entry-{third}")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/mentoring/awaiting/{third}$"))
    page.locator("#reading-pane button[value=accepted]").click()
    expect(page.locator(f"#pane-entry-{second}")).to_be_visible()  # from the top again

    page.locator("#reading-pane textarea[name=feedback-body]").fill("Спасибо, прочитала с интересом.")
    page.locator("#reading-pane button[value=comment]").click()
    expect(page.locator("#reading-pane article")).to_have_count(0)
    expect(page.locator("#awaiting-list .awaiting-count")).to_have_attribute("data-count", "0")
    assert page.evaluate("() => window.__noReload") == 1, "the page was reloaded"
    assert _answers(live_server, second) == ([], ["Спасибо, прочитала с интересом."])
    assert _answers(live_server, third) == ([(methodist, "accepted")], [])


def test_the_round_works_without_javascript(new_page, live_server, round_trip):
    first, second, _third = round_trip["entries"]
    page = new_page(javascript=False)
    _sign_in(page, round_trip["methodist"])
    page.goto("/mentoring/awaiting")
    page.locator("#reading-pane button[value=accepted]").click()
    expect(page).to_have_url(re.compile(rf"/mentoring/awaiting/{second}$"))
    expect(page.locator(f"#pane-entry-{second}")).to_be_visible()
    assert _answers(live_server, first)[0] == [(round_trip["methodist"]["id"], "accepted")]


def test_the_status_form_on_the_entry_page(page, live_server, round_trip, browser_watch):
    first = round_trip["entries"][0]
    _sign_in(page, round_trip["methodist"])
    page.goto(f"/journal/{first}")
    page.evaluate("() => { window.__noReload = 1 }")
    panel = page.locator(f"#entry-feedback-{first}")
    browser_watch.expect_status(422)
    panel.locator("summary").click()
    panel.locator("button[value=needs_work]").click()  # no comment: refused
    expect(page.locator(f"#entry-feedback-{first} #feedback-body-error")).to_be_visible()
    page.locator(f"#entry-feedback-{first} textarea[name=feedback-body]").fill("Нужен вывод в конце.")
    page.locator(f"#entry-feedback-{first} button[value=needs_work]").click()
    expect(page.locator(f"#entry-feedback-{first} .verdict-needs_work")).to_be_visible()
    # The comment that came with it shows under the entry at once, not at the next poll (15 s).
    expect(page.locator("#comment-list .comment", has_text="Нужен вывод в конце.")).to_have_count(1, timeout=3000)
    page.locator(f"#entry-feedback-{first} button[value=accepted]").click()
    expect(page.locator(f"#entry-feedback-{first} .verdict-accepted")).to_be_visible()
    assert page.evaluate("() => window.__noReload") == 1
    assert _answers(live_server, first) == ([(round_trip["methodist"]["id"], "accepted")], ["Нужен вывод в конце."])
