"""What the entry page shows of the plan: the step the entry reports on."""
from __future__ import annotations

from ..models import JournalEntry, User


def entry_context(entry: JournalEntry, viewer: User) -> dict:
    return {}
