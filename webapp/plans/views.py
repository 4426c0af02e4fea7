"""The self-education plan: my plan per academic year, its steps and their entries, comments."""
from __future__ import annotations

import json
from datetime import date

from flask import flash, request, url_for
from flask_babel import format_date
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from wtforms.fields.choices import SelectChoice

from .. import access, database
from ..extensions import db
from ..htmx import is_fragment_request, is_htmx_request, redirect_for, render
from ..i18n import gettext as _
from ..mentoring.models import Plan, PlanStep
from ..models import User, utcnow
from ..notifications import events, inbox
from ..numbers import number
from ..text import fingerprint, saved_since_opened
from . import bp, queries
from .forms import STEP_STATUS_LABELS, CommentForm, NewPlanForm, PlanForm, StepForm, StepStatusForm
from .progress import Progress, current_year, is_overdue, local_today, progress_for, year_label


@bp.app_template_global()
def plan_year_label(year: int) -> str:
    return year_label(year)


@bp.app_context_processor
def _labels() -> dict:
    return {"STEP_STATUS_LABELS": STEP_STATUS_LABELS}


@bp.app_template_filter("plan_date")
def _plan_date(day) -> str:
    """A calendar date as it is (the app's `date` filter shifts datetimes into the time zone)."""
    return format_date(day, "d MMMM y") if day else ""


# Index and creation ------------------------------------------------------------------------------


def _year_arg() -> int:
    year = number(request.args.get("year"))
    return year if year is not None and 2000 <= year <= 2100 else current_year()


def _mentee_rows(year: int) -> list[tuple[User, Plan | None, Progress | None]]:
    """Each of my mentees with their plan for `year` and its progress: three queries for any number."""
    mentees = db.session.scalars(
        select(User).where(User.id.in_(access.mentee_ids(current_user)))
        .options(joinedload(User.school)).order_by(User.display_name)
    ).all()
    plans = {p.author_id: p for p in db.session.scalars(
        access.visible_plans(current_user).where(Plan.author_id.in_([m.id for m in mentees]), Plan.year == year)
    )}
    progress = progress_for([m.id for m in mentees], year)
    return [(m, plans.get(m.id), progress.get(m.id)) for m in mentees]


@bp.get("/")
@login_required
def index():
    year = _year_arg()
    mine = queries.own_plan(current_user, year)
    return render(
        "plans/index.html", year=year, plan=mine,
        progress=progress_for([current_user.id], year).get(current_user.id) if mine else None,
        my_years=queries.years_of(current_user, current_user.id),
        mentees=_mentee_rows(year) if current_user.is_methodist else [],
    )


def _new_plan_form(formdata=None, year: int | None = None) -> NewPlanForm:
    form = NewPlanForm(formdata=formdata) if formdata is not None else NewPlanForm(formdata=None, data={"year": year})
    now = current_year()
    form.year.choices = [SelectChoice(str(y), year_label(y)) for y in (now + 1, now, now - 1)]
    earlier = db.session.scalars(
        select(Plan).where(Plan.author_id == current_user.id).order_by(Plan.year.desc())
    ).all()
    form.copy_from.choices = [SelectChoice("", _("An empty plan"))] + [
        SelectChoice(str(p.id), _("A copy of my plan for %(year)s: %(topic)s", year=year_label(p.year), topic=p.topic))
        for p in earlier
    ]
    if formdata is None and earlier:
        form.copy_from.data = earlier[0].id  # a new year usually continues the last one
    return form


def _already_planned() -> str:
    return _("You already have a plan for this year. Open it from the list of plans.")


@bp.get("/new")
@login_required
def new():
    year = _year_arg()
    if "year" not in request.args and queries.own_plan(current_user, year) is not None:
        year += 1  # this year's plan exists: the next one is the new one
    return render("plans/new.html", "plan_form", form=_new_plan_form(year=year))


@bp.post("/")
@login_required
def create():
    form = _new_plan_form(request.form)
    if not form.validate():
        return render("plans/new.html", "plan_form", status=422, form=form)
    text = {"topic": form.topic.data or "", "aim": form.aim.data or "", "tasks": form.tasks.data or ""}
    source = None
    if form.copy_from.data is not None:
        source = access.plan_for_editing(current_user, form.copy_from.data)
        text = queries.copied_text(source, text)
    plan = queries.own_plan_held(current_user.id, form.year.data)
    if plan is not None and not queries.sent_again_as(plan, text):
        return _already_planned_form(form)
    if plan is None:
        try:
            if source is not None:
                plan = queries.copy_plan(source, form.year.data, **text)
            else:
                plan = Plan(author_id=current_user.id, year=form.year.data, **text)
                db.session.add(plan)
            db.session.commit()
        except IntegrityError:  # the same plan saved a moment ago from another tab: one plan a year
            return _already_planned_form(form)
    flash(_("The plan for %(year)s is created.", year=year_label(plan.year)), "success")
    return redirect_for(url_for("plans.show", plan_id=plan.id))


