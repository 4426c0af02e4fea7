"""Plan progress: the share of steps done and the overdue ones, for one plan or many authors.

The methodist's desk calls `progress_for` with all of a methodist's mentees at once; it is a
single GROUP BY statement however many authors there are.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Date, Integer, Select, and_, bindparam, case, func, select

from .. import database
from ..i18n import gettext as _
from ..mentoring.models import Plan, PlanStep, StepStatus

FIRST_MONTH = 9  # an academic year runs from September to August


def local_today() -> date:
    """Today where the schools are (the app's time zone), not on the server's clock."""
    return datetime.now(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()


def academic_year(d: date) -> int:
    """The academic year a day belongs to, named by the year it starts: 2026-09-01 … 2027-08-31 → 2026."""
    return d.year if d.month >= FIRST_MONTH else d.year - 1


def current_year() -> int:
    return academic_year(local_today())


def year_label(year: int) -> str:
    """«2026/2027 учебный год»."""
    return _("%(start)d/%(end)d academic year", start=year, end=year + 1)


def is_overdue(step: PlanStep, today: date) -> bool:
    return step.due_date is not None and step.due_date < today and step.status != StepStatus.DONE


@dataclass(frozen=True)
class Progress:
    plan_id: int
    done: int
    total: int
    overdue: int

    @property
    def percent(self) -> int:
        """Whole percent of steps done (0 for a plan without steps)."""
        return round(self.done * 100 / self.total) if self.total else 0

    @classmethod
    def of_steps(cls, plan_id: int, steps: Iterable[PlanStep], today: date) -> Progress:
        """The same figures as `progress_for`, from steps already loaded (no query)."""
        steps = list(steps)
        return cls(
            plan_id=plan_id,
            done=sum(1 for s in steps if s.status == StepStatus.DONE),
            total=len(steps),
            overdue=sum(1 for s in steps if is_overdue(s, today)),
        )


def _progress(author_ids) -> Select:
    """Per author of `author_ids` (a SELECT, or the bound list `author_ids`), the plan for the bound
    `year`, its steps, those done, and those overdue at the bound `today`."""
    done = func.sum(case((PlanStep.status == StepStatus.DONE, 1), else_=0))
    overdue = func.sum(case((and_(PlanStep.due_date < bindparam("today", type_=Date), PlanStep.status != StepStatus.DONE),
                             1), else_=0))
    return (select(Plan.author_id, Plan.id, func.count(PlanStep.id), done, overdue)
            .outerjoin(PlanStep, PlanStep.plan_id == Plan.id)
            .where(Plan.author_id.in_(author_ids), Plan.year == bindparam("year", type_=Integer))
            .group_by(Plan.author_id, Plan.id))


_PROGRESS = _progress(bindparam("author_ids", expanding=True))  # for a list of ids: built once


def progress_for(author_ids: Iterable[int] | Select, year: int, today: date | None = None) -> dict[int, Progress]:
    """Progress of each author's plan for `year`, by author id, in one statement.

    `author_ids` may be ids or a SELECT of ids (e.g. access.mentee_ids(user)). Authors without
    a plan for that year are absent from the result.
    """
    params = {"year": year, "today": today or local_today()}
    if isinstance(author_ids, Select):
        rows = database.run(_progress(author_ids), params)
    else:
        author_ids = list(author_ids)
        if not author_ids:
            return {}
        rows = database.run(_PROGRESS, {**params, "author_ids": author_ids})
    return {
        author_id: Progress(plan_id=plan_id, done=int(d or 0), total=int(total or 0), overdue=int(o or 0))
        for author_id, plan_id, total, d, o in rows
    }
