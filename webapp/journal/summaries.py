"""Entries as the lists show them (my journal, colleagues' feed): a heading, a line about each and
its stored excerpt, loaded as columns by statements built once (webapp.prebuilt), never as
objects. Twenty entries loaded as objects with their authors and tags cost a page about four
milliseconds; as rows, a few tenths (docs/performance.md, finding 16). Which entries: exactly
webapp.access's rule for the viewer, narrowed by the list."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import ColumnElement, Select, bindparam, func, select

from .. import access, database, prebuilt
from ..mentoring import queries as mentoring_queries
from ..models import EntryTag, JournalEntry, School, User, Visibility
from ..pagination import Page, one_page_of, paginate_rows


class Summary(NamedTuple):
    id: int
    title: str
    excerpt: str
    created_at: datetime
    visibility: str
    author: str  # the author's name
    school: str | None  # the author's school
    tag_names: tuple[str, ...]
    status: str | None = None  # the latest methodist's status (the author's own journal only)


# What journal/_entry_summary.html is rendered from (webapp.fragments.ITEMS), in the order of item_rows.
ITEM_VALUES = ("id", "title", "excerpt", "created_at", "visibility", "status", "tags", "author", "school", "heading",
               "tag_endpoint")


def item_rows(items: Iterable[Summary], show_author: bool, heading: str, tag_endpoint: str) -> list[tuple]:
    return [(e.id, e.title, e.excerpt, e.created_at, e.visibility, e.status, e.tag_names,
             e.author if show_author else None, e.school if show_author else None, heading, tag_endpoint)
            for e in items]


_COLUMNS = (JournalEntry.id, JournalEntry.title, JournalEntry.excerpt, JournalEntry.created_at,
            JournalEntry.visibility, User.display_name.label("author"), School.name.label("school"))
# Each listed entry's tags as one string, so that a list page needs no statement of its own for
# them. Tags hold no control characters (journal.forms.parse_tags); the names are put in order
# here, as no aggregate of both databases promises one.
_TAG_SEPARATOR = "\x1f"
_NEWEST_FIRST = (JournalEntry.created_at.desc(), JournalEntry.id.desc())


def _narrowed(statement: Select, by_visibility: bool, by_tag: bool) -> Select:
    if by_visibility:
        statement = statement.where(JournalEntry.visibility == bindparam("visibility"))
    if by_tag:
        statement = statement.where(JournalEntry.id.in_(
            select(EntryTag.entry_id).where(EntryTag.name == bindparam("tag"))))
    return statement


def _listed(viewer) -> Select:
    return (select(*_COLUMNS).join(User, User.id == JournalEntry.author_id)
            .outerjoin(School, School.id == User.school_id).where(access.entry_visible_clause(viewer)))


def _page_with_tags(statement: Select, *more: Callable[[ColumnElement[int]], ColumnElement]) -> Select:
    """A page of `statement`'s entries, newest first (webapp.pagination.one_page_of), then each
    one's tags (tags_column) and `more` columns made from its id, for the page's rows only
    (PostgreSQL would work out a column of the inner statement for every row OFFSET skips too)."""
    page = one_page_of(statement.order_by(*_NEWEST_FIRST)).subquery("page")
    columns = (tags_column(page.c.id), *(column(page.c.id) for column in more))
    return select(page, *columns).order_by(page.c.created_at.desc(), page.c.id.desc())


def tags_column(entry_id: ColumnElement[int]) -> ColumnElement[str | None]:
    """The tags of the entry whose id is `entry_id`, as one column "tags" (read it with
    split_tags): a correlated aggregate over entry_tags' primary key."""
    return (select(func.aggregate_strings(EntryTag.name, _TAG_SEPARATOR)).where(EntryTag.entry_id == entry_id)
            .scalar_subquery().label("tags"))


def split_tags(tags: str | None) -> tuple[str, ...]:
    """A tags_column's value as the names, in order."""
    return in_order(tags.split(_TAG_SEPARATOR) if tags else ())


@prebuilt.built_once
def _own(viewer, by_visibility: bool, by_tag: bool) -> Select:
    statement = _listed(viewer).where(JournalEntry.author_id == viewer.id)
    return _page_with_tags(_narrowed(statement, by_visibility, by_tag), mentoring_queries.latest_status)


@prebuilt.built_once
def _shared(viewer, by_tag: bool) -> Select:
    statement = _listed(viewer).where(JournalEntry.visibility == Visibility.COLLEAGUES,
                                      JournalEntry.author_id != viewer.id)
    return _page_with_tags(_narrowed(statement, False, by_tag))


_OWN_TAGS = select(EntryTag.name).where(EntryTag.author_id == prebuilt.VIEWER_ID).group_by(EntryTag.name)


def own_tags(viewer) -> list[str]:
    """Every tag of `viewer`'s own entries, once each, in order: the journal's filter."""
    return list(in_order(database.run(_OWN_TAGS, prebuilt.params_for(viewer)).scalars()))


def own_page(viewer, filters: dict, per_page: int) -> Page:
    """A page of `viewer`'s own entries, newest first; `filters` may hold visibility and tag."""
    statement = _own("visibility" in filters, "tag" in filters)
    return _with_tags(paginate_rows(statement, per_page, **prebuilt.params_for(viewer, **filters)))


def shared_page(viewer, tag: str | None, per_page: int) -> Page:
    """A page of what colleagues shared with everyone, newest first, with `tag` if given."""
    params = {"tag": tag} if tag else {}
    return _with_tags(paginate_rows(_shared(bool(tag)), per_page, **prebuilt.params_for(viewer, **params)))


def _with_tags(page: Page) -> Page:
    width = len(_COLUMNS)
    page.items = [Summary(*row[:width], split_tags(row.tags), *row[width + 1:]) for row in page.items]
    return page


def in_order(names: Iterable[str]) -> tuple[str, ...]:
    """Tags in the one order every page shows them in (their characters' order, whatever the
    database's collation)."""
    return tuple(sorted(names))
