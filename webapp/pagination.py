"""Keyset-free, count-free pagination: fetch one row more than a page to know if there is a next."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import request
from sqlalchemy import Integer, Select, bindparam

from . import database
from .extensions import db

MAX_PAGE = 10_000
# Written into the SQL when it is sent (the statement is still compiled once): with the page's size
# and place as parameters, PostgreSQL prices its generic plan for a tenth of the table and plans a
# long list's statement again on every run (the colleagues' feed: as long as running it took).
# Each page number is then a statement of its own to the statement caches (psycopg prepares one
# from its sixth run on a connection and keeps 100; SQLite keeps 128 compiled): the first pages,
# which are what people open, run prepared; a deep page is planned as any statement run once.
_LIMIT = bindparam("page_limit", type_=Integer, literal_execute=True)
_OFFSET = bindparam("page_offset", type_=Integer, literal_execute=True)


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
    """A page of the objects `query` selects, limited as `one_page_of` limits a page."""
    number = current_page_number()
    rows = list(db.session.scalars(one_page_of(query), _place(number, per_page)))
    return _page(rows, number, per_page)


def one_page_of(statement: Select) -> Select:
    """`statement` limited to a page whose size and place are given when it runs, for
    `paginate_rows`: so it can be built once (webapp.prebuilt)."""
    return statement.limit(_LIMIT).offset(_OFFSET)


def paginate_rows(statement: Select, per_page: int, **params) -> Page:
    """A page of rows (columns, not objects) from a statement made by `one_page_of`."""
    number = current_page_number()
    rows = database.run(statement, {**params, **_place(number, per_page)}).all()
    return _page(rows, number, per_page)


def _place(number: int, per_page: int) -> dict[str, int]:
    """The values of `one_page_of`'s limits for page `number`: one row more than a page."""
    return {"page_limit": per_page + 1, "page_offset": (number - 1) * per_page}


def _page(rows: list, number: int, per_page: int) -> Page:
    """Page `number` from up to one row more than a page: the extra row says another page follows."""
    return Page(items=rows[:per_page], number=number, has_prev=number > 1, has_next=len(rows) > per_page)
