"""One-time invitation and password-reset links: shown on screen once, valid INVITATION_HOURS, used once."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app, url_for
from sqlalchemy import select, update

from ..extensions import db
from ..models import AccountLink, User, utcnow
from ..text import SENT_AGAIN_WITHIN


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(user: User) -> str:
    """A fresh link for `user`; any earlier unused link of theirs stops working."""
    now = utcnow()
    db.session.execute(
        update(AccountLink).where(AccountLink.user_id == user.id, AccountLink.used_at.is_(None)).values(used_at=now)
    )
    token = secrets.token_urlsafe(32)
    db.session.add(AccountLink(
        user_id=user.id,
        token_hash=_hash(token),
        purpose="reset" if user.password_hash else "invite",
        created_at=now,
        expires_at=now + timedelta(hours=current_app.config["INVITATION_HOURS"]),
    ))
    return url_for("auth.accept_link", token=token, _external=True)


def find_valid(token: str) -> AccountLink | None:
    """The link, if it is unused, unexpired and its account active: a link issued before the
    account was deactivated opens nothing, not even the form that greets the person by name."""
    link = db.session.scalar(select(AccountLink).join(User, User.id == AccountLink.user_id)
                             .where(AccountLink.token_hash == _hash(token), User.active))
    if link is None or link.used_at is not None or link.expires_at < utcnow():
        return None
    return link


def password_set_with(token: str, password: str) -> User | None:
    """The active account whose password this link's form set under ten minutes ago, if `password`
    is that password: the form sent again after its answer was lost, or its button pressed twice.
    Whoever sends it knows the password already."""
    link = db.session.scalar(select(AccountLink).where(AccountLink.token_hash == _hash(token)))
    if link is None or link.used_at is None or utcnow() - link.used_at >= SENT_AGAIN_WITHIN:
        return None
    user = db.session.get(User, link.user_id)
    if user is None or not user.active or not user.password_hash or not password or not user.check_password(password):
        return None
    return user


def use(link: AccountLink) -> bool:
    """Mark the link used; False if another request used it first."""
    return bool(db.session.execute(
        update(AccountLink).where(AccountLink.id == link.id, AccountLink.used_at.is_(None)).values(used_at=utcnow())
    ).rowcount)
