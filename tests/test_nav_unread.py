"""The navigation's «Группы» item: how many threads in my groups have posts I have not read,
refreshing itself by polling with the count it shows."""
from __future__ import annotations

import itertools
import re
from html import unescape

import pytest
from sqlalchemy import select, update

from webapp.extensions import db
from webapp.groups import queries as groups_queries
from webapp.groups.models import Group, Post, Thread, ThreadState
from webapp.mentoring.models import NotificationKind
from webapp.threads import queries as threads

from . import factories
from .conftest import FRAGMENT, counted_queries, login

POLL = "/groups/unread"


def thread_with_posts(group_id: int, author_id: int, count: int = 2) -> list[int]:
    """A thread and its posts, written as the threads feature writes them; returns the post ids."""
    thread = factories.make_thread(group_id, author_id)
    first = db.session.get(Thread, thread).last_post_id
    return [first, *factories.make_posts(thread, author_id, count - 1)] if count > 1 else [first]


_numbers = itertools.count(1)


def add_post(thread_id: int, author_id: int) -> int:
    # Each says something new: the same words again would be taken for a post sent twice.
    post, _ = threads.add_reply(db.session.get(Thread, thread_id), author_id, f"Сообщение {next(_numbers)}", None)
    db.session.commit()
    return post.id


def read_up_to(user_id: int, post_id: int, *, muted: bool = False) -> None:
    thread_id = db.session.get(Post, post_id).thread_id
    threads.mark_read_up_to(user_id, thread_id, post_id)
    if muted:
        threads.set_muted(user_id, thread_id, True)
    db.session.commit()


def nav_item(html: str) -> str:
    return re.search(r'<li id="nav-groups".*?</li>', html, re.S).group(0)


def shown_count(html: str) -> int:
    found = re.search(r'data-count="(\d+)"', nav_item(html))
    return int(found.group(1)) if found else 0


def badge(html: str) -> int:
    """The count the notification badge shows."""
    found = re.search(r'<li id="notification-badge".*?data-count="(\d+)".*?</li>', html, re.S)
    return int(found.group(1)) if found else 0


def poll_url(html: str) -> str:
    """The URL the item polls, with what it shows."""
    return unescape(re.search(r'hx-get="([^"]+)"', nav_item(html)).group(1))


class OpenPage:
    """A page someone keeps open, its groups item following its poll as htmx would."""

    def __init__(self, client, path: str = "/journal/") -> None:
        self.client, self.html = client, client.get(path).text

    @property
    def count(self) -> int:
        return shown_count(self.html)

    def poll(self) -> int | None:
        """None: 204, nothing moved. Else the item drawn again (it replaces the old one): its count."""
        response = self.client.get(poll_url(self.html), headers=FRAGMENT)
        if response.status_code == 204:
            return None
        assert response.status_code == 200
        assert response.text.lstrip().startswith('<li id="nav-groups"') and "<html" not in response.text
        self.html = response.text
        return self.count


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
        page = client.get("/notifications/").text
        assert shown_count(page) == 0, persona
        assert client.get(poll_url(page), headers=FRAGMENT).status_code == 204, persona
    login(client, people["author"])
    page = client.get("/notifications/").text
    assert shown_count(page) == 1
    # Removed from the closed group: its threads stop counting at once, on the page and in the poll.
    groups_queries.remove_member(groups["closed"], people["author"])
    db.session.commit()
    changed = client.get(poll_url(page), headers=FRAGMENT)
    assert changed.status_code == 200 and "data-count" not in changed.text
    assert shown_count(client.get("/notifications/").text) == 0


def test_read_marks_left_behind_in_a_group_i_left_change_nothing(client, people, groups):
    """What I read or muted in a group I have left must not lower the count of my other groups."""
    unread = thread_with_posts(groups["open"], people["librarian"], 2)
    left_read = thread_with_posts(groups["closed"], people["librarian"], 2)
    left_muted = thread_with_posts(groups["closed"], people["librarian"], 1)
    read_up_to(people["author"], left_read[-1])
    read_up_to(people["author"], left_muted[0], muted=True)
    empty = factories.make_thread(groups["open"], people["librarian"], body=None)
    db.session.add(ThreadState(user_id=people["author"], thread_id=empty, last_read_post_id=0))
    groups_queries.remove_member(groups["closed"], people["author"])
    db.session.commit()
    page = OpenPage(login(client, people["author"]))
    assert page.count == 1  # the open group's thread; a thread with no posts never counts
    assert page.poll() is None
    read_up_to(people["author"], unread[0])
    assert page.poll() == 1  # still one post unread
    read_up_to(people["author"], unread[-1])
    assert page.poll() == 0 and page.poll() is None


