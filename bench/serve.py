"""What bench/run.py serves with gunicorn (`gunicorn $GUNICORN_ARGS … bench.serve:app`): the app
exactly as `make run` builds it (webapp.create_app, configured from the environment), plus the
ceiling route of bench/ceiling.py."""
from __future__ import annotations

from webapp import create_app

from .ceiling import add_ceiling

app = add_ceiling(create_app())
