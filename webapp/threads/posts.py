"""One post: its permalink, editing and deleting one's own, and a leader deleting any post in
their group. A deleted post stays in its place as «сообщение удалено», so the thread still reads."""
from __future__ import annotations

from flask import abort, flash, redirect, request
from flask_login import current_user, login_required

from .. import access, database
from ..extensions import db
from ..groups.models import Post, Thread
from ..htmx import is_fragment_request, is_htmx_request, redirect_for, render
from ..i18n import gettext as _
from ..models import utcnow
from ..notifications import events
from ..text import fingerprint, saved_since_opened
from . import bp, panel, queries
from .forms import PostForm, post_form


def _edit_form(post_id: int, **kwargs) -> PostForm:
    return post_form(f"post-{post_id}-body", **kwargs)


def _post_to_edit(post_id: int) -> tuple[Post, Thread]:
    """A post `access.can_edit_post` lets the person change. Someone who left an open group still
    reads it, and may still delete what they wrote there (`_post_to_delete`)."""
    post, thread = queries.post_for_reading(current_user, post_id)
    if not access.can_edit_post(current_user, post, thread):
        abort(404)
    return post, thread


def _post_to_delete(post_id: int) -> tuple[Post, Thread]:
    """One's own post, member or not any more, or any post in a group one leads; not deleted yet."""
    post, thread = queries.post_for_reading(current_user, post_id)
    if post.deleted_at is not None:
        abort(404)
    if post.author_id != current_user.id and not access.can_manage_group(current_user, thread.group_id):
        abort(404)
    return post, thread


def _single(post: Post, thread: Thread, status: int = 200):
    return render("threads/post.html", "post", status=status, thread_view=panel.single_view(current_user, thread, post))


@bp.get("/posts/<int:post_id>")
@login_required
def show_post(post_id: int):
    """A post's permanent address: the page of the thread it is on, at the post (what an inline
    edit's "Cancel" fetches as a fragment)."""
    post, thread = queries.post_for_reading(current_user, post_id)
    if is_fragment_request():
        return _single(post, thread)
    return redirect(queries.post_url(thread.id, post.id), 303)


def _refused_as_locked(post: Post, thread: Thread, form: PostForm, base: str):
    """A closed thread takes no posts and no changes to them: the editor stays, with the text typed
    into it, to copy."""
    form.form_errors.append(_("The thread is closed: its messages can no longer be changed."))
    return render("threads/edit_post.html", "post_edit", status=409, post=post, thread=thread, form=form,
                  base=base)


@bp.get("/posts/<int:post_id>/edit")
@login_required
def edit_post(post_id: int):
    post, thread = _post_to_edit(post_id)
    if thread.locked:
        if is_fragment_request():
            return _single(post, thread, status=409)
        flash(_("The thread is closed: its messages can no longer be changed."), "warning")
        return redirect(queries.post_url(thread.id, post.id), 303)
    form = _edit_form(post.id, formdata=None, data={"body": post.body})
    return render("threads/edit_post.html", "post_edit", post=post, thread=thread, form=form,
                  base=fingerprint(post.body))


@bp.post("/posts/<int:post_id>")
@login_required
def update_post(post_id: int):
    post, thread = _post_to_edit(post_id)
    database.read_for_update(post)
    form = _edit_form(post.id)
    base = request.form.get("base", "")
    if thread.locked:
        return _refused_as_locked(post, thread, form, base)
    if not form.validate():
        return render("threads/edit_post.html", "post_edit", status=422, post=post, thread=thread, form=form,
                      base=base)
    if saved_since_opened(post.body, form.body.data, base):
        return render("threads/edit_post.html", "post_edit", status=409, post=post, thread=thread, form=form,
                      base=fingerprint(post.body), other=post.body)
    if form.body.data != post.body:
        old_body = post.body
        post.body = form.body.data
        post.edited_at = utcnow()
        events.post_edited(post, thread, thread.group, old_body)
    db.session.commit()
    if is_htmx_request():
        return _single(post, thread)
    flash(_("The message is saved."), "success")
    return redirect_for(queries.post_url(thread.id, post.id))


@bp.get("/posts/<int:post_id>/delete")
@login_required
def confirm_delete_post(post_id: int):
    post, thread = _post_to_delete(post_id)
    return render("threads/delete_post.html", post=post, thread=thread)


@bp.post("/posts/<int:post_id>/delete")
@login_required
def delete_post(post_id: int):
    post, thread = _post_to_delete(post_id)
    post.deleted_at = utcnow()
    db.session.commit()
    if is_htmx_request():
        return _single(post, thread)
    flash(_("The message is deleted."), "success")
    return redirect_for(queries.post_url(thread.id, post.id))
