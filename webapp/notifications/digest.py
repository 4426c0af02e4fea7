"""The weekly e-mail digest: `flask send-digest`, run once a week by cron or a systemd timer.

Each person who turned the digest on and gave an address gets their unread notifications
since the last digest (or the last 7 days), as plain text, in their language, showing
only what they may still see. Mail is optional: without MAIL_SERVER the command says so,
sends nothing, changes nothing and succeeds.
"""
from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr

import click
from flask import current_app, url_for
from flask.cli import with_appcontext
from flask_babel import force_locale, format_datetime, ngettext
from sqlalchemy import Row, select, update

from ..extensions import db
from ..i18n import gettext as _
from ..mentoring.models import Notification, NotificationSettings
from ..models import User, utcnow
from . import inbox

WEEK = timedelta(days=7)
MOST_ITEMS = 50  # a digest lists at most this many; the rest wait on the site
SMTP_TIMEOUT = 30
NOT_CONFIGURED = "SMTP не настроен: письма не отправлены."


@dataclass
class Digest:
    user_id: int
    name: str
    email: str
    locale: str
    since: datetime
    rows: list[Row]
    more: int


def due_digests(now: datetime) -> list[Digest]:
    """Who gets a digest now, with what: unread, created since their last digest, still visible to them."""
    subscribers = db.session.execute(
        select(User, NotificationSettings)
        .join(NotificationSettings, NotificationSettings.user_id == User.id)
        .where(NotificationSettings.weekly_digest.is_(True), NotificationSettings.email.is_not(None),
               NotificationSettings.email != "", User.active.is_(True))
        .order_by(User.id)
    ).all()
    digests = []
    for user, settings in subscribers:
        since = settings.last_digest_at or now - WEEK
        rows = db.session.execute(inbox.newest_first(inbox.rows_for(user)).where(
            Notification.read_at.is_(None), Notification.created_at > since, Notification.created_at <= now,
        )).all()
        rows = [row for row in rows if inbox.is_available(row)]
        if rows:
            digests.append(Digest(user_id=user.id, name=user.display_name, email=settings.email, locale=user.locale,
                                  since=since, rows=rows[:MOST_ITEMS], more=max(len(rows) - MOST_ITEMS, 0)))
    return digests


def sender() -> str:
    config = current_app.config
    return config.get("MAIL_FROM") or config.get("MAIL_USERNAME") or "rost@localhost"


def compose(digest: Digest) -> EmailMessage:
    """The message in the recipient's language. Needs a request context (for external links)."""
    with force_locale(digest.locale or "ru"):
        count = len(digest.rows) + digest.more
        lines = [
            _("Hello, %(name)s!", name=digest.name), "",
            ngettext("Since %(since)s you have %(num)d unread notification in Rost:",
                     "Since %(since)s you have %(num)d unread notifications in Rost:",
                     count, since=format_datetime(digest.since, "d MMMM y")),
            "",
        ]
        for row in digest.rows:
            item = inbox.describe(row)
            lines.append(f"• {format_datetime(item.created_at, 'd MMMM, HH:mm')} — {item.text}")
            if item.excerpt:
                lines.append(f"  «{item.excerpt}»")
            lines.append("  " + url_for("notifications.open", notification_id=item.id, _external=True))
            lines.append("")
        if digest.more:
            lines += [ngettext("…and %(num)d more notification on the site.", "…and %(num)d more notifications on the site.", digest.more), ""]
        lines += [
            _("All notifications: %(url)s", url=url_for("notifications.index", _external=True)),
            _("To choose what you receive or turn this digest off: %(url)s",
              url=url_for("notifications.settings", _external=True)),
        ]
        message = EmailMessage()
        message["Subject"] = ngettext("Rost: %(num)d unread notification", "Rost: %(num)d unread notifications", count)
    message["From"] = sender()
    message["To"] = formataddr((digest.name, digest.email))
    message["Auto-Submitted"] = "auto-generated"  # no vacation auto-replies to a robot
    message.set_content("\n".join(lines))
    return message


def smtp_connection() -> smtplib.SMTP:
    """A connection to the configured mail server. Tests replace smtplib.SMTP with a fake."""
    config = current_app.config
    connection = smtplib.SMTP(config["MAIL_SERVER"], int(config["MAIL_PORT"]), timeout=SMTP_TIMEOUT)
    try:
        if config.get("MAIL_USE_TLS"):
            connection.starttls(context=ssl.create_default_context())
        if config.get("MAIL_USERNAME"):
            connection.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
    except BaseException:
        connection.close()
        raise
    return connection


def mark_sent(user_id: int, now: datetime) -> None:
    db.session.execute(update(NotificationSettings).where(NotificationSettings.user_id == user_id)
                       .values(last_digest_at=now))
    db.session.commit()


@click.command("send-digest")
@click.option("--base-url", metavar="URL",
              help="Адрес сайта для ссылок в письмах (по умолчанию SERVER_NAME из настроек).")
@with_appcontext
def send_digest_command(base_url: str | None) -> None:
    """Разослать еженедельную сводку непрочитанных уведомлений по электронной почте.

    Запускайте раз в неделю (cron). Без MAIL_SERVER в настройках ничего не отправляет.
    """
    # Imported here: webapp.cli imports this module to register the command.
    from ..cli import fail, resolve_base_url

    config = current_app.config
    if not config.get("MAIL_SERVER"):
        click.echo(f"{NOT_CONFIGURED} Чтобы рассылать сводки, задайте MAIL_SERVER (а также MAIL_PORT, "
                   "MAIL_USERNAME, MAIL_PASSWORD, MAIL_FROM) в instance/config.py.")
        return
    site = resolve_base_url(base_url)
    now = utcnow()
    digests = due_digests(now)
    db.session.commit()  # end the read: no database lock is held while the mail server is slow
    if not digests:
        click.echo("Сводки не нужны: ни у кого из подписчиков нет новых непрочитанных уведомлений.")
        return
    with current_app.test_request_context(base_url=site):
        messages = [(digest, compose(digest)) for digest in digests]
    try:
        connection = smtp_connection()
    except (OSError, smtplib.SMTPException) as error:
        fail(f"Не удалось подключиться к почтовому серверу {config['MAIL_SERVER']}:{config['MAIL_PORT']} ({error}). "
             "Письма не отправлены.")
    failed = []
    try:
        for digest, message in messages:
            try:
                connection.send_message(message)
            except smtplib.SMTPException as error:
                failed.append(f"{digest.email}: {error}")
                continue
            mark_sent(digest.user_id, now)  # at once: a crash later does not send this one twice
    finally:
        try:
            connection.quit()
        except (OSError, smtplib.SMTPException):
            pass
    click.echo(f"Отправлено сводок: {len(messages) - len(failed)}.")
    if failed:
        fail("Не отправлены:\n" + "\n".join(failed))
