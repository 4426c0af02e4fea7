"""Error pages that speak Russian, are safe to swap into a page, and never lose typed text."""
from __future__ import annotations

import hmac

from flask import Flask, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError, generate_csrf
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from . import database
from .database import storage_fault
from .extensions import db, login_manager
from .htmx import into_form_alert, is_fragment_request, is_htmx_request, render
from .i18n import gettext as _
from .i18n import lazy_gettext as _l
from .journal import drafts
from .text import strip_controls
from .urls import login_url


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"

    @login_manager.unauthorized_handler
    def _unauthorized():
        rescued = drafts.rescue_if_text()
        if rescued is not None:
            return rescued
        kept = _kept_while_signed_out()
        if kept is not None:
            return kept
        if is_htmx_request():
            return "", 401, {"HX-Redirect": login_url(request.headers.get("HX-Current-URL"))}
        flash(_("Please sign in."), "info")
        return redirect(login_url(_page_sent_from()))

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError):
        own_expired = _own_token_expired(error)
        rescued = drafts.rescue_if_text(own_token_expired=own_expired)
        if rescued is not None:
            return rescued
        if not current_user.is_authenticated:
            # The token went with the session: what the person must hear is that it ended.
            kept = _kept_while_signed_out()
            if kept is not None:
                return kept
            if request.endpoint == "auth.logout":
                return redirect(url_for("auth.login"), 303)  # signed out already: what was asked for
            if not is_htmx_request() and request.endpoint not in SIGNED_OUT_FORMS:
                # A plain button, nothing typed: to the sign-in page, and from there back to the
                # page the button was on (htmx reloads that page, which then asks to sign in).
                flash(_("Your session has ended, so nothing was done. Sign in and repeat the action."), "info")
                return redirect(login_url(_page_sent_from()), 303)
        if is_fragment_request() and typed_text():
            message = (_("The page had been open for a long time, so nothing was saved. "
                         "Your text stays here: press the button once more.") if own_expired else
                       drafts.not_kept_for_an_earlier_sign_in())
            return _kept_in_form(400, message, fresh_token=generate_csrf())
        if is_htmx_request():
            # Nothing typed to keep (a button, a password): the page comes back with a fresh token,
            # and says why to whoever pressed something (not to a background autosave, not to
            # someone signed out, whom the reloaded page asks to sign in).
            if current_user.is_authenticated and request.endpoint not in AUTOSAVE_ENDPOINTS:
                flash(_("The page had been open for a long time, so it was reloaded and nothing was done. "
                        "Repeat the action."), "warning")
            return "", 400, {"HX-Refresh": "true"}
        return render("errors/csrf.html", status=400, typed=typed_text())

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(error):
        mb = app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
        if is_htmx_request():
            # Into the alert line of the form that sent it, never over the form itself; an
            # autosave's into its own status line, which it targets.
            message = _("The text is too large to send (more than %(mb)s MB). Nothing was erased: shorten it and save again.", mb=mb)
            return render("errors/_message.html", status=413, message=message, headers=_into_alert_line())
        # Too large to read, so it cannot be shown here: the browser's form still holds it.
        message = _("The text is too large to send (more than %(mb)s MB), so nothing was saved. Go back to the form "
                    "with the browser's Back button, shorten the text and save again.", mb=mb)
        return render("errors/error.html", status=413, message=message)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        return _error_response(error.code or 500)

    @app.errorhandler(DBAPIError)
    def _database_error(error: DBAPIError):
        fault = storage_fault(error)
        if fault is None:
            return _server_error(error)
        database.only_reads_from_now()
        db.session.rollback()
        app.logger.error("storage fault (%s) on %s %s: %s", fault, request.method, _route(), error.orig)
        return _storage_fault_response(fault)

    @app.errorhandler(Exception)
    def _server_error(error: Exception):
        db.session.rollback()
        app.logger.exception("unhandled error on %s %s", request.method, _route())
        try:
            return _error_response(500)
        except Exception:  # the error page itself failed: still no stack trace for the person
            app.logger.exception("the error page failed")
            return _last_words(), 500, {"Content-Type": "text/plain; charset=utf-8"}


def _own_token_expired(error: CSRFError) -> bool:
    """True if the refused form token is this very session's, only too old. Flask-WTF checks a
    token's age before comparing it with the session's, so its "expired" alone does not say whose
    token it was: read it again without the age, and compare."""
    if error.description != "The CSRF token has expired.":
        return False
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRFToken", "")
    secret = current_app.config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key
    try:
        raw = URLSafeTimedSerializer(secret, salt="wtf-csrf-token").loads(sent)
    except BadData:
        return False
    mine = session.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))
    return isinstance(raw, str) and isinstance(mine, str) and hmac.compare_digest(mine, raw)


# The fields that hold what a person typed, shown back to be copied (never a password): by name,
# or by its last part after a form's prefix ("feedback-body", "step12-title").
TYPED_FIELDS = {"title": _l("Title"), "topic": _l("Topic"), "aim": _l("Aim"), "tasks": _l("Tasks"), "body": _l("Text"),
                "description": _l("Description"), "name": _l("Name"), "display_name": _l("Name"),
                "email": _l("E-mail address")}
# Forms sent by someone not signed in (signing in, setting a password by an invitation): a stale
# token there is a page open too long, not a session that ended.
SIGNED_OUT_FORMS = frozenset({"auth.authenticate", "auth.set_password"})
# Autosaves among the requests that carry typed text: their answer goes into their own status line.
AUTOSAVE_ENDPOINTS = frozenset(e for e in drafts.RESCUE_ENDPOINTS if e.partition(".")[2].startswith("autosave"))


