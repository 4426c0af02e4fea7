"""Flask's signed-cookie session, with its signing serializer made once per set of keys, and the
cookies it has verified remembered.

Flask makes the serializer again on every request that opens or saves a session, and making one
serializes a test value to learn its kind: 3-4 % of what a poll that finds nothing new costs
(docs/performance.md, finding 3). The serializer holds nothing of a request, so one serves them all.
A new secret key or fallback makes a new one.

Opening the session verified the cookie's signature and decoded it (base64, zlib, JSON) on every
request: 75 µs, a twentieth of a poll. A browser sends the same cookie until its session changes,
so what a cookie holds is remembered by its exact text, for the serializer that verified it. That
is the same answer verifying again would give: the text and the keys decide it. Its age is
still checked on every request, a new set of keys verifies every cookie again, and a session that
holds anything that can change in place (a list of flashed messages) is not remembered, so no
request can change what the next one opens."""
from __future__ import annotations

import time

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature, URLSafeTimedSerializer

KEPT_COOKIES = 4096  # per process; when full, all are forgotten and verified again as they come
_UNCHANGING = (str, int, float, bool, type(None))


class SessionInterface(SecureCookieSessionInterface):
    def __init__(self) -> None:
        self._made: tuple[tuple, URLSafeTimedSerializer | None] = ((), None)  # the keys, and what they made
        self._verified: dict[str, tuple[URLSafeTimedSerializer, int, tuple]] = {}  # cookie: (by, signed at, items)

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        made_for, serializer = self._made  # one read: another thread may replace the pair meanwhile
        if keys != made_for:
            serializer = super().get_signing_serializer(app)
            self._made = (keys, serializer)
        return serializer

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        cookie = request.cookies.get(self.get_cookie_name(app))
        if not cookie:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        known = self._verified.get(cookie)
        if known is not None and known[0] is serializer and 0 <= int(time.time()) - known[1] <= max_age:
            return self.session_class(known[2])
        try:
            data, signed_at = serializer.loads(cookie, max_age=max_age, return_timestamp=True)
        except BadSignature:
            return self.session_class()
        if isinstance(data, dict) and all(isinstance(value, _UNCHANGING) for value in data.values()):
            if len(self._verified) >= KEPT_COOKIES:
                self._verified.clear()
            self._verified[cookie] = (serializer, int(signed_at.timestamp()), tuple(data.items()))
        return self.session_class(data)
