import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from webapp.extensions import db
from webapp.journal.forms import parse_tags
from webapp.mentoring.models import Notification
from webapp.models import EntryTag, JournalEntry, Visibility

from . import factories
from .conftest import FRAGMENT, login


def test_author_writes_an_entry_and_sees_it_in_the_list(client, people):
    login(client, people["author"])
    response = client.post("/journal/", data={"title": "Неделя чтения", "body": "**Итоги** недели",
                                               "visibility": "mentors", "tags": "чтение", "draft_key": "k" * 12},
                           headers=FRAGMENT)
    assert response.status_code == 201
    assert response.headers["HX-Trigger"] == "entry-saved"
    listing = client.get("/journal/", headers=FRAGMENT)
    assert "Неделя чтения" in listing.text
    assert "<strong>Итоги</strong>" not in listing.text  # the list shows plain excerpts


def test_private_entry_is_404_for_everyone_else(client, people):
    entry = factories.make_entry(people["author"], visibility=Visibility.PRIVATE)
    for other in ("librarian", "methodist", "admin"):
        login(client, people[other])
        assert client.get(f"/journal/{entry}").status_code == 404


def test_an_edited_entry_shows_its_new_text_in_the_list_and_on_its_page(client, people):
    entry = factories.make_entry(people["author"], title="Неделя", body="Старый текст записи")
    login(client, people["author"])
    saved = client.post(f"/journal/{entry}", data={"title": "Неделя", "body": "Новый **итог** недели",
                                                     "visibility": "mentors", "tags": "", "version": "1"})
    assert saved.status_code == 303
    listing = client.get("/journal/").text
    assert "Новый итог недели" in listing and "Старый текст" not in listing
    page = client.get(f"/journal/{entry}").text
    assert "Новый <strong>итог</strong> недели" in page and "Старый текст" not in page


def test_the_new_entry_form_comes_back_at_the_level_of_the_page_it_was_sent_from(client, people):
    """Under «Мой журнал» the editor is a section (h2); on a page of its own it is the page's h1."""
    login(client, people["author"])
    for page, level in (("/journal/", "h2"), ("/journal/new", "h1")):
        assert f'name="heading" value="{level}"' in client.get(page).text
        for title, status in (("", 422), ("Запись", 201)):  # refused, then saved
            response = client.post("/journal/", data={"title": title, "body": "Текст", "visibility": "mentors",
                                                      "heading": level}, headers=FRAGMENT)
            answer = response.text
            assert response.status_code == status
            assert f"<{level}>Новая запись</{level}>" in answer and answer.count("<h1") == (level == "h1")


def test_a_tag_in_the_colleagues_feed_shows_the_colleagues_entries_with_it(client, people):
    tagged = factories.make_entry(people["librarian"], visibility=Visibility.COLLEAGUES, title="Музей школы",
                                  tags=("краеведение",))
    factories.make_entry(people["librarian"], visibility=Visibility.MENTORS, title="Для методиста", tags=("краеведение",))
    factories.make_entry(people["librarian"], visibility=Visibility.COLLEAGUES, title="Без метки")
    factories.make_entry(people["author"], visibility=Visibility.COLLEAGUES, title="Моя о крае", tags=("краеведение",))
    login(client, people["author"])
    feed = client.get("/journal/feed").text
    assert 'href="/journal/feed?tag=%D0%BA%D1%80%D0%B0%D0%B5%D0%B2%D0%B5%D0%B4%D0%B5%D0%BD%D0%B8%D0%B5"' in feed
    filtered = client.get("/journal/feed?tag=краеведение").text
    assert "Записи с меткой #краеведение." in filtered
    assert f'id="entry-{tagged}"' in filtered
    assert all(title not in filtered for title in ("Для методиста", "Без метки", "Моя о крае"))


