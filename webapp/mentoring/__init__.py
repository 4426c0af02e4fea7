from flask import Blueprint

bp = Blueprint("mentoring", __name__, url_prefix="/mentoring")
