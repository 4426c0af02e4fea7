from flask import Blueprint

bp = Blueprint("mentoring", __name__, url_prefix="/mentoring")
from . import views  # noqa: E402,F401  (the routes join the blueprint)