def test_every_entry_in_a_list_shows_its_own_tags_in_order(client, people):
    several = factories.make_entry(people["librarian"], visibility=Visibility.COLLEAGUES, title="Три метки",
                                   tags=("чтение", "клуб", "афиша"))
    one = factories.make_entry(people["librarian"], visibility=Visibility.COLLEAGUES, title="Одна", tags=("клуб",))
    none = factories.make_entry(people["librarian"], visibility=Visibility.COLLEAGUES, title="Без меток")
    login(client, people["librarian"])

    def tags_of(page: str, entry_id: int) -> list[str]:
        article = re.search(rf'<article id="entry-{entry_id}".*?</article>', page, re.S).group(0)
        return re.findall(r'class="tag"[^>]*>#([^<]+)</a>', article)

    for page in (client.get("/journal/").text, client.get("/journal/?tag=клуб").text):
        assert tags_of(page, several) == ["афиша", "клуб", "чтение"]
        assert tags_of(page, one) == ["клуб"]
    assert tags_of(client.get("/journal/").text, none) == []
    login(client, people["author"])
    assert tags_of(client.get("/journal/feed").text, several) == ["афиша", "клуб", "чтение"]
    entry_page = client.get(f"/journal/{several}").text
    assert re.findall(r"<li>#([^<]+)</li>", re.search(r'<ul class="tags">.*?</ul>', entry_page, re.S).group(0)) == [
        "афиша", "клуб", "чтение"]
    # An edit saved from the entry's page (htmx): the entry comes back in its place, its tags in order.
    edit = {"title": "Три метки", "body": "Текст", "visibility": "colleagues", "tags": "чтение, афиша, клуб, выставка",
            "version": "1"}
    login(client, people["librarian"])
    saved = client.post(f"/journal/{several}", data=edit, headers=FRAGMENT)
    assert saved.status_code == 200
    assert re.findall(r"<li>#([^<]+)</li>", re.search(r'<ul class="tags">.*?</ul>', saved.text, re.S).group(0)) == [
        "афиша", "выставка", "клуб", "чтение"]


def test_my_journal_filters_by_who_can_see_an_entry_and_by_tag(client, people):
    made = {(visibility, tag): factories.make_entry(people["author"], visibility=visibility, title=f"{visibility} {tag}",
                                                    tags=(tag,))
            for visibility in (Visibility.PRIVATE, Visibility.MENTORS) for tag in ("чтение", "клуб")}
    factories.make_entry(people["librarian"], visibility=Visibility.COLLEAGUES, title="Чужая", tags=("чтение",))
    login(client, people["author"])

    def shown(query: str) -> set:
        page = client.get(f"/journal/?{query}").text
        assert "Чужая" not in page
        return {key for key, entry in made.items() if f'id="entry-{entry}"' in page}

    assert shown("") == set(made)
    assert shown("visibility=private") == {(Visibility.PRIVATE, "чтение"), (Visibility.PRIVATE, "клуб")}
    assert shown("tag=клуб") == {(Visibility.PRIVATE, "клуб"), (Visibility.MENTORS, "клуб")}
    assert shown("visibility=mentors&tag=чтение") == {(Visibility.MENTORS, "чтение")}


def test_my_journal_s_tag_filter_offers_each_of_my_tags_once_and_no_one_else_s(client, people):
    factories.make_entry(people["author"], tags=("чтение", "клуб"))
    factories.make_entry(people["author"], visibility=Visibility.PRIVATE, tags=("клуб", "афиша"))
    gone = factories.make_entry(people["author"], tags=("выставка",))
    edited = factories.make_entry(people["author"], tags=("краеведение", "чтение"))
    factories.make_entry(people["librarian"], visibility=Visibility.COLLEAGUES, tags=("чужой",))
    login(client, people["author"])
    assert client.post(f"/journal/{gone}/delete").status_code == 303
    entry = db.session.get(JournalEntry, edited)
    saved = client.post(f"/journal/{edited}", data={"title": entry.title, "body": entry.body, "visibility": "mentors",
                                                    "tags": "чтение, театр", "version": entry.version})
    assert saved.status_code == 303

    offered = re.search(r'<select id="filter-tag".*?</select>', client.get("/journal/").text, re.S).group(0)
    assert re.findall(r'<option value="([^"]+)"', offered) == ["афиша", "клуб", "театр", "чтение"]


