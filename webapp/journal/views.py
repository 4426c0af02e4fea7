"""The journal: my entries, colleagues' entries, one entry, and the editor."""
from __future__ import annotations

from flask import abort, current_app, flash, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import Select, select
from sqlalchemy import update as sql_update
from sqlalchemy.orm import joinedload, selectinload

from .. import access, database, prebuilt
from ..comments import panel as comments_panel
from ..extensions import db
from ..fragments import KeptItems
from ..htmx import is_fragment_request, is_htmx_request, redirect_for, render
from ..i18n import gettext as _
from ..mentoring import panel as mentoring_panel
from ..models import EntryDraft, EntryTag, JournalEntry, User, Visibility, utcnow
from ..notifications import events, inbox
from ..numbers import number
from ..plans import panel as plans_panel
from ..plans import queries as plan_queries
from ..text import strip_controls
from . import bp, drafts, entries, summaries
from .forms import EntryForm, parse_tags

SAVED = "entry-saved"  # htmx event: lists showing entries refresh themselves


# Author and school are many-to-one: joined into the same statement; tags need one more. The entry's
# page reads its tags as a column of the entry's statement (summaries.tags_column): loading them as
# objects cost it more.
AUTHOR_AND_TAGS = (joinedload(JournalEntry.author).joinedload(User.school), selectinload(JournalEntry.tags))


def _with_author_and_tags(query):
    return query.options(*AUTHOR_AND_TAGS)


def _new_form(**data) -> EntryForm:
    form = EntryForm(formdata=None, data=data)
    if not form.draft_key.data:
        form.draft_key.data = drafts.new_key()
    return form


def _tag_arg() -> str:
    return strip_controls(request.args.get("tag", "")).strip().lower()[:40]


def _my_filters() -> dict:
    filters = {}
    tag = _tag_arg()
    if tag:
        filters["tag"] = tag
    visibility = request.args.get("visibility", "")
    if visibility in set(Visibility):
        filters["visibility"] = visibility
    return filters


def _per_page() -> int:
    return current_app.config["ENTRIES_PER_PAGE"]


def _index_context(form: EntryForm | None = None) -> dict:
    filters = _my_filters()
    page = summaries.own_page(current_user, filters, _per_page())
    return {
        "page": page,
        "filters": filters,
        "tags": summaries.own_tags(current_user),
        "form": form or _new_form(),
        "new_drafts": _new_drafts(),
    }


@prebuilt.built_once
def _unfinished_new(viewer) -> Select:
    """The person's drafts of new entries, newest first: the key, title and moment each one shows."""
    return (access.own_drafts(viewer).with_only_columns(EntryDraft.key, EntryDraft.title, EntryDraft.updated_at)
            .where(EntryDraft.entry_id.is_(None)).order_by(EntryDraft.updated_at.desc()).limit(10))


def _new_drafts() -> list:
    return database.run(_unfinished_new(), prebuilt.params_for(current_user)).all()


def _fresh_fields_key(form: EntryForm) -> tuple | None:
    """What the fields of an entry form with nothing typed and nothing refused show besides the
    language (the labels, hints and visibility names): the chosen visibility and step and the steps
    offered. None for any other form: its markup is written every time."""
    if form.errors or form.title.data or form.body.data or form.tags.data:
        return None
    steps = tuple((str(choice.value), str(choice.label), choice.optgroup) for choice in form.step_id.choices)
    return ("journal/_entry_form.html#fields", str(form.visibility.data), str(form.step_id.data), steps)


def _kept() -> KeptItems:
    return current_app.jinja_env.globals["kept_item"]


@bp.app_template_global()
def kept_entry_fields(form: EntryForm):
    """The fields of a new entry's empty form, as kept (webapp/fragments.py), or None: every journal
    page carries that form, and writing its five fields was a seventh of the page."""
    key = _fresh_fields_key(form)
    return None if key is None else _kept().found(key)


@bp.app_template_global()
def keep_entry_fields(form: EntryForm, markup):
    key = _fresh_fields_key(form)
    return markup if key is None else _kept().keep(key, markup)


@bp.app_template_global()
def entry_summaries(items, show_author=False, heading=None, tag_endpoint=None):
    """The summaries of `items` (journal/_entry_summaries.html), their markup kept (webapp/fragments.py).
    What the including page left unset (undefined, so false) takes its default here."""
    rows = summaries.item_rows(items, bool(show_author), heading or "h3", tag_endpoint or "journal.index")
    return _kept().each("journal/_entry_summary.html", summaries.ITEM_VALUES, rows)


@bp.get("/")
@login_required
def index():
    return render("journal/index.html", "entry_list", **_index_context())


@bp.get("/feed")
@login_required
def feed():
    tag = _tag_arg()
    page = summaries.shared_page(current_user, tag or None, _per_page())
    return render("journal/feed.html", "entry_list", page=page, filters={"tag": tag} if tag else {})


