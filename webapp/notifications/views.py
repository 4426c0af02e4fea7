"""Notifications: the header badge and its poll, the list, marking read, opening, settings."""
from __future__ import annotations

from dataclasses import replace

from flask import abort, current_app, flash, url_for
from flask_login import current_user, login_required

from .. import polls
from ..extensions import db
from ..htmx import is_htmx_request, redirect_for, render
from ..i18n import gettext as _
from ..mentoring.models import Notification, NotificationSettings
from ..pagination import Page, current_page_number, one_page_of, paginate_rows
from . import bp, inbox
from .forms import SettingsForm, muted_from, wanted_from

PER_PAGE = 20
CHANGED = "notifications-changed"  # htmx event: the badge asks for its count again


@bp.get("/badge")
def badge():
    """The badge polls with the count it shows: unchanged → 204, no body, one statement."""
    return polls.answer_unless_shown(inbox.BADGE_POLL, lambda row: str(row.unread),
                                     lambda row: render("notifications/_badge.html", badge_count=row.unread))


def _page() -> Page:
    page = paginate_rows(one_page_of(inbox.newest_first(inbox.rows_for(current_user))), PER_PAGE)
    page.items = [inbox.describe(r) for r in page.items]
    return page


@bp.get("/")
@login_required
def index():
    return render("notifications/index.html", "notification_list", page=_page())


def _own_row(notification_id: int):
    row = db.session.execute(inbox.rows_for(current_user).where(Notification.id == notification_id)).first()
    if row is None:
        abort(404)
    return row


@bp.get("/<int:notification_id>", endpoint="open")
@login_required
def open_notification(notification_id: int):
    row = _own_row(notification_id)
    if not inbox.is_available(row):
        abort(404)
    target, user_id = inbox.target_url(row), current_user.id
    # A write on a GET: on SQLite a read transaction cannot wait for a busy writer when it starts
    # writing, so the read ends here and the UPDATE opens a transaction of its own, which waits its turn.
    db.session.commit()
    inbox.mark_read(user_id, notification_id)
    db.session.commit()
    return redirect_for(target)


def _back_to_list() -> str:
    return url_for("notifications.index", page=current_page_number())


@bp.post("/<int:notification_id>/read")
@login_required
def read(notification_id: int):
    row = _own_row(notification_id)
    inbox.mark_read(current_user.id, notification_id)
    db.session.commit()
    if is_htmx_request():
        item = replace(inbox.describe(row), read=True)
        return render("notifications/_notification.html", item=item, page_number=current_page_number(),
                      headers={"HX-Trigger": CHANGED})
    return redirect_for(_back_to_list())


@bp.post("/read-all")
@login_required
def read_all():
    inbox.mark_read(current_user.id)
    db.session.commit()
    if is_htmx_request():
        return render("notifications/index.html", "notification_list", page=_page(), headers={"HX-Trigger": CHANGED})
    flash(_("All notifications are marked as read."), "success")
    return redirect_for(_back_to_list())


def _settings_context(form: SettingsForm, **extra) -> dict:
    return {"form": form, "mail_configured": bool(current_app.config.get("MAIL_SERVER")), **extra}


@bp.get("/settings")
@login_required
def settings():
    found = db.session.get(NotificationSettings, current_user.id)
    data = {"kinds": wanted_from(found.muted_kinds if found else ""),
            "weekly_digest": bool(found and found.weekly_digest), "email": found.email if found else ""}
    return render("notifications/settings.html", "settings_form", **_settings_context(SettingsForm(formdata=None, data=data)))


@bp.post("/settings")
@login_required
def update_settings():
    form = SettingsForm()
    if not form.validate():
        return render("notifications/settings.html", "settings_form", status=422, **_settings_context(form))
    found = db.session.get(NotificationSettings, current_user.id)
    if found is None:
        found = NotificationSettings(user_id=current_user.id)
        db.session.add(found)
    found.muted_kinds = muted_from(form.kinds.data or [])
    found.weekly_digest = bool(form.weekly_digest.data)
    found.email = form.email.data or None
    db.session.commit()
    if is_htmx_request():
        return render("notifications/settings.html", "settings_form", **_settings_context(form, saved=True))
    flash(_("The notification settings are saved."), "success")
    return redirect_for(url_for("notifications.settings"))
