"""One JSON line per request on the "rost.request" logger (stderr, so journald keeps it).

A line names the route pattern, never the path or the query string: paths such as
/invite/<token> carry secrets. It names the person by id only, never by login or name.
"""
from __future__ import annotations

import json
import logging
import re
import secrets
import sys
import time
from datetime import UTC, datetime

from flask import Flask, Response, g, has_request_context, request
from flask.logging import default_handler

from .security import loaded_user

logger = logging.getLogger("rost.request")

REQUEST_ID_HEADER = "X-Request-Id"
# What nginx's $request_id looks like (32 hex digits), or a UUID, or a similar short token.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{7,127}")
# Load balancers ask every few seconds; a healthy answer is logged at debug level only.
_QUIET_ENDPOINTS = frozenset({"health.healthz"})
# One compact JSON line; json.dumps with these separators would build the encoder on every call.
_to_json = json.JSONEncoder(separators=(",", ":")).encode


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the moment (gunicorn workers, test capture)."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr


class _RequestIdFilter(logging.Filter):
    """Adds the request id to the app's own log records (tracebacks), to find the matching request line."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


def init_app(app: Flask) -> None:
    """Call first in create_app: the start time is taken before other hooks, the line written after them."""
    _configure_loggers()
    if not any(isinstance(f, _RequestIdFilter) for f in app.logger.filters):
        app.logger.addFilter(_RequestIdFilter())
    app.before_request(_start)
    app.after_request(_finish)


def _configure_loggers() -> None:
    if not any(isinstance(handler, _StderrHandler) for handler in logger.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False  # one line, even if someone configures the root logger
    # Flask's own handler (stderr, used unless logging is configured elsewhere) shows the request id.
    default_handler.setFormatter(logging.Formatter(
        "[%(asctime)s] %(levelname)s in %(module)s [request %(request_id)s]: %(message)s",
        defaults={"request_id": "-"}))


def request_id_from(header: str | None) -> str:
    """The proxy's id when it looks like one; otherwise a new one (nginx's format)."""
    if header and _SANE_REQUEST_ID.fullmatch(header):
        return header
    return secrets.token_hex(16)


def _start() -> None:
    g.request_started = time.perf_counter()
    g.request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))


def _finish(response: Response) -> Response:
    started = g.get("request_started")
    request_id = g.get("request_id") or request_id_from(None)
    response.headers[REQUEST_ID_HEADER] = request_id
    current = request._get_current_object()  # read four times below: once through the proxy
    quiet = current.endpoint in _QUIET_ENDPOINTS and response.status_code < 400
    level = logging.DEBUG if quiet else logging.INFO
    if logger.isEnabledFor(level):
        rule = current.url_rule
        line = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "request_id": request_id,
            "method": current.method,
            "route": rule.rule if rule is not None else None,
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started is not None else None,
            "bytes": response.content_length,
            "user": _user_id(),
            "remote": current.remote_addr,
        }
        logger.log(level, _to_json(line))
    return response


def _user_id() -> int | None:
    # The id only (get_id() would also carry the session token), of a person the request
    # already loaded: the log line costs no query of its own.
    user = loaded_user()
    return user.id if user is not None else g.get("signed_in_id")  # a poll that loaded nobody (webapp.polls)
