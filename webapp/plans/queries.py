"""Reading and writing plans: each helper asks webapp.access who may see what."""
from __future__ import annotations

from collections import defaultdict
from datetime import date

from flask import abort, g
from flask_login import current_user
from sqlalchemy import Integer, Row, bindparam, func, select
from sqlalchemy.orm import joinedload
from wtforms.fields.choices import SelectChoice

from .. import access, database
from ..extensions import db
from ..mentoring.models import Plan, PlanComment, PlanStep, StepStatus
from ..models import JournalEntry, User
from ..text import same_text, sent_again
from .progress import current_year, year_label


def plan_with_author(plan_id: int) -> Plan:
    """The plan (already authorised by the caller) with its author and the author's school."""
    return db.session.scalar(
        select(Plan).where(Plan.id == plan_id).options(joinedload(Plan.author).joinedload(User.school))
    )


def steps_of(plan_id: int) -> list[PlanStep]:
    return list(db.session.scalars(
        select(PlanStep).where(PlanStep.plan_id == plan_id).order_by(PlanStep.position, PlanStep.id)
    ))


def step_for_editing(user: User, step_id: int) -> tuple[PlanStep, Plan]:
    """A step of one's own plan, with that plan; anyone else's step is 404."""
    row = db.session.execute(
        select(PlanStep, Plan).join(Plan, Plan.id == PlanStep.plan_id)
        .where(PlanStep.id == step_id, Plan.author_id == user.id)
    ).first()
    if row is None or not user.active:
        abort(404)
    return row[0], row[1]


def entries_by_step(viewer: User, plan_id: int) -> dict[int, list[JournalEntry]]:
    """The entries linked to the plan's steps that `viewer` may read, oldest first, in one query."""
    # Only the plan's author links entries to its steps; saying so lets the query start from her
    # entries instead of from everything the viewer may read.
    author_id = select(Plan.author_id).where(Plan.id == plan_id).scalar_subquery()
    entries = db.session.scalars(
        access.visible_entries(viewer)
        .where(JournalEntry.author_id == author_id,
               JournalEntry.step_id.in_(select(PlanStep.id).where(PlanStep.plan_id == plan_id)))
        .order_by(JournalEntry.created_at, JournalEntry.id)
    )
    grouped: dict[int, list[JournalEntry]] = defaultdict(list)
    for entry in entries:
        grouped[entry.step_id].append(entry)
    return grouped


def comments_of(plan_id: int) -> list[PlanComment]:
    return list(db.session.scalars(
        select(PlanComment).where(PlanComment.plan_id == plan_id)
        .options(joinedload(PlanComment.author)).order_by(PlanComment.id)
    ))


def years_of(viewer: User, author_id: int) -> list[tuple[int, int]]:
    """(year, plan id) of every plan of `author_id` that `viewer` may see, newest first."""
    rows = db.session.execute(
        access.visible_plans(viewer).with_only_columns(Plan.year, Plan.id)
        .where(Plan.author_id == author_id).order_by(Plan.year.desc())
    )
    return [(year, plan_id) for year, plan_id in rows]


def own_plan(user: User, year: int) -> Plan | None:
    return db.session.scalar(select(Plan).where(Plan.author_id == user.id, Plan.year == year))


def own_plan_held(author_id: int, year: int) -> Plan | None:
    """The person's plan for `year`, their row held first (on PostgreSQL; SQLite's writers are
    serialised already), so that the same new plan sent twice at once waits for the first and
    finds it."""
    db.session.execute(select(User.id).where(User.id == author_id).with_for_update())
    return db.session.scalar(select(Plan).where(Plan.author_id == author_id, Plan.year == year))


def sent_again_as(plan: Plan, text: dict[str, str]) -> bool:
    """Whether a new plan's form, sent again (webapp.text.sent_again), is `plan`: the same topic,
    aim and tasks, and the plan under ten minutes old."""
    return (same_text(plan.aim, text["aim"]) and same_text(plan.tasks, text["tasks"])
            and sent_again(plan.topic, plan.created_at, text["topic"]))


def _hold(plan_id: int) -> None:
    """The plan's row, held until the transaction ends (FOR UPDATE on PostgreSQL; SQLite's writers
    are serialised already): two saves under one plan come one after the other, and the second
    sees the first."""
    if db.session.scalar(select(Plan.id).where(Plan.id == plan_id).with_for_update()) is None:
        abort(404)  # deleted while the save waited for it


