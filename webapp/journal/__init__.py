from flask import Blueprint

bp = Blueprint("journal", __name__, url_prefix="/journal")

from . import views  # noqa: E402,F401  (routes attach themselves to bp)