def test_every_change_to_the_count_reaches_the_poll(client, people, groups):
    """Each write the count depends on answers the next poll with the item counted anew; a write
    it does not depend on leaves the poll at 204. Writes go through the app's own functions."""
    page = OpenPage(login(client, people["author"]))
    assert page.count == 0

    def next_poll(expected_count: int | None) -> None:
        assert page.poll() == expected_count
        assert page.poll() is None  # and then nothing new

    posts = thread_with_posts(groups["open"], people["librarian"], 1)  # a new thread in my group
    next_poll(1)
    thread_with_posts(groups["other"], people["librarian"], 3)  # in a group I am not in
    next_poll(None)
    add_post(db.session.get(Post, posts[0]).thread_id, people["librarian"])  # a reply where I had unread posts
    next_poll(1)
    read_up_to(people["author"], posts[0])  # I read part of it
    next_poll(1)
    second = thread_with_posts(groups["closed"], people["librarian"], 1)
    next_poll(2)
    read_up_to(people["author"], second[0], muted=False)
    next_poll(1)
    threads.set_muted(people["author"], db.session.get(Post, posts[0]).thread_id, True)
    db.session.commit()
    next_poll(0)
    groups_queries.add_member(groups["other"], people["author"])  # joining a group with an unread thread
    db.session.commit()
    next_poll(1)
    groups_queries.remove_member(groups["other"], people["author"])
    db.session.commit()
    next_poll(0)
    read_up_to(people["author"], second[0])  # reading again what I had read moves nothing
    next_poll(None)


def test_what_people_do_on_the_pages_reaches_the_poll(app, people, groups):
    """The same walk through the app's routes: a colleague starts a thread and replies; I read it,
    mute it, join and leave a group. The factories are not involved after the start."""
    me, colleague = login(app.test_client(), people["author"]), login(app.test_client(), people["librarian"])
    page = OpenPage(me)
    assert page.count == 0
    poll = page.poll

    started = colleague.post("/threads/", data={"group_id": groups["open"], "title": "Неделя книги",
                                                 "body": "Кто что готовит?"})
    assert started.status_code == 303
    thread = db.session.scalar(select(Thread.id).where(Thread.group_id == groups["open"]))
    assert poll() == 1 and poll() is None
    assert colleague.post(f"/threads/{thread}/posts", data={"body": "Я — выставку."}).status_code == 303
    assert poll() == 1  # one thread still, counted again
    assert me.get(f"/threads/{thread}?page=1").status_code == 200  # read to the end
    assert poll() == 0 and poll() is None
    colleague.post(f"/threads/{thread}/posts", data={"body": "И викторину."})
    assert poll() == 1
    assert me.post(f"/threads/{thread}/mute", data={"on": "1"}).status_code == 303
    assert poll() == 0
    factories.make_thread(groups["other"], people["librarian"])
    assert poll() is None  # not my group
    assert me.post(f"/groups/{groups['other']}/join").status_code == 303
    assert poll() == 1
    assert me.post(f"/groups/{groups['other']}/leave").status_code == 303
    assert poll() == 0


def test_joining_and_leaving_reach_the_poll_when_no_group_moved(client, people, groups):
    """Threads written before the versions existed leave every group at version 0, as right after the
    upgrade that added them: then only the person's own version tells a membership changed."""
    thread_with_posts(groups["other"], people["librarian"], 2)
    db.session.execute(update(Group).values(posts_version=0))
    db.session.commit()
    page = OpenPage(login(client, people["author"]))
    assert page.count == 0
    groups_queries.add_member(groups["other"], people["author"])
    db.session.commit()
    assert page.poll() == 1
    groups_queries.remove_member(groups["other"], people["author"])
    db.session.commit()
    assert page.poll() == 0


def test_the_page_and_its_poll_agree_when_nothing_moved(client, people, groups):
    thread_with_posts(groups["open"], people["librarian"], 2)
    login(client, people["author"])
    page = client.get("/journal/").text
    assert client.get(poll_url(page), headers=FRAGMENT).status_code == 204
    assert poll_url(client.get("/groups/").text) == poll_url(page)  # another page, the same versions


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
        assert re.fullmatch(rf"{POLL}\?shown=\d+\.\d+", poll_url(page)), persona
        assert 'hx-trigger="every 12s"' in item and 'hx-swap="outerHTML"' in item
    assert shown_count(page) == 0  # the administrator is in no group
    login(client, people["author"])
    assert shown_count(client.get("/journal/").text) == 1


