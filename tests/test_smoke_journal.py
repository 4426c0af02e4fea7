from webapp.models import Visibility

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
