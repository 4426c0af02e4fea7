"""Groups: who sees which group, joining and leaving, leaders managing members, administrators
creating groups, and a group's thread list (order, unread markers, its poll and its query budget)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from html import unescape

import pytest
from sqlalchemy import func, select

from webapp import access
from webapp.extensions import db
from webapp.groups.models import Group, GroupMember, MemberRole, Post, Thread, ThreadState
from webapp.models import User

from . import factories
from .conftest import FRAGMENT, editor_base, login

GROUP_ID = re.compile(r'<article id="group-(\d+)"')
THREAD_ID = re.compile(r'<tr id="thread-(\d+)"')


@pytest.fixture
def world(app, people):
    """An open association led by the methodist with the author in it, and a closed creative group
    led by the author with the librarian as a member."""
    open_group = factories.make_group("Городское МО школьных библиотекарей", leaders=(people["methodist"],),
                                      members=(people["author"],))
    closed = factories.make_group("Творческая группа «Книжная полка»", kind="creative", is_open=False,
                                  leaders=(people["author"],), members=(people["librarian"],))
    return {**people, "open": open_group, "closed": closed}


def make_thread(group_id: int, author_id: int, *, posts: int = 1, pinned: bool = False,
                last_post_at: datetime | None = None, title: str | None = None) -> int:
    """A thread with `posts` posts, its counters kept as the threads feature keeps them."""
    thread = Thread(group_id=group_id, author_id=author_id, title=title or "Обсуждение", pinned=pinned)
    db.session.add(thread)
    db.session.flush()
    added = [Post(thread_id=thread.id, author_id=author_id, body=f"Сообщение {n}") for n in range(posts)]
    db.session.add_all(added)
    db.session.flush()
    thread.post_count = posts
    thread.last_post_id = added[-1].id if added else None
    thread.last_post_at = last_post_at or datetime(2026, 11, 1, 12, 0)
    db.session.commit()
    return thread.id


def add_post(thread_id: int, author_id: int) -> int:
    thread = db.session.get(Thread, thread_id)
    post = Post(thread_id=thread_id, author_id=author_id, body="Новое сообщение")
    db.session.add(post)
    db.session.flush()
    thread.post_count += 1
    thread.last_post_id = post.id
    thread.last_post_at = thread.last_post_at + timedelta(minutes=1)
    db.session.commit()
    return post.id


def mark_read(user_id: int, thread_id: int, *, muted: bool = False) -> None:
    """`user_id` has read the thread to its last post."""
    last = db.session.get(Thread, thread_id).last_post_id
    state = db.session.get(ThreadState, (user_id, thread_id)) or ThreadState(user_id=user_id, thread_id=thread_id)
    state.last_read_post_id, state.muted = last, muted
    db.session.add(state)
    db.session.commit()


def is_member(group_id: int, user_id: int) -> bool:
    return db.session.get(GroupMember, (group_id, user_id)) is not None


def section(html: str, section_id: str) -> str:
    match = re.search(rf'<section id="{section_id}".*?</section>', html, re.S)
    assert match, f"no #{section_id} on the page"
    return match.group(0)


def poll_url(html: str) -> str:
    match = re.search(r'<section id="thread-list"[^>]*hx-get="([^"]+)"', html)
    assert match, "the thread list does not poll"
    return match.group(1).replace("&amp;", "&")


# Who sees what --------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["methodist", "other_methodist", "admin"])
def test_a_closed_group_is_404_to_non_members_on_every_route(app, world, persona):
    client = login(app.test_client(), world[persona])
    closed = world["closed"]
    for url in (f"/groups/{closed}", f"/groups/{closed}?seen=0"):
        assert client.get(url).status_code == 404
        assert client.get(url, headers=FRAGMENT).status_code == 404
    for url in (f"/groups/{closed}/join", f"/groups/{closed}/leave"):
        assert client.post(url).status_code == 404
    assert not is_member(closed, world[persona])
    if persona != "admin":  # an administrator manages every group's membership (below)
        assert client.get(f"/groups/{closed}/members").status_code == 404
        assert client.get(f"/groups/{closed}/edit").status_code == 404
        assert client.post(f"/groups/{closed}/members", data={"user_id": world[persona]}).status_code == 404
    assert "Книжная полка" not in client.get("/groups/").text


def test_a_closed_group_is_open_to_its_members(app, world):
    client = login(app.test_client(), world["librarian"])
    page = client.get(f"/groups/{world['closed']}")
    assert page.status_code == 200 and "Книжная полка" in page.text
    assert client.get(f"/groups/{world['closed']}/members").status_code == 200


@pytest.mark.parametrize("persona", ["author", "librarian", "methodist", "other_methodist", "admin"])
def test_an_open_group_is_read_by_every_signed_in_person(app, world, persona):
    client = login(app.test_client(), world[persona])
    page = client.get(f"/groups/{world['open']}")
    assert page.status_code == 200 and "Городское МО" in page.text
    assert client.get(f"/groups/{world['open']}/members").status_code == 200


def test_signed_out_visitors_are_sent_to_sign_in(client, world):
    for url in ("/groups/", f"/groups/{world['open']}", f"/groups/{world['open']}/members"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    before = db.session.scalars(select(GroupMember.user_id).where(GroupMember.group_id == world["open"])).all()
    assert client.post(f"/groups/{world['open']}/join").status_code == 302
    assert db.session.scalars(select(GroupMember.user_id).where(GroupMember.group_id == world["open"])).all() == before


def test_my_groups_and_the_open_groups_i_may_join(app, world):
    author = login(app.test_client(), world["author"]).get("/groups/").text
    mine = section(author, "my-groups")
    assert set(map(int, GROUP_ID.findall(mine))) == {world["open"], world["closed"]}
    assert "/join" not in mine and mine.count('class="unread-threads') == 2
    assert GROUP_ID.findall(section(author, "open-groups")) == []

    other = login(app.test_client(), world["other_methodist"]).get("/groups/").text
    assert GROUP_ID.findall(section(other, "my-groups")) == []
    joinable = section(other, "open-groups")
    assert list(map(int, GROUP_ID.findall(joinable))) == [world["open"]]
    assert f'action="/groups/{world["open"]}/join"' in joinable


def test_every_group_list_is_a_subset_of_what_access_allows(app, people):
    ids = [people[p] for p in ("author", "librarian", "methodist", "other_methodist", "admin")]
    for n in range(8):
        members = tuple(ids[i] for i in range(len(ids)) if (n + i) % 3 == 0)
        factories.make_group(f"Группа {n}", is_open=n % 2 == 0, members=members)
    for user_id in ids:
        user = db.session.get(User, user_id)
        allowed = set(db.session.scalars(access.visible_groups(user).with_only_columns(Group.id)))
        html = login(app.test_client(), user_id).get("/groups/").text
        shown = set(map(int, GROUP_ID.findall(html)))
        mine = set(db.session.scalars(select(GroupMember.group_id).where(GroupMember.user_id == user_id)))
        open_ids = set(db.session.scalars(select(Group.id).where(Group.is_open.is_(True))))
        assert shown <= allowed
        assert shown == mine | open_ids


# Joining and leaving --------------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "manages", "member"), [
    ("methodist", True, True),  # its leader
    ("author", False, True),  # a member
    ("librarian", False, False),  # not a member of this open group: may join
    ("admin", True, False),  # an administrator, not a member
])
def test_the_group_page_offers_each_person_what_they_may_do(app, world, who, manages, member):
    page = login(app.test_client(), world[who]).get(f"/groups/{world['open']}").text
    assert (f'href="/groups/{world["open"]}/edit"' in page) is manages
    assert (f'action="/groups/{world["open"]}/leave"' in page) is member
    assert (f'href="/threads/new?group_id={world["open"]}"' in page) is member
    assert (f'action="/groups/{world["open"]}/join"' in page) is (not member)


def test_anyone_joins_and_leaves_an_open_group(app, world):
    client = login(app.test_client(), world["other_methodist"])
    group = world["open"]
    page = client.get(f"/groups/{group}").text
    assert f'action="/groups/{group}/join"' in page and "/threads/new" not in page

    response = client.post(f"/groups/{group}/join")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/groups/{group}")
    assert client.post(f"/groups/{group}/join").status_code == 303  # a second click changes nothing
    assert is_member(group, world["other_methodist"])
    assert db.session.get(GroupMember, (group, world["other_methodist"])).role == MemberRole.MEMBER
    page = client.get(f"/groups/{group}").text
    assert f'href="/threads/new?group_id={group}"' in page and f'action="/groups/{group}/leave"' in page
    listed = client.get("/groups/").text
    assert group in map(int, GROUP_ID.findall(section(listed, "my-groups")))

    assert client.post(f"/groups/{group}/leave").status_code == 303
    assert not is_member(group, world["other_methodist"])


def test_join_through_htmx_is_told_where_to_go(app, world):
    client = login(app.test_client(), world["other_methodist"])
    response = client.post(f"/groups/{world['open']}/join", headers=FRAGMENT)
    assert response.status_code == 204 and response.headers["HX-Redirect"] == f"/groups/{world['open']}"


def test_leaving_a_closed_group_shuts_its_door(app, world):
    client = login(app.test_client(), world["librarian"])
    response = client.post(f"/groups/{world['closed']}/leave")
    assert response.status_code == 303 and response.headers["Location"].endswith("/groups/")
    assert client.get(f"/groups/{world['closed']}").status_code == 404
    assert client.post(f"/groups/{world['closed']}/join").status_code == 404
    assert not is_member(world["closed"], world["librarian"])


# Leaders manage members ------------------------------------------------------------------------------


def test_a_leader_adds_and_removes_members_of_a_closed_group(app, world):
    leader = login(app.test_client(), world["author"])
    newcomer = login(app.test_client(), world["methodist"])
    closed = world["closed"]
    page = leader.get(f"/groups/{closed}/members").text
    assert 'id="add-member"' in page and f'<option value="{world["methodist"]}"' in page

    response = leader.post(f"/groups/{closed}/members", data={"user_id": world["methodist"]})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/groups/{closed}/members")
    assert newcomer.get(f"/groups/{closed}").status_code == 200

    response = leader.post(f"/groups/{closed}/members/remove", data={"user_id": world["methodist"]})
    assert response.status_code == 303
    assert not is_member(closed, world["methodist"])
    assert newcomer.get(f"/groups/{closed}").status_code == 404


def test_adding_through_htmx_swaps_the_members_panel(app, world):
    leader = login(app.test_client(), world["author"])
    response = leader.post(f"/groups/{world['closed']}/members", data={"user_id": world["other_methodist"]},
                           headers=FRAGMENT)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="members-panel"')
    assert f'id="member-{world["other_methodist"]}"' in response.text


def test_a_bad_choice_is_refused_and_nobody_is_added(app, world):
    leader = login(app.test_client(), world["author"])
    closed = world["closed"]
    for data in ({}, {"user_id": "abc"}, {"user_id": "999999"}, {"user_id": world["librarian"]}):
        response = leader.post(f"/groups/{closed}/members", data=data, headers=FRAGMENT)
        assert response.status_code == 422 and 'id="members-panel"' in response.text
    assert db.session.get(GroupMember, (closed, world["librarian"])).role == MemberRole.MEMBER
    deactivated = factories.make_user(active=False)
    assert leader.post(f"/groups/{closed}/members", data={"user_id": deactivated}).status_code == 422
    assert not is_member(closed, deactivated)


def test_leaders_are_not_removed_from_the_members_page(app, world):
    admin = login(app.test_client(), world["admin"])
    response = admin.post(f"/groups/{world['closed']}/members/remove", data={"user_id": world["author"]})
    assert response.status_code == 422
    assert db.session.get(GroupMember, (world["closed"], world["author"])).role == MemberRole.LEADER


def test_a_member_who_does_not_lead_cannot_manage(app, world):
    member = login(app.test_client(), world["librarian"])
    closed = world["closed"]
    page = member.get(f"/groups/{closed}/members").text
    assert 'id="add-member"' not in page and "/members/remove" not in page
    assert member.post(f"/groups/{closed}/members", data={"user_id": world["methodist"]}).status_code == 404
    assert member.post(f"/groups/{closed}/members/remove", data={"user_id": world["librarian"]}).status_code == 404
    assert member.get(f"/groups/{closed}/edit").status_code == 404
    assert member.post(f"/groups/{closed}/edit", data={"description": "чужое"}).status_code == 404
    assert not is_member(closed, world["methodist"]) and is_member(closed, world["librarian"])
    assert db.session.get(Group, closed).description == ""


def test_an_administrator_manages_a_closed_group_without_reading_it(app, world):
    admin = login(app.test_client(), world["admin"])
    closed = world["closed"]
    page = admin.get(f"/groups/{closed}/members")
    assert page.status_code == 200 and 'id="add-member"' in page.text
    assert f'href="/groups/{closed}"' not in page.text  # its discussions stay closed to them
    assert admin.post(f"/groups/{closed}/members", data={"user_id": world["methodist"]}).status_code == 303
    assert is_member(closed, world["methodist"])
    assert admin.get(f"/groups/{closed}").status_code == 404


# The description ----------------------------------------------------------------------------------


def test_the_leader_edits_the_description_as_safe_markdown(app, world):
    leader = login(app.test_client(), world["methodist"])
    group = world["open"]
    assert leader.get(f"/groups/{group}/edit").status_code == 200
    text = "План на **год**\n\n<script>alert(1)</script>"
    response = leader.post(f"/groups/{group}/edit", data={"description": text})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/groups/{group}")
    page = login(app.test_client(), world["other_methodist"]).get(f"/groups/{group}").text
    assert re.search(r'<div class="group-description card" hx-ignore><p>План на <strong>год</strong></p>', page)
    assert "<script>alert" not in page


def test_a_too_long_description_is_refused_and_kept(app, world):
    leader = login(app.test_client(), world["author"])
    text = "Очень длинное описание. " * 1000
    response = leader.post(f"/groups/{world['closed']}/edit", data={"description": text})
    assert response.status_code == 422 and "Очень длинное описание." in response.text
    assert db.session.get(Group, world["closed"]).description == ""


def test_no_description_editor_cuts_a_long_paste_in_the_browser(app, world):
    """A maxlength would make the browser drop what goes over it, silently; the server says so instead."""
    editors = [login(app.test_client(), world["author"]).get(f"/groups/{world['closed']}/edit").text,
               login(app.test_client(), world["admin"]).get("/admin/groups/new").text]
    for page in editors:
        textarea = re.search(r'<textarea[^>]*name="description"[^>]*>', page).group(0)
        assert "maxlength" not in textarea


# Administrators create groups ----------------------------------------------------------------------


MEMBER_COUNT = re.compile(r'class="members-link"[^>]*>(\d+) участник')


def test_the_member_count_shown_follows_every_way_in_and_out(app, world):
    """The count is kept on the group's row: joining, leaving, a second click of either, a leader
    adding and removing, an administrator naming a leader from outside. After each, the group's
    page, the list of groups and the administrators' list show how many members there are."""
    group = world["open"]
    person, leader, admin = (login(app.test_client(), world[who]) for who in ("other_methodist", "methodist", "admin"))

    def shown() -> int:
        members = db.session.scalar(select(func.count()).select_from(GroupMember).where(GroupMember.group_id == group))
        page = int(MEMBER_COUNT.search(person.get(f"/groups/{group}").text).group(1))
        listed = re.search(rf'<article id="group-{group}".*?data-count="(\d+)"', person.get("/groups/").text, re.S)
        administered = re.search(rf'id="admin-group-{group}".*?(\d+) участник', admin.get("/admin/groups").text, re.S)
        assert page == int(listed.group(1)) == int(administered.group(1)) == members
        return members

    assert shown() == 2
    for _ in range(2):
        assert person.post(f"/groups/{group}/join").status_code == 303
        assert shown() == 3
    for _ in range(2):
        assert person.post(f"/groups/{group}/leave").status_code == 303
        assert shown() == 2
    assert leader.post(f"/groups/{group}/members", data={"user_id": world["librarian"]}).status_code == 303
    assert shown() == 3
    assert leader.post(f"/groups/{group}/members/remove", data={"user_id": world["librarian"]}).status_code == 303
    assert shown() == 2
    form = _admin_group_form(admin.get(f"/admin/groups/{group}").text)
    saved = admin.post(f"/admin/groups/{group}", data={**form, "leaders": [*form["leaders"], world["other_methodist"]]})
    assert saved.status_code == 303
    assert db.session.get(GroupMember, (group, world["other_methodist"])).role == MemberRole.LEADER
    assert shown() == 3