@bp.get("/new")
@login_required
def new():
    # "Write an entry about this step" on the plan page preselects the step; the post re-checks it.
    form = _new_form(step_id=number(request.args.get("step_id")))
    return render("journal/new.html", "entry_form", form=form, new_drafts=_new_drafts())


def _apply(entry: JournalEntry, form: EntryForm) -> None:
    entry.title = form.title.data
    entry.body = form.body.data or ""
    entry.visibility = form.visibility.data
    wanted = parse_tags(form.tags.data)
    entry.tags = [t for t in entry.tags if t.name in wanted] + [
        EntryTag(name=name) for name in wanted if name not in {t.name for t in entry.tags}
    ]
    # A step of the author's own plan, or none: someone else's step id never sticks.
    step_id = form.step_id.data
    entry.step_id = step_id if step_id is not None and plan_queries.is_own_step(entry.author_id, step_id) else None


def _heading() -> str:
    """The level of the new-entry form's heading, as on the page it was sent from: h1 on the page of
    its own, h2 under «Мой журнал»; a whole page answered is the page of its own."""
    return "h2" if is_fragment_request() and request.form.get("heading") == "h2" else "h1"


@bp.post("/")
@login_required
def create():
    form = EntryForm()
    if not form.validate():
        drafts.save(current_user, request.form, None)
        db.session.commit()
        return render("journal/new.html", "entry_form", status=422, form=form, new_drafts=[], heading_tag=_heading())
    entry = entries.saved_already(current_user.id, form)
    if entry is None:
        entry = JournalEntry(author_id=current_user.id, tags=[])
        _apply(entry, form)
        db.session.add(entry)
        db.session.flush()
        events.entry_shared(entry, was=None)
        drafts.close(current_user, form.draft_key.data, saved=request.form)
    db.session.commit()
    if is_htmx_request():  # the form itself says so; a flash would turn up again on the next page
        return render("journal/new.html", "entry_form", status=201, form=_new_form(), new_drafts=[],
                      saved=entry, headers={"HX-Trigger": SAVED}, heading_tag=_heading())
    flash(_("The entry is saved."), "success")
    return redirect_for(url_for("journal.show", entry_id=entry.id))


@bp.get("/<int:entry_id>")
@login_required
def show(entry_id: int):
    entry, row = access.entry_with(current_user, entry_id, _read_with_the_entry, with_author=True)
    if not is_fragment_request() and inbox.read_on_opening(current_user, entry_id=entry.id, unread=row.unread_about):
        entry = access.entry_for_viewing(current_user, entry_id, with_author=True)  # the marks' commit expired it
    return render("journal/show.html", "entry", entry=entry, **_entry_panels(
        entry, summaries.split_tags(row.tags), comments_panel.opened_section(entry, current_user, row)))


def _read_with_the_entry(viewer) -> tuple:
    """What the entry's page reads in the entry's own statement: whether the viewer has unread
    notifications about it, its tags, and the viewer's unsent comment on it."""
    return (inbox.unread_about_entry(viewer), summaries.tags_column(JournalEntry.id),
            *comments_panel.draft_columns(viewer))


def _entry_panels(entry: JournalEntry, tags: tuple[str, ...], comment_section) -> dict:
    """What the entry's page shows besides the entry: its tags, feedback, plan step, comments."""
    return {
        "entry_tags": tags,
        **mentoring_panel.entry_context(entry, current_user),
        **plans_panel.entry_context(entry, current_user),
        "comment_section": comment_section,
    }


def _edit_form_for(entry: JournalEntry) -> tuple[EntryForm, EntryDraft | None]:
    draft = db.session.scalar(
        access.own_drafts(current_user).where(EntryDraft.entry_id == entry.id).order_by(EntryDraft.updated_at.desc()).limit(1)
    )
    if draft is not None and (draft.title, draft.body, draft.step_id) != (entry.title, entry.body, entry.step_id):
        form = _new_form(title=draft.title, body=draft.body, visibility=draft.visibility, tags=draft.tags,
                         version=draft.base_version or entry.version, draft_key=draft.key, step_id=draft.step_id)
        return form, draft
    form = _new_form(title=entry.title, body=entry.body, visibility=entry.visibility,
                     tags=", ".join(entry.tag_names), version=entry.version, step_id=entry.step_id)
    return form, None


@bp.get("/<int:entry_id>/edit")
@login_required
def edit(entry_id: int):
    entry = access.entry_for_editing(current_user, entry_id, *AUTHOR_AND_TAGS)
    form, restored = _edit_form_for(entry)
    return render("journal/edit.html", "entry_form", entry=entry, form=form, restored=restored)


