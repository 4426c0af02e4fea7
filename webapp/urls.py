"""Addresses: the id converters, the addresses templates build (remembered), and safe redirects:
`next` only ever leads inside the site."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, request, url_for
from flask.globals import request_ctx
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


KEPT_URLS = 8192  # per process; all forgotten when full
KEPT_VALUE_CHARS = 64  # a longer text (someone's `next` address, a typed tag) is not kept
_KEPT_TYPES = frozenset({int, str, bool, type(None)})
_built: dict[tuple, str] = {}


def page_url_for(endpoint: str, **values) -> str:
    """url_for for templates, remembering the addresses it built. A page links to each of its items
    and each of their tags, and Werkzeug builds an address in 15-30 µs; looking it up takes one.
    The same endpoint and values under the same script root always give the same address here: a
    request's address is relative and no rule has a host or subdomain. Only ids, flags and short
    texts are kept, with their types (so `True` is not taken for 1); `url_for` itself builds
    anything else: an address with `_external` or `_scheme`, a blueprint-relative endpoint, any
    other value (0.0 and -0.0 are equal keys but other addresses), and a long text, which would
    let anyone fill the memory with addresses they made up. The app has no `url_defaults` hook,
    which could add values the key does not hold (a test says so)."""
    if endpoint[:1] == "." or "_external" in values or "_scheme" in values:
        return url_for(endpoint, **values)
    parts: list = [endpoint]
    for name, value in values.items():
        kind = value.__class__
        if kind not in _KEPT_TYPES or (kind is str and len(value) > KEPT_VALUE_CHARS):
            return url_for(endpoint, **values)
        parts += (name, kind, value)
    try:
        parts.append(request_ctx.url_adapter.script_name)
    except (RuntimeError, AttributeError):  # outside a request, or no adapter
        return url_for(endpoint, **values)
    key = tuple(parts)
    url = _built.get(key)
    if url is None:
        url = url_for(endpoint, **values)
        if len(_built) >= KEPT_URLS:
            _built.clear()
        _built[key] = url
    return url


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
