"""Plain keyword factories. Each writes rows and returns ids, never ORM objects."""
from __future__ import annotations

import itertools

from sqlalchemy import insert

from webapp.extensions import db
from webapp.models import EntryTag, JournalEntry, Role, School, User, Visibility, mentorships

PASSWORD = "пароль-для-тестов"
_seq = itertools.count(1)


def make_school(name: str | None = None) -> int:
    school = School(name=name or f"Школа №{next(_seq)}")
    db.session.add(school)
    db.session.commit()
    return school.id


def make_user(role: str = Role.LIBRARIAN, *, login: str | None = None, display_name: str | None = None,
              school_id: int | None = None, password: str | None = PASSWORD, active: bool = True,
              locale: str = "ru") -> int:
    n = next(_seq)
    user = User(login=login or f"user{n}", display_name=display_name or f"Пользователь {n}", role=role,
                school_id=school_id, active=active, locale=locale)
    if password:
        user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user.id


def make_entry(author_id: int, *, visibility: str = Visibility.MENTORS, title: str | None = None,
               body: str = "Текст записи о прочитанном.", tags: tuple[str, ...] = ()) -> int:
    entry = JournalEntry(author_id=author_id, title=title or f"Запись {next(_seq)}", body=body,
                         visibility=visibility, tags=[EntryTag(name=t) for t in tags])
    db.session.add(entry)
    db.session.commit()
    return entry.id


def assign_mentor(methodist_id: int, librarian_id: int) -> None:
    db.session.execute(insert(mentorships).values(methodist_id=methodist_id, librarian_id=librarian_id))
    db.session.commit()
