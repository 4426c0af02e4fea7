from flask import Blueprint

bp = Blueprint("groups", __name__, url_prefix="/groups")

from . import views  # noqa
from . import nav  # noqa
