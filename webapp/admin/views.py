"""Administration: people, schools, mentorships and one-time links. Administrators only.

Administrators never read journal entries: nothing here loads or shows any entry content.
"""
from __future__ import annotations

from flask import abort, current_app, flash, request, session, url_for
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from .. import access, accounts, database
from ..auth import links
from ..extensions import db
from ..htmx import is_htmx_request, redirect_for, render
from ..i18n import LOCALES
from ..i18n import gettext as _
from ..models import Role, School, User, mentorships, utcnow
from ..numbers import id_choice
from ..pagination import paginate
from ..templating import ROLE_LABELS
from ..text import fingerprint, saved_since_opened, sent_again, strip_controls
from . import bp
from .forms import MethodistsForm, SchoolForm, SchoolMethodistForm, UserForm, duplicate_school_message

# A link issued by a plain form post rides in the session across the redirect, to be shown once and forgotten.
LINK_SESSION_KEY = "admin_issued_link"


@bp.before_request
@login_required
def _administrators_only():
    access.require_admin(current_user)


def _all_schools() -> list[School]:
    return list(db.session.scalars(select(School).order_by(School.name)))


# People -------------------------------------------------------------------------------------------

def _people_filters() -> dict[str, str]:
    filters = {}
    q = " ".join(strip_controls(request.args.get("q", "")).split())[:100]
    if q:
        filters["q"] = q
    if request.args.get("role") in {r.value for r in Role}:
        filters["role"] = request.args["role"]
    school = request.args.get("school", "")
    if school == "none" or (id_choice(school) or 0) > 0:
        filters["school"] = school
    return filters


def _people_query(filters: dict[str, str]):
    query = select(User).options(selectinload(User.school))
    if "q" in filters:
        query = query.where(or_(User.display_name.icontains(filters["q"], autoescape=True),
                                User.login.icontains(filters["q"], autoescape=True)))
    if "role" in filters:
        query = query.where(User.role == filters["role"])
    if filters.get("school") == "none":
        query = query.where(User.school_id.is_(None))
    elif "school" in filters:
        query = query.where(User.school_id == int(filters["school"]))
    return query.order_by(User.display_name, User.id)


def _mentoring_counts(users: list[User]) -> dict[int, int]:
    """How many methodists each librarian has, and how many mentees each methodist: two queries per page."""
    ids = [u.id for u in users]
    counts: dict[int, int] = {}
    for own, other in ((mentorships.c.librarian_id, mentorships.c.methodist_id),
                       (mentorships.c.methodist_id, mentorships.c.librarian_id)):
        rows = db.session.execute(
            select(own, func.count(other)).join(User, User.id == other)
            .where(own.in_(ids), User.active.is_(True)).group_by(own)
        )
        counts.update({user_id: count for user_id, count in rows})
    return counts


@bp.get("/")
def index():
    filters = _people_filters()
    page = paginate(_people_query(filters), per_page=current_app.config.get("PEOPLE_PER_PAGE", 25))
    return render("admin/index.html", "people_table", page=page, filters=filters, schools=_all_schools(),
                  mentoring=_mentoring_counts(page.items))


# One person ---------------------------------------------------------------------------------------

def _load_user(user_id: int) -> User:
    user = db.session.scalar(
        select(User).where(User.id == user_id)
        .options(selectinload(User.school), selectinload(User.methodists),
                 selectinload(User.mentees).selectinload(User.school))
        .execution_options(populate_existing=True)  # mentorships change through plain SQL statements
    )
    if user is None:
        abort(404)
    return user


def _user_form(user: User | None = None, *, submitted: bool = False) -> UserForm:
    kwargs = {} if submitted else {"formdata": None, "obj": user}
    form = UserForm(schools=_all_schools(), user=user, editor=current_user, **kwargs)
    if user is not None and not submitted:
        form.profile_base.data = fingerprint(_profile(user))
    return form


def _profile(user: User) -> str:
    """The account's details the form edits, as saved, in one text (for the form's `profile_base`)."""
    return "\n".join((user.login, user.display_name, str(user.role), str(user.school_id or ""), user.locale))


def _sent_profile(form: UserForm) -> str:
    """The same, as the form sends them (after validation: the login as it would be saved)."""
    return "\n".join((form.login.data, form.display_name.data, str(form.role.data), str(form.school_id.data or ""),
                      form.locale.data))


def _profile_conflict(user: User) -> str:
    """Someone saved other details since the form was opened: what is saved now, told above the
    form, whose fields keep what was sent; saving again replaces it."""
    role = str(ROLE_LABELS.get(user.role, user.role))
    school = user.school
    return _("While you were editing, someone saved other details of this account. Saved now: “%(name)s”, "
             "login %(login)s, role: %(role)s, %(school)s, language: %(language)s. Yours are still in the form: "
             "save again to replace them.",
             name=user.display_name, login=user.login, role=role[:1].lower() + role[1:],
             school=_("school “%(name)s”", name=school.name) if school else _("no school"),
             language=LOCALES.get(user.locale, user.locale))


