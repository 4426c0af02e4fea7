"""The navigation's «Группы» item: how many threads in my groups have posts I have not read,
refreshing itself by polling with the count it shows."""
from __future__ import annotations

import re

import pytest

from webapp.extensions import db
from webapp.groups.models import GroupMember, Post, Thread, ThreadState

from . import factories
from .conftest import FRAGMENT, login

POLL = "/groups/unread"


def thread_with_posts(group_id: int, author_id: int, count: int = 2) -> list[int]:
    """A thread and its posts, counters kept as the threads feature keeps them; returns the post ids."""
    thread = Thread(group_id=group_id, author_id=author_id, title="Тема", post_count=0)
    db.session.add(thread)
    db.session.flush()
    ids = [add_post(thread.id, author_id) for _ in range(count)]
    db.session.commit()
    return ids


def add_post(thread_id: int, author_id: int) -> int:
    thread = db.session.get(Thread, thread_id)
    post = Post(thread_id=thread_id, author_id=author_id, body="Сообщение")
    db.session.add(post)
    db.session.flush()
    thread.post_count += 1
    thread.last_post_id, thread.last_post_at = post.id, post.created_at
    db.session.commit()
    return post.id


def read_up_to(user_id: int, post_id: int, *, muted: bool = False) -> None:
    thread_id = db.session.get(Post, post_id).thread_id
    state = db.session.get(ThreadState, (user_id, thread_id)) or ThreadState(user_id=user_id, thread_id=thread_id)
    state.last_read_post_id, state.muted = post_id, muted
    db.session.add(state)
    db.session.commit()


def nav_item(html: str) -> str:
    return re.search(r'<li id="nav-groups".*?</li>', html, re.S).group(0)


def shown_count(html: str) -> int:
    found = re.search(r'data-count="(\d+)"', nav_item(html))
    return int(found.group(1)) if found else 0


@pytest.fixture
def groups(people):
    """The author belongs to an open and a closed group; an open group of others she never joined."""
    return {
        "open": factories.make_group("ГМО", leaders=(people["methodist"],), members=(people["author"], people["librarian"])),
        "closed": factories.make_group("Творческая группа", is_open=False, members=(people["author"], people["librarian"])),
        "other": factories.make_group("Проектная группа", members=(people["librarian"],)),
    }


def test_the_count_is_threads_with_posts_i_have_not_read(client, people, groups):
    unread_a = thread_with_posts(groups["open"], people["librarian"], 3)
    partly = thread_with_posts(groups["open"], people["librarian"], 3)
    read = thread_with_posts(groups["closed"], people["librarian"], 2)
    thread_with_posts(groups["closed"], people["librarian"], 1)
    thread_with_posts(groups["other"], people["librarian"], 4)  # open, but not her group: not counted
    read_up_to(people["author"], partly[1])
    read_up_to(people["author"], read[-1])
    login(client, people["author"])
    assert shown_count(client.get("/journal/").text) == 3  # unread_a, partly, the closed group's second
    read_up_to(people["author"], unread_a[-1])
    assert shown_count(client.get("/journal/").text) == 2
    add_post(db.session.get(Post, read[0]).thread_id, people["librarian"])  # a new post in a thread she had read
    assert shown_count(client.get("/journal/").text) == 3


def test_a_muted_thread_does_not_count(client, people, groups):
    posts = thread_with_posts(groups["open"], people["librarian"], 2)
    read_up_to(people["author"], posts[0], muted=True)
    login(client, people["author"])
    assert shown_count(client.get("/journal/").text) == 0


def test_closed_group_threads_do_not_count_for_non_members(client, people, groups):
    thread_with_posts(groups["closed"], people["librarian"], 2)
    for persona in ("methodist", "other_methodist", "admin"):
        login(client, people[persona])
        assert shown_count(client.get("/notifications/").text) == 0, persona
        assert client.get(f"{POLL}?shown=0", headers=FRAGMENT).status_code == 204, persona
    login(client, people["author"])
    assert shown_count(client.get("/notifications/").text) == 1
    # Removed from the closed group: its threads stop counting at once, on the page and in the poll.
    db.session.delete(db.session.get(GroupMember, (groups["closed"], people["author"])))
    db.session.commit()
    assert shown_count(client.get("/notifications/").text) == 0
    assert client.get(f"{POLL}?shown=0", headers=FRAGMENT).status_code == 204


