"""The methodist's side: feedback status, reading marks, the desk, «Ждут ответа» and its reading pane,
and assigning a methodist to a whole school."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select, update

from webapp.extensions import db
from webapp.mentoring.models import Comment, EntryRead, Feedback, Notification, NotificationKind
from webapp.models import JournalEntry, Role, User, Visibility, mentorships, utcnow

from . import factories
from .conftest import FRAGMENT, another_sqlite_writer, login


def _as(app, user_id):
    return login(app.test_client(), user_id)


def _status_url(entry_id: int) -> str:
    return f"/mentoring/entries/{entry_id}/status"


def _feedback_rows(entry_id: int) -> list[tuple[int, str, int | None]]:
    return [tuple(row) for row in db.session.execute(
        select(Feedback.methodist_id, Feedback.status, Feedback.comment_id).where(Feedback.entry_id == entry_id)
    )]


def _dated(entry_id: int, days_ago: float) -> None:
    when = utcnow() - timedelta(days=days_ago)
    db.session.execute(update(JournalEntry).where(JournalEntry.id == entry_id).values(created_at=when, updated_at=when))
    db.session.commit()


def _element(html: str, element_id: str) -> str:
    """The opening tag and text of the element with this id, up to the next element with an id of the same kind."""
    match = re.search(rf'<(\w+) id="{re.escape(element_id)}".*?</\1>', html, re.S)
    assert match, f"no #{element_id} on the page"
    return match.group(0)


# Feedback status ----------------------------------------------------------------------------------

@pytest.mark.parametrize("persona", ["other_methodist", "librarian", "admin", "author"])
@pytest.mark.parametrize("visibility", [Visibility.MENTORS, Visibility.COLLEAGUES])
def test_only_the_authors_methodist_may_set_a_status(app, people, persona, visibility):
    entry = factories.make_entry(people["author"], visibility=visibility)
    client = _as(app, people[persona])
    for headers in ({}, FRAGMENT):
        response = client.post(_status_url(entry), data={"feedback-status": "accepted"}, headers=headers)
        assert response.status_code == 404
    assert _feedback_rows(entry) == []


def test_the_methodist_marks_an_entry_accepted(app, people):
    entry = factories.make_entry(people["author"], visibility=Visibility.COLLEAGUES)
    response = _as(app, people["methodist"]).post(_status_url(entry), data={"feedback-status": "accepted"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/journal/{entry}"
    assert _feedback_rows(entry) == [(people["methodist"], "accepted", None)]


def test_a_private_entry_cannot_be_marked(app, people):
    entry = factories.make_entry(people["author"], visibility=Visibility.PRIVATE)
    client = _as(app, people["methodist"])
    assert client.post(_status_url(entry), data={"feedback-status": "accepted"}).status_code == 404
    assert client.post(_status_url(999999), data={"feedback-status": "accepted"}).status_code == 404
    assert _feedback_rows(entry) == []


def test_an_entry_made_private_after_marking_can_no_longer_be_marked(app, people):
    entry = factories.make_entry(people["author"])
    client = _as(app, people["methodist"])
    assert client.post(_status_url(entry), data={"feedback-status": "accepted"}).status_code == 303
    db.session.execute(update(JournalEntry).where(JournalEntry.id == entry).values(visibility=Visibility.PRIVATE))
    db.session.commit()
    assert client.post(_status_url(entry), data={"feedback-status": "needs_work", "feedback-body": "x"}).status_code == 404
    assert _feedback_rows(entry) == [(people["methodist"], "accepted", None)]


def test_needs_work_requires_a_comment(app, people):
    entry = factories.make_entry(people["author"])
    client = _as(app, people["methodist"])
    plain = client.post(_status_url(entry), data={"feedback-status": "needs_work", "feedback-body": "   "})
    assert plain.status_code == 422
    assert "<html" in plain.text and 'id="feedback-body-error"' in plain.text
    fragment = client.post(_status_url(entry), data={"feedback-status": "needs_work", "feedback-body": ""}, headers=FRAGMENT)
    assert fragment.status_code == 422
    assert fragment.text.lstrip().startswith(f'<div id="entry-feedback-{entry}"') and "<html" not in fragment.text
    assert _feedback_rows(entry) == []
    assert client.post(_status_url(entry), data={}).status_code == 422  # no button pressed


def test_a_refused_answer_keeps_the_text(app, people):
    entry = factories.make_entry(people["author"])
    long_text = "Очень подробный разбор. " * 1000  # over the comment limit
    response = _as(app, people["methodist"]).post(
        _status_url(entry), data={"feedback-status": "needs_work", "feedback-body": long_text}, headers=FRAGMENT)
    assert response.status_code == 422
    assert long_text.strip() in response.text
    assert _feedback_rows(entry) == []
    assert db.session.scalar(select(func.count(Comment.id))) == 0


def test_needs_work_saves_the_comment_links_it_and_tells_the_author(app, people):
    entry = factories.make_entry(people["author"])
    client = _as(app, people["methodist"])
    response = client.post(_status_url(entry), data={"feedback-status": "needs_work", "feedback-body": "Добавьте выводы."},
                           headers=FRAGMENT)
    assert response.status_code == 200
    assert f'id="entry-feedback-{entry}"' in response.text and "status-needs_work" in response.text
    comment = db.session.scalars(select(Comment).where(Comment.entry_id == entry)).one()
    assert (comment.author_id, comment.body) == (people["methodist"], "Добавьте выводы.")
    assert _feedback_rows(entry) == [(people["methodist"], "needs_work", comment.id)]
    kinds = set(db.session.scalars(select(Notification.kind).where(Notification.recipient_id == people["author"])))
    assert kinds == {NotificationKind.ENTRY_STATUS, NotificationKind.ENTRY_COMMENT}


def test_one_feedback_row_per_methodist_updated_on_change(app, people):
    entry = factories.make_entry(people["author"])
    second = factories.make_user(Role.METHODIST, login="vera-m")
    factories.assign_mentor(second, people["author"])
    client = _as(app, people["methodist"])
    client.post(_status_url(entry), data={"feedback-status": "needs_work", "feedback-body": "Доработайте план."})
    client.post(_status_url(entry), data={"feedback-status": "accepted"})
    _as(app, second).post(_status_url(entry), data={"feedback-status": "accepted"})
    assert sorted(_feedback_rows(entry)) == sorted([(people["methodist"], "accepted", None), (second, "accepted", None)])
    statuses = db.session.scalar(select(func.count(Notification.id)).where(Notification.kind == NotificationKind.ENTRY_STATUS))
    assert statuses == 3
    client.post(_status_url(entry), data={"feedback-status": "accepted"})  # unchanged: nobody is told again
    assert db.session.scalar(select(func.count(Notification.id)).where(Notification.kind == NotificationKind.ENTRY_STATUS)) == 3


def test_the_author_sees_the_status_on_the_entry_and_in_her_list(app, people):
    marked = factories.make_entry(people["author"], title="Отмеченная запись")
    unmarked = factories.make_entry(people["author"], title="Пока без ответа")
    _as(app, people["methodist"]).post(_status_url(marked), data={"feedback-status": "needs_work", "feedback-body": "Чуть подробнее."})
    author = _as(app, people["author"])
    page = author.get(f"/journal/{marked}").text
    panel = _element(page, f"entry-feedback-{marked}")
    assert "status-needs_work" in panel and "Руслана Трач" in panel
    assert "feedback-form" not in panel  # the author does not mark her own entry
    listing = author.get("/journal/").text
    assert "status-needs_work" in _element(listing, f"entry-{marked}")
    assert "status-" not in _element(listing, f"entry-{unmarked}")
    assert "status-needs_work" in author.get("/journal/", headers=FRAGMENT).text
    # Her second methodist answers later: the list shows the latest status.
    second = factories.make_user(Role.METHODIST, login="vera-m")
    factories.assign_mentor(second, people["author"])
    _as(app, second).post(_status_url(marked), data={"feedback-status": "accepted"})
    listed = _element(author.get("/journal/").text, f"entry-{marked}")
    assert "status-accepted" in listed and "status-needs_work" not in listed


def test_others_see_no_status(app, people):
    entry = factories.make_entry(people["author"], visibility=Visibility.COLLEAGUES)
    _as(app, people["methodist"]).post(_status_url(entry), data={"feedback-status": "accepted"})
    for persona in ("librarian", "other_methodist"):
        page = _as(app, people[persona]).get(f"/journal/{entry}")
        assert page.status_code == 200
        assert f"entry-feedback-{entry}" not in page.text and "status-accepted" not in page.text
        assert "status-accepted" not in _as(app, people[persona]).get("/journal/feed").text


# Reading marks ------------------------------------------------------------------------------------

def _reads(entry_id: int) -> list[tuple[int, object]]:
    return [tuple(row) for row in db.session.execute(
        select(EntryRead.user_id, EntryRead.first_read_at).where(EntryRead.entry_id == entry_id))]


def test_the_methodists_first_reading_is_recorded_once_and_shown_to_the_author(app, people):
    entry = factories.make_entry(people["author"])
    author = _as(app, people["author"])
    before = _element(author.get(f"/journal/{entry}").text, f"entry-feedback-{entry}")
    assert "read-mark unread" in before and "Руслана Трач" in before
    assert _reads(entry) == []

    methodist = _as(app, people["methodist"])
    assert methodist.get(f"/journal/{entry}").status_code == 200
    [(reader, first)] = _reads(entry)
    assert reader == people["methodist"]
    assert methodist.get(f"/journal/{entry}", headers=FRAGMENT).status_code == 200
    assert _reads(entry) == [(people["methodist"], first)]

    after = _element(author.get(f"/journal/{entry}").text, f"entry-feedback-{entry}")
    assert "read-mark read" in after and f'datetime="{first.isoformat()}Z"' in after


@pytest.mark.parametrize("persona", ["librarian", "other_methodist", "author"])
def test_nobody_else_leaves_a_reading_mark(app, people, persona):
    entry = factories.make_entry(people["author"], visibility=Visibility.COLLEAGUES)
    assert _as(app, people[persona]).get(f"/journal/{entry}").status_code == 200
    assert _reads(entry) == []


def test_a_private_entry_gets_no_reading_mark(app, people):
    entry = factories.make_entry(people["author"], visibility=Visibility.PRIVATE)
    assert _as(app, people["methodist"]).get(f"/journal/{entry}").status_code == 404
    assert _reads(entry) == []
    assert "read-mark" not in _as(app, people["author"]).get(f"/journal/{entry}").text


def test_a_reading_mark_waits_its_turn_behind_another_writer(app, people):
    """The mark is written on a GET: it must wait for a busy writer, not fail because its read went stale."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("about SQLite's single writer; PostgreSQL has row locks")
    entry = factories.make_entry(people["author"])
    client = _as(app, people["methodist"])
    with another_sqlite_writer():
        response = client.get(f"/journal/{entry}")
    assert response.status_code == 200
    assert [reader for reader, _ in _reads(entry)] == [people["methodist"]]


