"""Command-line tasks: flask create-user, import-users, seed-demo."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    pass
