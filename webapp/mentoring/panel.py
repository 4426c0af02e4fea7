"""What the entry page shows of mentoring: the methodists' feedback and reading marks."""
from __future__ import annotations

from ..models import JournalEntry, User


def entry_context(entry: JournalEntry, viewer: User) -> dict:
    return {}