def test_reading_in_the_pane_counts_as_reading(app, people):
    entry = factories.make_entry(people["author"])
    assert _as(app, people["methodist"]).get(f"/mentoring/awaiting/{entry}", headers=FRAGMENT).status_code == 200
    assert [reader for reader, _ in _reads(entry)] == [people["methodist"]]


# «Ждут ответа» --------------------------------------------------------------------------------------

AWAITING_ID = re.compile(r'id="awaiting-(\d+)"')


@pytest.fixture
def round_of_entries(app, people):
    """Entries around the methodist, dated so that the expected order is known."""
    vera = factories.make_user(login="vera", display_name="Вера Лукина", school_id=1)
    factories.assign_mentor(people["methodist"], vera)
    factories.assign_mentor(people["other_methodist"], people["librarian"])
    author, methodist = people["author"], people["methodist"]
    e = {
        "waiting_oldest": factories.make_entry(author, title="Ждёт дольше всех"),
        "commented": factories.make_entry(author, title="С моим комментарием"),
        "marked": factories.make_entry(author, title="С моим статусом"),
        "private": factories.make_entry(author, visibility=Visibility.PRIVATE, title="Личная"),
        "other_mentee": factories.make_entry(people["librarian"], title="Чужая подопечная"),
        "colleagues": factories.make_entry(author, visibility=Visibility.COLLEAGUES, title="Для коллег"),
        "own_comment_only": factories.make_entry(author, title="Автор ответила себе"),
        "vera": factories.make_entry(vera, title="Вторая подопечная"),
        "others_comment": factories.make_entry(author, visibility=Visibility.COLLEAGUES, title="Коллега ответила"),
        "newest": factories.make_entry(author, title="Самая новая"),
        "not_mine_colleagues": factories.make_entry(people["librarian"], visibility=Visibility.COLLEAGUES, title="Не моя"),
    }
    for days, key in enumerate(reversed(list(e))):
        _dated(e[key], days_ago=days + 1)
    factories.make_comment(e["commented"], methodist)
    factories.make_comment(e["own_comment_only"], author)
    factories.make_comment(e["others_comment"], people["librarian"])
    _as(app, methodist).post(_status_url(e["marked"]), data={"feedback-status": "accepted"})
    return {**e, "vera_id": vera}


