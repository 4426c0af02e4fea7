"""What sending does to the person's draft. One draft is kept per person and place (a comment under
an entry, a reply in a thread, a new thread in a group), and every open tab autosaves into it.
Sending clears it only if it holds what that form sent or last saved: another tab's unsent text
stays, and an idle tab, empty or not, never clears it. A refused send keeps the text as the draft,
and the form knows it, so the send that follows clears it."""
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
    # The first tab's form, emptied by the send, still knows what it had saved; idle, it clears nothing.
    idle = client.post(url, data={"body": "", "draft_seen": seen_a}, headers=FRAGMENT)
    assert idle.status_code == 204 and kept(CommentDraft, (people["librarian"], entry)) == "Текст второй вкладки"
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


def test_a_refused_comment_is_kept_and_the_send_after_it_clears_it(client, people):
    entry = factories.make_entry(people["author"], visibility=Visibility.COLLEAGUES)
    login(client, people["librarian"])
    too_long = "Очень длинный комментарий. " * 1000
    refused = client.post(f"/comments/entry/{entry}", data={"body": too_long}, headers=FRAGMENT)
    assert refused.status_code == 422 and kept(CommentDraft, (people["librarian"], entry)) == too_long
    seen = re.search(r'name="draft_seen" value="([0-9a-f]+)"', refused.text).group(1)
    sent = client.post(f"/comments/entry/{entry}", data={"body": "Короче", "draft_seen": seen}, headers=FRAGMENT)
    assert sent.status_code == 201 and kept(CommentDraft, (people["librarian"], entry)) is None


def test_a_refused_reply_is_kept_and_the_send_after_it_clears_it(client, people):
    group = factories.make_group(members=(people["author"],))
    thread = factories.make_thread(group, people["author"])
    login(client, people["author"])
    too_long = "Очень длинный ответ. " * 3000
    refused = client.post(f"/threads/{thread}/posts", data={"body": too_long, "after": "0"}, headers=FRAGMENT)
    assert refused.status_code == 422 and kept(PostDraft, (people["author"], thread)) == too_long
    seen = re.search(r'name="draft_seen" value="([0-9a-f]+)"', refused.text).group(1)
    client.post(f"/threads/{thread}/posts", data={"body": "Короче", "draft_seen": seen})
    assert kept(PostDraft, (people["author"], thread)) is None


def test_the_methodist_s_answer_clears_the_draft_it_was_typed_as(client, people):
    """The answer is sent stripped; the draft holds it as typed, blank lines and all."""
    entry = factories.make_entry(people["author"], title="Запись для ответа")
    login(client, people["methodist"])
    client.post(f"/comments/entry/{entry}/draft", data={"feedback-body": "Хорошая запись.\n\n"}, headers=FRAGMENT)
    client.post(f"/mentoring/awaiting/{entry}", data={"feedback-body": "Хорошая запись.\n\n", "feedback-status": "comment"})
    assert kept(CommentDraft, (people["methodist"], entry)) is None


def test_an_autosave_that_arrives_after_the_thread_was_started_keeps_nothing(client, people):
    group = factories.make_group(members=(people["author"],))
    login(client, people["author"])
    started = client.post("/threads/", data={"group_id": group, "title": "Тема", "body": "Первое сообщение"})
    assert started.status_code == 303
    late = new_thread_autosave(client, group, "Тема", "Первое сообщение")
    assert late.status_code == 204 and kept(ThreadDraft, (people["author"], group)) is None
