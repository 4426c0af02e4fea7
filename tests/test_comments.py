"""Comments under an entry: exactly the entry's audience, live list with a cheap poll, own
edits and deletes, sanitised Markdown, and the text being typed is never lost."""
from __future__ import annotations

import dataclasses
import re
import time
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import func, select, update

from webapp.comments.forms import COMMENT_LIMIT
from webapp.extensions import db
from webapp.mentoring.models import Comment, CommentDraft, Notification, NotificationKind
from webapp.models import JournalEntry, User, Visibility, mentorships

from . import factories
from .conftest import FRAGMENT, csrf_token_from, editor_base, hidden_fields, login

COMMENT_ID = re.compile(r'<article id="comment-(\d+)"')


def comment_ids(html: str) -> list[int]:
    return [int(i) for i in COMMENT_ID.findall(html)]


def poller_after(html: str) -> int:
    match = re.search(r'<input type="hidden" id="comment-end-(\d+)" class="comment-after" name="after" value="\1">', html)
    assert match, "no newest id in the response"
    return int(match.group(1))


def form_text(html: str, field_id: str = "comment-body") -> str:
    match = re.search(rf'<textarea[^>]*id="{field_id}"[^>]*>(.*?)</textarea>', html, re.S)
    assert match, f"no textarea #{field_id}"
    return unescape(match.group(1)).lstrip("\r\n")


def article(html: str, comment_id: int) -> str:
    match = re.search(rf'<article id="comment-{comment_id}".*?</article>', html, re.S)
    assert match, f"comment {comment_id} not shown"
    return match.group(0)


def comment_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Comment))


@pytest.fixture
def mentors_entry(people):
    return factories.make_entry(people["author"], visibility=Visibility.MENTORS, title="Неделя чтения")


@pytest.fixture
def colleagues_entry(people):
    return factories.make_entry(people["author"], visibility=Visibility.COLLEAGUES, title="Для коллег")


def post_comment(client, entry_id, body, htmx=True, after=None, seen=None):
    data = {"body": body}
    if after is not None:
        data["after"] = str(after)
    if seen is not None:
        data["draft_seen"] = seen  # what the form last saved as a draft
    return client.post(f"/comments/entry/{entry_id}", data=data, headers=FRAGMENT if htmx else None)


def set_visibility(entry_id: int, visibility: Visibility) -> None:
    db.session.get(JournalEntry, entry_id).visibility = visibility
    db.session.commit()


# Audience ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["author", "methodist", "librarian", "other_methodist", "admin"])
def test_everyone_who_sees_a_colleagues_entry_may_comment(client, people, colleagues_entry, persona):
    login(client, people[persona])
    response = post_comment(client, colleagues_entry, f"Комментарий от {persona}", htmx=False)
    assert response.status_code == 303
    comment = db.session.scalar(select(Comment))
    assert response.location == f"/journal/{colleagues_entry}#comment-{comment.id}"
    assert f"Комментарий от {persona}" in client.get(f"/journal/{colleagues_entry}").text


@pytest.mark.parametrize("persona", ["author", "methodist"])
def test_the_author_and_their_methodist_comment_on_a_mentors_entry(client, people, mentors_entry, persona):
    login(client, people[persona])
    assert post_comment(client, mentors_entry, "Спасибо!").status_code == 201
    assert comment_count() == 1


@pytest.mark.parametrize("persona", ["librarian", "other_methodist", "admin"])
def test_outside_a_mentors_entry_everything_is_404(client, people, mentors_entry, persona):
    mine = factories.make_comment(mentors_entry, people["methodist"], body="Методист пишет")
    login(client, people[persona])
    for url in (f"/comments/entry/{mentors_entry}", f"/comments/entry/{mentors_entry}?after=0",
                f"/comments/{mine}", f"/comments/{mine}/edit", f"/comments/{mine}/delete"):
        assert client.get(url).status_code == 404, url
        assert client.get(url, headers=FRAGMENT).status_code == 404, url
    assert post_comment(client, mentors_entry, "Чужой комментарий").status_code == 404
    assert client.post(f"/comments/entry/{mentors_entry}/draft", data={"body": "черновик"}).status_code == 404
    assert client.post(f"/comments/{mine}", data={"body": "подмена"}).status_code == 404
    assert client.post(f"/comments/{mine}/delete").status_code == 404
    assert comment_count() == 1
    assert db.session.scalar(select(CommentDraft)) is None


def test_an_entry_turned_private_hides_its_comments_from_all_but_the_author(client, people, mentors_entry):
    own = factories.make_comment(mentors_entry, people["methodist"], body="Мой отзыв")
    methodist = login(client, people["methodist"])
    assert methodist.get(f"/comments/entry/{mentors_entry}?after=0", headers=FRAGMENT).status_code == 200
    set_visibility(mentors_entry, Visibility.PRIVATE)

    assert methodist.get(f"/comments/entry/{mentors_entry}?after=0", headers=FRAGMENT).status_code == 404
    assert methodist.get(f"/comments/entry/{mentors_entry}?after={own}", headers=FRAGMENT).status_code == 404
    assert post_comment(methodist, mentors_entry, "Ещё один").status_code == 404
    assert methodist.get(f"/comments/{own}").status_code == 404
    assert methodist.get(f"/comments/{own}/edit").status_code == 404  # even one's own comment
    assert methodist.post(f"/comments/{own}", data={"body": "правка"}).status_code == 404
    assert methodist.post(f"/comments/{own}/delete").status_code == 404
    assert comment_count() == 1

    author = login(client, people["author"])
    assert "Мой отзыв" in author.get(f"/comments/entry/{mentors_entry}?after=0", headers=FRAGMENT).text
    assert post_comment(author, mentors_entry, "Заметка себе").status_code == 201