def _already_planned_form(form: NewPlanForm):
    db.session.rollback()  # nothing is kept: the person's row is no longer held
    form.year.errors.append(_already_planned())
    return render("plans/new.html", "plan_form", status=422, form=form)


# One plan ----------------------------------------------------------------------------------------


def _show_context(plan_id: int, *, failed_step: tuple[int, StepForm | StepStatusForm] | None = None,
                  **overrides) -> dict:
    """Everything the plan page shows, in a fixed number of queries however many steps and entries.
    `failed_step` is a step row's form that was refused: the row shows it with the person's text."""
    plan = queries.plan_with_author(plan_id)
    steps = queries.steps_of(plan.id)
    today = local_today()
    step_forms = {s.id: _step_form(s) for s in steps}
    status_errors = {}
    if failed_step is not None:
        step_id, form = failed_step
        if isinstance(form, StepForm):
            step_forms[step_id] = form
        else:
            status_errors[step_id] = form.status.errors
    context = {
        "plan": plan,
        "steps": steps,
        "overdue": {s.id for s in steps if is_overdue(s, today)},
        "progress": Progress.of_steps(plan.id, steps, today),
        "entries": queries.entries_by_step(current_user, plan.id),
        "comments": queries.comments_of(plan.id),
        "years": queries.years_of(current_user, plan.author_id),
        "can_edit": plan.author_id == current_user.id,
        "step_forms": step_forms,
        "status_errors": status_errors,
        "new_step_form": StepForm(formdata=None),
        "comment_form": CommentForm(formdata=None),
        "plan_form": None,
    }
    context.update(overrides)
    return context


def _step_form(step: PlanStep, formdata=None) -> StepForm:
    """Each row's edit form has its own prefix: field ids stay unique on a page of many steps."""
    prefix = f"step{step.id}"
    if formdata is None:
        form = StepForm(formdata=None, obj=step, prefix=prefix)
        form.opened.data = json.dumps(_step_values(step.title, step.due_date, step.status))
        return form
    return StepForm(formdata=formdata, prefix=prefix)


def _step_values(title: str, due_date: date | None, status: str) -> dict[str, str]:
    """A step's fields as its edit form has them, to tell which ones a save changed."""
    return {"title": title, "due_date": due_date.isoformat() if due_date else "", "status": str(status)}


def _opened_with(form: StepForm) -> dict[str, str] | None:
    """The step as the edit form was opened with it; None from a form that does not say."""
    try:
        opened = json.loads(form.opened.data or "")
    except (ValueError, RecursionError):  # not JSON, or nested past the parser's depth: a changed page
        return None
    names = ("title", "due_date", "status")
    return opened if isinstance(opened, dict) and all(isinstance(opened.get(n), str) for n in names) else None


def _changed_here(step: PlanStep, form: StepForm) -> tuple[set[str], bool]:
    """The fields the edit form changed, to be saved (the others keep what is stored, which another
    tab may have changed meanwhile), and whether one of them was also changed elsewhere, to
    something else: then the person decides."""
    sent = _step_values(form.title.data, form.due_date.data, form.status.data)
    opened = _opened_with(form)
    if opened is None:
        return set(sent), False
    stored = _step_values(step.title, step.due_date, step.status)
    changed = {name for name in sent if sent[name] != opened[name]}
    return changed, any(stored[name] != opened[name] and sent[name] != stored[name] for name in changed)


def _saved_where_not_changed_here(step: PlanStep, form: StepForm, changed: set[str]) -> None:
    """The refused edit form again: what this tab changed, as typed; every other field as saved now,
    and opened with the step as saved now, so that saving it again keeps what the other tab saved."""
    for name in ("title", "due_date", "status"):
        if name not in changed:
            field = getattr(form, name)
            field.data, field.raw_data = getattr(step, name), None
    form.opened.data = json.dumps(_step_values(step.title, step.due_date, step.status))


@bp.get("/<int:plan_id>")
@login_required
def show(plan_id: int):
    plan_id = access.plan_for_viewing(current_user, plan_id).id
    if not is_fragment_request():
        inbox.read_on_opening(current_user, plan_id=plan_id)
    return render("plans/show.html", "plan_header", **_show_context(plan_id))


def _plan_text(topic: str, aim: str, tasks: str) -> str:
    """The plan's three texts as one, for the editor's conflict check (webapp.text)."""
    return "\x1e".join((topic, aim, tasks))


def _saved_plan(plan: Plan, form: PlanForm) -> str:
    """The plan as saved, the way the editor shows it to someone whose save it refused."""
    return "\n\n".join(f"{field.label.text}:\n{text}" for field, text in (
        (form.topic, plan.topic), (form.aim, plan.aim), (form.tasks, plan.tasks)) if text)


@bp.get("/<int:plan_id>/edit")
@login_required
def edit(plan_id: int):
    plan = access.plan_for_editing(current_user, plan_id)
    form = PlanForm(formdata=None, obj=plan)
    return render("plans/show.html", "plan_header", **_show_context(
        plan.id, plan_form=form, base=fingerprint(_plan_text(plan.topic, plan.aim, plan.tasks))))


