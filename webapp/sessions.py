"""Flask's signed-cookie session, with its signing serializer made once per set of keys.

Flask makes the serializer again on every request that opens or saves a session, and making one
serializes a test value to learn its kind: 3-4 % of what a poll that finds nothing new costs
(docs/performance.md, finding 3). The serializer holds nothing of a request, so one serves them all.
A new secret key or fallback makes a new one."""
from __future__ import annotations

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer


class SessionInterface(SecureCookieSessionInterface):
    def __init__(self) -> None:
        self._made: tuple[tuple, URLSafeTimedSerializer | None] = ((), None)  # the keys, and what they made

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        made_for, serializer = self._made  # one read: another thread may replace the pair meanwhile
        if keys != made_for:
            serializer = super().get_signing_serializer(app)
            self._made = (keys, serializer)
        return serializer