# Edit and delete -----------------------------------------------------------------------------------


def test_only_ones_own_comment_can_be_edited_or_deleted(client, people, colleagues_entry):
    theirs = factories.make_comment(colleagues_entry, people["methodist"], body="Отзыв методиста")
    login(client, people["author"])  # the entry's author, but not the comment's
    assert client.get(f"/comments/{theirs}/edit").status_code == 404
    assert client.post(f"/comments/{theirs}", data={"body": "подмена"}).status_code == 404
    assert client.get(f"/comments/{theirs}/delete").status_code == 404
    assert client.post(f"/comments/{theirs}/delete").status_code == 404
    assert db.session.get(Comment, theirs).body == "Отзыв методиста"
    page = client.get(f"/journal/{colleagues_entry}").text
    assert f"/comments/{theirs}/edit" not in page and f"/comments/{theirs}/delete" not in page


def test_inline_edit_marks_the_comment_as_edited(client, people, colleagues_entry):
    own = factories.make_comment(colleagues_entry, people["librarian"], body="Первый вариант")
    login(client, people["librarian"])
    page = client.get(f"/journal/{colleagues_entry}").text
    assert "comment-edited" not in article(page, own)
    assert f'href="/comments/{own}/edit"' in article(page, own)

    editor = client.get(f"/comments/{own}/edit", headers=FRAGMENT)
    assert editor.status_code == 200 and "<html" not in editor.text
    assert form_text(editor.text, f"comment-{own}-body") == "Первый вариант"

    unchanged = client.post(f"/comments/{own}", data={"body": "Первый вариант"}, headers=FRAGMENT)
    assert unchanged.status_code == 200 and "comment-edited" not in unchanged.text

    saved = client.post(f"/comments/{own}", data={"body": "Второй вариант"}, headers=FRAGMENT)
    assert saved.status_code == 200
    assert "Второй вариант" in article(saved.text, own) and "comment-edited" in article(saved.text, own)
    assert db.session.get(Comment, own).edited_at is not None
    assert "comment-edited" in article(client.get(f"/journal/{colleagues_entry}").text, own)

    cancelled = client.get(f"/comments/{own}", headers=FRAGMENT)
    assert cancelled.status_code == 200 and "<html" not in cancelled.text and "Второй вариант" in cancelled.text


def test_edit_without_javascript(client, people, colleagues_entry):
    own = factories.make_comment(colleagues_entry, people["librarian"], body="Было")
    login(client, people["librarian"])
    page = client.get(f"/comments/{own}/edit")
    assert page.text.lstrip().startswith("<!doctype html>")
    response = client.post(f"/comments/{own}", data={"body": "Стало"})
    assert response.status_code == 303
    assert response.location == f"/journal/{colleagues_entry}#comment-{own}"
    assert db.session.get(Comment, own).body == "Стало"


def test_an_invalid_edit_is_422_and_keeps_the_text(client, people, colleagues_entry):
    own = factories.make_comment(colleagues_entry, people["librarian"], body="Было")
    login(client, people["librarian"])
    too_long = "ж" * (COMMENT_LIMIT + 1)
    response = client.post(f"/comments/{own}", data={"body": too_long}, headers=FRAGMENT)
    assert response.status_code == 422
    assert form_text(response.text, f"comment-{own}-body") == too_long
    assert db.session.get(Comment, own).body == "Было"


def test_delete_with_confirmation_page_and_with_htmx(client, people, colleagues_entry):
    first = factories.make_comment(colleagues_entry, people["librarian"], body="Первый **жирный**")
    second = factories.make_comment(colleagues_entry, people["librarian"], body="Второй")
    login(client, people["librarian"])
    page = client.get(f"/journal/{colleagues_entry}").text
    assert "hx-confirm=" in article(page, first)

    confirm = client.get(f"/comments/{first}/delete")
    assert confirm.status_code == 200 and "<strong>жирный</strong>" in confirm.text
    assert f'action="/comments/{first}/delete"' in confirm.text
    plain = client.post(f"/comments/{first}/delete")
    assert plain.status_code == 303 and plain.location == f"/journal/{colleagues_entry}#comments"

    swapped = client.post(f"/comments/{second}/delete", headers=FRAGMENT)
    assert swapped.status_code == 200
    assert f'id="comment-{second}"' in swapped.text and "<html" not in swapped.text
    assert comment_count() == 0


# Markers and Markdown ------------------------------------------------------------------------------