def test_the_awaiting_list_is_exactly_the_right_entries_oldest_first(app, people, round_of_entries):
    e = round_of_entries
    page = _as(app, people["methodist"]).get("/mentoring/awaiting")
    assert page.status_code == 200
    listed = [int(i) for i in AWAITING_ID.findall(_element(page.text, "awaiting-list"))]
    expected = ["waiting_oldest", "colleagues", "own_comment_only", "vera", "others_comment", "newest"]
    assert listed == [e[k] for k in expected]
    assert 'data-count="6"' in page.text
    assert f'id="pane-entry-{e["waiting_oldest"]}"' in page.text  # the oldest is open in the pane


def test_the_awaiting_list_of_one_mentee(app, people, round_of_entries):
    e = round_of_entries
    page = _as(app, people["methodist"]).get(f"/mentoring/awaiting?author={e['vera_id']}").text
    assert [int(i) for i in AWAITING_ID.findall(page)] == [e["vera"]]


def test_the_other_methodist_awaits_only_their_own_mentees(app, people, round_of_entries):
    e = round_of_entries
    page = _as(app, people["other_methodist"]).get("/mentoring/awaiting").text
    assert [int(i) for i in AWAITING_ID.findall(page)] == [e["other_mentee"], e["not_mine_colleagues"]]


