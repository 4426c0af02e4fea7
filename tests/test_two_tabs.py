"""One person, two tabs typing in the same place (a comment under an entry, a reply in a thread,
a new thread in a group): one draft is kept per person and place. Sending from one tab clears the
draft only if it holds what that tab sent or last saved; an idle tab, empty or not, never clears
what the other saved. Otherwise the other tab's unsent text would be gone at its next reload."""
from __future__ import annotations

import re

from webapp.extensions import db
from webapp.groups.models import PostDraft, ThreadDraft
from webapp.mentoring.models import CommentDraft
from webapp.models import Visibility

from . import factories
from .conftest import FRAGMENT, login


def seen_after(saved) -> str:
    """What an autosave's answer hands its form as draft_seen (out of band)."""
    assert saved.status_code == 200, saved.status_code
    return re.search(r'name="draft_seen" value="([0-9a-f]+)"[^>]*hx-swap-oob', saved.text).group(1)


def kept(model, key) -> str | None:
    db.session.expire_all()
    draft = db.session.get(model, key)
    return None if draft is None else draft.body


def test_a_comment_sent_in_one_tab_leaves_the_other_tab_s_draft(client, people):
    entry = factories.make_entry(people["author"], visibility=Visibility.COLLEAGUES)
    login(client, people["librarian"])
    url = f"/comments/entry/{entry}/draft"
    seen_a = seen_after(client.post(url, data={"body": "Текст первой вкладки"}, headers=FRAGMENT))
    seen_b = seen_after(client.post(url, data={"body": "Текст второй вкладки"}, headers=FRAGMENT))

    sent = client.post(f"/comments/entry/{entry}", data={"body": "Текст первой вкладки, дописан", "draft_seen": seen_a},
                       headers=FRAGMENT)
    assert sent.status_code == 201
    assert kept(CommentDraft, (people["librarian"], entry)) == "Текст второй вкладки"
    # Reopened, the entry brings the second tab's text back; sent from there, it goes.
    assert "Текст второй вкладки</textarea>" in client.get(f"/journal/{entry}").text
    client.post(f"/comments/entry/{entry}", data={"body": "Текст второй вкладки", "draft_seen": seen_b}, headers=FRAGMENT)
    assert kept(CommentDraft, (people["librarian"], entry)) is None


def test_a_reply_sent_in_one_tab_leaves_the_other_tab_s_draft(client, people):
    group = factories.make_group(members=(people["author"],))
    thread = factories.make_thread(group, people["author"])
    login(client, people["author"])
    url = f"/threads/{thread}/draft"
    seen_a = seen_after(client.post(url, data={"body": "Ответ из первой вкладки"}, headers=FRAGMENT))
    client.post(url, data={"body": "Ответ из второй вкладки"}, headers=FRAGMENT)

    sent = client.post(f"/threads/{thread}/posts", data={"body": "Ответ из первой вкладки", "draft_seen": seen_a})
    assert sent.status_code == 303
    assert kept(PostDraft, (people["author"], thread)) == "Ответ из второй вкладки"


NEW_THREAD_DRAFT = "/threads/new/draft"


def new_thread_autosave(client, group: int, title: str, body: str, seen: str | None = None):
    data = {"group_id": group, "title": title, "body": body}
    if seen is not None:
        data["draft_seen"] = seen
    return client.post(NEW_THREAD_DRAFT, data=data, headers=FRAGMENT)


def test_a_new_thread_s_draft_survives_an_idle_empty_tab_and_the_other_tab_s_send(client, people):
    group = factories.make_group(members=(people["author"],))
    login(client, people["author"])
    seen_a = seen_after(new_thread_autosave(client, group, "Тема А", "Первая вкладка"))
    # A tab opened on the empty form before, idle: its autosave every 30 s sends nothing typed.
    idle = new_thread_autosave(client, group, "", "", seen="")
    assert idle.status_code == 204 and kept(ThreadDraft, (people["author"], group)) == "Первая вкладка"
    # The same tab again, with nothing new since it saved: nothing changes either.
    assert new_thread_autosave(client, group, "Тема А", "Первая вкладка", seen=seen_a).status_code == 204

    new_thread_autosave(client, group, "Тема Б", "Вторая вкладка")
    started = client.post("/threads/", data={"group_id": group, "title": "Тема А", "body": "Первая вкладка",
                                             "draft_seen": seen_a})
    assert started.status_code == 303
    assert kept(ThreadDraft, (people["author"], group)) == "Вторая вкладка"


def test_emptying_the_form_that_saved_a_new_thread_clears_its_draft(client, people):
    group = factories.make_group(members=(people["author"],))
    login(client, people["author"])
    seen = seen_after(new_thread_autosave(client, group, "Тема", "Текст"))
    cleared = new_thread_autosave(client, group, "", "", seen=seen)
    assert cleared.status_code == 200 and kept(ThreadDraft, (people["author"], group)) is None