def test_the_poll_interval_falls_back_to_the_notifications(app, client, people):
    app.config.pop("GROUP_POLL_SECONDS", None)
    app.config["NOTIFICATION_POLL_SECONDS"] = 9
    login(client, people["author"])
    assert 'hx-trigger="every 9s"' in nav_item(client.get("/journal/").text)


def test_a_changed_count_returns_the_item_alone(client, people, groups):
    login(client, people["author"])
    page = client.get("/journal/").text
    assert client.get(poll_url(page), headers=FRAGMENT).status_code == 204
    thread_with_posts(groups["open"], people["librarian"], 1)
    response = client.get(poll_url(page), headers=FRAGMENT)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<li id="nav-groups"') and "<html" not in response.text
    assert 'data-count="1"' in response.text and poll_url(response.text) != poll_url(page)
    assert response.headers["Cache-Control"] == "no-store"


def test_a_poll_without_usable_versions_gets_the_item(client, people):
    login(client, people["author"])
    shown = poll_url(client.get("/journal/").text).partition("?shown=")[2]
    for query in ("", "?shown=", "?shown=-1", "?shown=abc", "?shown=²", "?shown=0", "?shown=" + "9" * 5000,
                  f"?shown={shown}.0", f"?shown= {shown}"):
        response = client.get(f"{POLL}{query}", headers=FRAGMENT)
        assert response.status_code == 200, query
        assert f"shown={shown}" in response.text and "data-count" not in response.text


def test_a_poll_after_sign_out_never_navigates_away(client):
    response = client.get(f"{POLL}?shown=1.1", headers=FRAGMENT)
    assert response.status_code == 204 and "HX-Redirect" not in response.headers
    assert client.get(f"{POLL}?shown=1.1").status_code == 302


def test_signed_out_visitors_see_no_groups_item(client):
    assert "nav-groups" not in client.get("/login").text


def test_the_counts_kept_per_process_are_bounded_and_forget_the_oldest():
    from webapp.groups.nav import _Counted

    counted = _Counted(size=2)
    counted.put(1, (1, 1, 5))
    counted.put(2, (1, 1, 6))
    assert counted.get(1) == (1, 1, 5)  # now the latest used
    counted.put(3, (2, 2, 7))
    assert (counted.get(1), counted.get(2), counted.get(3)) == ((1, 1, 5), None, (2, 2, 7))


def test_the_header_counts_both_in_one_statement_each_right_when_only_the_other_moved(client, people, groups):
    """The groups item and the notification badge are read together (webapp.groups.nav.header_counts):
    a new notification shows while the groups' versions stand still (their count then is the one
    this process kept), and a new post shows while the notifications stand still."""
    thread_with_posts(groups["open"], people["librarian"], 1)
    login(client, people["author"])

    page = client.get("/journal/").text
    assert (shown_count(page), badge(page)) == (1, 0)
    factories.make_notification(people["author"], NotificationKind.ENTRY_SHARED, actor_id=people["librarian"],
                                entry_id=factories.make_entry(people["librarian"]))
    with counted_queries() as statements:
        page = client.get("/account").text
    assert (shown_count(page), badge(page)) == (1, 1)
    # … in the statement that loads the person (webapp.groups.nav.person_with_header)
    assert sum("notifications" in s and "group_members" in s and "session_token" in s for s in statements) == 1, (
        statements)
    assert not any("notifications" in s and "group_members" not in s for s in statements), statements
    thread_with_posts(groups["open"], people["librarian"], 1)
    page = client.get("/account").text
    assert (shown_count(page), badge(page)) == (2, 1)


def test_a_page_that_marks_something_read_shows_the_counts_after_it(client, people, groups):
    """The header's counts come with the person (webapp.groups.nav.person_with_header), before the
    view runs; a page that marks something read on opening shows them as they are after it: the
    entry's notification read, the thread read to its end."""
    (post,) = thread_with_posts(groups["open"], people["librarian"], 1)
    entry = factories.make_entry(people["author"])
    factories.make_notification(people["author"], NotificationKind.ENTRY_COMMENT, actor_id=people["methodist"],
                                entry_id=entry, comment_id=factories.make_comment(entry, people["methodist"]))
    login(client, people["author"])

    page = client.get("/journal/").text
    assert (shown_count(page), badge(page)) == (1, 1)
    page = client.get(f"/journal/{entry}").text
    assert badge(page) == 0 and shown_count(page) == 1
    page = client.get(f"/threads/{db.session.get(Post, post).thread_id}?page=1").text
    assert (shown_count(page), badge(page)) == (0, 0)
