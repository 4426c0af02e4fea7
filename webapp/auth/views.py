"""Signing in and out, one's own account settings, and accepting an invitation link."""
from __future__ import annotations

import secrets

from flask import abort, flash, redirect, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import Integer, String, bindparam, select
from werkzeug.security import check_password_hash, generate_password_hash

from .. import identity
from ..extensions import db, login_manager
from ..groups import nav
from ..htmx import redirect_for, render
from ..i18n import gettext as _
from ..journal import drafts
from ..models import User
from ..urls import safe_next
from . import bp, links, throttle
from .forms import ChangePasswordForm, LocaleForm, LoginForm, NewPasswordForm

# Checked when the login is unknown, so both failures take the same time.
_DUMMY_HASH = generate_password_hash(secrets.token_hex(16))

# Sign-in throttling counts in RATELIMIT_STORAGE_URI when it is set (see throttle.py).
bp.record_once(lambda state: throttle.init_app(state.app))


# Built once: every signed-in request runs it, and building a statement costs more than running it.
_SIGNED_IN = select(User).where(identity.signed_in(bindparam("user_id", type_=Integer), bindparam("token", type_=String)))
# … and for a page, with the header's counts (webapp.groups.nav.header_counts).
_SIGNED_IN_WITH_HEADER = nav.with_header(_SIGNED_IN)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The session holds id:session_token (webapp.identity); a revoked token or an inactive
    account signs nobody in."""
    ids = identity.parse(user_id)
    if ids is None:
        return None
    params = {"user_id": ids[0], "token": ids[1]}
    if nav.draws_header():
        return nav.person_with_header(_SIGNED_IN_WITH_HEADER, params)
    return db.session.scalar(_SIGNED_IN, params)


def home_for(user: User) -> str:
    if user.is_admin:
        return url_for("admin.index")
    if user.is_methodist:
        return url_for("mentoring.desk")  # the methodist's start page
    return url_for("journal.index")


def _next_for(user: User) -> str:
    """Where signing in leads: `next` when it is on this site and the person's to open."""
    url = safe_next(request.args.get("next"), home_for(user))
    return home_for(user) if drafts.someone_elses(user, url) else url


@bp.get("/")
def home():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(home_for(current_user))


@bp.get("/login")
def login():
    if current_user.is_authenticated:
        return redirect(_next_for(current_user))
    return render("auth/login.html", form=LoginForm())


@bp.post("/login")
def authenticate():
    form = LoginForm()
    if not form.validate():
        return render("auth/login.html", status=422, form=form)
    login, address = form.login.data.strip(), request.remote_addr
    if throttle.is_blocked(login, address):
        form.form_errors.append(_("Too many attempts to sign in. Wait a minute and try again."))
        return render("auth/login.html", status=429, form=form)
    user = db.session.scalar(select(User).where(User.login == login.lower()))
    if user is None:
        check_password_hash(_DUMMY_HASH, form.password.data)
    if user is None or not user.active or not user.check_password(form.password.data):
        throttle.record_failure(login, address)
        db.session.commit()
        form.form_errors.append(_("Wrong login or password."))
        return render("auth/login.html", status=422, form=form)
    claim_token = session.get(drafts.CLAIM_SESSION_KEY)
    session.clear()  # a new session for a new sign-in: nothing from before carries over
    login_user(user, remember=form.remember.data)
    throttle.forget(login)
    rescued = drafts.claim(user, claim_token)
    db.session.commit()
    if rescued:
        flash(_("Your unsaved text has been restored from a draft."), "info")
    return redirect_for(_next_for(user))


@bp.post("/logout")
@login_required
def logout():
    current_user.revoke_sessions()  # every copy of the session cookie stops working
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have signed out."), "info")
    return redirect_for(url_for("auth.login"))


@bp.get("/account")
@login_required
def account():
    return render("auth/account.html", password_form=ChangePasswordForm(),
                  locale_form=LocaleForm(locale=current_user.locale))


@bp.post("/account/password")
@login_required
def change_password():
    form = ChangePasswordForm()
    valid = form.validate()
    if valid and not current_user.check_password(form.current.data):
        form.current.errors = [_("The current password is wrong.")]
        valid = False
    if not valid:
        return render("auth/account.html", "password_form", status=422, password_form=form,
                      locale_form=LocaleForm(locale=current_user.locale))
    user = current_user._get_current_object()
    user.set_password(form.password.data)  # revokes every other session
    db.session.commit()
    login_user(user)  # this tab carries the new session token
    flash(_("The password is changed. Other devices have been signed out."), "success")
    return redirect_for(url_for("auth.account"))


@bp.post("/account/locale")
@login_required
def change_locale():
    form = LocaleForm()
    if form.validate():
        current_user.locale = form.locale.data
        db.session.commit()
    return redirect_for(url_for("auth.account"))


@bp.get("/invite/<token>")
def accept_link(token: str):
    link = links.find_valid(token)
    if link is None:
        return _link_not_usable(token)
    return render("auth/accept.html", form=NewPasswordForm(), user=db.session.get(User, link.user_id))


@bp.post("/invite/<token>")
def set_password(token: str):
    link = links.find_valid(token)
    if link is None:
        return _link_not_usable(token)
    user = db.session.get(User, link.user_id)
    form = NewPasswordForm()
    if not form.validate():
        return render("auth/accept.html", status=422, form=form, user=user)
    if not user.active:
        abort(404)
    if not links.use(link):  # the same form sent twice at once: the other request set the password
        db.session.rollback()
        return _link_not_usable(token)
    user.set_password(form.password.data)
    db.session.commit()
    session.clear()
    login_user(user)
    flash(_("Welcome! Your password is set."), "success")
    return redirect(home_for(user), 303)


def _link_not_usable(token: str):
    """A link that opens no form: its password set a moment ago (sign in with it), or expired,
    used long ago, or cancelled."""
    if links.used_just_now(token):
        return render("auth/link_used.html", status=410)  # gone: used up, a moment ago
    return render("auth/link_invalid.html", status=404)
