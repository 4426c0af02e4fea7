"""What the entry page shows of the plan: the step the entry reports on."""
from __future__ import annotations

from sqlalchemy import select

from .. import access
from ..extensions import db
from ..mentoring.models import Plan, PlanStep
from ..models import JournalEntry, User


def entry_context(entry: JournalEntry, viewer: User) -> dict:
    """The step and its plan's year, only for those who may open the plan (the author and
    their methodists): a colleague reading a shared entry learns nothing of the plan.
    One query, none for an entry without a step."""
    if entry.step_id is None:
        return {}
    row = db.session.execute(
        select(PlanStep, Plan.year, Plan.id, access.plan_audience_clause(viewer))
        .join(Plan, Plan.id == PlanStep.plan_id)
        .where(PlanStep.id == entry.step_id)
    ).first()
    if row is None:
        return {}
    step, year, plan_id, visible = row
    if not visible:
        return {}
    return {"entry_step": step, "entry_step_year": year, "entry_step_plan_id": plan_id}
