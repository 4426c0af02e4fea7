"""Plan progress on the desk, from the plans feature: one statement for every mentee at once."""
from __future__ import annotations

from ..plans.progress import current_year, progress_for
from .queries import MenteeRow


def attach_progress(rows: list[MenteeRow]) -> None:
    if not rows:
        return
    progress = progress_for([row.mentee.id for row in rows], current_year())
    for row in rows:
        row.progress = progress.get(row.mentee.id)