def test_the_methodists_and_the_authors_comments_are_marked(client, people, colleagues_entry):
    by_methodist = factories.make_comment(colleagues_entry, people["methodist"], body="Отзыв")
    by_other = factories.make_comment(colleagues_entry, people["other_methodist"], body="Мнение")
    by_colleague = factories.make_comment(colleagues_entry, people["librarian"], body="Коллега")
    by_author = factories.make_comment(colleagues_entry, people["author"], body="Ответ автора")
    # Even a mentorship of the author with themselves (nothing forbids the row) marks no methodist.
    db.session.execute(mentorships.insert().values(methodist_id=people["author"], librarian_id=people["author"]))
    db.session.commit()
    login(client, people["librarian"])
    page = client.get(f"/journal/{colleagues_entry}").text
    assert "badge-methodist" in article(page, by_methodist)
    assert "comment-by-methodist" in article(page, by_methodist)
    # A methodist, but not this author's: no mark.
    assert "badge-methodist" not in article(page, by_other)
    assert "badge-methodist" not in article(page, by_colleague)
    assert "comment-by-author" in article(page, by_author) and "badge-methodist" not in article(page, by_author)
    # The same marks on the comments a poll brings and on one comment shown again.
    news = client.get(f"/comments/entry/{colleagues_entry}?after={by_methodist - 1}", headers=FRAGMENT).text
    assert "badge-methodist" in article(news, by_methodist) and "badge-methodist" not in article(news, by_other)
    single = client.get(f"/comments/{by_methodist}", headers=FRAGMENT).text
    assert "badge-methodist" in article(single, by_methodist)
    assert "badge-methodist" not in article(client.get(f"/comments/{by_other}", headers=FRAGMENT).text, by_other)


HOSTILE = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    '<div hx-get="/admin" hx-trigger="load">x</div>',
    "[click](javascript:alert(1))",
    '[x](/journal/ "t" hx-post="/x")',
    "<a href='/' hx-delete='/comments/1/delete'>a</a>",
    "<hx-partial hx-target=\"body\">owned</hx-partial>",
]


def test_hostile_markdown_is_sanitised_and_never_processed_by_htmx(client, people, colleagues_entry):
    login(client, people["librarian"])
    for body in HOSTILE:
        assert post_comment(client, colleagues_entry, body + "\n\n**ok**").status_code == 201
    page = client.get(f"/journal/{colleagues_entry}").text
    ids = comment_ids(page)
    assert len(ids) == len(HOSTILE)
    for comment_id in ids:
        content = re.search(r'<div class="user-content" hx-ignore>(.*?)</div>\n', article(page, comment_id), re.S)
        assert content, "rendered Markdown sits inside an hx-ignore element"
        html = content.group(1)
        assert "<strong>ok</strong>" in html
        assert "<script" not in html and "<img" not in html and "<hx-" not in html and "<div" not in html
        assert not re.search(r"<[^>]*\s(hx-|on)[a-z-]*=", html), html
        assert 'href="javascript' not in html


def test_control_characters_are_stripped(client, people, colleagues_entry):
    login(client, people["librarian"])
    assert post_comment(client, colleagues_entry, "а\x00б\x07в\r\nг").status_code == 201
    assert db.session.scalar(select(Comment.body)) == "абв\r\nг"


# Posting with htmx and validation ----------------------------------------------------------------


def test_posting_appends_the_comment_and_empties_the_text_box(client, people, colleagues_entry):
    login(client, people["librarian"])
    page = client.get(f"/journal/{colleagues_entry}").text
    shown = poller_after(page)
    meanwhile = factories.make_comment(colleagues_entry, people["methodist"], body="Тем временем")

    response = post_comment(client, colleagues_entry, "Мой **ответ**", after=shown)
    assert response.status_code == 201
    # It adds itself; the poller asks at once too, in case a poll answered first and took the end marker.
    assert response.headers["HX-Trigger"] == "comment-added"
    mine = db.session.scalar(select(Comment.id).where(Comment.author_id == people["librarian"]))
    # Only partials: the form stays on the page; its text box comes back empty, its messages cleared.
    assert "<form" not in response.text
    field = re.search(r'<hx-partial hx-target="#comment-form .field" hx-swap="outerHTML">(.*?)</hx-partial>', response.text, re.S)
    assert field and form_text(field.group(1)) == ""
    assert '<hx-partial hx-target="#comment-form .form-alert"> </hx-partial>' in response.text
    # In place of the end marker the page had, so an answer that came already (a poll) adds nothing twice.
    appended = re.search(rf'<hx-partial hx-target="#comment-end-{shown}" hx-swap="outerHTML">(.*?)</hx-partial>', response.text, re.S)
    assert appended and comment_ids(appended.group(1)) == [meanwhile, mine]  # what others wrote, then mine
    assert "<strong>ответ</strong>" in appended.group(1)
    assert poller_after(response.text) == mine
    assert client.get(f"/comments/entry/{colleagues_entry}?after={mine}", headers=FRAGMENT).status_code == 204


def notifications_for(user_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Notification).where(Notification.recipient_id == user_id))


def test_a_comment_sent_again_before_the_page_showed_it_is_saved_once(client, people, colleagues_entry):
    """The answer was lost on the way and the button pressed again: the page still has the end
    marker it had, and the text is the same."""
    login(client, people["librarian"])
    shown = poller_after(client.get(f"/journal/{colleagues_entry}").text)
    first = post_comment(client, colleagues_entry, "Спасибо за идею с буктрейлером!", after=shown)
    assert first.status_code == 201
    mine = comment_ids(first.text)[-1]
    notified = notifications_for(people["author"])
    meanwhile = factories.make_comment(colleagues_entry, people["methodist"], body="Присоединяюсь")

    again = post_comment(client, colleagues_entry, "Спасибо за идею с буктрейлером!\r\n", after=shown)
    assert again.status_code == 201
    assert comment_count() == 2 and notifications_for(people["author"]) == notified
    assert comment_ids(again.text) == [mine, meanwhile]  # what the page lacks, mine once
    assert poller_after(again.text) == meanwhile