def _methodist_choices(user: User) -> list[User]:
    """Every active methodist, plus any inactive one still assigned, so that saving keeps them."""
    assigned = [m.id for m in user.methodists]
    return list(db.session.scalars(
        select(User).where(User.role == Role.METHODIST, or_(User.active.is_(True), User.id.in_(assigned)))
        .order_by(User.display_name, User.id)
    ))


def _methodists_form(user: User, *, submitted: bool = False) -> MethodistsForm | None:
    if user.role != Role.LIBRARIAN:
        return None
    kwargs = {} if submitted else {"formdata": None, "data": {"methodists": [m.id for m in user.methodists]}}
    return MethodistsForm(methodists=_methodist_choices(user), **kwargs)


def _user_page(user: User, **context) -> dict:
    page = {"user": user, "link": None, "saved": None, "refusal": None}
    page.update(context)
    page.setdefault("form", _user_form(user))
    page.setdefault("methodists_form", _methodists_form(user))
    return page


def _hand_over_link(user: User, url: str) -> None:
    session[LINK_SESSION_KEY] = {"user_id": user.id, "url": url}


def _take_link(user: User) -> str | None:
    held = session.pop(LINK_SESSION_KEY, None)
    return held["url"] if isinstance(held, dict) and held.get("user_id") == user.id else None


def _login_taken(form: UserForm) -> None:
    # Two administrators creating the same login at once: the database's unique index decides.
    db.session.rollback()
    form.login.errors = [_("The login %(login)s is already taken.", login=form.login.data)]


@bp.get("/users/new")
def new_user():
    return render("admin/new_user.html", "user_form", form=_user_form())


@bp.post("/users")
def create_user():
    form = _user_form(submitted=True)
    again = _created_already(form)  # before validating: its login is taken, by this very account
    if again is not None:
        return again
    if form.validate():
        try:
            user = accounts.create_user(login=form.login.data, display_name=form.display_name.data,
                                        role=form.role.data, school_id=form.school_id.data, locale=form.locale.data)
            url = links.issue(user)
            db.session.commit()
        except accounts.AccountError as error:  # the form checked the rest, so this is about the login
            db.session.rollback()
            form.login.errors = [str(error)]
        except IntegrityError:
            db.session.rollback()
            again = _created_already(form)  # the same form, sent twice at once
            if again is not None:
                return again
            _login_taken(form)
        else:
            return _created(user, url)
    return render("admin/new_user.html", "user_form", status=422, form=form)


def _created_already(form: UserForm):
    """The page of the account this form already created, sent again after its answer was lost (or
    its button pressed twice), with a new link in place of the one that answer carried; None when
    it is not that."""
    user = accounts.created_already(login=form.login.data, display_name=form.display_name.data, role=form.role.data,
                                    school_id=form.school_id.data, locale=form.locale.data)
    if user is None:
        return None
    url = links.issue(user)  # the earlier link, never seen, stops working
    db.session.commit()
    return _created(user, url)


def _created(user: User, url: str):
    _hand_over_link(user, url)
    flash(_("The account for %(name)s is created.", name=user.display_name), "success")
    return redirect_for(url_for("admin.show_user", user_id=user.id))


@bp.get("/users/<int:user_id>")
def show_user(user_id: int):
    user = _load_user(user_id)
    return render("admin/show_user.html", **_user_page(user, link=_take_link(user)))


@bp.post("/users/<int:user_id>")
def update_user(user_id: int):
    """The account's details. Details saved meanwhile (another administrator, another tab) are
    told beside the ones sent, not silently replaced."""
    # The row held until the save ends, so that two saves come one after the other; held before
    # the account is loaded with its school and methodists, which then are as the lock found them.
    db.session.execute(select(User.id).where(User.id == user_id).with_for_update())
    user = _load_user(user_id)
    form = _user_form(user, submitted=True)
    if form.validate():
        if saved_since_opened(_profile(user), _sent_profile(form), form.profile_base.data):
            form.form_errors.append(_profile_conflict(user))
            form.profile_base.data = fingerprint(_profile(user))
            return render("admin/show_user.html", "user_form", status=409, **_user_page(user, form=form))
        role_changed = form.role.data != user.role
        user.login, user.display_name = form.login.data, form.display_name.data
        user.school_id, user.locale, user.role = form.school_id.data, form.locale.data, form.role.data
        if role_changed:
            # Mentorships belong to the old role: a former methodist must not keep reading anyone's entries.
            db.session.execute(delete(mentorships).where(
                or_(mentorships.c.librarian_id == user.id, mentorships.c.methodist_id == user.id)))
        try:
            db.session.commit()
        except IntegrityError:
            _login_taken(form)
            user = _load_user(user_id)
        else:
            if is_htmx_request() and not role_changed:
                return render("admin/show_user.html", "user_form", **_user_page(_load_user(user_id), saved="profile"))
            flash(_("The changes are saved."), "success")
            return redirect_for(url_for("admin.show_user", user_id=user.id))
    return render("admin/show_user.html", "user_form", status=422, **_user_page(user, form=form))


