"""Keyset-free, count-free pagination: fetch one row more than a page to know if there is a next."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import request
from sqlalchemy import Select

from .extensions import db

MAX_PAGE = 10_000


@dataclass
class Page:
    items: list[Any]
    number: int
    has_prev: bool
    has_next: bool


def current_page_number() -> int:
    raw = request.args.get("page", "1")
    return min(max(int(raw), 1), MAX_PAGE) if raw.isascii() and raw.isdigit() and len(raw) < 9 else 1


def paginate(query: Select, per_page: int) -> Page:
    number = current_page_number()
    rows = list(db.session.scalars(query.limit(per_page + 1).offset((number - 1) * per_page)))
    return Page(items=rows[:per_page], number=number, has_prev=number > 1, has_next=len(rows) > per_page)
