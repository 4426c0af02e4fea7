"""Who a request comes from: the rule a session must meet to name a signed-in person.

Flask-Login keeps `User.get_id()`, "id:session_token", in the session. The user loader
(webapp.auth.views) loads the person by this rule on every request that asks who is there;
polls (webapp.polls) fold the same rule into their one statement and answer before anyone is
loaded. Changing the session token (signing out everywhere, a new password) or deactivating the
account signs the person out of both at once."""
from __future__ import annotations

from flask import session
from sqlalchemy import ColumnElement, and_

from .models import User


def parse(value: object) -> tuple[int, str] | None:
    """The id and session token in a session's "id:token", or None if it holds no such pair."""
    if not isinstance(value, str):
        return None
    ident, _sep, token = value.partition(":")
    if not (ident.isascii() and ident.isdigit() and len(ident) < 19) or not token:
        return None
    return int(ident), token


def from_session() -> tuple[int, str] | None:
    """The id and token the request's session names (not yet checked against the database)."""
    return parse(session.get("_user_id"))


def signed_in(user_id, token) -> ColumnElement[bool]:
    """The users row of a signed-in person: this id, this session token, an active account."""
    return and_(User.id == user_id, User.session_token == token, User.active.is_(True))
