"""Administration of groups: create a group, change its name, kind and openness, name its leaders.

Administrators only (the blueprint's before_request). Nothing here reads a group's discussions."""
from __future__ import annotations

from collections import defaultdict

from flask import abort, flash, request, url_for
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from .. import database
from ..extensions import db
from ..groups import queries as group_queries
from ..groups.forms import KIND_LABELS, GroupForm, duplicate_name_message
from ..groups.models import Group, GroupMember, MemberRole
from ..htmx import redirect_for, render
from ..i18n import gettext as _
from ..models import User
from ..text import fingerprint, same_text, saved_since_opened, sent_again
from . import bp


def _leaders_by_group(group_ids: list[int] | None = None) -> dict[int, list[User]]:
    query = (select(GroupMember.group_id, User).join(User, User.id == GroupMember.user_id)
             .where(GroupMember.role == MemberRole.LEADER).order_by(User.display_name, User.id))
    if group_ids is not None:
        query = query.where(GroupMember.group_id.in_(group_ids))
    leaders: dict[int, list[User]] = defaultdict(list)
    for group_id, user in db.session.execute(query):
        leaders[group_id].append(user)
    return leaders


def _people_for_leaders(group: Group | None) -> list[User]:
    """Every active person, plus any deactivated one still leading, so that saving keeps them."""
    chosen = User.active.is_(True)
    if group is not None:
        chosen = or_(chosen, User.id.in_(select(GroupMember.user_id).where(
            GroupMember.group_id == group.id, GroupMember.role == MemberRole.LEADER)))
    return list(db.session.scalars(select(User).where(chosen).order_by(User.display_name, User.id)))


def _group_form(group: Group | None = None, *, submitted: bool = False) -> GroupForm:
    people = _people_for_leaders(group)
    if submitted:
        return GroupForm(people=people, group=group)
    data = {"kind": group.kind, "is_open": group.is_open, "name": group.name, "description": group.description,
            "leaders": [u.id for u in _leaders_of(group)]} if group else {}
    return GroupForm(formdata=None, data=data or None, people=people, group=group)


def _set_leaders(group_id: int, leader_ids: set[int]) -> None:
    """The chosen people lead the group (joining it if need be); former leaders stay on as members."""
    db.session.execute(update(GroupMember).where(
        GroupMember.group_id == group_id, GroupMember.role == MemberRole.LEADER, GroupMember.user_id.not_in(leader_ids)
    ).values(role=MemberRole.MEMBER))
    if leader_ids:
        db.session.execute(update(GroupMember).where(GroupMember.group_id == group_id, GroupMember.user_id.in_(leader_ids))
                           .values(role=MemberRole.LEADER))
        for user_id in sorted(leader_ids):  # one order of row locks for every writer
            group_queries.add_member(group_id, user_id, role=MemberRole.LEADER)


def _apply(group: Group, form: GroupForm) -> None:
    group.name, group.kind, group.is_open = form.name.data, form.kind.data, form.is_open.data
    group.description = form.description.data or ""


def _saved(group: Group, form: GroupForm) -> bool:
    try:
        db.session.flush()
        _set_leaders(group.id, set(form.leaders.data or []))
        db.session.commit()
        return True
    except IntegrityError:  # the same name saved by another administrator a moment ago
        db.session.rollback()
        form.name.errors = [duplicate_name_message(form.name.data)]
        return False


@bp.get("/groups")
def groups():
    groups = db.session.scalars(select(Group).order_by(func.lower(Group.name), Group.id)).all()
    return render("admin/groups.html", groups=groups, leaders=_leaders_by_group(), kind_labels=KIND_LABELS)


@bp.get("/groups/new")
def new_group():
    return render("admin/group_form.html", "group_form", form=_group_form(), group=None)


@bp.post("/groups")
def create_group():
    form = _group_form(submitted=True)
    again = _created_already(form)  # before validating: its name is taken, by this very group
    if again is not None:
        return _created(again)
    if form.validate():
        group = Group()
        _apply(group, form)
        db.session.add(group)
        if _saved(group, form):
            return _created(group)
        again = _created_already(form)  # the same form, sent twice at once
        if again is not None:
            return _created(again)
    return render("admin/group_form.html", "group_form", status=422, form=form, group=None)