def test_the_same_words_after_the_page_showed_them_are_a_new_comment(client, people, colleagues_entry):
    login(client, people["librarian"])
    mine = comment_ids(post_comment(client, colleagues_entry, "Спасибо!", after=0).text)[-1]
    again = post_comment(client, colleagues_entry, "Спасибо!", after=mine)
    assert again.status_code == 201 and comment_count() == 2
    assert comment_ids(again.text) == [mine + 1]


def test_a_plain_form_sent_twice_saves_the_comment_once(client, people, colleagues_entry):
    login(client, people["librarian"])
    first = post_comment(client, colleagues_entry, "Без скриптов тоже работает.", htmx=False)
    second = post_comment(client, colleagues_entry, "Без скриптов тоже работает.", htmx=False)
    assert first.status_code == second.status_code == 303
    assert comment_count() == 1
    assert second.location == first.location  # to the one comment
    assert post_comment(client, colleagues_entry, "Другой текст.", htmx=False).location != first.location
    assert comment_count() == 2


def test_a_plain_form_saves_the_same_words_again_once_its_page_showed_them(client, people, colleagues_entry):
    login(client, people["librarian"])

    def send(html: str):
        fields = hidden_fields(html, "comment-form")
        return client.post(f"/comments/entry/{colleagues_entry}", data={**fields, "body": "Спасибо!"})

    shown = client.get(f"/journal/{colleagues_entry}").text
    first = send(shown)
    assert send(shown).location == first.location  # the same page's form pressed twice
    assert comment_count() == 1
    again = send(client.get(first.location).text)  # from the page the first one landed on, which shows it
    assert again.status_code == 303 and again.location != first.location
    assert comment_count() == 2


def test_with_htmx_the_list_s_end_marker_says_what_the_page_shows_not_the_form(client, people, colleagues_entry):
    """After an htmx send only the text box comes back: the form's page_end stays as drawn, and the
    list's end marker, which htmx sends as well, says the page now shows the comment."""
    factories.make_comment(colleagues_entry, people["methodist"], body="Хорошая идея.")
    login(client, people["librarian"])
    shown = client.get(f"/journal/{colleagues_entry}").text
    fields = hidden_fields(shown, "comment-form")
    first = client.post(f"/comments/entry/{colleagues_entry}", headers=FRAGMENT,
                        data={**fields, "after": str(poller_after(shown)), "body": "Спасибо!"})
    again = client.post(f"/comments/entry/{colleagues_entry}", headers=FRAGMENT,
                        data={**fields, "after": str(poller_after(first.text)), "body": "Спасибо!"})
    assert again.status_code == 201 and comment_count() == 3


def test_the_same_text_ten_minutes_later_is_a_new_comment(client, people, colleagues_entry):
    login(client, people["librarian"])
    post_comment(client, colleagues_entry, "Напомню про семинар.", htmx=False)
    comment = db.session.scalars(select(Comment)).one()
    comment.created_at -= timedelta(minutes=10)
    db.session.commit()
    assert post_comment(client, colleagues_entry, "Напомню про семинар.", htmx=False).status_code == 303
    assert comment_count() == 2


@pytest.mark.parametrize("body", ["", "   \r\n  "])
def test_an_empty_comment_is_422_with_a_message(client, people, colleagues_entry, body):
    login(client, people["librarian"])
    response = post_comment(client, colleagues_entry, body)
    assert response.status_code == 422
    assert 'class="error"' in response.text and 'aria-invalid="true"' in response.text
    assert "<html" not in response.text and 'id="comment-form"' in response.text
    assert comment_count() == 0


