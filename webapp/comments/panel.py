"""What the entry page needs to show its comments."""
from __future__ import annotations

from ..models import JournalEntry, User


def entry_context(entry: JournalEntry, viewer: User) -> dict:
    return {}