def typed_text() -> list[tuple[str, str]]:
    """(label, text) of what the request carried that a person typed, to be copied from the page."""
    if request.method != "POST":
        return []
    try:
        form = request.form
    except RequestEntityTooLarge:  # too large to read: nothing of it is shown, the answer says why
        return []
    typed = []
    for name, value in form.items():
        label = TYPED_FIELDS.get(name.rpartition("-")[2])
        text = strip_controls(value) or ""
        if label is not None and text.strip():
            typed.append((str(label), text))
    return typed


def _into_alert_line() -> dict[str, str]:
    """Where a refusal's line goes: an autosave's into its own status line, which it targets (no
    header); any other form's into its alert line (webapp.htmx.into_form_alert)."""
    return {} if request.endpoint in AUTOSAVE_ENDPOINTS else into_form_alert()


def _kept_while_signed_out():
    """A form that holds typed text, sent after the session ended: the text stays, with how to go
    on. To htmx, in the form's alert line; a plain form gets a page holding the text to copy, as
    the sign-in page would drop it. None: nothing typed."""
    typed = typed_text()
    if not typed:
        return None
    if is_fragment_request():
        message = (_("Your session has ended: the text is not saved. It stays here; sign in again in another tab.")
                   if request.endpoint in AUTOSAVE_ENDPOINTS else
                   _("Your session has ended, so nothing was saved. Sign in again in another tab, "
                     "then press the button here once more: your text stays in this form."))
        return _kept_in_form(401, message, login_link=login_url(request.headers.get("HX-Current-URL")))
    if is_htmx_request():
        return None
    return render("errors/signed_out.html", status=401, typed=typed, login_link=login_url(_page_sent_from()))


def _page_sent_from() -> str | None:
    """The page to come back to after signing in: the one asked for; for a form, the page it was
    sent from, if the browser says (login_url keeps only this site's), else the form's own address
    if it is a page too (an edit form's), not one that only takes the form (which would answer 405)."""
    if request.method in ("GET", "HEAD"):
        return request.url
    if request.referrer:
        return request.referrer
    try:
        current_app.url_map.bind_to_environ(request.environ).match(request.path, method="GET")
    except HTTPException:
        return None
    return request.url


def _kept_in_form(status: int, message: str, **context):
    """A form that holds typed text, refused before its view ran (its token, its session): the
    message goes into the form's alert line and the text stays. With `fresh_token`, every token
    field of class form-token on the page takes the new one (the forms webapp.journal.drafts
    rescues carry their own, with an id, and get theirs from the rescue). An autosave's answer goes
    into its own status line, which it targets."""
    if request.endpoint in AUTOSAVE_ENDPOINTS:
        return render("errors/_autosave_refused.html", status=status, message=message, login_link=context.get("login_link"))
    return render("errors/_kept_in_form.html", status=status, message=message, headers=into_form_alert(), **context)


def _error_response(code: int):
    """The error page. To htmx, one line in place of what was asked for (a poller that finds its
    entry gone stops there), and never over a form holding typed text: there the line goes into
    the form's alert and the text stays to be copied; an autosave's goes into its status line."""
    message, typed = _message_for(code), typed_text()
    if not is_fragment_request():
        return render("errors/error.html", status=code, message=message, typed=typed)
    if not typed:
        return render("errors/_message.html", status=code, message=message)
    if code == 404:  # deleted, made private, or the group left while the text was typed
        message = (_("Not saved: this is no longer here, or no longer open to you. Your text stays in the form.")
                   if request.endpoint in AUTOSAVE_ENDPOINTS else
                   _("This is no longer here, or no longer open to you, so nothing was saved. "
                     "Your text stays in the form: copy it before you leave the page."))
    return render("errors/_message.html", status=code, headers=_into_alert_line(), message=message)


def _storage_fault_response(fault: str):
    """503. htmx: the message goes into the form's status line (an autosave's own status), the form
    and its text stay as they are. A plain form: a page that says what happened and holds the text
    in a box to copy, since the database cannot keep it as a draft."""
    headers = {"Retry-After": "300"}
    if is_htmx_request():
        headers.update(_into_alert_line())
        return render("errors/_storage_fault.html", status=503, headers=headers, fault=fault)
    context = {"fault": fault, "typed": typed_text()}
    try:
        return render("errors/storage_fault.html", status=503, headers=headers, **context)
    except Exception:  # the page around it reads the database too; the text must still come back
        db.session.rollback()
        current_app.logger.exception("the storage fault page failed")
        return render_template("errors/storage_fault_bare.html", **context), 503, headers


def _last_words() -> str:
    """The server error's text when its page failed too: in the person's language while the
    translations still work, else in Russian, the interface's own."""
    try:
        return _message_for(500)
    except Exception:
        return "Ошибка на сервере. Попробуйте ещё раз через минуту."


def _message_for(code: int) -> str:
    messages = {
        404: _("There is no such page, or it is not available to you."),
        # An address typed or bookmarked that only takes a form (sign out, save): the page's own
        # buttons do it, and the header's «Выйти» is on this page too.
        405: _("This address does not open as a page: use the buttons and links on the site's pages."),
        429: _("Too many requests. Wait a minute and try again."),
        500: (_("Something went wrong on the server, so nothing was saved. Try again in a minute.") if request.method == "POST"
              else _("Something went wrong on the server. Try again in a minute.")),
    }
    return messages.get(code, _("The request could not be completed."))



def _route() -> str:
    """The route's pattern for the log, never the path itself: a path may carry a secret (/invite/<token>)."""
    return request.url_rule.rule if request.url_rule is not None else "(no route)"