@pytest.mark.parametrize("persona", ["librarian", "admin", "author"])
def test_only_methodists_have_a_desk(app, people, persona):
    client = _as(app, people[persona])
    for url in ("/mentoring/", "/mentoring/awaiting"):
        assert client.get(url).status_code == 404
        assert client.get(url, headers=FRAGMENT).status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(client, people):
    entry = factories.make_entry(people["author"])
    for url in ("/mentoring/", "/mentoring/awaiting", f"/mentoring/awaiting/{entry}"):
        response = client.get(url)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert client.post(_status_url(entry), data={"feedback-status": "accepted"}).status_code == 302


# The reading pane ---------------------------------------------------------------------------------

def _answer(client, entry_id, status, body="", headers=None, **extra):
    return client.post(f"/mentoring/awaiting/{entry_id}", data={"feedback-status": status, "feedback-body": body, **extra},
                       headers=headers or {})


def test_the_pane_opens_an_entry_as_a_fragment_or_a_page(app, people, round_of_entries):
    e = round_of_entries
    client = _as(app, people["methodist"])
    fragment = client.get(f"/mentoring/awaiting/{e['vera']}", headers=FRAGMENT)
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert fragment.text.lstrip().startswith('<section id="reading-pane"')
    assert f'id="pane-entry-{e["vera"]}"' in fragment.text
    assert re.search(r'<nav id="awaiting-list"[^>]*hx-swap-oob="true"', fragment.text)
    assert re.search(r'<div class="user-content" hx-ignore>', fragment.text)
    page = client.get(f"/mentoring/awaiting/{e['vera']}")
    assert page.text.lstrip().startswith("<!doctype html>")
    assert f'id="pane-entry-{e["vera"]}"' in page.text and "hx-swap-oob" not in page.text
    assert {"HX-Request", "HX-Request-Type"} <= {v.strip() for v in page.headers["Vary"].split(",")}


@pytest.mark.parametrize("persona", ["other_methodist", "librarian", "admin", "author"])
def test_the_pane_is_the_methodists_only(app, people, persona):
    entry = factories.make_entry(people["author"], visibility=Visibility.COLLEAGUES)
    client = _as(app, people[persona])
    assert client.get(f"/mentoring/awaiting/{entry}").status_code == 404
    assert client.get(f"/mentoring/awaiting/{entry}", headers=FRAGMENT).status_code == 404
    assert _answer(client, entry, "accepted").status_code == 404
    assert _answer(client, entry, "comment", "Привет").status_code == 404
    assert _feedback_rows(entry) == [] and db.session.scalar(select(func.count(Comment.id))) == 0


def test_marking_in_the_pane_brings_the_next_entry(app, people, round_of_entries):
    e = round_of_entries
    client = _as(app, people["methodist"])
    response = _answer(client, e["waiting_oldest"], "accepted", headers=FRAGMENT)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="reading-pane"')
    assert f'id="pane-entry-{e["colleagues"]}"' in response.text
    assert response.headers["HX-Push-Url"] == f"/mentoring/awaiting/{e['colleagues']}"
    oob = _element(response.text, "awaiting-list")
    assert 'hx-swap-oob="true"' in oob
    assert [int(i) for i in AWAITING_ID.findall(oob)] == [e[k] for k in ("colleagues", "own_comment_only", "vera",
                                                                          "others_comment", "newest")]
    assert _feedback_rows(e["waiting_oldest"]) == [(people["methodist"], "accepted", None)]


