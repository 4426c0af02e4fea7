"""Creating and changing accounts: one set of rules for the admin pages and the command line."""
from __future__ import annotations

import re

from sqlalchemy import delete, insert, select

from .extensions import db
from .i18n import gettext as _
from .models import Role, School, User, mentorships
from .text import sent_again, strip_controls

LOGIN_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
NAME_LIMIT = 120  # characters in a person's display name (the column holds 120)
SCHOOL_NAME_LIMIT = 200


class AccountError(ValueError):
    """A rule about accounts was broken; the message is for the person."""


def normalise_login(login: str) -> str:
    return (login or "").strip().lower()


def check_login(login: str, *, except_user_id: int | None = None) -> str:
    login = normalise_login(login)
    if not LOGIN_PATTERN.fullmatch(login):
        raise AccountError(_("A login is 2–64 Latin letters, digits, dots, dashes or underscores."))
    taken = db.session.scalar(select(User.id).where(User.login == login))
    if taken is not None and taken != except_user_id:
        raise AccountError(_("The login %(login)s is already taken.", login=login))
    return login


def check_role(role: str) -> str:
    if role not in set(Role):
        raise AccountError(_("Unknown role: %(role)s.", role=role))
    return role


def tidy_name(name: str | None) -> str:
    """A person's or a school's name as stored: cleaned as every form field is (webapp.text), single
    spaces, none around."""
    return " ".join((strip_controls(name) or "").split())


def school_named(name: str, *, except_id: int | None = None) -> School | None:
    """The school whose name differs from `name` at most by case: «МОУ СОШ № 16» and «моу сош № 16»
    are one school to the people who type them. The one rule for the admin page and the command line."""
    wanted = tidy_name(name).casefold()
    schools = db.session.scalars(select(School).where(School.id != except_id) if except_id else select(School))
    return next((school for school in schools if tidy_name(school.name).casefold() == wanted), None)


def school_by_name(name: str, *, create: bool = False) -> School | None:
    """The school of this name, whatever the case of its letters (`create`: a new one if there is none)."""
    name = tidy_name(name)
    if not name:
        return None
    school = school_named(name)
    if school is None and create:
        school = School(name=name)
        db.session.add(school)
        db.session.flush()
    return school


def create_user(*, login: str, display_name: str, role: str = Role.LIBRARIAN, school_id: int | None = None,
                locale: str = "ru", password: str | None = None) -> User:
    """Add a user to the session (the caller commits). Raises AccountError on a broken rule."""
    display_name = tidy_name(display_name)
    if not display_name:
        raise AccountError(_("Enter the person's name."))
    if len(display_name) > NAME_LIMIT:
        raise AccountError(_("The name is longer than %(max)d characters.", max=NAME_LIMIT))
    user = User(login=check_login(login), display_name=display_name, role=check_role(role),
                school_id=school_id, locale=locale if locale in ("ru", "en") else "ru", active=True)
    if password:
        user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def created_already(*, login: str | None, display_name: str | None, role: str | None, school_id: int | None,
                    locale: str | None) -> User | None:
    """The account this form already created, when it is sent again (webapp.text.sent_again): the
    login's account, with the same name, role, school and language, under ten minutes old, active,
    and that nobody has signed in to yet (it has no password). The link made for it went out in the
    answer that was lost."""
    user = db.session.scalar(select(User).where(User.login == normalise_login(login or "")))
    if user is None or user.password_hash or not user.active or (user.role, user.school_id, user.locale) != (role, school_id, locale):
        return None
    return user if sent_again(user.display_name, user.created_at, tidy_name(display_name or "")) else None


def set_methodists(librarian: User, methodist_ids: list[int]) -> None:
    """Make exactly these methodists the librarian's mentors."""
    valid = set(db.session.scalars(select(User.id).where(User.id.in_(methodist_ids), User.role == Role.METHODIST)))
    db.session.execute(delete(mentorships).where(mentorships.c.librarian_id == librarian.id))
    if valid:
        db.session.execute(insert(mentorships), [{"methodist_id": m, "librarian_id": librarian.id} for m in sorted(valid)])


def deactivate(user: User) -> None:
    user.active = False
    user.revoke_sessions()
