"""Statements built once for every viewer (webapp.prebuilt): built once per variant, run for a
signed-in, active person only, and each person gets what webapp.access lets them see."""
from __future__ import annotations

import pytest
from flask_login import AnonymousUserMixin
from werkzeug.exceptions import NotFound

from webapp import access, database, prebuilt
from webapp.extensions import db
from webapp.models import JournalEntry, User, Visibility

from . import factories


def test_a_statement_is_built_once_for_each_variant():
    built = []

    @prebuilt.built_once
    def statement(viewer, variant):
        built.append(variant)
        return access.visible_entries(viewer).with_only_columns(JournalEntry.id)

    assert statement("a") is statement("a") and statement("b") is not statement("a")
    assert built == ["a", "b"]


def test_nobody_signed_in_and_an_inactive_person_are_not_a_viewer(app, people):
    inactive = db.session.get(User, people["librarian"])
    inactive.active = False
    for nobody in (AnonymousUserMixin(), inactive):
        with pytest.raises(NotFound):
            prebuilt.params_for(nobody, entry_id=1)
    assert prebuilt.params_for(db.session.get(User, people["author"]), entry_id=1) == {
        "entry_id": 1, "viewer_id": people["author"]}


def test_each_viewer_sees_through_one_statement_what_access_allows_them(app, people):
    made = {visibility: factories.make_entry(people["author"], visibility=visibility)
            for visibility in (Visibility.PRIVATE, Visibility.MENTORS, Visibility.COLLEAGUES)}
    statement = prebuilt.built_once(lambda viewer: access.visible_entries(viewer).with_only_columns(JournalEntry.id))

    def sees(person: str) -> set:
        viewer = db.session.get(User, people[person])
        return set(database.run(statement(), prebuilt.params_for(viewer)).scalars()) & set(made.values())

    assert sees("author") == set(made.values())
    assert sees("methodist") == {made[Visibility.MENTORS], made[Visibility.COLLEAGUES]}
    assert sees("librarian") == {made[Visibility.COLLEAGUES]}