def test_commenting_in_the_pane_answers_and_moves_on(app, people, round_of_entries):
    e = round_of_entries
    client = _as(app, people["methodist"])
    response = _answer(client, e["vera"], "comment", "Хорошая мысль про каникулы.", headers=FRAGMENT)
    assert response.status_code == 200
    assert f'id="pane-entry-{e["others_comment"]}"' in response.text  # the one after it, not the oldest
    assert _feedback_rows(e["vera"]) == []
    comment = db.session.scalars(select(Comment).where(Comment.entry_id == e["vera"])).one()
    assert comment.author_id == people["methodist"]
    assert "Хорошая мысль про каникулы." not in response.text.split('id="pane-entry-')[1]  # the box is empty again


def test_the_last_answer_wraps_to_the_oldest_and_then_empties_the_pane(app, people):
    first, second = factories.make_entry(people["author"]), factories.make_entry(people["author"])
    _dated(first, 3)
    _dated(second, 1)
    client = _as(app, people["methodist"])
    response = _answer(client, second, "accepted", headers=FRAGMENT)
    assert f'id="pane-entry-{first}"' in response.text
    response = _answer(client, first, "needs_work", "Допишите итог.", headers=FRAGMENT)
    assert "pane-entry-" not in response.text and 'data-count="0"' in response.text
    assert response.headers["HX-Push-Url"] == "/mentoring/awaiting"


def test_without_javascript_the_pane_redirects_to_the_next(app, people, round_of_entries):
    e = round_of_entries
    client = _as(app, people["methodist"])
    response = _answer(client, e["own_comment_only"], "accepted")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/mentoring/awaiting/{e['vera']}"
    filtered = _answer(client, e["vera"], "accepted", author=str(e["vera_id"]))
    assert filtered.headers["Location"] == f"/mentoring/awaiting?author={e['vera_id']}"


def _told(user_id: int) -> list[str]:
    return sorted(db.session.scalars(select(Notification.kind).where(Notification.recipient_id == user_id)))


@pytest.mark.parametrize("headers", [{}, FRAGMENT], ids=["plain form", "htmx"])
def test_an_answer_sent_again_is_saved_and_told_once(app, people, headers):
    """The answer to the first press was lost (or the plain form's button pressed twice): the
    same text again is the same answer."""
    entry = factories.make_entry(people["author"])
    client = _as(app, people["methodist"])
    for _ in range(2):
        assert _answer(client, entry, "needs_work", "Допишите, что получилось.", headers=headers).status_code in (200, 303)
    (comment,) = db.session.scalars(select(Comment.id).where(Comment.entry_id == entry))
    assert _feedback_rows(entry) == [(people["methodist"], "needs_work", comment)]
    assert _told(people["author"]) == sorted([NotificationKind.ENTRY_COMMENT, NotificationKind.ENTRY_STATUS])


def test_the_same_answer_after_ten_minutes_or_another_comment_is_new(app, people):
    entry = factories.make_entry(people["author"])
    client = _as(app, people["methodist"])
    _answer(client, entry, "comment", "Жду продолжения.")
    for comment in db.session.scalars(select(Comment)):
        comment.created_at -= timedelta(minutes=10)
    db.session.commit()
    _answer(client, entry, "comment", "Жду продолжения.")
    factories.make_comment(entry, people["author"], body="Продолжение будет завтра.")
    _answer(client, entry, "comment", "Жду продолжения.")
    assert db.session.scalar(select(func.count(Comment.id)).where(Comment.author_id == people["methodist"])) == 3


def test_a_refused_answer_in_the_pane_keeps_the_text(app, people, round_of_entries):
    e = round_of_entries
    client = _as(app, people["methodist"])
    empty = _answer(client, e["vera"], "needs_work", "  ", headers=FRAGMENT)
    assert empty.status_code == 422
    assert empty.text.lstrip().startswith('<section id="reading-pane"') and f'pane-entry-{e["vera"]}' in empty.text
    assert 'id="feedback-body-error"' in empty.text
    long_text = "Подробно о каждом абзаце. " * 900
    refused = _answer(client, e["vera"], "comment", long_text, headers=FRAGMENT)
    assert refused.status_code == 422 and long_text.strip() in refused.text
    plain = _answer(client, e["vera"], "nonsense", "Мой текст")
    assert plain.status_code == 422 and "<html" in plain.text and "Мой текст" in plain.text
    assert _feedback_rows(e["vera"]) == [] and not db.session.scalar(select(Comment.id).where(Comment.entry_id == e["vera"]))