def test_a_too_long_comment_is_422_and_keeps_every_character(client, people, colleagues_entry):
    login(client, people["librarian"])
    text = "Длинный отзыв. " * (COMMENT_LIMIT // 15 + 1)
    assert len(text) > COMMENT_LIMIT
    for htmx in (True, False):
        response = post_comment(client, colleagues_entry, text, htmx=htmx)
        assert response.status_code == 422
        assert form_text(response.text) == text
    assert comment_count() == 0
    assert db.session.get(CommentDraft, (people["librarian"], colleagues_entry)).body == text


def test_exactly_the_limit_is_accepted(client, people, colleagues_entry):
    login(client, people["librarian"])
    assert post_comment(client, colleagues_entry, "я" * COMMENT_LIMIT).status_code == 201


# The list and its poll -----------------------------------------------------------------------------


def test_the_list_as_a_fragment_and_as_a_page(client, people, colleagues_entry):
    first = factories.make_comment(colleagues_entry, people["methodist"], body="Первый")
    login(client, people["librarian"])
    fragment = client.get(f"/comments/entry/{colleagues_entry}", headers=FRAGMENT)
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and 'id="comment-thread"' in fragment.text
    assert comment_ids(fragment.text) == [first] and poller_after(fragment.text) == first
    assert 'id="comment-form"' not in fragment.text  # the form is never inside what a swap replaces
    assert {"HX-Request", "HX-Request-Type"} <= {v.strip() for v in fragment.headers["Vary"].split(",")}
    page = client.get(f"/comments/entry/{colleagues_entry}")
    assert page.text.lstrip().startswith("<!doctype html>")
    assert 'id="comment-thread"' in page.text and 'id="comment-form"' in page.text


def test_the_entry_page_polls_outside_the_form(client, people, colleagues_entry):
    login(client, people["librarian"])
    page = client.get(f"/journal/{colleagues_entry}").text
    poller = re.search(r'<div id="comment-poller".*?</div>', page, re.S).group(0)
    assert 'hx-trigger="every 15s, comment-added from:body"' in poller and 'hx-swap="outerHTML"' in poller
    # It asks with the newest id the page shows, which new comments move; never one fixed in its address.
    assert 'hx-include=".comment-after"' in poller and re.search(r'hx-get="/comments/entry/\d+"', poller)
    thread = re.search(r'<div id="comment-thread".*?id="comment-poller"', page, re.S).group(0)
    assert "<form" not in thread and "<textarea" not in thread


def test_the_poll_interval_comes_from_config(tmp_path):
    from .conftest import make_test_app
    app = make_test_app(tmp_path, COMMENT_POLL_SECONDS=11)
    with app.app_context():
        author = factories.make_user(login="anna")
        entry = factories.make_entry(author)
        page = login(app.test_client(), author).get(f"/journal/{entry}").text
        db.session.remove()
    assert 'hx-trigger="every 11s, ' in page


def test_a_poll_brings_what_another_person_posted(app, people, mentors_entry):
    librarian = login(app.test_client(), people["author"])
    methodist = login(app.test_client(), people["methodist"])
    after = poller_after(librarian.get(f"/journal/{mentors_entry}").text)
    assert librarian.get(f"/comments/entry/{mentors_entry}?after={after}", headers=FRAGMENT).status_code == 204

    assert post_comment(methodist, mentors_entry, "Хорошая запись!", after=after).status_code == 201
    polled = librarian.get(f"/comments/entry/{mentors_entry}?after={after}", headers=FRAGMENT)
    assert polled.status_code == 200
    new = db.session.scalar(select(Comment.id))
    assert comment_ids(polled.text) == [new] and "Хорошая запись!" in polled.text
    assert "badge-methodist" in polled.text
    assert f'<hx-partial hx-target="#comment-end-{after}" hx-swap="outerHTML">' in polled.text
    assert poller_after(polled.text) == new  # the new end marker: the next poll asks only for what came after
    assert librarian.get(f"/comments/entry/{mentors_entry}?after={new}", headers=FRAGMENT).status_code == 204


def test_an_after_of_thousands_of_digits_is_past_every_comment(client, people, colleagues_entry):
    """Python refuses to read a number of over 4,300 digits: such an "after" must not turn a
    comment that was saved into an error page saying nothing was saved."""
    login(client, people["librarian"])
    huge = "1" * 5000
    assert client.get(f"/comments/entry/{colleagues_entry}?after={huge}", headers=FRAGMENT).status_code == 204
    response = post_comment(client, colleagues_entry, "Один раз", after=huge)
    assert response.status_code == 201 and comment_count() == 1


def test_news_gone_before_it_is_read_is_nothing_new(client, people, colleagues_entry, monkeypatch):
    """The poll's statement saw a newer comment, gone when the comments are read: 204, for an empty
    200 would take the poller's place and stop the polling."""
    from webapp.comments import panel

    login(client, people["librarian"])
    factories.make_comment(colleagues_entry, people["author"])
    real = panel.news_section
    monkeypatch.setattr(panel, "news_section", lambda *args, **kwargs: dataclasses.replace(real(*args, **kwargs), comments=[]))
    assert client.get(f"/comments/entry/{colleagues_entry}?after=0", headers=FRAGMENT).status_code == 204


def test_a_poll_for_a_missing_entry_is_404(client, people):
    login(client, people["author"])
    assert client.get("/comments/entry/999999?after=0", headers=FRAGMENT).status_code == 404


# Drafts --------------------------------------------------------------------------------------------


def test_the_comment_being_typed_is_autosaved_and_comes_back(client, people, mentors_entry):
    login(client, people["methodist"])
    page = client.get(f"/journal/{mentors_entry}").text
    autosave = re.search(r'<span class="save-status"[^>]*>', page, re.S).group(0)
    assert f'hx-post="/comments/entry/{mentors_entry}/draft"' in autosave
    assert "input delay:2s from:'closest form'" in autosave and 'hx-include="closest form"' in autosave

    saved = client.post(f"/comments/entry/{mentors_entry}/draft", data={"body": "Недописанный отзыв"}, headers=FRAGMENT)
    assert saved.status_code == 200
    back = client.get(f"/journal/{mentors_entry}").text
    assert form_text(back) == "Недописанный отзыв" and "Несохранённый текст восстановлен из черновика от" in back
    # Under another entry, and in someone else's form under this one, nothing comes back.
    other = factories.make_entry(people["author"], visibility=Visibility.MENTORS, title="Другая запись")
    elsewhere = client.get(f"/journal/{other}").text
    assert form_text(elsewhere) == "" and "Несохранённый текст" not in elsewhere
    login(client, people["author"])
    assert form_text(client.get(f"/journal/{mentors_entry}").text) == ""

    login(client, people["methodist"])
    # Sent from the form that saved the draft, and added to since: the draft goes.
    assert post_comment(client, mentors_entry, "Дописанный отзыв", seen=draft_seen(saved.text)).status_code == 201
    assert db.session.scalar(select(CommentDraft)) is None
    assert form_text(client.get(f"/journal/{mentors_entry}").text) == ""
    # An autosave that left before the comment was sent changes nothing when it arrives after it.
    late = client.post(f"/comments/entry/{mentors_entry}/draft", data={"body": "Дописанный отзыв"})
    assert late.status_code == 204 and db.session.scalar(select(CommentDraft)) is None


def test_an_empty_autosave_stores_nothing_and_clears_a_draft(client, people, mentors_entry):
    login(client, people["methodist"])
    url = f"/comments/entry/{mentors_entry}/draft"
    assert client.post(url, data={"body": ""}).status_code == 204
    saved = client.post(url, data={"body": "текст"}, headers=FRAGMENT)
    assert saved.status_code == 200
    assert client.post(url, data={"body": "  ", "draft_seen": draft_seen(saved.text)}).status_code == 200
    assert db.session.scalar(select(CommentDraft)) is None


def draft_seen(html: str) -> str:
    """What an autosave's answer puts into its form's draft_seen field (out of band)."""
    return re.search(r'name="draft_seen" value="([0-9a-f]*)"[^>]*hx-swap-oob', html).group(1)


class TestTwoTabs:
    """One draft per person and entry, and every open tab autosaves into it every 30 s, typed or not."""

    def test_an_idle_tab_leaves_the_draft_typed_in_another_alone(self, app, people, mentors_entry):
        url = f"/comments/entry/{mentors_entry}/draft"
        idle, typing = (login(app.test_client(), people["methodist"]) for _ in range(2))
        idle_form = hidden_fields(idle.get(f"/journal/{mentors_entry}").text, "comment-form")
        typing.post(url, data={**hidden_fields(typing.get(f"/journal/{mentors_entry}").text, "comment-form"), "body": "Почти дописанный комментарий"},
                    headers=FRAGMENT)
        assert idle.post(url, data=idle_form, headers=FRAGMENT).status_code == 204  # its box is empty, as it was
        assert db.session.get(CommentDraft, (people["methodist"], mentors_entry)).body == "Почти дописанный комментарий"

    def test_a_tab_that_typed_nothing_since_its_last_save_does_not_overwrite_a_newer_draft(self, app, people, mentors_entry):
        url = f"/comments/entry/{mentors_entry}/draft"
        first, second = (login(app.test_client(), people["methodist"]) for _ in range(2))
        form = {**hidden_fields(first.get(f"/journal/{mentors_entry}").text, "comment-form"), "body": "Первая мысль"}
        form["draft_seen"] = draft_seen(first.post(url, data=form, headers=FRAGMENT).text)
        second.post(url, data={**hidden_fields(second.get(f"/journal/{mentors_entry}").text, "comment-form"), "body": "Первая мысль, дописанная"},
                    headers=FRAGMENT)
        assert first.post(url, data=form, headers=FRAGMENT).status_code == 204  # the timer, nothing new typed there
        assert db.session.get(CommentDraft, (people["methodist"], mentors_entry)).body == "Первая мысль, дописанная"

    def test_a_tab_opened_with_the_draft_clears_it_when_emptied(self, app, people, mentors_entry):
        url = f"/comments/entry/{mentors_entry}/draft"
        client = login(app.test_client(), people["methodist"])
        client.post(url, data={"body": "Передумала"}, headers=FRAGMENT)
        form = hidden_fields(client.get(f"/journal/{mentors_entry}").text, "comment-form")
        assert client.post(url, data={**form, "body": ""}, headers=FRAGMENT).status_code == 200
        assert db.session.get(CommentDraft, (people["methodist"], mentors_entry)) is None


def test_an_empty_autosave_refuses_what_a_typed_one_refuses(client, people, mentors_entry):
    """Nothing typed and nothing kept is answered by one statement, before anyone is loaded
    (webapp.polls): it must still refuse an entry out of sight and a session that signs nobody in."""
    url = f"/comments/entry/{mentors_entry}/draft"
    login(client, people["other_methodist"])  # not the author's methodist
    for body in ("", "текст"):
        assert client.post(url, data={"body": body}, headers=FRAGMENT).status_code == 404, body
    login(client, people["methodist"])
    answered = client.post(url, data={"body": ""}, headers=FRAGMENT)
    assert answered.status_code == 204 and answered.headers["Cache-Control"] == "no-store"
    db.session.get(User, people["methodist"]).revoke_sessions()
    db.session.commit()
    response = client.post(url, data={"body": ""})
    assert response.status_code == 302 and response.location.startswith("/login")
    assert db.session.scalar(select(CommentDraft)) is None


def test_an_empty_autosave_still_needs_the_form_token(csrf_app):
    author = factories.make_user(login="anna")
    entry = factories.make_entry(author, visibility=Visibility.MENTORS)
    client = login(csrf_app.test_client(), author)
    url = f"/comments/entry/{entry}/draft"
    refused = client.post(url, data={"body": ""}, headers=FRAGMENT)  # the form token is checked first
    assert refused.status_code == 400 and 'name="csrf_token"' in refused.text and 'hx-swap-oob="true"' in refused.text
    token = csrf_token_from(client.get(f"/journal/{entry}").text)
    assert client.post(url, data={"body": "", "csrf_token": token}, headers=FRAGMENT).status_code == 204


def test_an_expired_form_token_keeps_the_comment(csrf_app, monkeypatch):
    author = factories.make_user(login="anna")
    entry = factories.make_entry(author, visibility=Visibility.MENTORS)
    client = login(csrf_app.test_client(), author)
    token = csrf_token_from(client.get(f"/journal/{entry}").text)
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 2 * 3600)  # two hours later

    autosaved = client.post(f"/comments/entry/{entry}/draft", data={"body": "Черновик", "csrf_token": token},
                            headers=FRAGMENT)
    assert autosaved.status_code == 200
    fresh = re.search(rf'name="csrf_token" value="([^"]+)" id="comment-csrf-{entry}" hx-swap-oob="true"', autosaved.text)
    assert fresh, "the autosave hands the form a fresh token"

    refused = client.post(f"/comments/entry/{entry}", data={"body": "Полный текст отзыва", "csrf_token": token},
                          headers=FRAGMENT)
    assert refused.status_code == 200 and "HX-Redirect" not in refused.headers
    assert comment_count() == 0
    assert form_text(refused.text) == "Полный текст отзыва"  # the form again, in place, with a fresh token
    assert csrf_token_from(refused.text) != token
    assert form_text(client.get(f"/journal/{entry}").text) == "Полный текст отзыва"  # and kept as the draft

    plain = client.post(f"/comments/entry/{entry}", data={"body": "Без JavaScript", "csrf_token": token})
    assert plain.status_code == 303 and plain.location == f"/journal/{entry}#comment-form"
    assert form_text(client.get(plain.location).text) == "Без JavaScript"

    sent = client.post(f"/comments/entry/{entry}", data={"body": "Отправлено", "csrf_token": fresh.group(1)})
    assert sent.status_code == 303 and comment_count() == 1