def _access_changed(user: User, message: str, **context):
    """After a change in the access section: that section for htmx, the page for a plain form."""
    if is_htmx_request():
        return render("admin/show_user.html", "access_panel", **_user_page(_load_user(user.id), **context))
    flash(message, "success")
    return redirect_for(url_for("admin.show_user", user_id=user.id))


def _access_refused(user: User, refusal: str):
    return render("admin/show_user.html", "access_panel", status=409, **_user_page(user, refusal=refusal))


@bp.post("/users/<int:user_id>/link")
def issue_link(user_id: int):
    user = _load_user(user_id)
    if not user.active:
        return _access_refused(user, _("The account is deactivated. Activate it first, then issue a link."))
    url = links.issue(user)
    db.session.commit()
    if is_htmx_request():
        return render("admin/show_user.html", "access_panel", **_user_page(user, link=url))
    _hand_over_link(user, url)
    return redirect_for(url_for("admin.show_user", user_id=user.id))


@bp.post("/users/<int:user_id>/deactivate")
def deactivate(user_id: int):
    user = _load_user(user_id)
    if user.id == current_user.id:
        return _access_refused(user, _("You cannot deactivate your own account."))
    accounts.deactivate(user)  # also signs the person out everywhere
    db.session.commit()
    return _access_changed(user, _("%(name)s is deactivated and signed out everywhere.", name=user.display_name),
                           saved="deactivated")


@bp.post("/users/<int:user_id>/activate")
def activate(user_id: int):
    user = _load_user(user_id)
    user.active = True
    db.session.commit()
    return _access_changed(user, _("%(name)s can sign in again.", name=user.display_name), saved="activated")


@bp.post("/users/<int:user_id>/methodists")
def assign_methodists(user_id: int):
    user = _load_user(user_id)
    if user.role != Role.LIBRARIAN:
        abort(404)  # only librarians have methodists
    form = _methodists_form(user, submitted=True)
    if not form.validate():
        return render("admin/show_user.html", "methodists_panel", status=422, **_user_page(user, methodists_form=form))
    accounts.set_methodists(user, form.methodists.data or [])
    db.session.commit()
    if is_htmx_request():
        return render("admin/show_user.html", "methodists_panel", **_user_page(_load_user(user_id), saved="methodists"))
    flash(_("The methodists of %(name)s are saved.", name=user.display_name), "success")
    return redirect_for(url_for("admin.show_user", user_id=user.id))


# Schools ------------------------------------------------------------------------------------------

def _rename_form(school: School, *, submitted: bool = False) -> SchoolForm:
    kwargs = {} if submitted else {"formdata": None, "data": {"name": school.name, "name_base": fingerprint(school.name)}}
    return SchoolForm(prefix=f"school-{school.id}", school=school, **kwargs)


def _schools_page(**context) -> dict:
    rows = db.session.execute(
        select(School, func.count(User.id)).outerjoin(User, User.school_id == School.id)
        .group_by(School.id).order_by(School.name)
    ).all()
    page = {"schools": rows, "rename_forms": {school.id: _rename_form(school) for school, _count in rows},
            "new_form": SchoolForm(formdata=None), "created": None, "renamed": None}
    page["rename_forms"].update(context.pop("rename_forms", {}))
    page.update(context)
    return page


def _commit_school(form: SchoolForm) -> bool:
    try:
        db.session.commit()
        return True
    except IntegrityError:  # the same name saved by someone else a moment ago
        db.session.rollback()
        form.name.errors = [duplicate_school_message(form.name.data)]
        return False


@bp.get("/schools")
def schools():
    return render("admin/schools.html", "schools_panel", **_schools_page())


@bp.post("/schools")
def create_school():
    form = SchoolForm()
    again = _school_added_already(form.name.data)  # before validating: its name is taken, by this very school
    if again is not None:
        return _school_added(again)
    if form.validate():
        school = School(name=form.name.data)
        db.session.add(school)
        if _commit_school(form):
            return _school_added(school)
        again = _school_added_already(form.name.data)  # the same form, sent twice at once
        if again is not None:
            return _school_added(again)
    return render("admin/schools.html", "schools_panel", status=422, **_schools_page(new_form=form))


