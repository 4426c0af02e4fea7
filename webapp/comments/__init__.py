from flask import Blueprint

bp = Blueprint("comments", __name__, url_prefix="/comments")

from . import views  # noqa: E402,F401  (routes attach themselves to bp)
