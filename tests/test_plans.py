"""The self-education plan: create, copy, steps and their entries, progress, comments, access."""
from __future__ import annotations

import re
from datetime import date, timedelta
from html import unescape

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from webapp import access
from webapp.extensions import db
from webapp.mentoring.models import Notification, NotificationKind, Plan, PlanComment, PlanStep, StepStatus
from webapp.models import JournalEntry, User, Visibility
from webapp.plans.progress import Progress, academic_year, current_year, progress_for

from . import factories
from .conftest import FRAGMENT, counted_queries, csrf_token_from, editor_base, login

PAST = date(2001, 3, 1)
FUTURE = date(2099, 3, 1)


@pytest.fixture
def year(app) -> int:
    return current_year()


@pytest.fixture
def plan(people, year) -> int:
    return factories.make_plan(people["author"], year=year, topic="Медиаграмотность школьников", tasks="- **Читать**")


@pytest.fixture
def step(plan) -> int:
    return factories.make_step(plan, title="Провести урок медиаграмотности", due_date=FUTURE)


def step_row(html: str, step_id: int) -> str:
    match = re.search(rf'<li id="step-{step_id}" class="([^"]*)">(.*?)\n</li>', html, re.S)
    assert match, f"step {step_id} is not on the page"
    return match.group(0)


def progress_data(html: str) -> tuple[int, int, int]:
    match = re.search(r'id="plan-progress"[^>]*data-done="(\d+)" data-total="(\d+)".*?class="percent">(\d+)', html, re.S)
    assert match, "no progress figure"
    return int(match.group(1)), int(match.group(2)), int(match.group(3))


# The academic year ------------------------------------------------------------------------------


@pytest.mark.parametrize("day,expected", [
    (date(2026, 9, 1), 2026), (date(2026, 12, 31), 2026), (date(2027, 1, 1), 2026),
    (date(2027, 8, 31), 2026), (date(2026, 8, 31), 2025),
])
def test_academic_year_runs_from_september_to_august(day, expected):
    assert academic_year(day) == expected


def test_year_label_names_both_calendar_years(app):
    from webapp.plans.progress import year_label

    with app.test_request_context():
        assert "2026/2027" in year_label(2026)


# Creating ---------------------------------------------------------------------------------------


def test_librarian_is_invited_to_create_this_years_plan(client, people, year):
    login(client, people["author"])
    page = client.get("/plans/")
    assert page.status_code == 200
    assert f'href="/plans/new?year={year}"' in page.text


def test_author_creates_a_plan_and_sees_it(client, people, year):
    login(client, people["author"])
    response = client.post("/plans/", data={"year": str(year), "topic": "Проектная деятельность", "aim": "Научиться",
                                            "tasks": "1. Первое\n2. Второе"})
    assert response.status_code == 303
    plan = db.session.scalar(select(Plan).where(Plan.author_id == people["author"]))
    assert (plan.year, plan.topic) == (year, "Проектная деятельность")
    assert response.headers["Location"].endswith(f"/plans/{plan.id}")
    page = client.get(f"/plans/{plan.id}")
    assert "Проектная деятельность" in page.text
    assert re.search(r'<div class="user-content" hx-ignore><ol>\s*<li>Первое</li>', page.text)
    assert f'href="/plans/{plan.id}"' in client.get("/plans/").text


def test_htmx_create_redirects_the_page(client, people, year):
    login(client, people["author"])
    response = client.post("/plans/", data={"year": str(year), "topic": "Тема"}, headers=FRAGMENT)
    plan_id = db.session.scalar(select(Plan.id))
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == f"/plans/{plan_id}"


def test_second_plan_for_the_same_year_is_refused_and_the_text_kept(client, people, plan, year):
    login(client, people["author"])
    response = client.post("/plans/", data={"year": str(year), "topic": "Новая тема", "aim": "Моя цель"},
                           headers=FRAGMENT)
    assert response.status_code == 422
    assert 'value="Новая тема"' in response.text and "Моя цель" in response.text
    assert "<html" not in response.text and 'id="plan-form"' in response.text
    assert db.session.scalar(select(Plan.topic).where(Plan.year == year)) == "Медиаграмотность школьников"


def _plan_data(year: int, **changes) -> dict:
    return {"year": str(year), "topic": "Проектная деятельность", "aim": "Научиться", "tasks": "1. Первое\r\n2. Второе",
            **changes}


@pytest.mark.parametrize("headers", [{}, FRAGMENT], ids=["plain form", "htmx"])
def test_a_plan_sent_again_is_created_once(client, people, year, headers):
    """The answer to «Создать план» was lost and the button pressed again, or pressed twice."""
    login(client, people["author"])
    first = client.post("/plans/", data=_plan_data(year), headers=headers)
    again = client.post("/plans/", data=_plan_data(year, tasks="1. Первое\n2. Второе\n"), headers=headers)
    (plan,) = db.session.scalars(select(Plan.id).where(Plan.author_id == people["author"]))
    assert first.status_code == again.status_code and first.status_code in (204, 303)
    where = "HX-Redirect" if headers else "Location"
    assert first.headers[where] == again.headers[where] == f"/plans/{plan}"


@pytest.mark.parametrize("changes", [{"aim": "Другая цель"}, {"topic": "Другая тема"}], ids=["aim", "topic"])
def test_a_second_plan_with_other_text_is_refused(client, people, year, changes):
    login(client, people["author"])
    client.post("/plans/", data=_plan_data(year))
    response = client.post("/plans/", data=_plan_data(year, **changes))
    assert response.status_code == 422 and "У вас уже есть план на этот учебный год" in response.text
    assert all(f'value="{value}"' in response.text or value in response.text for value in changes.values())
    assert db.session.scalar(select(func.count(Plan.id))) == 1