def test_a_tag_never_names_another_author_than_its_entry_s(app, people):
    entry = factories.make_entry(people["author"], tags=("чтение",))
    assert db.session.scalars(select(EntryTag.author_id).where(EntryTag.entry_id == entry)).all() == [people["author"]]
    db.session.add(EntryTag(entry_id=entry, author_id=people["librarian"], name="чужой"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


# Sent again: the answer to «Сохранить» was lost and the button pressed again, or a plain form's twice

def _entries_of(user_id: int) -> list[int]:
    return list(db.session.scalars(select(JournalEntry.id).where(JournalEntry.author_id == user_id)))


def _new_entry(client, body: str, headers=None, title: str = "Итоги четверти", **fields):
    return client.post("/journal/", data={"title": title, "body": body, "visibility": "mentors", "tags": "",
                                          "draft_key": "k" * 12, **fields}, headers=headers or {})


def test_a_new_entry_sent_again_is_saved_and_told_once(client, people):
    login(client, people["author"])
    first = _new_entry(client, "Провела три урока\r\nв читальном зале.", headers=FRAGMENT)
    again = _new_entry(client, "Провела три урока\nв читальном зале.\n", headers=FRAGMENT)
    assert first.status_code == again.status_code == 201
    (entry,) = _entries_of(people["author"])
    assert f'href="/journal/{entry}"' in again.text and again.headers["HX-Trigger"] == "entry-saved"
    assert db.session.scalar(select(func.count(Notification.id))
                             .where(Notification.recipient_id == people["methodist"])) == 1


def test_a_plain_entry_form_sent_twice_saves_once(client, people):
    login(client, people["author"])
    first, second = (_new_entry(client, "Текст без скриптов.") for _ in range(2))
    assert first.status_code == second.status_code == 303
    assert second.location == first.location and len(_entries_of(people["author"])) == 1


def test_another_text_or_the_same_ten_minutes_later_is_a_new_entry(client, people):
    login(client, people["author"])
    _new_entry(client, "Первый текст.")
    _new_entry(client, "Первый текст.", title="Другой заголовок")
    _new_entry(client, "Второй текст.")
    assert len(_entries_of(people["author"])) == 3
    for entry in db.session.scalars(select(JournalEntry)):
        entry.created_at -= timedelta(minutes=10)
    db.session.commit()
    _new_entry(client, "Второй текст.")
    assert len(_entries_of(people["author"])) == 4


@pytest.mark.parametrize("changed", [{"visibility": "private"}, {"tags": "личное"}], ids=["private now", "a tag"])
def test_the_same_text_sent_again_with_other_settings_is_saved_as_asked(client, people, changed):
    """The answer was lost, and before pressing again the person made the entry private (or
    tagged it): the second entry is what they asked for, not the first one reported as saved."""
    login(client, people["author"])
    _new_entry(client, "Провела урок.", visibility="colleagues")
    _new_entry(client, "Провела урок.", **{"visibility": "colleagues", **changed})
    newest = db.session.scalar(select(JournalEntry).options(selectinload(JournalEntry.tags))
                               .order_by(JournalEntry.id.desc()).limit(1))
    assert len(_entries_of(people["author"])) == 2
    assert (newest.visibility, list(newest.tag_names)) == (changed.get("visibility", "colleagues"), parse_tags(changed.get("tags", "")))


@pytest.mark.parametrize("headers", [{}, FRAGMENT], ids=["plain form", "htmx"])
def test_an_edit_sent_again_is_saved_not_a_conflict(client, people, headers):
    entry = factories.make_entry(people["author"], title="Неделя", body="Старый текст")
    login(client, people["author"])
    edit = {"title": "Неделя", "body": "Новый текст\r\nв две строки", "visibility": "mentors", "tags": "чтение",
            "version": "1"}
    first, again = (client.post(f"/journal/{entry}", data=edit, headers=headers) for _ in range(2))
    assert first.status_code == again.status_code == (200 if headers else 303)
    assert db.session.scalar(select(JournalEntry.version).where(JournalEntry.id == entry)) == 2
    other_tab = client.post(f"/journal/{entry}", data={**edit, "body": "Текст из другой вкладки"}, headers=headers)
    assert other_tab.status_code == 409