def test_adding_or_removing_a_member_twice_counts_once(app, world):
    """What the pages' own checks usually spare them: the same person added twice (two leaders at
    once), removed twice (leaving in two tabs) moves the count once each way."""
    from webapp.groups import queries

    group = world["open"]
    for _ in range(2):
        queries.add_member(group, world["librarian"])
        db.session.commit()
        assert db.session.get(Group, group).member_count == 3
    for _ in range(2):
        queries.remove_member(group, world["librarian"])
        db.session.commit()
        assert db.session.get(Group, group).member_count == 2


def test_an_administrator_creates_a_closed_group_and_names_its_leader(app, world):
    admin = login(app.test_client(), world["admin"])
    form = admin.get("/admin/groups/new")
    assert form.status_code == 200 and re.search(r'<label for="name">Название группы</label>', form.text)  # a group's name, not a person's
    response = admin.post("/admin/groups", data={"name": "  Проектная   группа «Читаем вместе» ", "kind": "project",
                                                 "description": "О проекте", "leaders": [world["other_methodist"]]})
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/groups")
    group = db.session.scalar(select(Group).where(Group.name == "Проектная группа «Читаем вместе»"))
    assert group is not None and not group.is_open and group.kind == "project"
    assert db.session.get(GroupMember, (group.id, world["other_methodist"])).role == MemberRole.LEADER

    leader = login(app.test_client(), world["other_methodist"])
    assert leader.get(f"/groups/{group.id}").status_code == 200
    assert leader.get(f"/groups/{group.id}/edit").status_code == 200
    assert login(app.test_client(), world["author"]).get(f"/groups/{group.id}").status_code == 404
    listing = admin.get("/admin/groups").text
    assert f'id="admin-group-{group.id}"' in listing and "Лидия Карма" in listing


