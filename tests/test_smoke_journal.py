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