def test_read_marks_left_behind_in_a_group_i_left_change_nothing(client, people, groups):
    """What I read or muted in a group I have left must not lower the count of my other groups."""
    unread = thread_with_posts(groups["open"], people["librarian"], 2)
    left_read = thread_with_posts(groups["closed"], people["librarian"], 2)
    left_muted = thread_with_posts(groups["closed"], people["librarian"], 1)
    read_up_to(people["author"], left_read[-1])
    read_up_to(people["author"], left_muted[0], muted=True)
    empty = Thread(group_id=groups["open"], author_id=people["librarian"], title="Пустая тема", post_count=0)
    db.session.add(empty)
    db.session.commit()
    db.session.add(ThreadState(user_id=people["author"], thread_id=empty.id, last_read_post_id=0))
    db.session.delete(db.session.get(GroupMember, (groups["closed"], people["author"])))
    db.session.commit()
    login(client, people["author"])
    assert shown_count(client.get("/journal/").text) == 1  # the open group's thread; a thread with no posts never counts
    assert client.get(f"{POLL}?shown=1", headers=FRAGMENT).status_code == 204
    read_up_to(people["author"], unread[0])
    assert client.get(f"{POLL}?shown=1", headers=FRAGMENT).status_code == 204  # still one post unread
    read_up_to(people["author"], unread[-1])
    assert client.get(f"{POLL}?shown=0", headers=FRAGMENT).status_code == 204


def test_one_groups_item_in_the_nav_that_polls(app, client, people, groups):
    thread_with_posts(groups["open"], people["librarian"], 1)
    app.config["GROUP_POLL_SECONDS"] = 12
    for persona in ("author", "methodist", "admin"):
        login(client, people[persona])
        page = client.get("/journal/" if persona != "admin" else "/admin/").text
        nav = re.search(r"<nav.*?</nav>", page, re.S).group(0)
        assert nav.count('href="/groups/"') == 1, persona  # one «Группы» item, not two
        item = nav_item(page)
        assert 'href="/groups/"' in item
        assert f'hx-get="{POLL}?shown={shown_count(page)}"' in item
        assert 'hx-trigger="every 12s"' in item and 'hx-swap="outerHTML"' in item
    assert shown_count(page) == 0  # the administrator is in no group
    login(client, people["author"])
    page = client.get("/journal/").text
    assert shown_count(page) == 1 and f'hx-get="{POLL}?shown=1"' in nav_item(page)


def test_the_poll_interval_falls_back_to_the_notifications(app, client, people):
    app.config.pop("GROUP_POLL_SECONDS", None)
    app.config["NOTIFICATION_POLL_SECONDS"] = 9
    login(client, people["author"])
    assert 'hx-trigger="every 9s"' in nav_item(client.get("/journal/").text)


def test_a_changed_count_returns_the_item_alone(client, people, groups):
    login(client, people["author"])
    assert client.get(f"{POLL}?shown=0", headers=FRAGMENT).status_code == 204
    thread_with_posts(groups["open"], people["librarian"], 1)
    response = client.get(f"{POLL}?shown=0", headers=FRAGMENT)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<li id="nav-groups"') and "<html" not in response.text
    assert 'data-count="1"' in response.text and "shown=1" in response.text
    assert response.headers["Cache-Control"] == "no-store"


def test_a_poll_without_a_usable_count_gets_the_item(client, people):
    login(client, people["author"])
    for query in ("", "?shown=", "?shown=-1", "?shown=abc", "?shown=²", "?shown=" + "9" * 5000):
        response = client.get(f"{POLL}{query}", headers=FRAGMENT)
        assert response.status_code == 200, query
        assert "shown=0" in response.text and "data-count" not in response.text


def test_a_poll_after_sign_out_never_navigates_away(client):
    response = client.get(f"{POLL}?shown=1", headers=FRAGMENT)
    assert response.status_code == 204 and "HX-Redirect" not in response.headers
    assert client.get(f"{POLL}?shown=1").status_code == 302


def test_signed_out_visitors_see_no_groups_item(client):
    assert "nav-groups" not in client.get("/login").text