@pytest.mark.parametrize("typed", ["ПРОЕКТНАЯ ГРУППА «ЧИТАЕМ ВМЕСТЕ»", "проектная группа «читаем вместе»"])
def test_a_group_name_differing_only_by_case_is_refused(app, world, typed):
    admin = login(app.test_client(), world["admin"])
    created = admin.post("/admin/groups", data={"name": "Проектная группа «Читаем вместе»", "kind": "project"})
    assert created.status_code == 303
    again = admin.post("/admin/groups", data={"name": typed, "kind": "project"})
    assert again.status_code == 422
    assert "Группа «Проектная группа „Читаем вместе“» уже есть." in unescape(again.text)
    assert db.session.scalar(select(func.count()).select_from(Group).where(Group.kind == "project")) == 1


def test_a_group_form_sent_twice_creates_one_group_and_says_so_both_times(app, world):
    admin = login(app.test_client(), world["admin"])
    form = {"name": "Проектная группа «Читаем вместе»", "kind": "project", "description": "О проекте",
            "leaders": [world["other_methodist"]]}
    for _ in range(2):  # the button pressed twice, or the answer lost and the form sent again
        response = admin.post("/admin/groups", data=form)
        assert response.status_code == 303 and response.headers["Location"].endswith("/admin/groups")
    assert "Группа «Проектная группа „Читаем вместе“» создана." in unescape(admin.get("/admin/groups").text)
    assert db.session.scalar(select(func.count()).select_from(Group).where(Group.kind == "project")) == 1
    # The same name with anything else different is another group: refused, the name is taken.
    for other in ({"kind": "creative"}, {"description": "Другое"}, {"leaders": [world["methodist"]]}, {"is_open": "y"}):
        assert admin.post("/admin/groups", data={**form, **other}).status_code == 422, other


