from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

# Routes attach themselves to bp; the group pages live in groups.py to keep views.py short.
from . import groups, views  # noqa: E402,F401