@bp.post("/<int:entry_id>")
@login_required
def update(entry_id: int):
    entry = access.entry_for_editing(current_user, entry_id, *AUTHOR_AND_TAGS)
    form = EntryForm()
    if not form.validate():
        drafts.save(current_user, request.form, entry.id)
        db.session.commit()
        return render("journal/edit.html", "entry_form", status=422, entry=entry, form=form, restored=None)
    if form.version.data != entry.version:
        return _saved(entry, form) if entries.holds(entry, form) else _conflict(entry, form)
    # Compare-and-set on the version: of two tabs saving at once, exactly one wins.
    won = db.session.execute(
        sql_update(JournalEntry).where(JournalEntry.id == entry.id, JournalEntry.version == form.version.data)
        .values(version=JournalEntry.version + 1, updated_at=utcnow())
    ).rowcount
    if not won:
        db.session.rollback()
        entry = db.session.scalar(_with_author_and_tags(select(JournalEntry).where(JournalEntry.id == entry_id)))
        return _saved(entry, form) if entries.holds(entry, form) else _conflict(entry, form)
    db.session.refresh(entry, ["version", "updated_at"])
    was = entry.visibility
    _apply(entry, form)
    events.entry_shared(entry, was=was)
    return _saved(entry, form)


def _saved(entry: JournalEntry, form: EntryForm):
    drafts.close(current_user, form.draft_key.data, saved=request.form)
    db.session.commit()
    if is_htmx_request():
        panels = _entry_panels(entry, summaries.in_order(entry.tag_names), comments_panel.section_for(entry, current_user))
        return render("journal/show.html", "entry", entry=entry, **panels, headers={"HX-Trigger": SAVED})
    flash(_("The changes are saved."), "success")
    return redirect_for(url_for("journal.show", entry_id=entry.id))


def _conflict(entry: JournalEntry, form: EntryForm):
    """Someone saved this entry since the editor opened: show both, overwrite nothing."""
    drafts.save(current_user, request.form, entry.id)
    db.session.commit()
    mine = {"title": form.title.data, "body": form.body.data, "tags": form.tags.data}
    form.version.data = entry.version  # saving again now means: keep my version
    return render("journal/conflict.html", "entry_form", status=409, entry=entry, form=form, mine=mine)


@bp.get("/<int:entry_id>/delete")
@login_required
def confirm_delete(entry_id: int):
    entry = access.entry_for_editing(current_user, entry_id)
    return render("journal/delete.html", entry=entry)


@bp.post("/<int:entry_id>/delete")
@login_required
def delete(entry_id: int):
    entry = access.entry_for_editing(current_user, entry_id)
    title = entry.title
    db.session.delete(entry)
    db.session.commit()
    if is_htmx_request():
        # The whole page gives way (its comments and their poller with it); loading it again is the journal.
        return render("journal/deleted.html", "deleted", title=title,
                      headers={"HX-Trigger": SAVED, "HX-Replace-Url": url_for("journal.index")})
    flash(_("The entry “%(title)s” is deleted.", title=title), "success")
    return redirect_for(url_for("journal.index"))


@bp.post("/drafts")
@login_required
def autosave():
    entry_id = number(request.form.get("entry_id"))
    entry = access.entry_for_editing(current_user, entry_id) if entry_id is not None else None
    draft = drafts.save(current_user, request.form, entry.id if entry else None)
    db.session.commit()
    if draft is None:
        return "", 204
    return render("journal/_save_status.html", state="saved", now=draft.updated_at)


@bp.get("/drafts")
@login_required
def drafts_index():
    items = db.session.scalars(
        access.own_drafts(current_user).options(selectinload(EntryDraft.entry)).order_by(EntryDraft.updated_at.desc())
    ).all()
    return render("journal/drafts.html", drafts=items)


@bp.get("/drafts/<draft_key:key>")
@login_required
def resume_draft(key: str):
    draft = db.session.scalar(access.own_drafts(current_user).where(EntryDraft.key == key))
    if draft is None:
        # Saved since (the address stays in the browser after saving there): the journal, not a 404.
        if db.session.scalar(access.own_closed_drafts(current_user).where(EntryDraft.key == key)) is None:
            abort(404)
        flash(_("This draft is saved already: the entry is in your journal."), "success")
        return redirect_for(url_for("journal.index"))
    form = _new_form(title=draft.title, body=draft.body, visibility=draft.visibility, tags=draft.tags,
                     draft_key=draft.key, version=draft.base_version, step_id=draft.step_id)
    entry = db.session.get(JournalEntry, draft.entry_id) if draft.entry_id else None
    if entry is not None and access.can_edit(current_user, entry):
        entry = db.session.scalar(_with_author_and_tags(select(JournalEntry).where(JournalEntry.id == entry.id)))
        if form.version.data is None:
            form.version.data = entry.version
        return render("journal/edit.html", "entry_form", entry=entry, form=form, restored=draft)
    return render("journal/new.html", "entry_form", form=form, new_drafts=[], restored=draft)


@bp.post("/drafts/<draft_key:key>/delete")
@login_required
def discard_draft(key: str):
    if db.session.scalar(access.own_drafts(current_user).where(EntryDraft.key == key)) is None:
        abort(404)
    drafts.close(current_user, key)
    db.session.commit()
    flash(_("The draft is deleted."), "success")
    return redirect_for(url_for("journal.drafts_index"))

