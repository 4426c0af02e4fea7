"""Error pages that speak Russian, are safe to swap into a page, and never lose typed text."""
from __future__ import annotations

from flask import Flask, flash, redirect, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from .extensions import db, login_manager
from .htmx import is_htmx_request, render
from .journal import drafts
from .urls import login_url


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"

    @login_manager.unauthorized_handler
    def _unauthorized():
        rescued = drafts.rescue_if_text()
        if rescued is not None:
            return rescued
        if is_htmx_request():
            return "", 401, {"HX-Redirect": login_url(request.headers.get("HX-Current-URL"))}
        flash(_("Please sign in."), "info")
        return redirect(login_url(request.url))

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError):
        rescued = drafts.rescue_if_text()
        if rescued is not None:
            return rescued
        if is_htmx_request():
            return "", 400, {"HX-Refresh": "true"}
        return render("errors/csrf.html", status=400)

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(error):
        message = _("The text is too large to send (more than %(mb)s MB). Nothing was erased: shorten it and save again.",
                    mb=app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024))
        if is_htmx_request():
            # Swap the message into the form's status line, never over the form itself.
            return render("errors/_message.html", status=413, message=message,
                          headers={"HX-Retarget": ".form-alert", "HX-Reswap": "innerHTML"})
        return render("errors/error.html", status=413, message=message)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        return render("errors/error.html", "error", status=error.code or 500,
                      message=_message_for(error.code or 500))

    @app.errorhandler(Exception)
    def _server_error(error: Exception):
        db.session.rollback()
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        try:
            return render("errors/error.html", "error", status=500, message=_message_for(500))
        except Exception:  # the error page itself failed: still no stack trace for the person
            app.logger.exception("the error page failed")
            return "Ошибка на сервере. Попробуйте ещё раз через минуту.", 500, {"Content-Type": "text/plain; charset=utf-8"}


def _message_for(code: int) -> str:
    messages = {
        404: _("There is no such page, or it is not available to you."),
        405: _("This action is not possible here."),
        429: _("Too many requests. Wait a minute and try again."),
        500: _("Something went wrong on the server. What you wrote has been kept; try again in a minute."),
    }
    return messages.get(code, _("The request could not be completed."))