def test_no_poll_on_the_reading_pages(app, people, round_of_entries):
    """What the methodist types in the pane is never inside an element that refreshes itself."""
    page = _as(app, people["methodist"]).get("/mentoring/awaiting").text
    pane = _element(page, "reading-pane")
    assert not re.search(r'hx-get="[^"]*"[^>]*hx-trigger="[^"]*every ', pane) and 'name="feedback-body"' in pane
    assert "every " not in _element(page, "awaiting-list")


# The desk ------------------------------------------------------------------------------------------

def test_the_desk_shows_each_mentee_with_their_figures(app, people, round_of_entries):
    e = round_of_entries
    quiet = factories.make_user(login="tanya", display_name="Татьяна Тихая", school_id=2)
    factories.assign_mentor(people["methodist"], quiet)
    old = factories.make_entry(quiet, title="Давняя запись")
    _dated(old, 30)
    page = _as(app, people["methodist"]).get("/mentoring/")
    assert page.status_code == 200
    anna = _element(page.text, f"mentee-{people['author']}")
    assert "Гимназия №3" in anna and 'data-count="5"' in anna  # all of round_of_entries' awaiting but Vera's
    newest = db.session.get(JournalEntry, e["newest"]).created_at
    assert f'datetime="{newest.isoformat()}Z"' in anna
    assert 'class="mentee"' in anna  # active: the latest entry is a day old
    vera = _element(page.text, f"mentee-{e['vera_id']}")
    assert 'data-count="1"' in vera
    tanya = _element(page.text, f"mentee-{quiet}")
    assert 'class="mentee quiet"' in tanya and 'data-days="30"' in tanya and "quiet-note" in tanya
    assert 'class="awaiting-total" data-count="7"' in page.text
    assert f"mentee-{people['librarian']}" not in page.text  # the other methodist's mentee


def test_the_desk_counts_only_what_the_methodist_may_read(app, people):
    factories.make_entry(people["author"], visibility=Visibility.PRIVATE)
    page = _as(app, people["methodist"]).get("/mentoring/").text
    anna = _element(page, f"mentee-{people['author']}")
    assert 'data-count="0"' in anna and "datetime=" not in anna and 'class="mentee quiet"' in anna


def test_a_mentees_comment_is_activity(app, people):
    entry = factories.make_entry(people["author"], visibility=Visibility.COLLEAGUES)
    _dated(entry, 40)
    factories.make_comment(entry, people["author"], body="Дополнение")
    anna = _element(_as(app, people["methodist"]).get("/mentoring/").text, f"mentee-{people['author']}")
    assert 'class="mentee"' in anna and 'data-days="0"' in anna


def _comment_dated(entry_id: int, author_id: int, days_ago: float) -> None:
    comment = factories.make_comment(entry_id, author_id)
    db.session.execute(update(Comment).where(Comment.id == comment).values(created_at=utcnow() - timedelta(days=days_ago)))
    db.session.commit()


def test_the_latest_activity_is_the_newest_comment_on_an_entry_the_methodist_may_read(app, people):
    shared = factories.make_entry(people["author"], visibility=Visibility.MENTORS)
    _dated(shared, 40)
    _comment_dated(shared, people["author"], 30)
    _comment_dated(shared, people["author"], 20)
    private = factories.make_entry(people["author"], visibility=Visibility.PRIVATE)  # today, and unseen
    factories.make_comment(private, people["author"])
    anna = _element(_as(app, people["methodist"]).get("/mentoring/").text, f"mentee-{people['author']}")
    assert 'class="mentee quiet"' in anna and 'data-days="20"' in anna
    created = db.session.get(JournalEntry, shared).created_at
    assert f'datetime="{created.isoformat()}Z"' in anna  # the last entry is the shared one, not today's


def test_a_comment_on_someone_elses_entry_out_of_the_methodists_sight_is_not_activity(app, people):
    shared = factories.make_entry(people["author"], visibility=Visibility.COLLEAGUES)
    _dated(shared, 40)
    elsewhere = factories.make_entry(people["librarian"], visibility=Visibility.COLLEAGUES)
    factories.make_comment(elsewhere, people["author"])  # today, while all colleagues could read it
    db.session.execute(update(JournalEntry).where(JournalEntry.id == elsewhere).values(visibility=Visibility.MENTORS))
    db.session.commit()  # now for its author's methodists only, and this methodist is not one
    anna = _element(_as(app, people["methodist"]).get("/mentoring/").text, f"mentee-{people['author']}")
    assert 'class="mentee quiet"' in anna and 'data-days="40"' in anna