def _admin_group_form(page: str) -> dict:
    """The admin group form as the browser sends it: its fields as they are on the page."""
    form = re.search(r'<form id="group-form".*?</form>', page, re.S).group(0)
    data = {name: unescape(value) for name, value in re.findall(r'<input[^>]*name="(name|base|settings_base)"[^>]*value="([^"]*)"', form)}
    kind = re.search(r'<select[^>]*name="kind".*?</select>', form, re.S).group(0)
    data["kind"] = re.search(r'<option selected value="([^"]+)"|<option value="([^"]+)" selected', kind).group(1) or ""
    if re.search(r'name="is_open"[^>]*checked|checked[^>]*name="is_open"', form):
        data["is_open"] = "y"
    data["description"] = unescape(re.search(r'<textarea[^>]*name="description"[^>]*>\r?\n?(.*?)</textarea>', form, re.S).group(1))
    leaders = re.search(r'<select[^>]*name="leaders".*?</select>', form, re.S).group(0)
    data["leaders"] = re.findall(r'<option selected value="(\d+)"|<option value="(\d+)" selected', leaders)
    data["leaders"] = [a or b for a, b in data["leaders"]]
    return data


def test_two_administrators_changing_a_group_s_settings_at_once_overwrite_nothing_silently(app, world):
    group = world["open"]
    tab_a, tab_b = (login(app.test_client(), world["admin"]) for _ in range(2))
    form_a, form_b = (_admin_group_form(tab.get(f"/admin/groups/{group}").text) for tab in (tab_a, tab_b))
    assert form_a["settings_base"] and form_a["leaders"] == [str(world["methodist"])]
    assert tab_a.post(f"/admin/groups/{group}", data={**form_a, "name": "Городское МО библиотекарей"}).status_code == 303
    refused = tab_b.post(f"/admin/groups/{group}", data={**form_b, "leaders": [world["author"]]})
    assert refused.status_code == 409
    text = unescape(refused.text)
    assert "настройки группы сохранил кто-то другой" in text and "«Городское МО библиотекарей»" in text
    assert "доступ открыт всем, ведущие: Руслана Трач" in text
    assert db.session.get(Group, group).name == "Городское МО библиотекарей"  # nothing of tab B's saved
    again = _admin_group_form(refused.text)
    assert again["name"] == form_b["name"] and again["leaders"] == [str(world["author"])]  # what B sent stays
    assert tab_b.post(f"/admin/groups/{group}", data=again).status_code == 303  # saved again, knowingly
    db.session.expire_all()
    assert db.session.get(Group, group).name == form_b["name"]
    assert db.session.get(GroupMember, (group, world["author"])).role == MemberRole.LEADER


