"""Who may reach what: every route × method × persona has a row here, and a route
without a row fails the test (deny by default for anything new)."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from webapp import access
from webapp.auth import links
from webapp.extensions import db
from webapp.groups.models import Post
from webapp.mentoring.models import NotificationKind
from webapp.models import JournalEntry, User, Visibility
from webapp.plans.progress import current_year

from . import factories
from .conftest import FRAGMENT, login

PERSONAS = ("anonymous", "librarian", "methodist", "other_methodist", "admin", "author")


def row(anonymous, librarian, methodist, other_methodist, admin, author):
    return dict(zip(PERSONAS, (anonymous, librarian, methodist, other_methodist, admin, author), strict=True))


# Statuses with an empty form: 422 means the view ran and refused the input.
# A login redirect is 302; after a successful form post, 303.
POLICY: dict[tuple[str, str], dict[str, int]] = {
    ("static", "GET"): row(200, 200, 200, 200, 200, 200),
    ("auth.home", "GET"): row(302, 302, 302, 302, 302, 302),
    # Public for the load balancer; 503 here because the test schema is not stamped with a migration.
    ("health.healthz", "GET"): row(503, 503, 503, 503, 503, 503),
    ("auth.login", "GET"): row(200, 302, 302, 302, 302, 302),
    ("auth.authenticate", "POST"): row(422, 422, 422, 422, 422, 422),
    ("auth.logout", "POST"): row(302, 303, 303, 303, 303, 303),
    ("auth.account", "GET"): row(302, 200, 200, 200, 200, 200),
    ("auth.change_password", "POST"): row(302, 422, 422, 422, 422, 422),
    ("auth.change_locale", "POST"): row(302, 303, 303, 303, 303, 303),
    ("auth.accept_link", "GET"): row(200, 200, 200, 200, 200, 200),
    ("auth.set_password", "POST"): row(422, 422, 422, 422, 422, 422),
    # The entry under test is the author's, shared with their methodist ("mentors").
    ("journal.index", "GET"): row(302, 200, 200, 200, 200, 200),
    ("journal.feed", "GET"): row(302, 200, 200, 200, 200, 200),
    ("journal.new", "GET"): row(302, 200, 200, 200, 200, 200),
    ("journal.create", "POST"): row(302, 422, 422, 422, 422, 422),
    ("journal.show", "GET"): row(302, 404, 200, 404, 404, 200),
    ("journal.edit", "GET"): row(302, 404, 404, 404, 404, 200),
    ("journal.update", "POST"): row(302, 404, 404, 404, 404, 422),
    ("journal.confirm_delete", "GET"): row(302, 404, 404, 404, 404, 200),
    ("journal.delete", "POST"): row(302, 404, 404, 404, 404, 303),
    ("journal.autosave", "POST"): row(302, 204, 204, 204, 204, 204),
    ("journal.drafts_index", "GET"): row(302, 200, 200, 200, 200, 200),
    # The draft under test is the author's.
    ("journal.resume_draft", "GET"): row(302, 404, 404, 404, 404, 200),
    ("journal.discard_draft", "POST"): row(302, 404, 404, 404, 404, 303),
    # Administration: administrators only; the user under test is the librarian.
    ("admin.index", "GET"): row(302, 404, 404, 404, 200, 404),
    ("admin.new_user", "GET"): row(302, 404, 404, 404, 200, 404),
    ("admin.show_user", "GET"): row(302, 404, 404, 404, 200, 404),
    ("admin.schools", "GET"): row(302, 404, 404, 404, 200, 404),
    ("admin.create_user", "POST"): row(302, 404, 404, 404, 422, 404),
    ("admin.update_user", "POST"): row(302, 404, 404, 404, 422, 404),
    ("admin.create_school", "POST"): row(302, 404, 404, 404, 422, 404),
    ("admin.update_school", "POST"): row(302, 404, 404, 404, 422, 404),
    ("admin.issue_link", "POST"): row(302, 404, 404, 404, 303, 404),
    ("admin.deactivate", "POST"): row(302, 404, 404, 404, 303, 404),
    ("admin.activate", "POST"): row(302, 404, 404, 404, 303, 404),
    ("admin.assign_methodists", "POST"): row(302, 404, 404, 404, 303, 404),
    ("admin.school_methodist", "GET"): row(302, 404, 404, 404, 200, 404),
    ("admin.assign_school_methodist", "POST"): row(302, 404, 404, 404, 422, 404),
    # Comments: the entry's audience; the comment under test is the author's.
    ("comments.index", "GET"): row(302, 404, 200, 404, 404, 200),
    ("comments.create", "POST"): row(302, 404, 422, 404, 404, 422),
    ("comments.autosave", "POST"): row(302, 404, 204, 404, 404, 204),
    ("comments.show", "GET"): row(302, 404, 200, 404, 404, 200),
    ("comments.edit", "GET"): row(302, 404, 404, 404, 404, 200),
    ("comments.update", "POST"): row(302, 404, 404, 404, 404, 422),
    ("comments.confirm_delete", "GET"): row(302, 404, 404, 404, 404, 200),
    ("comments.delete", "POST"): row(302, 404, 404, 404, 404, 303),
    # The methodist's desk: methodists only; per-entry routes only for the author's methodist.
    ("mentoring.desk", "GET"): row(302, 404, 200, 200, 404, 404),
    ("mentoring.awaiting", "GET"): row(302, 404, 200, 200, 404, 404),
    ("mentoring.awaiting_entry", "GET"): row(302, 404, 200, 404, 404, 404),
    ("mentoring.answer", "POST"): row(302, 404, 422, 404, 404, 404),
    ("mentoring.set_status", "POST"): row(302, 404, 422, 404, 404, 404),
    # Plans: the author and her methodists; the plan under test is the author's.
    ("plans.index", "GET"): row(302, 200, 200, 200, 200, 200),
    ("plans.new", "GET"): row(302, 200, 200, 200, 200, 200),
    ("plans.create", "POST"): row(302, 422, 422, 422, 422, 422),
    ("plans.show", "GET"): row(302, 404, 200, 404, 404, 200),
    ("plans.edit", "GET"): row(302, 404, 404, 404, 404, 200),
    ("plans.update", "POST"): row(302, 404, 404, 404, 404, 422),
    ("plans.create_step", "POST"): row(302, 404, 404, 404, 404, 422),
    ("plans.update_step", "POST"): row(302, 404, 404, 404, 404, 422),
    ("plans.delete_step", "POST"): row(302, 404, 404, 404, 404, 303),
    ("plans.create_comment", "POST"): row(302, 404, 422, 404, 404, 422),
    # Notifications: the recipient only; the notification under test is the author's.
    ("notifications.index", "GET"): row(302, 200, 200, 200, 200, 200),
    ("notifications.badge", "GET"): row(302, 200, 200, 200, 200, 200),
    ("notifications.open", "GET"): row(302, 404, 404, 404, 404, 303),
    ("notifications.read", "POST"): row(302, 404, 404, 404, 404, 303),
    ("notifications.read_all", "POST"): row(302, 303, 303, 303, 303, 303),
    ("notifications.settings", "GET"): row(302, 200, 200, 200, 200, 200),
    ("notifications.update_settings", "POST"): row(302, 303, 303, 303, 303, 303),
    # Groups: the group under test is CLOSED, the author its leader and its only member.
    ("groups.index", "GET"): row(302, 200, 200, 200, 200, 200),
    ("groups.nav_unread", "GET"): row(302, 200, 200, 200, 200, 200),
    ("groups.show", "GET"): row(302, 404, 404, 404, 404, 200),
    ("groups.join", "POST"): row(302, 404, 404, 404, 404, 303),
    ("groups.leave", "POST"): row(302, 404, 404, 404, 404, 303),
    ("groups.members", "GET"): row(302, 404, 404, 404, 200, 200),
    ("groups.add_member", "POST"): row(302, 404, 404, 404, 422, 422),
    ("groups.remove_member", "POST"): row(302, 404, 404, 404, 422, 422),
    ("groups.edit", "GET"): row(302, 404, 404, 404, 200, 200),
    ("groups.update", "POST"): row(302, 404, 404, 404, 303, 303),
    ("admin.groups", "GET"): row(302, 404, 404, 404, 200, 404),
    ("admin.new_group", "GET"): row(302, 404, 404, 404, 200, 404),
    ("admin.create_group", "POST"): row(302, 404, 404, 404, 422, 404),
    ("admin.edit_group", "GET"): row(302, 404, 404, 404, 200, 404),
    ("admin.update_group", "POST"): row(302, 404, 404, 404, 422, 404),
    # Threads: a thread of the closed group with one post by the author. The routes that take the
    # group from the query or form get none here, so they are 404 for everyone (tested with one in test_threads).
    ("threads.new", "GET"): row(302, 404, 404, 404, 404, 404),
    ("threads.create", "POST"): row(302, 404, 404, 404, 404, 404),
    ("threads.autosave_new", "POST"): row(302, 404, 404, 404, 404, 404),
    ("threads.show", "GET"): row(302, 404, 404, 404, 404, 303),
    ("threads.poll", "GET"): row(302, 404, 404, 404, 404, 200),
    ("threads.reply", "POST"): row(302, 404, 404, 404, 404, 422),
    ("threads.autosave", "POST"): row(302, 404, 404, 404, 404, 204),
    ("threads.pin", "POST"): row(302, 404, 404, 404, 404, 422),
    ("threads.lock", "POST"): row(302, 404, 404, 404, 404, 422),
    ("threads.mute", "POST"): row(302, 404, 404, 404, 404, 422),
    ("threads.show_post", "GET"): row(302, 404, 404, 404, 404, 303),
    ("threads.edit_post", "GET"): row(302, 404, 404, 404, 404, 200),
    ("threads.update_post", "POST"): row(302, 404, 404, 404, 404, 422),
    ("threads.confirm_delete_post", "GET"): row(302, 404, 404, 404, 404, 200),
    ("threads.delete_post", "POST"): row(302, 404, 404, 404, 404, 303),
    ("threads.quote", "POST"): row(302, 404, 404, 404, 404, 303),
}


# The routes of one entry and what hangs on it. POLICY has the entry shared with the author's
# methodists; here it is private or for colleagues, and only the audience changes (PRODUCT.md's
# table, written out by hand): private, the author alone; colleagues, every signed-in person reads
# and may comment; the methodist's answer, the author's methodist only; editing, the author only.
ENTRY_ROUTES = [key for key in POLICY if key[0] in {
    "journal.show", "journal.edit", "journal.update", "journal.confirm_delete", "journal.delete",
    "mentoring.awaiting_entry", "mentoring.answer", "mentoring.set_status", "notifications.open", "notifications.read",
} or key[0].startswith("comments.")]
BY_VISIBILITY: dict[str, dict[tuple[str, str], dict[str, int]]] = {
    Visibility.PRIVATE: {
        ("journal.show", "GET"): row(302, 404, 404, 404, 404, 200),
        ("comments.index", "GET"): row(302, 404, 404, 404, 404, 200),
        ("comments.show", "GET"): row(302, 404, 404, 404, 404, 200),
        ("comments.create", "POST"): row(302, 404, 404, 404, 404, 422),
        ("comments.autosave", "POST"): row(302, 404, 404, 404, 404, 204),
        ("mentoring.awaiting_entry", "GET"): row(302, 404, 404, 404, 404, 404),
        ("mentoring.answer", "POST"): row(302, 404, 404, 404, 404, 404),
        ("mentoring.set_status", "POST"): row(302, 404, 404, 404, 404, 404),
    },
    Visibility.COLLEAGUES: {
        ("journal.show", "GET"): row(302, 200, 200, 200, 200, 200),
        ("comments.index", "GET"): row(302, 200, 200, 200, 200, 200),
        ("comments.show", "GET"): row(302, 200, 200, 200, 200, 200),
        ("comments.create", "POST"): row(302, 422, 422, 422, 422, 422),
        ("comments.autosave", "POST"): row(302, 204, 204, 204, 204, 204),
    },
}


# The routes of the group and its thread when the group is open: every signed-in person reads it,
# joins and leaves it; members post; an administrator moderates what they can read; editing a post
# stays its author's. The administrator deletes the post before the author gets to (the author comes last).
GROUP_ROUTES = [key for key in POLICY if key[0].startswith(("groups.", "threads."))]
OPEN_GROUP: dict[tuple[str, str], dict[str, int]] = {
    ("groups.show", "GET"): row(302, 200, 200, 200, 200, 200),
    ("groups.members", "GET"): row(302, 200, 200, 200, 200, 200),
    ("groups.join", "POST"): row(302, 303, 303, 303, 303, 303),
    ("groups.leave", "POST"): row(302, 303, 303, 303, 303, 303),
    ("threads.show", "GET"): row(302, 303, 303, 303, 303, 303),
    ("threads.show_post", "GET"): row(302, 303, 303, 303, 303, 303),
    ("threads.poll", "GET"): row(302, 200, 200, 200, 200, 200),
    ("threads.mute", "POST"): row(302, 422, 422, 422, 422, 422),
    ("threads.pin", "POST"): row(302, 404, 404, 404, 422, 422),
    ("threads.lock", "POST"): row(302, 404, 404, 404, 422, 422),
    ("threads.confirm_delete_post", "GET"): row(302, 404, 404, 404, 200, 200),
    ("threads.delete_post", "POST"): row(302, 404, 404, 404, 303, 404),
}


@pytest.fixture
def visibility():
    return Visibility.MENTORS


@pytest.fixture
def group_is_open():
    return False


@pytest.fixture
def world(app, people, visibility, group_is_open):
    entry = factories.make_entry(people["author"], visibility=visibility, title="Отчёт о неделе чтения")
    from webapp.journal import drafts
    author = db.session.get(User, people["author"])
    draft = drafts.save(author, {"draft_key": "draftkey-author-1", "title": "Черновик", "body": "текст"}, None)
    db.session.commit()
    with app.test_request_context():
        invite_url = links.issue(db.session.get(User, people["librarian"]))
    db.session.commit()
    school = db.session.get(User, people["librarian"]).school_id
    comment = factories.make_comment(entry, people["author"])
    plan = factories.make_plan(people["author"], year=current_year())
    step = factories.make_step(plan)
    note = factories.make_notification(people["author"], NotificationKind.ENTRY_COMMENT, actor_id=people["methodist"],
                                       entry_id=entry, comment_id=comment)
    group = factories.make_group("Творческая группа", is_open=group_is_open, leaders=(people["author"],))
    thread = factories.make_thread(group, people["author"], title="Закрытое обсуждение")
    post = db.session.scalar(select(Post.id).where(Post.thread_id == thread))
    return {**people, "entry": entry, "draft_key": draft.key, "token": invite_url.rsplit("/", 1)[1], "school": school,
            "comment": comment, "plan": plan, "step": step, "notification": note,
            "group": group, "thread": thread, "post": post}


def url_for_rule(rule, world) -> str:
    values = {"entry_id": world["entry"], "key": world["draft_key"], "token": world["token"],
              "filename": "css/rost.css", "user_id": world["librarian"], "school_id": world["school"],
              "comment_id": world["comment"], "plan_id": world["plan"], "step_id": world["step"],
              "notification_id": world["notification"], "group_id": world["group"], "thread_id": world["thread"],
              "post_id": world["post"]}
    path = rule.rule
    for name in rule.arguments:
        path = re.sub(rf"<(?:[a-z_]+:)?{name}>", str(values[name]), path)
    return path


def all_routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_every_route_has_a_policy_row(app):
    missing = sorted({f"{method} {rule.rule} ({rule.endpoint})" for rule, method in all_routes(app)
                      if (rule.endpoint, method) not in POLICY})
    assert not missing, "routes without a row in POLICY (add one):\n" + "\n".join(missing)


def test_policy_rows_name_existing_routes(app):
    existing = {(rule.endpoint, method) for rule, method in all_routes(app)}
    assert not set(POLICY) - existing


def _answers(app, world, endpoint: str, method: str) -> dict[str, int]:
    rules = [r for r, m in all_routes(app) if r.endpoint == endpoint and m == method]
    if not rules:
        pytest.fail(f"{endpoint} {method} is in POLICY but not served")
    url = url_for_rule(rules[0], world)
    seen = {}
    for persona in PERSONAS:  # the author comes last: some of their actions delete the thing under test
        client = app.test_client()
        if persona != "anonymous":
            login(client, world[persona])
        response = client.open(url, method=method, data={} if method == "POST" else None)
        seen[persona] = response.status_code
        response.close()
    return seen


@pytest.mark.parametrize("endpoint,method", sorted(POLICY))
def test_route_answers_each_persona_as_the_policy_says(app, world, endpoint, method):
    assert _answers(app, world, endpoint, method) == POLICY[(endpoint, method)]


@pytest.mark.parametrize("visibility,endpoint,method",
                         [(visibility, *key) for visibility in BY_VISIBILITY for key in sorted(ENTRY_ROUTES)])
def test_an_entry_s_routes_follow_its_visibility(app, world, visibility, endpoint, method):
    expected = BY_VISIBILITY[visibility].get((endpoint, method), POLICY[(endpoint, method)])
    assert _answers(app, world, endpoint, method) == expected


@pytest.mark.parametrize("group_is_open", [True])
@pytest.mark.parametrize("endpoint,method", sorted(GROUP_ROUTES))
def test_an_open_group_s_routes(app, world, group_is_open, endpoint, method):
    assert _answers(app, world, endpoint, method) == OPEN_GROUP.get((endpoint, method), POLICY[(endpoint, method)])


@pytest.mark.parametrize("persona", [p for p in PERSONAS if p != "anonymous"])
def test_fragments_deny_like_pages(app, world, persona):
    """An htmx fragment request for something hidden is the same 404, not an empty 200."""
    client = login(app.test_client(), world[persona])
    for url in (f"/journal/{world['entry']}", f"/journal/{world['entry']}/edit"):
        page = client.get(url).status_code
        fragment = client.get(url, headers=FRAGMENT).status_code
        assert page == fragment


ENTRY_ID = re.compile(r'id="entry-(\d+)"')


def _may_see(persona: str, author: str, visibility: str) -> bool:
    """PRODUCT.md's table, written out for this network: the methodist mentors the author only."""
    return (persona == author or visibility == Visibility.COLLEAGUES
            or (visibility == Visibility.MENTORS and (persona, author) == ("methodist", "author")))


