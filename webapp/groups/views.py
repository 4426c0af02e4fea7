"""Groups: my groups and the open ones to join, a group's page with its self-refreshing thread
list, joining and leaving, the members page, and the leader's description editor.

A group someone may not read answers 404 on every route, the poll included; managing (the
description, adding and removing members) is for the group's leaders and administrators."""
from __future__ import annotations

from flask import abort, current_app, flash, request, url_for
from flask_login import current_user, login_required

from .. import access, database, polls
from ..extensions import db, login_manager
from ..htmx import is_htmx_request, redirect_for, render
from ..i18n import gettext as _
from ..numbers import number
from ..text import fingerprint, saved_since_opened
from . import bp, queries
from .forms import KIND_LABELS, DescriptionForm, MemberForm
from .models import Group, GroupMember, MemberRole


def poll_seconds() -> int:
    return int(current_app.config["GROUP_POLL_SECONDS"])


@bp.get("/")
@login_required
def index():
    member_of, joinable = queries.groups_for_index(current_user)
    return render("groups/index.html", member_of=member_of, joinable=joinable, kind_labels=KIND_LABELS)


# One group and its thread list --------------------------------------------------------------------

@bp.get("/<int:group_id>")
def show(group_id: int):
    """The group's page; with ?seen=<newest post id>, the thread list's poll."""
    seen = number(request.args.get("seen"))
    asked = queries.POLL.ask(group_id=group_id) if seen is not None else None
    if asked is not None and asked.newest == seen:
        return polls.nothing_new()  # the one statement of a poll that finds nothing (webapp.polls)
    if not current_user.is_authenticated:
        if seen is not None and is_htmx_request():
            # A background poll must never navigate away from a page where someone may be typing.
            return "", 204
        return login_manager.unauthorized()
    if seen is not None:
        asked = queries.POLL.row_for(current_user, asked, group_id=group_id)
        if asked is None:
            abort(404)
        if asked.newest == seen:
            return polls.nothing_new()
    header = queries.group_header(current_user, group_id)  # the viewer's role in it too
    if header is None:
        abort(404)
    return render("groups/show.html", "thread_list", header=header, group=header.group,
                  page=queries.thread_page(current_user, group_id), is_member=header.role is not None,
                  can_manage=access.manages_group(current_user, header.role), kind_labels=KIND_LABELS,
                  poll_seconds=poll_seconds())


@bp.post("/<int:group_id>/join")
@login_required
def join(group_id: int):
    group = access.group_for_viewing(current_user, group_id)
    if access.membership(current_user, group.id) is None:
        if not group.is_open:
            abort(404)  # unreachable: a closed group is visible to its members only
        queries.add_member(group.id, current_user.id)
        db.session.commit()
        flash(_("You have joined the group “%(name)s”.", name=group.name), "success")
    return redirect_for(url_for("groups.show", group_id=group.id))


@bp.post("/<int:group_id>/leave")
@login_required
def leave(group_id: int):
    group = access.group_for_viewing(current_user, group_id)
    if access.membership(current_user, group.id) is not None:
        queries.remove_member(group.id, current_user.id)
        db.session.commit()
        flash(_("You have left the group “%(name)s”.", name=group.name), "success")
    # Out of a closed group, its page is no longer there for them.
    target = url_for("groups.show", group_id=group.id) if group.is_open else url_for("groups.index")
    return redirect_for(target)


# Members ------------------------------------------------------------------------------------------

def _group_to_manage(group_id: int) -> Group:
    """Leaders and administrators manage; to everyone else the action is not there."""
    if not access.can_manage_group(current_user, group_id):
        abort(404)
    group = db.session.get(Group, group_id)
    if group is None:
        abort(404)
    return group


def _members_page(group: Group, manage: bool, **context) -> dict:
    members = queries.members_of(group.id)
    page = {"group": group, "members": members, "manage": manage, "kind_labels": KIND_LABELS,
            # An administrator manages a closed group without reading its discussions.
            "can_read": group.is_open or any(m.user_id == current_user.id for m in members),
            "notice": None, "refusal": None}
    if manage:
        page["add_form"] = MemberForm(formdata=None, people=queries.people_to_add(group.id))
    page.update(context)
    return page


@bp.get("/<int:group_id>/members")
@login_required
def members(group_id: int):
    if access.can_manage_group(current_user, group_id):
        return render("groups/members.html", "members_panel", **_members_page(_group_to_manage(group_id), True))
    group = access.group_for_viewing(current_user, group_id)
    return render("groups/members.html", "members_panel", **_members_page(group, False))


def _membership_changed(group: Group, message: str):
    if is_htmx_request():
        return render("groups/members.html", "members_panel", **_members_page(group, True, notice=message))
    flash(message, "success")
    return redirect_for(url_for("groups.members", group_id=group.id))


@bp.post("/<int:group_id>/members")
@login_required
def add_member(group_id: int):
    group = _group_to_manage(group_id)
    form = MemberForm(people=queries.people_to_add(group.id))
    if not form.validate():
        return render("groups/members.html", "members_panel", status=422, **_members_page(group, True, add_form=form))
    person = form.chosen()
    queries.add_member(group.id, person.id)
    db.session.commit()
    return _membership_changed(group, _("%(name)s is now a member.", name=person.display_name))


@bp.post("/<int:group_id>/members/remove")
@login_required
def remove_member(group_id: int):
    group = _group_to_manage(group_id)
    form = MemberForm()
    member = queries.member(group.id, form.user_id.data) if form.validate() else None
    if member is None or member.role != MemberRole.MEMBER:
        return _not_removed(group, member)
    name, user_id = member.user.display_name, member.user_id
    if not queries.remove_member(group.id, user_id, role=MemberRole.MEMBER):  # named leader, or gone, meanwhile
        db.session.rollback()
        return _not_removed(group, queries.member(group.id, user_id))
    db.session.commit()
    return _membership_changed(group, _("%(name)s is no longer a member.", name=name))


def _not_removed(group: Group, member: GroupMember | None):
    # Leaders are named and changed by administrators, on the group's administration page.
    refusal = _("Leaders are changed by an administrator.") if member else _("Choose a member from the list.")
    return render("groups/members.html", "members_panel", status=422, **_members_page(group, True, refusal=refusal))


# The description ----------------------------------------------------------------------------------

@bp.get("/<int:group_id>/edit")
@login_required
def edit(group_id: int):
    group = _group_to_manage(group_id)
    form = DescriptionForm(formdata=None, data={"description": group.description})
    return render("groups/edit.html", "description_form", group=group, form=form, can_read=_can_read(group),
                  base=fingerprint(group.description))


@bp.post("/<int:group_id>/edit")
@login_required
def update(group_id: int):
    group = _group_to_manage(group_id)
    database.read_for_update(group)  # two leaders saving at once: one after the other
    form = DescriptionForm()
    base = request.form.get("base", "")
    if not form.validate():
        return render("groups/edit.html", "description_form", status=422, group=group, form=form,
                      can_read=_can_read(group), base=base)
    if saved_since_opened(group.description, form.description.data or "", base):
        return render("groups/edit.html", "description_form", status=409, group=group, form=form,
                      can_read=_can_read(group), base=fingerprint(group.description), other=group.description)
    group.description = form.description.data or ""
    db.session.commit()
    flash(_("The description is saved."), "success")
    return redirect_for(url_for("groups.show", group_id=group.id) if _can_read(group) else url_for("groups.index"))


def _can_read(group: Group) -> bool:
    return group.is_open or access.membership(current_user, group.id) is not None