def test_an_administrator_changes_the_leaders(app, world):
    admin = login(app.test_client(), world["admin"])
    group = world["open"]
    form = admin.get(f"/admin/groups/{group}").text
    assert re.search(rf'<option selected value="{world["methodist"]}"|<option value="{world["methodist"]}" selected', form)
    response = admin.post(f"/admin/groups/{group}", data={"name": "Городское МО", "kind": "association", "is_open": "y",
                                                          "leaders": [world["author"], world["librarian"]]})
    assert response.status_code == 303
    roles = dict(db.session.execute(select(GroupMember.user_id, GroupMember.role).where(GroupMember.group_id == group)).all())
    assert roles == {world["author"]: MemberRole.LEADER, world["librarian"]: MemberRole.LEADER,
                     world["methodist"]: MemberRole.MEMBER}
    assert db.session.get(Group, group).name == "Городское МО"


def test_a_group_name_is_not_taken_twice(app, world):
    admin = login(app.test_client(), world["admin"])
    response = admin.post("/admin/groups", data={"name": "городское мо школьных библиотекарей", "kind": "other"})
    assert response.status_code == 422
    assert db.session.scalar(select(Group).where(Group.kind == "other")) is None


@pytest.mark.parametrize("persona", ["author", "librarian", "methodist"])
def test_only_administrators_create_groups(app, world, persona):
    client = login(app.test_client(), world[persona])
    assert client.get("/admin/groups").status_code == 404
    assert client.post("/admin/groups", data={"name": "Самозванная группа", "kind": "other"}).status_code == 404
    assert db.session.scalar(select(Group).where(Group.name == "Самозванная группа")) is None