def test_every_list_shows_only_what_the_rule_allows(app, people):
    """The journal lists and the feed, every page and filter, against the table written out by
    hand (not against access.py, which they are built on): nothing outside it, and what each list
    is for is there (one's own entries in the journal, colleagues' entries in the feed)."""
    entries = {}
    for author in ("author", "librarian", "methodist"):
        for visibility in Visibility:
            for n in range(3):
                entries[factories.make_entry(people[author], visibility=visibility, title=f"{visibility} {n}")] = (author, visibility)
    for persona in ("author", "librarian", "methodist", "other_methodist", "admin"):
        client = login(app.test_client(), people[persona])
        shown: dict[str, set[int]] = {}
        for base in ("/journal/", "/journal/feed", "/journal/?visibility=private", "/journal/?visibility=mentors"):
            shown[base] = set()
            for page in range(1, 5):
                html = client.get(f"{base}{'&' if '?' in base else '?'}page={page}").text
                shown[base] |= {int(i) for i in ENTRY_ID.findall(html)}
        for entry_id in set().union(*shown.values()):
            assert _may_see(persona, *entries[entry_id]), (persona, entries[entry_id])
        assert shown["/journal/"] == {e for e, (author, _) in entries.items() if author == persona}
        assert shown["/journal/feed"] >= {e for e, (author, visibility) in entries.items()
                                          if visibility == Visibility.COLLEAGUES and author != persona}


def test_administrator_never_sees_a_private_entry(app, people):
    factories.make_entry(people["author"], visibility=Visibility.PRIVATE, title="Личное", body="секретный текст")
    admin = db.session.get(User, people["admin"])
    assert db.session.scalars(access.visible_entries(admin).where(JournalEntry.title == "Личное")).first() is None
    client = login(app.test_client(), admin.id)
    for url in ("/journal/", "/journal/feed", "/journal/drafts"):
        assert "секретный текст" not in client.get(url).text


def test_deactivated_methodist_sees_nothing(app, people):
    entry = factories.make_entry(people["author"], visibility=Visibility.COLLEAGUES)
    client = login(app.test_client(), people["methodist"])
    db.session.get(User, people["methodist"]).active = False
    db.session.commit()
    assert client.get(f"/journal/{entry}").status_code == 302
