"""axe-core (bundled with axe-playwright-python, so it runs offline) on the main pages:
no "serious" or "critical" violation."""
from __future__ import annotations

import json

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from webapp.extensions import db
from webapp.models import EntryDraft, Visibility

from .. import factories
from .conftest import LiveServer, sign_in

pytestmark = pytest.mark.browser

BLOCKING = {"serious", "critical"}


def _make_draft(user_id: int, title: str, body: str) -> int:
    draft = EntryDraft(user_id=user_id, key="draft-key-0001", title=title, body=body)
    db.session.add(draft)
    db.session.commit()
    return draft.id


@pytest.fixture
def journal(live_server: LiveServer) -> dict:
    """A librarian with a few entries and a draft, and a colleague who shared an entry."""
    school = live_server.seed(factories.make_school, "Гимназия №3")
    me = live_server.user(login="anna", display_name="Анна Смирнова", school_id=school)
    colleague = live_server.user(login="olga", display_name="Ольга Петрова", school_id=school)
    entries = [
        live_server.seed(factories.make_entry, me["id"], title="Неделя детской книги", tags=("чтение", "проект"),
                         body="Провели **громкие чтения**.\n\n> Дети просили ещё.\n\n- стенд\n- викторина"),
        live_server.seed(factories.make_entry, me["id"], title="Только для себя", visibility=Visibility.PRIVATE),
        live_server.seed(factories.make_entry, me["id"], title="Для коллег", visibility=Visibility.COLLEAGUES),
    ]
    live_server.seed(factories.make_entry, colleague["id"], title="Опыт соседней школы", visibility=Visibility.COLLEAGUES,
                     tags=("опыт",))
    live_server.seed(_make_draft, me["id"], "Незаконченная мысль", "Начало текста")
    return {"me": me, "entries": entries}


def _open_invalid_form(page: Page) -> None:
    page.goto("/journal/")
    page.locator("#entry-form input[name=title]").fill(" ")
    page.locator("#entry-form button[type=submit]").click()
    expect(page.locator("#entry-form .has-error")).to_have_count(1)


PAGES = {
    "journal": lambda page, data: page.goto("/journal/"),
    "entry": lambda page, data: page.goto(f"/journal/{data['entries'][0]}"),
    "new": lambda page, data: page.goto("/journal/new"),
    "feed": lambda page, data: page.goto("/journal/feed"),
    "drafts": lambda page, data: page.goto("/journal/drafts"),
    "account": lambda page, data: page.goto("/account"),
    "inline-edit": lambda page, data: (page.goto(f"/journal/{data['entries'][0]}"),
                                       page.locator("article.entry a[href$='/edit']").click(),
                                       expect(page.locator("#entry-form")).to_be_visible()),
    "invalid-form": lambda page, data: _open_invalid_form(page),
}


def _blocking_violations(page: Page) -> list[dict]:
    results = Axe().run(page)
    return [v for v in results.response["violations"] if v["impact"] in BLOCKING]


def _describe(violations: list[dict]) -> str:
    return json.dumps([
        {"id": v["id"], "impact": v["impact"], "help": v["help"],
         "nodes": [{"target": n["target"], "summary": n.get("failureSummary", "")} for n in v["nodes"][:5]]}
        for v in violations
    ], ensure_ascii=False, indent=1)


def test_login_page_has_no_serious_violations(page, live_server, browser_watch):
    page.goto("/login")
    violations = _blocking_violations(page)
    assert not violations, _describe(violations)

    # The same page showing a failed sign-in.
    browser_watch.expect_status(422)
    page.locator("input[name=login]").fill("nobody")
    page.locator("input[name=password]").fill("wrong")
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".error-summary")).to_be_visible()
    violations = _blocking_violations(page)
    assert not violations, _describe(violations)


@pytest.mark.parametrize("name", PAGES)
def test_signed_in_page_has_no_serious_violations(name, page, journal, browser_watch):
    if name == "invalid-form":
        browser_watch.expect_status(422)
    sign_in(page, journal["me"])
    PAGES[name](page, journal)
    violations = _blocking_violations(page)
    assert not violations, _describe(violations)


@pytest.fixture
def office(live_server: LiveServer) -> dict:
    """An administrator, a methodist and a mentee with a plan, in schools with long names."""
    from webapp.plans.progress import current_year

    school = live_server.seed(factories.make_school, "Муниципальное бюджетное общеобразовательное учреждение «Гимназия №3»")
    people = {
        "admin": live_server.user(login="root", role="admin", display_name="Администратор сети"),
        "methodist": live_server.user(login="ruslana", role="methodist", display_name="Руслана Трач"),
        "librarian": live_server.user(login="anna", display_name="Анна Смирнова-Длиннофамильная", school_id=school),
    }
    live_server.seed(factories.assign_mentor, people["methodist"]["id"], people["librarian"]["id"])
    live_server.seed(lambda: factories.make_plan(
        people["librarian"]["id"], year=current_year(),
        topic="Формирование читательской грамотности младших школьников через проектную деятельность"))
    return people


@pytest.mark.parametrize(("who", "path"), [
    ("admin", "/admin/"), ("admin", "/admin/schools"), ("admin", "/admin/groups"),
    ("methodist", "/plans/"), ("methodist", "/mentoring/"), ("methodist", "/mentoring/awaiting"),
    ("librarian", "/journal/"), ("librarian", "/plans/"),
])
def test_no_page_scrolls_sideways_on_a_phone(page, office, who, path):
    page.set_viewport_size({"width": 360, "height": 740})  # the narrowest phones in use
    page.goto("/login")
    page.locator("input[name=login]").fill(office[who]["login"])
    page.locator("input[name=password]").fill(office[who]["password"])
    page.locator("main form button[type=submit]").click()
    expect(page.locator("main h1")).to_be_visible()
    page.goto(path)
    expect(page.locator("main h1")).to_be_visible()
    wide = page.evaluate("""[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 361)
        .filter(e => !e.closest('.table-scroll') || e.closest('.hint')).map(e => e.tagName + '.' + e.className + '#' + e.id).slice(0, 8)""")
    # A wide table scrolls in its box; the words around it, its hint too, never need to.
    assert not wide and page.evaluate("document.documentElement.scrollWidth") <= 360, wide
