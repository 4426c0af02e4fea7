from flask import Blueprint

bp = Blueprint("threads", __name__, url_prefix="/threads")