@pytest.mark.parametrize("sent_token", ["", "another-session-s-token"])
def test_a_comment_without_this_session_s_token_leaves_the_draft_alone(csrf_app, sent_token):
    """Another site's form, or a page from before the last sign-in, sends no token of this session:
    it may not replace the comment the person keeps under the entry. The text it sent comes back
    in the form with a fresh token, so a person who did type it loses nothing."""
    author = factories.make_user(login="anna")
    entry = factories.make_entry(author, visibility=Visibility.MENTORS)
    client = login(csrf_app.test_client(), author)
    token = csrf_token_from(client.get(f"/journal/{entry}").text)
    client.post(f"/comments/entry/{entry}/draft", data={"body": "Мой настоящий отзыв", "csrf_token": token}, headers=FRAGMENT)

    autosaved = client.post(f"/comments/entry/{entry}/draft", data={"body": "Подброшенный текст", "csrf_token": sent_token},
                            headers=FRAGMENT)
    assert autosaved.status_code == 400  # unsaved.js still counts the text as not saved
    fresh = re.search(rf'name="csrf_token" value="([^"]+)" id="comment-csrf-{entry}" hx-swap-oob="true"', autosaved.text)
    assert fresh and "Черновик сохранён" not in autosaved.text
    sent = client.post(f"/comments/entry/{entry}", data={"body": "Подброшенный текст", "csrf_token": sent_token},
                       headers=FRAGMENT)
    assert sent.status_code == 400 and form_text(sent.text) == "Подброшенный текст"
    assert "открыта до последнего входа" in sent.text
    plain = client.post(f"/comments/entry/{entry}", data={"body": "Подброшенный текст", "csrf_token": sent_token})
    assert plain.status_code == 400 and "Подброшенный текст" in plain.text  # a page holding it, to copy

    db.session.expire_all()
    assert db.session.get(CommentDraft, (author, entry)).body == "Мой настоящий отзыв"
    assert comment_count() == 0
    assert form_text(client.get(f"/journal/{entry}").text) == "Мой настоящий отзыв"
    resent = client.post(f"/comments/entry/{entry}", data={"body": "Мой настоящий отзыв", "csrf_token": csrf_token_from(sent.text)})
    assert resent.status_code == 303 and comment_count() == 1


