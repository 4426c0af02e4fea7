from flask import Blueprint

bp = Blueprint("plans", __name__, url_prefix="/plans")

from . import views  # noqa: E402,F401  (routes attach themselves to bp)
