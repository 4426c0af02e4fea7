"""Sign-in throttling per account and per address, decided before any password hash is computed.
Failures live in the database, so every app process and server counts the same attempts."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import case, delete, func, select

from ..extensions import db
from ..models import LoginFailure, utcnow


def _keys(login: str, address: str | None) -> list[str]:
    return [f"login:{login.strip().lower()[:64]}", f"addr:{address or '-'}"]


def is_blocked(login: str, address: str | None) -> bool:
    now = utcnow()
    minute, hour = now - timedelta(minutes=1), now - timedelta(hours=1)
    keys = _keys(login, address)
    rows = db.session.execute(
        select(LoginFailure.key,
               func.count().label("hour"),
               func.sum(case((LoginFailure.at > minute, 1), else_=0)).label("minute"))
        .where(LoginFailure.key.in_(keys), LoginFailure.at > hour)
        .group_by(LoginFailure.key)
    ).all()
    per_minute = current_app.config["LOGIN_LIMIT_PER_MINUTE"]
    per_hour = current_app.config["LOGIN_LIMIT_PER_HOUR"]
    return any((row.minute or 0) >= per_minute or row.hour >= per_hour for row in rows)


def record_failure(login: str, address: str | None) -> None:
    now = utcnow()
    db.session.add_all(LoginFailure(key=key, at=now) for key in _keys(login, address))
    # Old failures count for nothing; forget them as we go.
    db.session.execute(delete(LoginFailure).where(LoginFailure.at < now - timedelta(hours=2)))


def forget(login: str) -> None:
    db.session.execute(delete(LoginFailure).where(LoginFailure.key == _keys(login, None)[0]))
