from flask import Blueprint

bp = Blueprint("threads", __name__, url_prefix="/threads")

from . import views  # noqa
from . import posts  # noqa
