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
    """A fresh link for `user`; any earlier unused link of theirs stops working (it expires now:
    `used_at` is only ever the moment a password was set through a link)."""
    now = utcnow()
    db.session.execute(
        update(AccountLink).where(AccountLink.user_id == user.id, AccountLink.used_at.is_(None),
                                  AccountLink.expires_at > now).values(expires_at=now)
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
    link = _of_an_active_account(token)
    if link is None or link.used_at is not None or link.expires_at <= utcnow():
        return None
    return link


def _of_an_active_account(token: str) -> AccountLink | None:
    return db.session.scalar(select(AccountLink).join(User, User.id == AccountLink.user_id)
                             .where(AccountLink.token_hash == _hash(token), User.active))


def used_just_now(token: str) -> bool:
    """A password was set through this link under ten minutes ago, for an account still active:
    its form sent again (the button pressed twice, the answer lost) or the page opened again. That
    person is told to sign in with it; nobody is signed in by the link a second time."""
    link = _of_an_active_account(token)
    return link is not None and link.used_at is not None and utcnow() - link.used_at < SENT_AGAIN_WITHIN


def use(link: AccountLink) -> bool:
    """Mark the link used; False if another request used it first."""
    return bool(db.session.execute(
        update(AccountLink).where(AccountLink.id == link.id, AccountLink.used_at.is_(None)).values(used_at=utcnow())
    ).rowcount)