def test_a_signed_out_page_keeps_the_comment_and_is_not_sent_away(csrf_app):
    """An ended session never takes the page (and the comment being typed) to the login form:
    not the poll, not the autosave, not "Send"."""
    author = factories.make_user(login="anna")
    entry = factories.make_entry(author, visibility=Visibility.MENTORS)
    client = login(csrf_app.test_client(), author)
    token = csrf_token_from(client.get(f"/journal/{entry}").text)
    client.delete_cookie("session")

    polled = client.get(f"/comments/entry/{entry}?after=0", headers=FRAGMENT)
    assert polled.status_code == 401 and "HX-Redirect" not in polled.headers
    assert 'id="comment-poller"' in polled.text and "hx-trigger" not in polled.text  # the polling stops
    assert client.get(f"/comments/entry/{entry}?after=0").status_code == 302  # a plain visit goes to sign in

    autosaved = client.post(f"/comments/entry/{entry}/draft", data={"body": "Мысль", "csrf_token": token},
                            headers=FRAGMENT)
    assert autosaved.status_code == 401 and "HX-Redirect" not in autosaved.headers  # said, and nothing kept
    assert 'href="/login?next=' in autosaved.text

    refused = client.post(f"/comments/entry/{entry}", data={"body": "Мысль целиком", "csrf_token": token},
                          headers=FRAGMENT)
    assert refused.status_code == 401 and "HX-Redirect" not in refused.headers
    assert form_text(refused.text) == "Мысль целиком" and 'id="comment-form"' in refused.text
    assert comment_count() == 0

    # Signed in again (in another tab; a new session): "Send" from the old form, whose token is not
    # this session's, brings the form back with the text and a token that is.
    signed_in = client.post("/login", data={"login": "anna", "password": factories.PASSWORD,
                                            "csrf_token": csrf_token_from(client.get("/login").text)})
    assert signed_in.status_code == 303
    again = client.post(f"/comments/entry/{entry}", data={"body": "Мысль целиком", "csrf_token": csrf_token_from(refused.text)},
                        headers=FRAGMENT)
    assert again.status_code == 400 and form_text(again.text) == "Мысль целиком"
    assert "нажмите кнопку ещё раз" in again.text and comment_count() == 0
    sent = client.post(f"/comments/entry/{entry}", data={"body": "Мысль целиком", "csrf_token": csrf_token_from(again.text)},
                       headers=FRAGMENT)
    assert sent.status_code == 201 and comment_count() == 1


