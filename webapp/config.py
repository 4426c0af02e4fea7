"""Configuration: defaults here, then instance/config.py, then the environment, then test_config."""
from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from flask import Flask

HTMX_VERSION = "4.0.1"
HTMX_SRI = "sha384-Qp9rdC8H7EqOoX+nR0P3RPG2Noji+qdwJlGpfzwQJsfOpp3sGwIdSP9xO3+UlEhn"
# The one file the CSP allows from the CDN, not the whole CDN: it serves any package of anyone's.
HTMX_CDN_URL = f"https://cdn.jsdelivr.net/npm/htmx.org@{HTMX_VERSION}/dist/htmx.min.js"

ENTRY_BODY_LIMIT = 100_000  # characters in one saved entry
# A request carries at most this much: an oversized entry still reaches the
# form (and is kept as a draft) instead of being cut off by Werkzeug.
REQUEST_LIMIT = 4 * 1024 * 1024


class Defaults:
    SQLALCHEMY_DATABASE_URI: str | None = None  # set from instance_path in load_config
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    MAX_CONTENT_LENGTH = REQUEST_LIMIT
    MAX_FORM_MEMORY_SIZE = REQUEST_LIMIT
    MAX_FORM_PARTS = 2000
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False  # switched on with PREFERRED_URL_SCHEME=https
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_DURATION = timedelta(days=30)
    REMEMBER_COOKIE_SECURE = False
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    PREFERRED_URL_SCHEME = "http"
    WTF_CSRF_TIME_LIMIT = 3600
    BABEL_DEFAULT_LOCALE = "ru"
    BABEL_DEFAULT_TIMEZONE = "Asia/Vladivostok"  # Khabarovsk Krai, UTC+10
    BABEL_TRANSLATION_DIRECTORIES = "translations"
    HTMX_SOURCE = "cdn"  # or "local": static/vendor/htmx.min.js
    ENTRIES_PER_PAGE = 20
    AUTOSAVE_SECONDS = 30
    COMMENT_POLL_SECONDS = 15  # how often the comments under an open entry ask for new ones
    GROUP_POLL_SECONDS = 15  # how often a group's thread list asks whether anything changed
    THREAD_POLL_SECONDS = 10  # how often an open thread asks for new posts (and whether it was closed)
    INVITATION_HOURS = 72
    LOGIN_LIMIT_PER_MINUTE = 5
    LOGIN_LIMIT_PER_HOUR = 100
    # Where failed sign-ins are counted when several app servers run (e.g. redis://10.0.0.5:6379/0).
    # Unset: the database counts them, which already covers every worker of one server.
    RATELIMIT_STORAGE_URI: str | None = None
    SQLITE_BUSY_TIMEOUT_MS = 15_000
    PASSWORD_HASH_METHOD = "scrypt"
    NOTIFICATION_POLL_SECONDS = 20
    # Optional outgoing mail (the weekly digest). Without MAIL_SERVER nothing is ever sent.
    MAIL_SERVER: str | None = None
    MAIL_PORT = 587
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_USE_TLS = True  # STARTTLS after connecting
    MAIL_FROM: str | None = None  # defaults to MAIL_USERNAME
    # flask backup with no path writes into BACKUP_DIR (absolute, or relative to instance/) and keeps
    # the newest BACKUP_KEEP copies there; docs/backup.md.
    BACKUP_DIR: str | None = None
    BACKUP_KEEP = 14
    # How many proxies (nginx) stand in front of the app and set X-Forwarded-For/-Proto/-Host.
    # 0 trusts none of those headers; 1 behind one nginx (docs/deploy.md).
    PROXY_COUNT = 0


def load_config(app: Flask, test_config: dict | None) -> None:
    app.config.from_object(Defaults)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env()  # FLASK_SECRET_KEY, FLASK_HTMX_SOURCE, ...
    for name in ("DATABASE_URL", "HTMX_SOURCE", "RATELIMIT_STORAGE_URI"):
        if os.environ.get(name):
            app.config[name] = os.environ[name]
    if test_config:
        app.config.from_mapping(test_config)
    if app.config.get("DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = app.config["DATABASE_URL"]
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + str(Path(app.instance_path) / "rost.sqlite")
    if app.config["PREFERRED_URL_SCHEME"] == "https":
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))


def _instance_secret(instance: Path) -> str:
    """The secret key lives in instance/secret_key, made on first start, readable by the owner only."""
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        # Written aside, then linked into place: two workers starting at once agree on one key.
        tmp = instance / f".secret_key.{os.getpid()}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()
