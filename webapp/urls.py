"""Safe redirects: `next` only ever leads inside the site."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, request, url_for
from werkzeug.routing import BaseConverter, IntegerConverter

MAX_ID = 2**31 - 1
DRAFT_KEY = r"[A-Za-z0-9_-]{8,64}"  # an entry draft's key (webapp.journal.drafts makes them)


class IdConverter(IntegerConverter):
    """<int:…> in our routes: ids beyond what the databases store answer 404, not a 500; and only
    plain ASCII digits are an id, as in forms (webapp.numbers): Werkzeug's own takes '١' for 1."""

    regex = r"[0-9]+"

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


class DraftKeyConverter(BaseConverter):
    """<draft_key:…>: anything that is not a draft's key answers 404 before the database is asked
    (PostgreSQL refuses a NUL in a text, and the address is someone's to type)."""

    regex = DRAFT_KEY


def init_app(app: Flask) -> None:
    app.url_map.converters["int"] = IdConverter
    app.url_map.converters["draft_key"] = DraftKeyConverter


def safe_next(target: str | None, default: str) -> str:
    """Keep a path on this site; anything pointing elsewhere becomes `default`."""
    if not target:
        return default
    target = target.strip().replace("\\", "/")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        here = urlsplit(request.host_url)
        if (parts.scheme, parts.netloc) != (here.scheme, here.netloc):
            return default
    path = parts.path or "/"
    if not path.startswith("/") or path.startswith("//"):
        return default
    if any(ord(ch) < 32 for ch in target):
        return default
    return path + (f"?{parts.query}" if parts.query else "")


def login_url(next_url: str | None = None) -> str:
    if next_url:
        next_url = safe_next(next_url, "")
    return url_for("auth.login", next=next_url) if next_url else url_for("auth.login")