@bp.post("/<int:plan_id>/edit")
@login_required
def update(plan_id: int):
    plan = access.plan_for_editing(current_user, plan_id)
    database.read_for_update(plan)  # the plan open in two tabs, saved in both at once: one after the other
    form = PlanForm()
    base = request.form.get("base", "")
    if not form.validate():
        return render("plans/show.html", "plan_header", status=422, **_show_context(plan.id, plan_form=form, base=base))
    stored = _plan_text(plan.topic, plan.aim, plan.tasks)
    if saved_since_opened(stored, _plan_text(form.topic.data, form.aim.data or "", form.tasks.data or ""), base):
        return render("plans/show.html", "plan_header", status=409, **_show_context(
            plan.id, plan_form=form, base=fingerprint(stored), other=_saved_plan(plan, form)))
    plan.topic, plan.aim, plan.tasks = form.topic.data, form.aim.data or "", form.tasks.data or ""
    plan.updated_at = utcnow()
    db.session.commit()
    if is_htmx_request():
        return render("plans/show.html", "plan_header", **_show_context(plan.id))
    flash(_("The plan is saved."), "success")
    return redirect_for(url_for("plans.show", plan_id=plan.id))


# Steps -------------------------------------------------------------------------------------------


def _step_fragment(step: PlanStep, plan: Plan, *, failed=None, status: int = 200, deleted: bool = False):
    """One step row (or nothing, once deleted) and, out of band, the plan's progress figure."""
    context = _show_context(plan.id, failed_step=(step.id, failed) if failed is not None else None)
    return render("plans/_step_swap.html", status=status, step=step, deleted=deleted, **context)


@bp.post("/<int:plan_id>/steps")
@login_required
def create_step(plan_id: int):
    plan = access.plan_for_editing(current_user, plan_id)
    form = StepForm()
    if not form.validate():
        return render("plans/show.html", "plan_steps", status=422, **_show_context(plan.id, new_step_form=form))
    queries.add_step_once(plan.id, number(request.form.get("after")), title=form.title.data,
                          due_date=form.due_date.data, status=form.status.data)
    db.session.commit()
    if is_htmx_request():
        return render("plans/show.html", "plan_steps", status=201, **_show_context(plan.id))
    return redirect_for(url_for("plans.show", plan_id=plan.id, _anchor="plan-steps"))


@bp.post("/steps/<int:step_id>")
@login_required
def update_step(step_id: int):
    step, plan = queries.step_for_editing(current_user, step_id)
    database.read_for_update(step)  # saved from two tabs at once: one after the other, the second compares
    full = f"step{step.id}-title" in request.form  # the row's edit form; otherwise its small status form
    form = _step_form(step, request.form) if full else StepStatusForm()
    if not form.validate():
        if is_fragment_request():
            return _step_fragment(step, plan, failed=form, status=422)
        return render("plans/show.html", status=422, **_show_context(plan.id, failed_step=(step.id, form)))
    changed, clash = _changed_here(step, form) if full else ({"status"}, False)
    if clash:
        form.form_errors.append(_("This step was changed in another tab meanwhile: what is saved now is shown above. "
                                  "Your changes are not saved yet: check them and save again."))
        _saved_where_not_changed_here(step, form, changed)
        if is_fragment_request():
            return _step_fragment(step, plan, failed=form, status=409)
        return render("plans/show.html", status=409, **_show_context(plan.id, failed_step=(step.id, form)))
    for name in changed:
        setattr(step, name, getattr(form, name).data)
    db.session.commit()
    if is_htmx_request():
        return _step_fragment(step, plan)
    return redirect_for(url_for("plans.show", plan_id=plan.id, _anchor=f"step-{step.id}"))


@bp.post("/steps/<int:step_id>/delete")
@login_required
def delete_step(step_id: int):
    step, plan = queries.step_for_editing(current_user, step_id)
    title = step.title
    db.session.delete(step)  # entries linked to it stay, unlinked (ON DELETE SET NULL)
    db.session.commit()
    if is_htmx_request():
        return _step_fragment(step, plan, deleted=True)
    flash(_("The step “%(title)s” is deleted.", title=title), "success")
    return redirect_for(url_for("plans.show", plan_id=plan.id, _anchor="plan-steps"))


# Comments ----------------------------------------------------------------------------------------


@bp.post("/<int:plan_id>/comments")
@login_required
def create_comment(plan_id: int):
    """The author and the author's methodists comment: exactly those who may see the plan."""
    plan = access.plan_for_viewing(current_user, plan_id)
    form = CommentForm()
    if not form.validate():
        return render("plans/show.html", "plan_comments", status=422, **_show_context(plan.id, comment_form=form))
    comment, new = queries.add_comment_once(plan.id, current_user.id, form.body.data, number(request.form.get("after")))
    if new:
        events.plan_commented(comment, plan)
    db.session.commit()
    if is_htmx_request():
        return render("plans/show.html", "plan_comments", status=201, **_show_context(plan.id))
    return redirect_for(url_for("plans.show", plan_id=plan.id, _anchor="plan-comments"))
