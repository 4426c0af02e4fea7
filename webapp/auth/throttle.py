"""Sign-in throttling per account and per address, decided before any password hash is computed.

One interface (is_blocked / record_failure / forget) over two ways of counting, so the sign-in
view does not know which one is used:

- RATELIMIT_STORAGE_URI set (e.g. redis://10.0.0.5:6379/0, for several app servers): failures are
  counted in that storage by Flask-Limiter's `limits` strategies (moving window), shared by every
  server that points at it; the database table is not touched.
- not set, the single-server default: failures live in the database table login_failures, so
  every gunicorn worker (and every server on the same PostgreSQL) counts the same attempts, and
  there is no extra service to run.

If the storage cannot be reached, counting falls back to the database rather than refusing every
sign-in: the database is shared by all app servers anyway, so the limits still hold across them,
and a Redis restart does not lock a whole school network out. What is lost is only what Redis had
counted before it went away (at most one window's worth of extra guesses), and the outage is logged.
"""
from __future__ import annotations

from datetime import timedelta

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, RateLimitItemPerHour, RateLimitItemPerMinute
from limits.errors import StorageError
from limits.strategies import RateLimiter
from sqlalchemy import case, delete, func, select

from ..extensions import db
from ..models import LoginFailure, utcnow

_EXTENSION = "rost_login_limiter"
_NAMESPACE = "rost-signin"
# A storage that hangs must not hold a sign-in for long; Redis on a network answers in milliseconds.
_REDIS_TIMEOUTS = {"socket_connect_timeout": 1, "socket_timeout": 1}


def init_app(app: Flask) -> None:
    """With RATELIMIT_STORAGE_URI set, bind a Flask-Limiter to this app for its storage. One per app
    (not a module-wide extension object): Flask-Limiter keeps its storage on the instance, and each
    app (a test's, each server's) must count in its own configured storage."""
    uri = app.config.get("RATELIMIT_STORAGE_URI")
    if not uri:
        return
    options: dict = dict(_REDIS_TIMEOUTS) if uri.startswith(("redis", "valkey")) else {}
    options.update(app.config.get("RATELIMIT_STORAGE_OPTIONS") or {})
    options["wrap_exceptions"] = True  # any storage failure arrives as limits' StorageError
    limiter = Limiter(get_remote_address, storage_uri=uri, storage_options=options, strategy="moving-window")
    limiter.init_app(app)
    app.extensions[_EXTENSION] = limiter


def _keys(login: str, address: str | None) -> list[str]:
    return [f"login:{login.strip().lower()[:64]}", f"addr:{address or '-'}"]


def _storage_limiter() -> RateLimiter | None:
    limiter: Limiter | None = current_app.extensions.get(_EXTENSION)
    return limiter.limiter if limiter is not None else None


def _limits() -> list[RateLimitItem]:
    return [RateLimitItemPerMinute(current_app.config["LOGIN_LIMIT_PER_MINUTE"], namespace=_NAMESPACE),
            RateLimitItemPerHour(current_app.config["LOGIN_LIMIT_PER_HOUR"], namespace=_NAMESPACE)]


def _storage_failed(error: StorageError) -> None:
    current_app.logger.warning("Sign-in throttle storage unreachable (%s); counting in the database instead",
                               error.storage_error)


def is_blocked(login: str, address: str | None) -> bool:
    limiter = _storage_limiter()
    if limiter is not None:
        try:
            return any(not limiter.test(item, key) for key in _keys(login, address) for item in _limits())
        except StorageError as error:
            _storage_failed(error)
    return _db_is_blocked(login, address)


def record_failure(login: str, address: str | None) -> None:
    limiter = _storage_limiter()
    if limiter is not None:
        try:
            for key in _keys(login, address):
                for item in _limits():
                    limiter.hit(item, key)
            return
        except StorageError as error:
            _storage_failed(error)
    _db_record_failure(login, address)


def forget(login: str) -> None:
    """A successful sign-in forgets the account's failures (not the address's)."""
    limiter = _storage_limiter()
    if limiter is not None:
        try:
            for item in _limits():
                limiter.clear(item, _keys(login, None)[0])
            return
        except StorageError as error:
            _storage_failed(error)
    db.session.execute(delete(LoginFailure).where(LoginFailure.key == _keys(login, None)[0]))


def _db_is_blocked(login: str, address: str | None) -> bool:
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


def _db_record_failure(login: str, address: str | None) -> None:
    now = utcnow()
    db.session.add_all(LoginFailure(key=key, at=now) for key in _keys(login, address))
    # Old failures count for nothing; forget them as we go.
    db.session.execute(delete(LoginFailure).where(LoginFailure.at < now - timedelta(hours=2)))