# Notifications -------------------------------------------------------------------------------------


def test_a_comment_notifies_the_author_and_earlier_commenters(client, people, colleagues_entry):
    factories.make_comment(colleagues_entry, people["librarian"], body="Я была здесь первой")
    login(client, people["methodist"])
    assert post_comment(client, colleagues_entry, "Отзыв методиста").status_code == 201
    comment = db.session.scalar(select(Comment).where(Comment.author_id == people["methodist"]))
    rows = {(n.recipient_id, n.kind): n for n in db.session.scalars(select(Notification))}
    assert set(rows) == {(people["author"], NotificationKind.ENTRY_COMMENT.value),
                         (people["librarian"], NotificationKind.THREAD_COMMENT.value)}
    mine = rows[(people["author"], NotificationKind.ENTRY_COMMENT.value)]
    assert (mine.entry_id, mine.comment_id, mine.actor_id) == (colleagues_entry, comment.id, people["methodist"])


def test_the_authors_own_comment_notifies_nobody_else_on_a_private_entry(client, people):
    entry = factories.make_entry(people["author"], visibility=Visibility.PRIVATE)
    login(client, people["author"])
    assert post_comment(client, entry, "Заметка себе").status_code == 201
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 0


def test_an_entry_closed_while_a_comment_is_typed_keeps_the_text_on_the_page(client, people, mentors_entry):
    """The author makes the entry private while the methodist writes under it: every answer is 404,
    and none of them takes the place of the form holding the text."""
    login(client, people["methodist"])
    page = client.get(f"/journal/{mentors_entry}").text
    after = str(poller_after(page))
    db.session.execute(update(JournalEntry).where(JournalEntry.id == mentors_entry).values(visibility=Visibility.PRIVATE))
    db.session.commit()

    sent = client.post(f"/comments/entry/{mentors_entry}", data={"body": "Длинный отзыв", "after": after}, headers=FRAGMENT)
    assert sent.status_code == 404
    assert sent.headers["HX-Retarget"] == "find .form-alert" and sent.headers["HX-Reswap"] == "innerHTML"
    autosaved = client.post(f"/comments/entry/{mentors_entry}/draft", data={"body": "Длинный отзыв"}, headers=FRAGMENT)
    polled = client.get(f"/comments/entry/{mentors_entry}?after={after}", headers=FRAGMENT)
    for answer in (sent, autosaved, polled):
        assert answer.status_code == 404
    # What held typed text is told that nothing was saved and the text stays; the poll has nothing to keep.
    assert "ничего не сохранено" in sent.text and "Текст остался в форме" in sent.text
    assert "Не сохранено" in autosaved.text and "Текст остался в форме" in autosaved.text
    assert polled.text.strip() == '<p class="error">Такой страницы нет, или она вам недоступна.</p>'
    assert "HX-Retarget" not in autosaved.headers and "HX-Retarget" not in polled.headers  # their own places
    assert "<h1>Такой страницы нет" in client.get(f"/journal/{mentors_entry}").text  # a page is a page


def test_a_comment_edited_in_two_tabs_loses_neither_text(client, people, mentors_entry):
    login(client, people["methodist"])
    comment = factories.make_comment(mentors_entry, people["methodist"], body="Первый вариант")
    tabs = [client.get(f"/comments/{comment}/edit", headers=FRAGMENT).text for _ in range(2)]
    bases = [editor_base(tab) for tab in tabs]
    assert client.post(f"/comments/{comment}", data={"body": "Из первой вкладки", "base": bases[0]},
                       headers=FRAGMENT).status_code == 200
    refused = client.post(f"/comments/{comment}", data={"body": "Из второй вкладки", "base": bases[1]}, headers=FRAGMENT)
    assert refused.status_code == 409
    assert "Из второй вкладки</textarea>" in refused.text and "Из первой вкладки</textarea>" in refused.text
    assert db.session.get(Comment, comment).body == "Из первой вкладки"
    again = editor_base(refused.text)
    assert client.post(f"/comments/{comment}", data={"body": "Итог", "base": again}, headers=FRAGMENT).status_code == 200
    assert db.session.get(Comment, comment).body == "Итог"
