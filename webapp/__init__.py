"""Rost: reflective journals for school librarians and their methodists."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        # ROST_INSTANCE_PATH: another folder for config.py, the secret key and the SQLite file
        # (a test server, or a deployment that keeps them outside the code).
        instance_path=os.environ.get("ROST_INSTANCE_PATH") or str(ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    from . import config

    config.load_config(app, test_config)
    if app.config["PROXY_COUNT"]:
        # Behind nginx: the client's address, https and the host come from its X-Forwarded-* headers.
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["PROXY_COUNT"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    from . import request_log

    request_log.init_app(app)  # first: it times the whole request and logs after every other hook

    from . import database, errors, i18n, security, sessions, templating, urls
    from .extensions import csrf, db, login_manager, migrate
    from .groups import models as _groups_models  # noqa: F401  (their tables join the metadata)
    from .mentoring import models as _mentoring_models  # noqa: F401

    urls.init_app(app)
    app.session_interface = sessions.SessionInterface()
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    i18n.init_app(app)
    with app.app_context():
        database.init_app(app, db.engine)
    security.init_app(app)
    templating.init_app(app)
    errors.init_app(app)

    from .admin import bp as admin_bp
    from .auth import bp as auth_bp
    from .comments import bp as comments_bp
    from .groups import bp as groups_bp
    from .health import bp as health_bp
    from .journal import bp as journal_bp
    from .mentoring import bp as mentoring_bp
    from .notifications import bp as notifications_bp
    from .plans import bp as plans_bp
    from .threads import bp as threads_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(journal_bp)
    app.register_blueprint(comments_bp)
    app.register_blueprint(mentoring_bp)
    app.register_blueprint(plans_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(groups_bp)
    app.register_blueprint(threads_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(health_bp)

    from . import cli

    cli.init_app(app)
    return app
