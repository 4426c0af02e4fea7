"""The benchmark's ceiling: a constant response with no database and no template, added to the
real app so that it passes through the same server, middleware and request hooks."""
from __future__ import annotations

from flask import Flask, Response

CEILING_PATH = "/bench/ceiling"


def add_ceiling(app: Flask) -> Flask:
    @app.get(CEILING_PATH)
    def bench_ceiling() -> Response:
        return Response("ok\n", mimetype="text/plain")

    return app
