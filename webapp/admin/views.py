"""Administration: people, schools, mentorships and one-time links. Administrators only."""
from __future__ import annotations

from flask_login import current_user, login_required

from .. import access
from ..htmx import render
from . import bp


@bp.before_request
@login_required
def _administrators_only():
    access.require_admin(current_user)


@bp.get("/")
def index():
    return render("admin/index.html")


@bp.get("/schools")
def schools():
    return render("admin/index.html")