def add_step_once(plan_id: int, shown: int | None, *, title: str, due_date: date | None, status: str) -> tuple[PlanStep, bool]:
    """A new last step of the plan, in the caller's transaction, and True; unless the form was sent
    again: the plan's newest step that the sending page had not shown (`shown`: the newest step id
    it held; None from a form that does not say: the newest step) is this one already, with the
    same title, date and status. Then that step, and False. The same step added again after the
    page showed it is a new step."""
    _hold(plan_id)
    newest = select(PlanStep).where(PlanStep.plan_id == plan_id)
    if shown is not None:
        newest = newest.where(PlanStep.id > shown)
    earlier = db.session.scalars(newest.order_by(PlanStep.id.desc()).limit(1)).first()
    if earlier is not None and same_text(earlier.title, title) and earlier.due_date == due_date and earlier.status == status:
        return earlier, False
    position = (db.session.scalar(select(func.max(PlanStep.position)).where(PlanStep.plan_id == plan_id)) or 0) + 1
    step = PlanStep(plan_id=plan_id, position=position, title=title, due_date=due_date, status=status)
    db.session.add(step)
    db.session.flush()
    return step, True


def add_comment_once(plan_id: int, author_id: int, text: str, shown: int | None) -> tuple[PlanComment, bool]:
    """A comment on the plan, in the caller's transaction, and True; unless `text` is the person's
    comment here sent again (webapp.text.sent_again): then that comment, and False. `shown`: the
    newest comment id the sending page held; None from a form that does not say: then the plan's
    newest comment is the one that may be the same."""
    _hold(plan_id)
    newest = select(PlanComment).where(PlanComment.plan_id == plan_id)
    if shown is not None:
        newest = newest.where(PlanComment.author_id == author_id, PlanComment.id > shown)
    earlier = db.session.scalars(newest.order_by(PlanComment.id.desc()).limit(1)).first()
    if earlier is not None and earlier.author_id == author_id and sent_again(earlier.body, earlier.created_at, text):
        return earlier, False
    comment = PlanComment(plan_id=plan_id, author_id=author_id, body=text)
    db.session.add(comment)
    db.session.flush()
    return comment, True


def _shift_years(day: date | None, years: int) -> date | None:
    if day is None:
        return None
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year + years, day=28)


def copied_text(source: Plan, text: dict[str, str]) -> dict[str, str]:
    """A copy's topic, aim and tasks: as typed, or the source's where nothing was typed."""
    return {name: typed or getattr(source, name) for name, typed in text.items()}


def copy_plan(source: Plan, year: int, *, topic: str, aim: str, tasks: str) -> Plan:
    """A new plan for `year` that starts as `source`, with the text given: the steps again, all
    planned, their dates moved by as many years as the plans are apart."""
    plan = Plan(author_id=source.author_id, year=year, topic=topic, aim=aim, tasks=tasks)
    db.session.add(plan)
    db.session.flush()
    shift = year - source.year
    db.session.add_all(
        PlanStep(plan_id=plan.id, position=step.position, title=step.title,
                 due_date=_shift_years(step.due_date, shift), status=StepStatus.PLANNED)
        for step in steps_of(source.id)
    )
    return plan


def is_own_step(author_id: int, step_id: int) -> bool:
    return db.session.scalar(
        select(PlanStep.id).join(Plan, Plan.id == PlanStep.plan_id)
        .where(PlanStep.id == step_id, Plan.author_id == author_id)
    ) is not None


def _own_steps() -> list[Row]:
    """The signed-in person's steps (year, id, title), the current year's first, then newest first.
    Cached for the request: the entry form reads its choices when validating and again when drawn.
    Only the three columns the selector shows: the journal page draws this form on every view."""
    if "plan_steps_of_user" not in g:
        g.plan_steps_of_user = database.run(_OWN_STEPS, {"author_id": current_user.id, "year": current_year()}).all()
    return g.plan_steps_of_user


_OWN_STEPS = (select(Plan.year, PlanStep.id, PlanStep.title).join(PlanStep, PlanStep.plan_id == Plan.id)
              .where(Plan.author_id == bindparam("author_id", type_=Integer))
              .order_by((Plan.year == bindparam("year", type_=Integer)).desc(), Plan.year.desc(), PlanStep.position,
                        PlanStep.id))


def step_choices() -> list[SelectChoice]:
    """The journal editor's step selector: no step, then the steps of my plans grouped by year."""
    from ..i18n import gettext as _

    choices = [SelectChoice("", _("— not linked to the plan —"))]
    if not current_user.is_authenticated:
        return choices
    for year, step_id, title in _own_steps():
        choices.append(SelectChoice(str(step_id), title, optgroup=year_label(year)))
    return choices