# The thread list -------------------------------------------------------------------------------------


def test_the_thread_list_shows_pinned_first_then_last_activity(app, world):
    group, author = world["open"], world["author"]
    day = datetime(2026, 11, 10, 9, 0)
    old = make_thread(group, author, last_post_at=day - timedelta(days=3), title="Старая тема")
    fresh = make_thread(group, author, last_post_at=day, title="Свежая тема", posts=3)
    pinned_old = make_thread(group, world["methodist"], pinned=True, last_post_at=day - timedelta(days=30), title="План")
    middle = make_thread(group, author, last_post_at=day - timedelta(days=1), title="Вчерашняя тема")
    page = login(app.test_client(), author).get(f"/groups/{group}").text
    assert list(map(int, THREAD_ID.findall(page))) == [pinned_old, fresh, middle, old]
    row = re.search(rf'<tr id="thread-{fresh}".*?</tr>', page, re.S).group(0)
    assert f'href="/threads/{fresh}"' in row and "Свежая тема" in row and "Анна Смирнова" in row
    assert 'data-count="3"' in row and 'datetime="2026-11-10T09:00:00Z"' in row


def test_threads_with_posts_i_have_not_read_are_marked(app, world):
    group, reader = world["open"], world["author"]
    read = make_thread(group, world["methodist"], posts=2)
    unread = make_thread(group, world["methodist"], posts=2)
    never_opened = make_thread(group, world["methodist"])
    mark_read(reader, read)
    mark_read(reader, unread)
    add_post(unread, world["methodist"])
    page = login(app.test_client(), reader).get(f"/groups/{group}").text
    marked = {int(i) for i in re.findall(r'<tr id="thread-(\d+)" class="thread-row unread', page)}
    assert marked == {unread, never_opened}

    mark_read(reader, never_opened, muted=True)  # muted and read: no longer counted; a muted unread one neither
    listed = login(app.test_client(), reader).get("/groups/").text
    card = re.search(rf'<article id="group-{group}".*?</article>', listed, re.S).group(0)
    assert re.search(r'class="unread-threads has-unread" data-count="1"', card)