def _created_already(form: GroupForm) -> Group | None:
    """The group this form created a moment ago, sent again (its answer lost, its button pressed
    twice): the same name, kind, openness, description and leaders, under ten minutes old. Not an
    error about a name that is taken."""
    name = form.name.data or ""
    group = db.session.scalar(select(Group).where(func.lower(Group.name) == name.lower()))
    if group is None or not sent_again(group.name, group.created_at, name):
        return None
    same = _settings(group, _leaders_of(group))[1:] == _sent_settings(form)[1:]  # the name, as sent_again compares it
    return group if same and same_text(group.description, form.description.data) else None


def _created(group: Group):
    flash(_("The group “%(name)s” is created.", name=group.name), "success")
    return redirect_for(url_for("admin.groups"))


def _group_or_404(group_id: int) -> Group:
    group = db.session.get(Group, group_id)
    if group is None:
        abort(404)
    return group


def _leaders_of(group: Group) -> list[User]:
    return _leaders_by_group([group.id]).get(group.id, [])


def _settings(group: Group, leaders: list[User]) -> tuple[str, str, bool, frozenset[int]]:
    """What the form sets besides the description, as saved."""
    return group.name, group.kind, group.is_open, frozenset(user.id for user in leaders)


def _sent_settings(form: GroupForm) -> tuple[str, str, bool, frozenset[int]]:
    """The same, as the form holds them (sent, or opened on the group)."""
    return form.name.data, form.kind.data, form.is_open.data, frozenset(form.leaders.data or [])


def _settings_text(settings: tuple[str, str, bool, frozenset[int]]) -> str:
    """The settings as one text: the form's `settings_base` is its fingerprint as the form opened."""
    name, kind, is_open, leaders = settings
    return "\n".join((name, kind, "open" if is_open else "closed", ",".join(map(str, sorted(leaders)))))


def _settings_conflict(group: Group, leaders: list[User]) -> str:
    """Someone saved other settings since the form was opened: what is saved now, told in the form
    beside what was sent (which stays in the form); saving again replaces it."""
    name, kind, is_open = group.name, group.kind, group.is_open
    names = ", ".join(user.display_name for user in leaders) or _("none")
    label = str(KIND_LABELS.get(kind, kind))
    values = {"name": name, "kind": label[:1].lower() + label[1:], "leaders": names}
    return (_("While you were editing, someone saved other settings of this group. Saved now: “%(name)s”, %(kind)s, "
              "open to everyone, leaders: %(leaders)s. Yours are still in the form: save again to replace them.", **values)
            if is_open else
            _("While you were editing, someone saved other settings of this group. Saved now: “%(name)s”, %(kind)s, "
              "closed, leaders: %(leaders)s. Yours are still in the form: save again to replace them.", **values))


@bp.get("/groups/<int:group_id>")
def edit_group(group_id: int):
    group = _group_or_404(group_id)
    form = _group_form(group)
    return render("admin/group_form.html", "group_form", form=form, group=group,
                  base=fingerprint(group.description), settings_base=fingerprint(_settings_text(_sent_settings(form))))


@bp.post("/groups/<int:group_id>")
def update_group(group_id: int):
    """As the leaders' description form: a description saved meanwhile (by a leader, another
    administrator, another tab) is shown beside the one sent, not silently replaced; so are a
    name, kind, openness or leaders saved meanwhile."""
    group = _group_or_404(group_id)
    database.read_for_update(group)
    form = _group_form(group, submitted=True)
    base, settings_base = request.form.get("base", ""), request.form.get("settings_base", "")
    if form.validate():
        leaders = _leaders_of(group)
        saved = _settings_text(_settings(group, leaders))
        settings_moved = saved_since_opened(saved, _settings_text(_sent_settings(form)), settings_base)
        text_moved = saved_since_opened(group.description, form.description.data or "", base)
        if settings_moved or text_moved:
            if settings_moved:
                form.form_errors.append(_settings_conflict(group, leaders))
            return render("admin/group_form.html", "group_form", status=409, form=form, group=group,
                          base=fingerprint(group.description) if text_moved else base, settings_base=fingerprint(saved),
                          other=group.description if text_moved else None)
        _apply(group, form)
        if _saved(group, form):
            flash(_("The group “%(name)s” is saved.", name=group.name), "success")
            return redirect_for(url_for("admin.groups"))
        group = _group_or_404(group_id)
    return render("admin/group_form.html", "group_form", status=422, form=form, group=group, base=base,
                  settings_base=settings_base)
