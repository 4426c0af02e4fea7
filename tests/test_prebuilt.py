"""Statements built once for every viewer (webapp.prebuilt): the viewer's id is bound at execution,
so one person's poll never answers with another's view, and a rule that needs more than the id
cannot be built that way by mistake."""
from __future__ import annotations

import pytest
from sqlalchemy import Integer, bindparam, select

from webapp import access
from webapp.extensions import db
from webapp.models import JournalEntry, User, Visibility
from webapp.prebuilt import PerViewer

from . import factories

ENTRY = PerViewer(lambda viewer: access.visible_entries(viewer)
                  .where(JournalEntry.id == bindparam("entry_id", type_=Integer)))


def sees(viewer: User, entry_id: int) -> bool:
    statement, params = ENTRY.for_viewer(viewer, entry_id=entry_id)
    return db.session.execute(statement, params).first() is not None


def test_each_viewer_gets_their_own_answer_from_one_statement(app, people):
    private = factories.make_entry(people["author"], visibility=Visibility.PRIVATE)
    shared = factories.make_entry(people["author"], visibility=Visibility.MENTORS)
    author, methodist, other = (db.session.get(User, people[p]) for p in ("author", "methodist", "other_methodist"))
    assert sees(author, private) and sees(author, shared)
    assert not sees(methodist, private) and sees(methodist, shared)
    assert not sees(other, private) and not sees(other, shared)
    author.active = False  # a deactivated account sees nothing, through the very same object
    assert not sees(author, private) and not sees(author, shared)


def test_a_rule_that_reads_more_than_the_id_is_refused_where_it_is_built(app, people):
    by_role = PerViewer(lambda viewer: select(User) if viewer.is_admin else select(User).where(User.id == viewer.id))
    with pytest.raises(AttributeError):
        by_role.for_viewer(db.session.get(User, people["admin"]))