def test_the_thread_list_is_paginated_with_pinned_threads_first(app, world):
    group = world["open"]
    start = datetime(2026, 10, 1)
    ids = [make_thread(group, world["author"], last_post_at=start + timedelta(hours=n)) for n in range(24)]
    pinned = make_thread(group, world["author"], pinned=True, last_post_at=start - timedelta(days=1))
    client = login(app.test_client(), world["author"])
    first = list(map(int, THREAD_ID.findall(client.get(f"/groups/{group}").text)))
    second = list(map(int, THREAD_ID.findall(client.get(f"/groups/{group}?page=2").text)))
    assert first == [pinned] + ids[::-1][:19]
    assert second == ids[::-1][19:]


def test_the_thread_list_is_a_fragment_for_htmx(app, world):
    make_thread(world["open"], world["author"])
    client = login(app.test_client(), world["author"])
    response = client.get(f"/groups/{world['open']}?page=1", headers=FRAGMENT)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="thread-list"') and "<html" not in response.text
    assert "HX-Request" in response.headers["Vary"]
    assert client.get(f"/groups/{world['closed']}?page=1", headers=FRAGMENT).status_code == 200
    other = login(app.test_client(), world["methodist"])
    assert other.get(f"/groups/{world['closed']}?page=1", headers=FRAGMENT).status_code == 404


# The thread list's poll ----------------------------------------------------------------------------


