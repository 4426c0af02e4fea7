"""The self-education plan in a real browser: steps change in place, the progress figure follows,
bad input keeps what was typed, and everything also works without JavaScript."""
from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from webapp.mentoring.models import StepStatus

from .. import factories
from .conftest import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def plan_page(live_server) -> dict:
    from webapp.plans.progress import current_year

    person = live_server.user(login="anna", display_name="Анна Смирнова")
    year = live_server.seed(current_year)
    plan = live_server.seed(factories.make_plan, person["id"], year=year, topic="Медиаграмотность")
    steps = [live_server.seed(factories.make_step, plan, title=f"Шаг {n}", due_date=date(2099, 1, n + 1))
             for n in range(1, 4)]
    live_server.seed(factories.make_step, plan, title="Просроченный", due_date=date(2001, 1, 1))
    return {"person": person, "plan": plan, "steps": steps}


def _mark(page: Page) -> None:
    page.evaluate("() => { window.__noReload = 1 }")


def _not_reloaded(page: Page) -> bool:
    return page.evaluate("() => window.__noReload") == 1


def test_status_change_swaps_the_row_and_the_progress_without_a_reload(page, plan_page):
    sign_in(page, plan_page["person"])
    page.goto(f"/plans/{plan_page['plan']}")
    _mark(page)
    step = plan_page["steps"][0]
    expect(page.locator("#plan-progress")).to_have_attribute("data-done", "0")
    page.locator(f"#status-{step}").select_option(StepStatus.DONE.value)
    page.locator(f"#step-{step} form.step-status button").click()  # choosing alone saves nothing (arrow keys)
    expect(page.locator(f"#step-{step}")).to_have_class(re.compile(r"\bstep-done\b"))
    expect(page.locator("#plan-progress")).to_have_attribute("data-done", "1")
    expect(page.locator("#plan-progress .percent")).to_contain_text("25")
    expect(page.locator("#plan-progress")).to_have_count(1)
    assert _not_reloaded(page)


def test_adding_a_bad_step_keeps_the_text_then_a_good_one_appears(page, plan_page, browser_watch):
    browser_watch.expect_status(422)
    sign_in(page, plan_page["person"])
    page.goto(f"/plans/{plan_page['plan']}")
    _mark(page)
    form = page.locator("#new-step")
    form.locator("input[name=title]").fill("")
    form.locator("input[name=title]").evaluate("(el) => el.removeAttribute('required')")
    form.locator("input[name=due_date]").fill("2099-03-15")
    form.locator("button[type=submit]").click()
    expect(page.locator("#new-step .field.has-error")).to_have_count(1)
    expect(page.locator("#new-step input[name=due_date]")).to_have_value("2099-03-15")
    page.locator("#new-step input[name=title]").fill("Выступить на семинаре")
    page.locator("#new-step button[type=submit]").click()
    expect(page.locator("#step-list .step-title", has_text="Выступить на семинаре")).to_be_visible()
    expect(page.locator("#plan-progress")).to_have_attribute("data-total", "5")
    expect(page.locator("#new-step input[name=title]")).to_have_value("")
    assert _not_reloaded(page)


def test_deleting_a_step_removes_its_row(page, plan_page):
    sign_in(page, plan_page["person"])
    page.goto(f"/plans/{plan_page['plan']}")
    _mark(page)
    step = plan_page["steps"][1]
    page.on("dialog", lambda dialog: dialog.accept())
    row = page.locator(f"#step-{step}")
    row.locator("summary").click()
    row.locator("form[action$='/delete'] button").click()
    expect(page.locator(f"#step-{step}")).to_have_count(0)
    expect(page.locator("#plan-progress")).to_have_attribute("data-total", "3")
    assert _not_reloaded(page)


def test_comment_appears_without_a_reload(page, plan_page):
    sign_in(page, plan_page["person"])
    page.goto(f"/plans/{plan_page['plan']}")
    _mark(page)
    page.locator("#plan-comments textarea[name=body]").fill("Первый шаг сделан, **ура**")
    page.locator("#plan-comments button[type=submit]").click()
    expect(page.locator("#plan-comments .comment strong")).to_have_text("ура")
    expect(page.locator("#plan-comments textarea[name=body]")).to_have_value("")
    assert _not_reloaded(page)


def test_without_javascript_the_status_form_posts_and_comes_back(new_page, plan_page):
    page = new_page(javascript=False)
    sign_in(page, plan_page["person"])
    page.goto(f"/plans/{plan_page['plan']}")
    step = plan_page["steps"][2]
    page.locator(f"#status-{step}").select_option(StepStatus.IN_PROGRESS.value)
    page.locator(f"#step-{step} form.step-status button").click()
    expect(page).to_have_url(re.compile(rf"/plans/{plan_page['plan']}#step-{step}$"))
    expect(page.locator(f"#step-{step}")).to_have_class(re.compile(r"\bstep-in_progress\b"))


@pytest.mark.parametrize("path", ["/plans/", "/plans/new", "plan", "plan-edit", "plan-422"])
def test_plan_pages_have_no_serious_accessibility_violations(page, plan_page, browser_watch, path):
    from .test_accessibility import _blocking_violations, _describe

    sign_in(page, plan_page["person"])
    plan = plan_page["plan"]
    if path == "plan":
        page.goto(f"/plans/{plan}")
        page.locator(f"#step-{plan_page['steps'][0]} summary").click()
    elif path == "plan-edit":
        page.goto(f"/plans/{plan}")
        page.locator("#plan-header a[href$='/edit']").click()
        expect(page.locator("#plan-header form")).to_be_visible()
    elif path == "plan-422":
        browser_watch.expect_status(422)
        page.goto(f"/plans/{plan}")
        page.locator("#new-step input[name=title]").fill("Шаг")
        page.locator("#new-step input[name=due_date]").evaluate("(el) => { el.type = 'text'; el.value = 'завтра'; }")
        page.locator("#new-step button[type=submit]").click()
        expect(page.locator("#new-step .has-error")).to_have_count(1)
    else:
        page.goto(path)
    violations = _blocking_violations(page)
    assert not violations, _describe(violations)