def _school_added_already(name: str | None) -> School | None:
    """The school this form added a moment ago, sent again (its answer lost, its button pressed
    twice): the same name, under ten minutes old. Not an error about a name that is taken."""
    school = accounts.school_named(name or "")
    return school if school is not None and sent_again(school.name, school.created_at, name or "") else None


def _school_added(school: School):
    if is_htmx_request():
        return render("admin/schools.html", "schools_panel", status=201, **_schools_page(created=school.name))
    flash(_("The school “%(name)s” is added.", name=school.name), "success")
    return redirect_for(url_for("admin.schools"))


@bp.post("/schools/<int:school_id>")
def update_school(school_id: int):
    """A name saved meanwhile (another administrator, another tab) is told beside the one sent,
    not silently replaced."""
    school = db.session.get(School, school_id)
    if school is None:
        abort(404)
    database.read_for_update(school)
    form = _rename_form(school, submitted=True)
    if form.validate():
        if saved_since_opened(school.name, form.name.data, form.name_base.data):
            form.name.errors.append(_("While you were editing, someone renamed the school to “%(name)s”. Yours is "
                                      "still in the field: press Rename again to replace it.", name=school.name))
            form.name_base.data = fingerprint(school.name)
            return render("admin/schools.html", "school_form", status=409, school=school,
                          **_schools_page(rename_forms={school.id: form}))
        school.name = form.name.data
        if _commit_school(form):
            if is_htmx_request():
                return render("admin/schools.html", "school_form", school=school,
                              rename_forms={school.id: _rename_form(school)}, renamed=school.id)
            flash(_("The school is renamed to “%(name)s”.", name=school.name), "success")
            return redirect_for(url_for("admin.schools"))
    return render("admin/schools.html", "school_form", status=422, school=school,
                  **_schools_page(rename_forms={school.id: form}))


# A methodist for a whole school -------------------------------------------------------------------

def _school_or_404(school_id: int) -> School:
    school = db.session.get(School, school_id)
    if school is None:
        abort(404)
    return school


def _school_methodist_page(school: School, form: SchoolMethodistForm | None = None, assigned: str | None = None) -> dict:
    librarians = db.session.scalars(
        select(User).where(User.school_id == school.id, User.role == Role.LIBRARIAN)
        .options(selectinload(User.methodists)).order_by(User.display_name, User.id)
        .execution_options(populate_existing=True)  # mentorships change through plain SQL statements
    ).all()
    methodists = db.session.scalars(
        select(User).where(User.role == Role.METHODIST, User.active.is_(True)).order_by(User.display_name, User.id)
    ).all()
    return {"school": school, "librarians": librarians, "assigned": assigned,
            "form": form or SchoolMethodistForm(formdata=None, methodists=methodists), "methodists": methodists}


def _assign_to_school(methodist_id: int, school_id: int) -> int:
    """Add the methodist to every librarian of the school who lacks them; the others they have stay."""
    already = select(mentorships.c.librarian_id).where(mentorships.c.methodist_id == methodist_id)
    ids = list(db.session.scalars(
        select(User.id).where(User.school_id == school_id, User.role == Role.LIBRARIAN, User.id.not_in(already))
    ))
    if ids:  # two administrators at once: the second insert of a pair changes nothing
        db.session.execute(database.insert_on_conflict(mentorships).on_conflict_do_nothing(),
                           [{"methodist_id": methodist_id, "librarian_id": i, "created_at": utcnow()} for i in ids])
    return len(ids)


@bp.get("/schools/<int:school_id>/methodist")
def school_methodist(school_id: int):
    return render("admin/school_methodist.html", **_school_methodist_page(_school_or_404(school_id)))


@bp.post("/schools/<int:school_id>/methodist")
def assign_school_methodist(school_id: int):
    school = _school_or_404(school_id)
    page = _school_methodist_page(school)
    form = SchoolMethodistForm(methodists=page["methodists"])
    if not form.validate():
        return render("admin/school_methodist.html", "school_methodist_panel", status=422, **{**page, "form": form})
    added = _assign_to_school(form.methodist.data, school.id)
    db.session.commit()
    name = db.session.get(User, form.methodist.data).display_name
    message = ngettext("%(name)s is now the methodist of %(num)d more librarian of this school.",
                       "%(name)s is now the methodist of %(num)d more librarians of this school.", added, name=name)
    if is_htmx_request():
        return render("admin/school_methodist.html", "school_methodist_panel",
                      **_school_methodist_page(school, assigned=message))
    flash(message, "success")
    return redirect_for(url_for("admin.school_methodist", school_id=school.id))