def test_the_same_plan_ten_minutes_later_is_refused(client, people, year):
    login(client, people["author"])
    client.post("/plans/", data=_plan_data(year))
    db.session.scalar(select(Plan)).created_at -= timedelta(minutes=10)
    db.session.commit()
    assert client.post("/plans/", data=_plan_data(year)).status_code == 422


def test_a_copied_plan_sent_again_is_created_once(client, people, year):
    source = factories.make_plan(people["author"], year=year - 1, topic="Прошлая тема", aim="Прошлая цель")
    factories.make_step(source, title="Шаг прошлого года")
    login(client, people["author"])
    data = {"year": str(year), "copy_from": str(source), "topic": "", "aim": "Новая цель"}
    first = client.post("/plans/", data=data)
    again = client.post("/plans/", data=data)
    assert first.status_code == again.status_code == 303 and first.headers["Location"] == again.headers["Location"]
    copy = db.session.scalar(select(Plan).where(Plan.year == year))
    assert (copy.topic, copy.aim) == ("Прошлая тема", "Новая цель")
    assert db.session.scalar(select(func.count(PlanStep.id)).where(PlanStep.plan_id == copy.id)) == 1


@pytest.mark.parametrize("data", [{"topic": "Без года"}, {"year": "1999", "topic": "Давно"}, {"year": "2026x"}])
def test_plan_needs_an_offered_year_and_a_topic(client, people, year, data):
    login(client, people["author"])
    response = client.post("/plans/", data=data)
    assert response.status_code == 422
    assert db.session.scalar(select(Plan.id)) is None


def test_plan_without_topic_is_refused(client, people, year):
    login(client, people["author"])
    assert client.post("/plans/", data={"year": str(year), "aim": "Цель без темы"}).status_code == 422
    assert db.session.scalar(select(Plan.id)) is None


def test_copy_of_last_years_plan_resets_statuses_and_moves_dates(client, people, year):
    old = factories.make_plan(people["author"], year=year - 1, topic="Читательская грамотность",
                              aim="Старая цель", tasks="Старые задачи")
    factories.make_step(old, title="Анкетирование", due_date=date(year, 10, 15), status=StepStatus.DONE, position=1)
    factories.make_step(old, title="Семинар", due_date=date(year, 2, 28), status=StepStatus.IN_PROGRESS, position=2)
    factories.make_step(old, title="Отчёт", due_date=None, status=StepStatus.PLANNED, position=3)
    login(client, people["author"])
    new_page = client.get("/plans/new")
    assert f'<option selected value="{old}">' in new_page.text  # a new year continues the last one by default
    response = client.post("/plans/", data={"year": str(year), "copy_from": str(old), "topic": ""})
    assert response.status_code == 303
    copy = db.session.scalar(select(Plan).where(Plan.year == year))
    assert (copy.topic, copy.aim, copy.tasks) == ("Читательская грамотность", "Старая цель", "Старые задачи")
    steps = db.session.scalars(select(PlanStep).where(PlanStep.plan_id == copy.id).order_by(PlanStep.position)).all()
    assert [(s.title, s.status, s.due_date) for s in steps] == [
        ("Анкетирование", StepStatus.PLANNED, date(year + 1, 10, 15)),
        ("Семинар", StepStatus.PLANNED, date(year + 1, 2, 28)),
        ("Отчёт", StepStatus.PLANNED, None),
    ]
    # The old plan is untouched.
    assert db.session.scalar(select(PlanStep.status).where(PlanStep.title == "Анкетирование",
                                                          PlanStep.plan_id == old)) == StepStatus.DONE


def test_typed_text_replaces_the_copied_text(client, people, year):
    old = factories.make_plan(people["author"], year=year - 1, topic="Старая тема", aim="Старая цель")
    login(client, people["author"])
    client.post("/plans/", data={"year": str(year), "copy_from": str(old), "topic": "Новая тема"})
    copy = db.session.scalar(select(Plan).where(Plan.year == year))
    assert (copy.topic, copy.aim) == ("Новая тема", "Старая цель")


def test_someone_elses_plan_cannot_be_copied(client, people, year):
    theirs = factories.make_plan(people["librarian"], year=year - 1, topic="Чужая тема")
    factories.make_step(theirs, title="Чужой шаг")
    login(client, people["author"])
    response = client.post("/plans/", data={"year": str(year), "copy_from": str(theirs), "topic": ""})
    assert response.status_code == 422
    assert db.session.scalar(select(Plan.id).where(Plan.author_id == people["author"])) is None
    assert "Чужая тема" not in client.get("/plans/new").text


# Progress and overdue steps ---------------------------------------------------------------------


def test_progress_two_of_five_is_forty_percent_on_the_page_and_for_the_desk(client, people, plan, year):
    for status in (StepStatus.DONE, StepStatus.DONE, StepStatus.IN_PROGRESS, StepStatus.PLANNED, StepStatus.PLANNED):
        factories.make_step(plan, status=status, due_date=FUTURE)
    login(client, people["author"])
    assert progress_data(client.get(f"/plans/{plan}").text) == (2, 5, 40)
    login(client, people["methodist"])
    assert progress_data(client.get(f"/plans/{plan}").text) == (2, 5, 40)
    with counted_queries() as statements:
        figures = progress_for([people["author"], people["librarian"], people["methodist"]], year)
    assert len(statements) == 1
    assert figures == {people["author"]: Progress(plan_id=plan, done=2, total=5, overdue=0)}
    assert figures[people["author"]].percent == 40
    methodist = db.session.get(User, people["methodist"])
    with counted_queries() as statements:  # the desk may hand over its mentees as a subquery
        assert progress_for(access.mentee_ids(methodist), year) == figures
    assert len(statements) == 1