def test_a_poll_brings_the_list_when_someone_posts(app, world):
    thread = make_thread(world["open"], world["methodist"])
    client = login(app.test_client(), world["author"])
    mark_read(world["author"], thread)
    url = poll_url(client.get(f"/groups/{world['open']}").text)
    assert client.get(url, headers=FRAGMENT).status_code == 204
    post = add_post(thread, world["methodist"])
    response = client.get(url, headers=FRAGMENT)
    assert response.status_code == 200 and response.text.lstrip().startswith('<section id="thread-list"')
    assert f'<tr id="thread-{thread}" class="thread-row unread' in response.text
    assert poll_url(response.text).endswith(f"seen={post}")
    assert client.get(poll_url(response.text), headers=FRAGMENT).status_code == 204


def test_a_new_thread_changes_what_the_poll_sees(app, world):
    client = login(app.test_client(), world["author"])
    url = poll_url(client.get(f"/groups/{world['open']}").text)
    assert url.endswith("seen=0")
    assert client.get(url, headers=FRAGMENT).status_code == 204
    thread = make_thread(world["open"], world["methodist"])
    assert f'id="thread-{thread}"' in client.get(url, headers=FRAGMENT).text


def test_the_poll_of_a_group_one_has_left_is_404(app, world):
    client = login(app.test_client(), world["librarian"])
    url = poll_url(client.get(f"/groups/{world['closed']}").text)
    db.session.delete(db.session.get(GroupMember, (world["closed"], world["librarian"])))
    db.session.commit()
    assert client.get(url, headers=FRAGMENT).status_code == 404


def test_the_poll_interval_comes_from_config(tmp_path):
    from .conftest import make_test_app

    app = make_test_app(tmp_path, GROUP_POLL_SECONDS=7)
    with app.app_context():
        user = factories.make_user()
        group = factories.make_group(members=(user,))
        html = login(app.test_client(), user).get(f"/groups/{group}").text
        db.session.remove()
    assert re.search(r'<section id="thread-list"[^>]*hx-trigger="every 7s"', html)


# Query budgets ------------------------------------------------------------------------------------



def test_two_leaders_editing_the_description_at_once_lose_neither_text(app, world):
    first, second = (login(app.test_client(), person).get(f"/groups/{world['closed']}/edit").text
                     for person in (world["author"], world["admin"]))
    base = editor_base(first)
    assert base == editor_base(second)
    url = f"/groups/{world['closed']}/edit"
    author, admin = login(app.test_client(), world["author"]), login(app.test_client(), world["admin"])
    assert admin.post(url, data={"description": "План администратора", "base": base}).status_code == 303
    refused = author.post(url, data={"description": "План руководителя", "base": base})
    assert refused.status_code == 409
    assert "План руководителя</textarea>" in refused.text  # mine, in the editor
    assert "План администратора</textarea>" in refused.text  # theirs, to take from
    assert db.session.get(Group, world["closed"]).description == "План администратора"
    again = editor_base(refused.text)
    assert author.post(url, data={"description": "Оба плана", "base": again}).status_code == 303
    assert db.session.get(Group, world["closed"]).description == "Оба плана"


def test_the_administrator_s_group_form_never_saves_over_a_description_saved_meanwhile(app, world):
    group = world["open"]
    admin = login(app.test_client(), world["admin"])
    base = editor_base(admin.get(f"/admin/groups/{group}").text)
    leader = login(app.test_client(), world["methodist"])
    assert leader.post(f"/groups/{group}/edit", data={"description": "Описание руководителя", "base": base}).status_code == 303
    sent = {"name": "Городское МО", "kind": "association", "is_open": "y", "leaders": [world["methodist"]],
            "description": "Описание администратора"}
    refused = admin.post(f"/admin/groups/{group}", data={**sent, "base": base})
    assert refused.status_code == 409
    assert "Описание администратора</textarea>" in refused.text and "Описание руководителя</textarea>" in refused.text
    db.session.expire_all()
    assert db.session.get(Group, group).description == "Описание руководителя"
    assert admin.post(f"/admin/groups/{group}", data={**sent, "base": editor_base(refused.text)}).status_code == 303
    db.session.expire_all()
    assert db.session.get(Group, group).description == "Описание администратора"
