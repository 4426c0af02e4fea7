"""What the entry page shows of the plan: the step the entry reports on."""
from __future__ import annotations

from sqlalchemy import Integer, Select, bindparam, select

from .. import access, prebuilt
from ..extensions import db
from ..mentoring.models import Plan, PlanStep
from ..models import JournalEntry, User


@prebuilt.built_once
def _step(viewer) -> Select:
    return (select(PlanStep, Plan.year, Plan.id, access.plan_audience_clause(viewer))
            .join(Plan, Plan.id == PlanStep.plan_id).where(PlanStep.id == bindparam("step_id", type_=Integer)))


def entry_context(entry: JournalEntry, viewer: User) -> dict:
    """The step and its plan's year, only for those who may open the plan (the author and
    their methodists): a colleague reading a shared entry learns nothing of the plan.
    One query, none for an entry without a step."""
    if entry.step_id is None:
        return {}
    row = db.session.execute(_step(), prebuilt.params_for(viewer, step_id=entry.step_id)).first()
    if row is None:
        return {}
    step, year, plan_id, visible = row
    if not visible:
        return {}
    return {"entry_step": step, "entry_step_year": year, "entry_step_plan_id": plan_id}