def test_progress_for_many_authors_is_one_query(app, people, year):
    authors = [factories.make_user() for _ in range(12)]
    for n, author in enumerate(authors):
        p = factories.make_plan(author, year=year)
        for k in range(n % 4):
            factories.make_step(p, status=StepStatus.DONE if k % 2 else StepStatus.PLANNED, due_date=PAST)
    factories.make_plan(authors[0], year=year - 1)  # another year counts nowhere
    with counted_queries() as statements:
        figures = progress_for(authors, year)
    assert len(statements) == 1
    assert [figures[a].total for a in authors] == [n % 4 for n in range(12)]
    assert [figures[a].done for a in authors] == [(n % 4) // 2 for n in range(12)]
    assert [figures[a].overdue for a in authors] == [(n % 4) - (n % 4) // 2 for n in range(12)]
    assert progress_for([], year) == {}


def test_overdue_steps_are_marked(client, people, plan):
    late = factories.make_step(plan, title="Просрочен", due_date=PAST, status=StepStatus.IN_PROGRESS)
    done_late = factories.make_step(plan, title="Сделан поздно", due_date=PAST, status=StepStatus.DONE)
    ahead = factories.make_step(plan, title="Впереди", due_date=FUTURE)
    undated = factories.make_step(plan, title="Без срока")
    login(client, people["methodist"])
    page = client.get(f"/plans/{plan}").text
    assert "step-overdue" in step_row(page, late) and "badge-overdue" in step_row(page, late)
    for other in (done_late, ahead, undated):
        assert "step-overdue" not in step_row(page, other) and "badge-overdue" not in step_row(page, other)
    assert 'class="overdue-count"' in page
    assert progress_for([people["author"]], current_year())[people["author"]].overdue == 1


def test_overdue_counts_against_the_given_day(app, people, plan, year):
    factories.make_step(plan, due_date=date(2030, 1, 10))
    assert progress_for([people["author"]], year, today=date(2030, 1, 10))[people["author"]].overdue == 0
    assert progress_for([people["author"]], year, today=date(2030, 1, 11))[people["author"]].overdue == 1


# Steps ------------------------------------------------------------------------------------------


def test_author_adds_a_step_without_javascript(client, people, plan):
    login(client, people["author"])
    response = client.post(f"/plans/{plan}/steps", data={"title": "Выступить на ГМО", "due_date": "2099-04-20",
                                                         "status": "planned"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/plans/{plan}#plan-steps")
    added = db.session.scalar(select(PlanStep).where(PlanStep.plan_id == plan))
    assert (added.title, added.due_date, added.status) == ("Выступить на ГМО", date(2099, 4, 20), "planned")


def test_adding_a_step_with_htmx_swaps_the_steps_section(client, people, plan):
    login(client, people["author"])
    response = client.post(f"/plans/{plan}/steps", data={"title": "Шаг через htmx", "due_date": "20.04.2099"},
                           headers=FRAGMENT)
    assert response.status_code == 201
    assert response.text.lstrip().startswith('<section id="plan-steps"')
    assert "Шаг через htmx" in response.text and 'id="plan-progress"' in response.text
    assert db.session.scalar(select(PlanStep.due_date)) == date(2099, 4, 20)


def _shown_after(html: str, form: str) -> str:
    """The newest item's id that the form says its page shows."""
    match = re.search(rf'<form [^>]*{form}.*?name="after" value="(\d+)"', html, re.S)
    assert match, f"no end marker in {form}"
    return match.group(1)


def _step_titles(plan: int) -> list[str]:
    return list(db.session.scalars(select(PlanStep.title).where(PlanStep.plan_id == plan).order_by(PlanStep.id)))


@pytest.mark.parametrize("headers", [{}, FRAGMENT], ids=["plain form", "htmx"])
def test_a_step_sent_again_is_added_once(client, people, plan, step, headers):
    """The answer to «Добавить шаг» was lost and the button pressed again, or pressed twice."""
    login(client, people["author"])
    data = {"title": "Выступить на ГМО", "due_date": "20.04.2099", "status": "planned",
            "after": _shown_after(client.get(f"/plans/{plan}").text, 'id="new-step"')}
    first = client.post(f"/plans/{plan}/steps", data=data, headers=headers)
    again = client.post(f"/plans/{plan}/steps", data={**data, "due_date": "2099-04-20"}, headers=headers)
    assert first.status_code == again.status_code
    assert _step_titles(plan) == ["Провести урок медиаграмотности", "Выступить на ГМО"]
    if headers:
        assert again.text.count("Выступить на ГМО") == first.text.count("Выступить на ГМО") > 0


def test_the_same_step_added_after_the_page_showed_it_is_a_new_step(client, people, plan, step):
    login(client, people["author"])
    data = {"title": "Провести урок медиаграмотности", "due_date": FUTURE.isoformat(), "status": "planned"}
    shown = client.post(f"/plans/{plan}/steps", data=data | {"after": str(step)}, headers=FRAGMENT)
    client.post(f"/plans/{plan}/steps", data=data | {"after": _shown_after(shown.text, 'id="new-step"')})
    client.post(f"/plans/{plan}/steps", data=data | {"status": "done", "after": _shown_after(shown.text, 'id="new-step"')})
    assert _step_titles(plan) == ["Провести урок медиаграмотности"] * 4


@pytest.mark.parametrize("data", [
    {"title": "Семинар", "due_date": "послезавтра"},
    {"title": "Семинар", "due_date": "2099-02-30"},
    {"title": "", "due_date": "2099-01-01"},
    {"title": "Семинар", "status": "finished"},
])
def test_bad_step_is_422_and_keeps_what_was_typed(client, people, plan, data):
    login(client, people["author"])
    response = client.post(f"/plans/{plan}/steps", data=data, headers=FRAGMENT)
    assert response.status_code == 422
    assert 'id="plan-steps"' in response.text and "<html" not in response.text
    assert 'aria-invalid="true"' in response.text
    for value in data.values():
        if value and value != "finished":
            assert f'value="{value}"' in response.text
    assert db.session.scalar(select(PlanStep.id)) is None
    page = client.post(f"/plans/{plan}/steps", data=data)  # and without JavaScript: the whole page, 422
    assert page.status_code == 422 and page.text.lstrip().startswith("<!doctype html>")


def test_status_change_swaps_the_row_and_the_progress(client, people, plan, step):
    factories.make_step(plan, status=StepStatus.DONE)
    login(client, people["author"])
    response = client.post(f"/plans/steps/{step}", data={"status": "done"}, headers=FRAGMENT)
    assert response.status_code == 200
    assert response.text.lstrip().startswith(f'<li id="step-{step}" class="step step-done')
    assert re.search(r'<div id="plan-progress"[^>]*data-done="2" data-total="2" hx-swap-oob="true"', response.text)
    assert db.session.get(PlanStep, step).status == StepStatus.DONE
    plain = client.post(f"/plans/steps/{step}", data={"status": "in_progress"})
    assert plain.status_code == 303 and plain.headers["Location"].endswith(f"/plans/{plan}#step-{step}")
    db.session.expire_all()
    assert db.session.get(PlanStep, step).status == StepStatus.IN_PROGRESS


def test_step_edit_form_changes_title_and_date(client, people, plan, step):
    login(client, people["author"])
    response = client.post(f"/plans/steps/{step}", headers=FRAGMENT, data={
        f"step{step}-title": "Провести два урока", f"step{step}-due_date": "2099-05-01", f"step{step}-status": "planned"})
    assert response.status_code == 200 and "Провести два урока" in response.text
    saved = db.session.get(PlanStep, step)
    assert (saved.title, saved.due_date) == ("Провести два урока", date(2099, 5, 1))


def _opened_edit_form(client, plan: int, step: int) -> dict:
    """What the step's edit form on the plan page sends as it was opened: its fields and what it opened with."""
    page = client.get(f"/plans/{plan}").text
    form = re.search(rf'<form method="post" action="/plans/steps/{step}".*?</form>', page, re.S).group(0)
    opened = re.search(rf'name="step{step}-opened" type="hidden" value="([^"]*)"', form)
    assert opened, "the edit form says what it was opened with"
    return {f"step{step}-title": unescape(re.search(rf'id="step{step}-title"[^>]*value="([^"]*)"', form).group(1)),
            f"step{step}-due_date": re.search(rf'id="step{step}-due_date"[^>]*value="([^"]*)"', form).group(1),
            f"step{step}-status": "planned", f"step{step}-opened": unescape(opened.group(1))}


def test_a_step_edited_in_an_older_tab_keeps_what_another_tab_changed(client, people, plan, step):
    """Tab A marks the step done; tab B, opened before, renames it: the step is renamed and stays done."""
    login(client, people["author"])
    tab_b = _opened_edit_form(client, plan, step)
    assert client.post(f"/plans/steps/{step}", data={"status": "done"}, headers=FRAGMENT).status_code == 200  # tab A
    tab_b[f"step{step}-title"] = "Провести два урока медиаграмотности"
    response = client.post(f"/plans/steps/{step}", data=tab_b, headers=FRAGMENT)
    assert response.status_code == 200
    db.session.expire_all()
    saved = db.session.get(PlanStep, step)
    assert (saved.title, saved.status, saved.due_date) == ("Провести два урока медиаграмотности", StepStatus.DONE, FUTURE)
    assert re.search(r'<div id="plan-progress"[^>]*data-done="1" data-total="1"', response.text)


def test_a_step_changed_the_same_way_in_two_tabs_asks_before_replacing(client, people, plan, step):
    login(client, people["author"])
    tab_a, tab_b = _opened_edit_form(client, plan, step), _opened_edit_form(client, plan, step)
    tab_a.update({f"step{step}-title": "Урок для пятых классов", f"step{step}-status": "done"})
    assert client.post(f"/plans/steps/{step}", data=tab_a, headers=FRAGMENT).status_code == 200
    tab_b[f"step{step}-title"] = "Урок для седьмых классов"
    refused = client.post(f"/plans/steps/{step}", data=tab_b, headers=FRAGMENT)
    assert refused.status_code == 409
    assert '<span class="step-title">Урок для пятых классов</span>' in refused.text  # what is saved, in the row
    assert 'value="Урок для седьмых классов"' in refused.text and "изменили в другой вкладке" in refused.text
    assert '<details class="step-edit" open>' in refused.text
    # The status tab B did not touch comes back as tab A saved it, not as tab B opened it.
    status = re.search(rf'<select[^>]*name="step{step}-status".*?</select>', refused.text, re.S).group(0)
    assert re.search(r'<option selected value="done">|<option value="done" selected>', status), status
    db.session.expire_all()
    assert db.session.get(PlanStep, step).title == "Урок для пятых классов"
    # Saved again from the form as it came back: the title replaces what tab A saved; the status stays done.
    fields = dict(re.findall(rf'name="(step{step}-(?:title|due_date|opened))" type="(?:text|hidden|date)" value="([^"]*)"',
                             refused.text))
    again = {**tab_b, **{name: unescape(value) for name, value in fields.items()}, f"step{step}-status": "done"}
    assert client.post(f"/plans/steps/{step}", data=again, headers=FRAGMENT).status_code == 200
    db.session.expire_all()
    saved = db.session.get(PlanStep, step)
    assert (saved.title, saved.status) == ("Урок для седьмых классов", StepStatus.DONE)
    plain = client.post(f"/plans/steps/{step}", data={**tab_a, f"step{step}-title": "Третий вариант"})  # without JavaScript
    assert plain.status_code == 409 and 'value="Третий вариант"' in plain.text and plain.text.lstrip().startswith("<!doctype html>")


@pytest.mark.parametrize("opened", ["не JSON", "[" * 100_000, '{"title": 1}'])
def test_a_step_form_that_garbles_what_it_opened_with_saves_what_it_sends(client, people, plan, step, opened):
    login(client, people["author"])
    response = client.post(f"/plans/steps/{step}", headers=FRAGMENT, data={
        f"step{step}-title": "Провести два урока", f"step{step}-due_date": "2099-05-01", f"step{step}-status": "done",
        f"step{step}-opened": opened})
    assert response.status_code == 200 and "Провести два урока" in response.text
    db.session.expire_all()
    assert db.session.get(PlanStep, step).status == StepStatus.DONE


def test_bad_step_edit_is_422_in_the_row_with_the_typed_text(client, people, plan, step):
    login(client, people["author"])
    data = {f"step{step}-title": "Новое название", f"step{step}-due_date": "31.02.2099", f"step{step}-status": "done"}
    response = client.post(f"/plans/steps/{step}", data=data, headers=FRAGMENT)
    assert response.status_code == 422
    assert response.text.lstrip().startswith(f'<li id="step-{step}"')
    assert '<details class="step-edit" open>' in response.text
    assert 'value="Новое название"' in response.text and 'value="31.02.2099"' in response.text
    assert db.session.get(PlanStep, step).title == "Провести урок медиаграмотности"
    page = client.post(f"/plans/steps/{step}", data=data)
    assert page.status_code == 422 and 'value="31.02.2099"' in page.text
    assert client.post(f"/plans/steps/{step}", data={"status": "finished"}, headers=FRAGMENT).status_code == 422


def test_deleting_a_step_keeps_its_entries_unlinked(client, people, plan, step):
    entry = factories.make_entry(people["author"])
    factories.link_entry_to_step(entry, step)
    login(client, people["author"])
    response = client.post(f"/plans/steps/{step}/delete", headers=FRAGMENT)
    assert response.status_code == 200
    assert f'id="step-{step}"' not in response.text and 'hx-swap-oob="true"' in response.text
    assert db.session.get(PlanStep, step) is None
    db.session.expire_all()
    assert db.session.get(JournalEntry, entry).step_id is None


def test_deleting_without_javascript_redirects(client, people, plan, step):
    login(client, people["author"])
    assert client.post(f"/plans/steps/{step}/delete").status_code == 303
    assert db.session.get(PlanStep, step) is None


def test_editing_the_plan_header(client, people, plan):
    login(client, people["author"])
    form = client.get(f"/plans/{plan}/edit", headers=FRAGMENT)
    assert form.status_code == 200 and form.text.lstrip().startswith('<section id="plan-header"')
    assert 'value="Медиаграмотность школьников"' in form.text
    bad = client.post(f"/plans/{plan}/edit", data={"topic": "", "aim": "Набранная цель"}, headers=FRAGMENT)
    assert bad.status_code == 422 and "Набранная цель" in bad.text and 'id="plan-header"' in bad.text
    good = client.post(f"/plans/{plan}/edit", data={"topic": "Новая тема", "tasks": "*задачи*"}, headers=FRAGMENT)
    assert good.status_code == 200 and good.text.lstrip().startswith('<section id="plan-header"')
    assert "<em>задачи</em>" in good.text
    assert db.session.get(Plan, plan).topic == "Новая тема"
    assert client.post(f"/plans/{plan}/edit", data={"topic": "Ещё"}).status_code == 303


def test_the_plan_saved_in_another_tab_meanwhile_is_shown_not_overwritten(client, people, plan):
    login(client, people["author"])
    tabs = [client.get(f"/plans/{plan}/edit", headers=FRAGMENT).text for _ in range(2)]
    base = editor_base(tabs[0])
    assert base == editor_base(tabs[1])
    url = f"/plans/{plan}/edit"
    saved = client.post(url, data={"topic": "Тема первой вкладки", "aim": "Цель первой", "base": base}, headers=FRAGMENT)
    assert saved.status_code == 200
    refused = client.post(url, data={"topic": "Тема второй вкладки", "tasks": "Задачи второй", "base": base},
                          headers=FRAGMENT)
    assert refused.status_code == 409 and 'id="plan-header"' in refused.text
    assert 'value="Тема второй вкладки"' in refused.text and "Задачи второй</textarea>" in refused.text  # mine
    assert "Тема первой вкладки" in refused.text and "Цель первой" in refused.text  # the other tab's, to take from
    assert db.session.get(Plan, plan).topic == "Тема первой вкладки"
    # The same text sent again is no conflict, and saving with the new base is a choice made with both in sight.
    assert client.post(url, data={"topic": "Тема первой вкладки", "aim": "Цель первой", "base": base},
                       headers=FRAGMENT).status_code == 200
    again = editor_base(refused.text)
    assert client.post(url, data={"topic": "Обе темы", "base": again}, headers=FRAGMENT).status_code == 200
    assert db.session.get(Plan, plan).topic == "Обе темы"


def test_plan_text_is_sanitised(client, people, plan):
    login(client, people["author"])
    client.post(f"/plans/{plan}/edit", data={"topic": "Тема", "tasks": "<script>alert(1)</script>[x](javascript:alert(1))"})
    page = client.get(f"/plans/{plan}").text
    assert "<script>alert" not in page and 'href="javascript:' not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# Entries under steps ----------------------------------------------------------------------------


def test_entries_appear_under_their_step_only_for_those_who_may_read_them(client, people, plan, step):
    titles = {v: f"Запись {v}" for v in Visibility}
    for visibility, title in titles.items():
        factories.link_entry_to_step(factories.make_entry(people["author"], visibility=visibility, title=title), step)
    factories.make_entry(people["author"], title="Запись без шага")
    login(client, people["author"])
    row = step_row(client.get(f"/plans/{plan}").text, step)
    assert all(t in row for t in titles.values()) and "Запись без шага" not in row
    login(client, people["methodist"])
    row = step_row(client.get(f"/plans/{plan}").text, step)
    assert titles[Visibility.MENTORS] in row and titles[Visibility.COLLEAGUES] in row
    assert titles[Visibility.PRIVATE] not in row


def test_entry_page_names_its_step_only_for_the_plans_audience(client, people, plan, step):
    entry = factories.make_entry(people["author"], visibility=Visibility.COLLEAGUES, title="Открытый урок")
    factories.link_entry_to_step(entry, step)
    for persona in ("author", "methodist"):
        login(client, people[persona])
        page = client.get(f"/journal/{entry}").text
        assert "Провести урок медиаграмотности" in page and f'href="/plans/{plan}#step-{step}"' in page
    login(client, people["librarian"])  # a colleague reads the entry, and nothing of the plan
    page = client.get(f"/journal/{entry}").text
    assert "Открытый урок" in page
    assert "Провести урок медиаграмотности" not in page and f"/plans/{plan}" not in page


# The step selector in the journal editor --------------------------------------------------------


def test_editor_offers_only_my_steps_current_year_first(client, people, plan, step, year):
    older = factories.make_plan(people["author"], year=year - 1)
    old_step = factories.make_step(older, title="Прошлогодний шаг")
    theirs = factories.make_step(factories.make_plan(people["librarian"], year=year), title="Чужой шаг")
    login(client, people["author"])
    page = client.get("/journal/new").text
    select_html = re.search(r'<select id="step_id" name="step_id">(.*?)</select>', page, re.S).group(1)
    assert select_html.index(f'value="{step}"') < select_html.index(f'value="{old_step}"')
    assert "Чужой шаг" not in page and f'value="{theirs}"' not in select_html
    assert f'<option selected value="{step}">' in client.get(f"/journal/new?step_id={step}").text


def test_editor_without_a_plan_shows_no_step_selector(client, people):
    login(client, people["author"])
    assert 'name="step_id"' not in client.get("/journal/new").text


def test_entry_links_to_my_step_and_never_to_someone_elses(client, people, plan, step, year):
    theirs = factories.make_step(factories.make_plan(people["librarian"], year=year))
    login(client, people["author"])
    base = {"title": "Урок", "body": "текст", "visibility": "mentors", "draft_key": "k" * 12}
    refused = client.post("/journal/", data={**base, "step_id": str(theirs)})
    assert refused.status_code == 422
    assert db.session.scalar(select(JournalEntry.id)) is None
    assert client.post("/journal/", data={**base, "step_id": "шаг"}).status_code == 422
    assert client.post("/journal/", data={**base, "step_id": str(step), "draft_key": "m" * 12}).status_code == 303
    entry = db.session.scalar(select(JournalEntry))
    assert entry.step_id == step
    edit = client.get(f"/journal/{entry.id}/edit").text
    assert f'<option selected value="{step}">' in edit
    changed = client.post(f"/journal/{entry.id}", data={**base, "draft_key": "n" * 12, "version": "1",
                                                         "step_id": str(theirs)})
    assert changed.status_code == 422
    db.session.expire_all()
    assert db.session.get(JournalEntry, entry.id).step_id == step
    unlinked = client.post(f"/journal/{entry.id}", data={**base, "draft_key": "n" * 12, "version": "1", "step_id": ""})
    assert unlinked.status_code == 303
    db.session.expire_all()
    assert db.session.get(JournalEntry, entry.id).step_id is None


def test_apply_ignores_a_step_of_another_author(app, people, step, year):
    """Even past the form (the form's choices are the signed-in person's), the entry keeps only its author's steps."""
    from webapp.journal.views import _apply

    theirs = factories.make_step(factories.make_plan(people["librarian"], year=year))
    entry_id = factories.make_entry(people["author"])
    entry = db.session.scalar(select(JournalEntry).where(JournalEntry.id == entry_id).options(selectinload(JournalEntry.tags)))

    class Field:
        def __init__(self, data):
            self.data = data

    class Form:
        title, body, visibility, tags = Field("Т"), Field(""), Field("mentors"), Field("")
        step_id = Field(theirs)

    _apply(entry, Form())
    assert entry.step_id is None
    Form.step_id = Field(step)
    _apply(entry, Form())
    assert entry.step_id == step


# Comments ---------------------------------------------------------------------------------------


def test_methodists_comment_notifies_the_author(client, people, plan):
    login(client, people["methodist"])
    response = client.post(f"/plans/{plan}/comments", data={"body": "Хорошая тема, **добавьте** сроки."},
                           headers=FRAGMENT)
    assert response.status_code == 201
    assert response.text.lstrip().startswith('<section id="plan-comments"')
    assert "<strong>добавьте</strong>" in response.text and "comment-by-methodist" in response.text
    notes = db.session.scalars(select(Notification)).all()
    assert [(n.recipient_id, n.kind, n.plan_id, n.actor_id) for n in notes] == [
        (people["author"], NotificationKind.PLAN_COMMENT, plan, people["methodist"])]


def test_opening_the_plan_reads_its_notifications(client, people, plan):
    login(client, people["methodist"])
    client.post(f"/plans/{plan}/comments", data={"body": "Посмотрите сроки"})
    login(client, people["author"])
    client.get(f"/plans/{plan}", headers=FRAGMENT)  # a fragment is not the plan being opened
    assert db.session.scalar(select(Notification.read_at)) is None
    client.get(f"/plans/{plan}")
    db.session.expire_all()
    assert db.session.scalar(select(Notification.read_at)) is not None


def test_authors_reply_notifies_nobody_and_works_without_javascript(client, people, plan):
    login(client, people["author"])
    response = client.post(f"/plans/{plan}/comments", data={"body": "Спасибо!"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/plans/{plan}#plan-comments")
    assert db.session.scalar(select(PlanComment.body)) == "Спасибо!"
    assert db.session.scalar(select(Notification.id)) is None


@pytest.mark.parametrize("headers", [{}, FRAGMENT], ids=["plain form", "htmx"])
def test_a_comment_sent_again_is_saved_and_told_once(client, people, plan, headers):
    login(client, people["methodist"])
    data = {"body": "Хорошая тема,\r\nдобавьте сроки.", "after": _shown_after(client.get(f"/plans/{plan}").text, "comment-form")}
    for body in (data["body"], "Хорошая тема,\nдобавьте сроки.\n"):
        assert client.post(f"/plans/{plan}/comments", data=data | {"body": body}, headers=headers).status_code in (201, 303)
    assert db.session.scalar(select(func.count(PlanComment.id))) == 1
    assert db.session.scalar(select(func.count(Notification.id))) == 1


def test_the_same_comment_after_the_page_showed_it_or_ten_minutes_is_new(client, people, plan):
    login(client, people["methodist"])
    shown = client.post(f"/plans/{plan}/comments", data={"body": "Жду сроки.", "after": "0"}, headers=FRAGMENT)
    client.post(f"/plans/{plan}/comments", data={"body": "Жду сроки.", "after": _shown_after(shown.text, "comment-form")})
    for comment in db.session.scalars(select(PlanComment)):
        comment.created_at -= timedelta(minutes=10)
    db.session.commit()
    client.post(f"/plans/{plan}/comments", data={"body": "Жду сроки."})  # a plain form that does not say
    assert db.session.scalar(select(func.count(PlanComment.id))) == 3


def test_empty_or_hostile_comment(client, people, plan):
    login(client, people["methodist"])
    assert client.post(f"/plans/{plan}/comments", data={"body": "  "}, headers=FRAGMENT).status_code == 422
    client.post(f"/plans/{plan}/comments", data={"body": '<img src=x onerror="alert(1)"> <script>bad()</script>'})
    page = client.get(f"/plans/{plan}").text
    assert "<img" not in page and "<script>bad" not in page
    assert "&lt;img src=x onerror" in page  # shown as the text it is


# Who may see and change what --------------------------------------------------------------------


OUTSIDERS = ("librarian", "other_methodist", "admin")


@pytest.mark.parametrize("persona", OUTSIDERS)
def test_everyone_else_gets_404_on_every_plan_route(client, people, plan, step, persona):
    login(client, people[persona])
    requests = [
        ("GET", f"/plans/{plan}", None), ("GET", f"/plans/{plan}/edit", None),
        ("POST", f"/plans/{plan}/edit", {"topic": "Взлом"}),
        ("POST", f"/plans/{plan}/steps", {"title": "Чужой шаг"}),
        ("POST", f"/plans/steps/{step}", {"status": "done"}),
        ("POST", f"/plans/steps/{step}/delete", {}),
        ("POST", f"/plans/{plan}/comments", {"body": "Комментарий"}),
    ]
    for method, url, data in requests:
        for headers in ({}, FRAGMENT):
            response = client.open(url, method=method, data=data, headers=headers)
            assert response.status_code == 404, (method, url)
    assert db.session.get(PlanStep, step).status == StepStatus.PLANNED
    assert db.session.scalar(select(PlanComment.id)) is None
    assert db.session.get(Plan, plan).topic == "Медиаграмотность школьников"


def test_the_methodist_reads_and_comments_but_does_not_edit(client, people, plan, step):
    login(client, people["methodist"])
    page = client.get(f"/plans/{plan}")
    assert page.status_code == 200 and "Медиаграмотность школьников" in page.text
    assert 'id="new-step"' not in page.text and f"/plans/steps/{step}" not in page.text
    assert client.get(f"/plans/{plan}/edit").status_code == 404
    assert client.post(f"/plans/{plan}/steps", data={"title": "Шаг"}).status_code == 404
    assert client.post(f"/plans/steps/{step}", data={"status": "done"}).status_code == 404
    assert client.post(f"/plans/steps/{step}/delete").status_code == 404
    assert client.post(f"/plans/{plan}/comments", data={"body": "Отлично"}).status_code == 303


def test_methodist_sees_the_mentees_plans_with_progress(client, people, plan, year):
    factories.make_step(plan, status=StepStatus.DONE)
    factories.make_step(plan, due_date=PAST)
    other = factories.make_user(display_name="Нина Без Плана")
    factories.assign_mentor(people["methodist"], other)
    factories.make_plan(people["librarian"], year=year, topic="Не подопечная")
    login(client, people["methodist"])
    page = client.get("/plans/").text
    author_row = re.search(rf'<tr id="mentee-{people["author"]}">(.*?)</tr>', page, re.S).group(1)
    assert f'href="/plans/{plan}"' in author_row and 'data-done="1" data-total="2"' in author_row
    assert "badge-overdue" in author_row
    assert f'<tr id="mentee-{other}">' in page
    assert "Не подопечная" not in page and f'id="mentee-{people["librarian"]}"' not in page
    login(client, people["other_methodist"])
    assert f"/plans/{plan}" not in client.get("/plans/").text


def test_plans_need_a_signed_in_person(client, plan):
    for url in ("/plans/", f"/plans/{plan}", "/plans/new"):
        assert client.get(url).status_code == 302


# Query budgets ----------------------------------------------------------------------------------


def _plan_with(author: int, year: int, steps: int) -> int:
    plan = factories.make_plan(author, year=year)
    for n in range(steps):
        step = factories.make_step(plan, due_date=PAST if n % 2 else FUTURE, status=StepStatus.DONE if n % 3 else "planned")
        for visibility in (Visibility.MENTORS, Visibility.PRIVATE):
            factories.link_entry_to_step(factories.make_entry(author, visibility=visibility), step)
    return plan


@pytest.mark.parametrize("persona", ["author", "methodist"])
def test_plan_page_queries_do_not_grow_with_steps_and_entries(client, people, year, persona):
    small = _plan_with(people["author"], year, 5)
    large = _plan_with(people["author"], year - 1, 30)
    for n in range(3):
        db.session.add(PlanComment(plan_id=large, author_id=people["methodist"], body=f"Комментарий {n}"))
    db.session.commit()
    login(client, people[persona])
    counts = []
    for plan in (small, large):
        with counted_queries() as statements:
            assert client.get(f"/plans/{plan}").status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1]
    assert counts[1] <= 10


def test_methodists_plan_list_queries_do_not_grow_with_mentees(client, people, year):
    def count() -> int:
        with counted_queries() as statements:
            assert client.get("/plans/").status_code == 200
        return len(statements)

    login(client, people["methodist"])
    _plan_with(people["author"], year, 2)
    few = count()
    for _ in range(8):
        mentee = factories.make_user(school_id=factories.make_school())
        factories.assign_mentor(people["methodist"], mentee)
        _plan_with(mentee, year, 3)
    assert count() == few


def test_every_plan_form_passes_csrf_protection_as_the_page_renders_it(csrf_app):
    """With CSRF on, as in production: each form carries what its post needs (the step rows' own prefixed token too)."""
    author = factories.make_user(login="anna")
    plan = factories.make_plan(author, year=current_year(), topic="Тема")
    step = factories.make_step(plan, title="Шаг")
    client = login(csrf_app.test_client(), author)
    page = client.get(f"/plans/{plan}").text
    token = csrf_token_from(page)
    prefixed = re.search(rf'name="step{step}-csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    for rule in csrf_app.url_map.iter_rules():  # every plan form refuses a post without the token
        if rule.endpoint.startswith("plans.") and "POST" in rule.methods:
            url = rule.rule.replace("<int:plan_id>", str(plan)).replace("<int:step_id>", str(step))
            assert client.post(url, data={"status": "done", "title": "x", "topic": "x", "body": "x",
                                          "year": str(current_year() + 1)}).status_code == 400, url
    assert client.post(f"/plans/steps/{step}", data={"csrf_token": token, "status": "done"}).status_code == 303
    edit = {"csrf_token": token, f"step{step}-csrf_token": prefixed, f"step{step}-title": "Новый шаг",
            f"step{step}-status": "in_progress"}
    assert client.post(f"/plans/steps/{step}", data=edit).status_code == 303
    assert client.post(f"/plans/{plan}/steps", data={"csrf_token": token, "title": "Ещё шаг"}).status_code == 303
    assert client.post(f"/plans/{plan}/edit", data={"csrf_token": token, "topic": "Тема 2"}).status_code == 303
    assert client.post(f"/plans/{plan}/comments", data={"csrf_token": token, "body": "Заметка"}).status_code == 303
    assert client.post(f"/plans/steps/{step}/delete", headers={"X-CSRFToken": token, **FRAGMENT}).status_code == 200
    titles = db.session.scalars(select(PlanStep.title)).all()
    assert titles == ["Ещё шаг"]
    assert db.session.get(Plan, plan).topic == "Тема 2"