def test_an_edit_and_a_comment_elsewhere_are_activity_but_not_a_new_entry(app, people):
    entry = factories.make_entry(people["author"], visibility=Visibility.COLLEAGUES)
    _dated(entry, 40)
    db.session.execute(update(JournalEntry).where(JournalEntry.id == entry)
                       .values(updated_at=utcnow() - timedelta(days=3)))
    db.session.commit()
    page = _as(app, people["methodist"]).get("/mentoring/").text
    anna = _element(page, f"mentee-{people['author']}")
    created = db.session.get(JournalEntry, entry).created_at
    assert f'datetime="{created.isoformat()}Z"' in anna and 'data-days="3"' in anna
    colleagues = factories.make_entry(people["librarian"], visibility=Visibility.COLLEAGUES)
    _comment_dated(colleagues, people["author"], 1)
    anna = _element(_as(app, people["methodist"]).get("/mentoring/").text, f"mentee-{people['author']}")
    assert f'datetime="{created.isoformat()}Z"' in anna and 'data-days="1"' in anna


def test_the_desk_shows_plan_progress(app, people):
    from datetime import date

    from webapp.mentoring.models import Plan, PlanStep, StepStatus
    from webapp.plans.progress import current_year

    plan = Plan(author_id=people["author"], year=current_year(), topic="Чтение вслух")
    plan.steps = [PlanStep(title="Первый", status=StepStatus.DONE), PlanStep(title="Второй", due_date=date(2000, 1, 1)),
                  PlanStep(title="Третий")]
    db.session.add(plan)
    db.session.commit()
    anna = _element(_as(app, people["methodist"]).get("/mentoring/").text, f"mentee-{people['author']}")
    assert 'data-done="1" data-total="3" data-overdue="1"' in anna and 'class="overdue"' in anna
    assert f'href="/plans/{plan.id}"' in anna and "Выполнено шагов: 1 из 3 (33%)" in anna
    english = _as(app, people["methodist"])
    english.post("/account/locale", data={"locale": "en"})
    assert "1 of 3 steps done (33%)" in _element(english.get("/mentoring/").text, f"mentee-{people['author']}")
    db.session.execute(delete(PlanStep).where(PlanStep.plan_id == plan.id, PlanStep.status != StepStatus.DONE))
    db.session.commit()
    assert "1 of 1 step done (100%)" in _element(english.get("/mentoring/").text, f"mentee-{people['author']}")


def test_a_methodist_lands_on_the_desk(client, people):
    response = client.post("/login", data={"login": "ruslana", "password": factories.PASSWORD})
    assert response.status_code == 303 and response.location == "/mentoring/"


# A methodist for a whole school -------------------------------------------------------------------

def _methodists_of(librarian_id: int) -> set[int]:
    return set(db.session.scalars(select(mentorships.c.methodist_id).where(mentorships.c.librarian_id == librarian_id)))


def test_admin_assigns_a_methodist_to_every_librarian_of_a_school(app, people):
    school = db.session.get(User, people["author"]).school_id
    colleague = factories.make_user(login="nina", display_name="Нина Новикова", school_id=school)
    inactive = factories.make_user(login="old", school_id=school, active=False)
    methodist_there = factories.make_user(Role.METHODIST, login="mm", school_id=school)
    elsewhere = people["librarian"]
    other = people["other_methodist"]
    admin = _as(app, people["admin"])
    assert f"/admin/schools/{school}/methodist" in admin.get("/admin/schools").text
    page = admin.get(f"/admin/schools/{school}/methodist")
    assert page.status_code == 200 and f'id="librarian-{colleague}"' in page.text

    response = admin.post(f"/admin/schools/{school}/methodist", data={"methodist": str(other)})
    assert response.status_code == 303
    assert _methodists_of(people["author"]) == {people["methodist"], other}  # the one she had stays
    assert _methodists_of(colleague) == {other} and _methodists_of(inactive) == {other}
    assert _methodists_of(elsewhere) == set() and _methodists_of(methodist_there) == set()

    desk = _as(app, other).get("/mentoring/").text  # at once
    assert f'id="mentee-{people["author"]}"' in desk and f'id="mentee-{colleague}"' in desk
    assert f'id="mentee-{inactive}"' not in desk  # a deactivated account needs no answer

    again = admin.post(f"/admin/schools/{school}/methodist", data={"methodist": str(other)}, headers=FRAGMENT)
    assert again.status_code == 200 and again.text.lstrip().startswith('<div id="school-methodist-panel"')
    assert db.session.scalar(select(func.count()).select_from(mentorships).where(mentorships.c.methodist_id == other)) == 3


def test_bulk_assignment_refuses_what_is_not_a_methodist(app, people):
    admin = _as(app, people["admin"])
    for value in ("", str(people["librarian"]), "junk", str(people["admin"])):
        response = admin.post("/admin/schools/1/methodist", data={"methodist": value}, headers=FRAGMENT)
        assert response.status_code == 422 and 'id="methodist-error"' in response.text
    assert admin.post("/admin/schools/999/methodist", data={"methodist": str(people["methodist"])}).status_code == 404
    assert admin.get("/admin/schools/999/methodist").status_code == 404


@pytest.mark.parametrize("persona", ["author", "librarian", "methodist", "other_methodist"])
def test_bulk_assignment_is_for_administrators_only(app, people, persona):
    client = _as(app, people[persona])
    assert client.get("/admin/schools/1/methodist").status_code == 404
    response = client.post("/admin/schools/1/methodist", data={"methodist": str(people[persona])})
    assert response.status_code == 404
    assert _methodists_of(people["author"]) == {people["methodist"]}


def test_the_answer_forms_carry_their_token(csrf_app):
    from .conftest import csrf_token_from

    author = factories.make_user(login="anna")
    methodist = factories.make_user(Role.METHODIST, login="ruslana")
    admin = factories.make_user(Role.ADMIN, login="root")
    factories.assign_mentor(methodist, author)
    first, second = factories.make_entry(author), factories.make_entry(author)
    client = _as(csrf_app, methodist)
    assert client.post(_status_url(first), data={"feedback-status": "accepted"}).status_code == 400
    assert _answer(client, second, "accepted").status_code == 400
    token = csrf_token_from(client.get(f"/journal/{first}").text)
    assert client.post(_status_url(first), data={"csrf_token": token, "feedback-status": "accepted"}).status_code == 303
    token = csrf_token_from(client.get(f"/mentoring/awaiting/{second}").text)
    assert _answer(client, second, "accepted", csrf_token=token).status_code == 303
    office = _as(csrf_app, admin)
    assert office.post("/admin/schools/1/methodist", data={"methodist": str(methodist)}).status_code == 400
    school = factories.make_school()
    token = csrf_token_from(office.get(f"/admin/schools/{school}/methodist").text)
    assert office.post(f"/admin/schools/{school}/methodist",
                       data={"csrf_token": token, "methodist": str(methodist)}).status_code == 303


def test_the_comment_begun_in_the_pane_is_kept_and_comes_back(client, people):
    from webapp.mentoring.models import CommentDraft

    entry = factories.make_entry(people["author"], title="Запись для ответа")
    login(client, people["methodist"])
    draft = client.post(f"/comments/entry/{entry}/draft", data={"feedback-body": "Начинаю отвечать…"})
    assert draft.status_code == 200
    pane = client.get(f"/mentoring/awaiting/{entry}").text
    assert "Начинаю отвечать…" in pane and f"/comments/entry/{entry}/draft" in pane
    seen = re.search(r'name="draft_seen" value="([0-9a-f]+)"', pane).group(1)  # the pane opened with the draft
    client.post(f"/mentoring/awaiting/{entry}",
                data={"feedback-body": "Начинаю отвечать… и заканчиваю.", "feedback-status": "comment", "draft_seen": seen})
    assert db.session.get(CommentDraft, (people["methodist"], entry)) is None


def test_the_reading_panes_comment_survives_a_stale_token_and_gets_a_fresh_one(csrf_app, monkeypatch):
    import time

    from webapp.mentoring.models import CommentDraft

    from .conftest import csrf_token_from

    author = factories.make_user(login="anna")
    methodist = factories.make_user(Role.METHODIST, login="ruslana")
    factories.assign_mentor(methodist, author)
    entry = factories.make_entry(author)
    client = _as(csrf_app, methodist)
    pane = client.get(f"/mentoring/awaiting/{entry}").text
    url = f"/comments/entry/{entry}/draft"
    seen = re.search(r'name="draft_seen" value="([0-9a-f]*)"', pane).group(1)
    form = {"csrf_token": csrf_token_from(pane), "draft_seen": seen, "feedback-body": "Начало отзыва"}
    assert client.post(url, data=form, headers=FRAGMENT).status_code == 200
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 2 * 3600)  # the token is two hours old now
    saved = client.post(url, data={**form, "feedback-body": "Начало отзыва и ещё полстраницы"}, headers=FRAGMENT)
    assert db.session.get(CommentDraft, (methodist, entry)).body == "Начало отзыва и ещё полстраницы"
    fresh = re.search(r'name="csrf_token" value="[^"]+" id="([^"]+)" hx-swap-oob', saved.text).group(1)
    assert f'id="{fresh}"' in pane  # the pane's own token field takes it
