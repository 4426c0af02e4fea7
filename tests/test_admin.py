"""Administration, as an administrator (and everyone else) uses it: people, links, mentorships, schools."""
from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import func, select, update

from webapp.extensions import db
from webapp.models import AccountLink, School, User, Visibility, utcnow

from . import factories
from .conftest import FRAGMENT, csrf_token_from, login

NEW_PERSON = {"login": "irina", "display_name": "Ирина Волкова", "role": "librarian", "school_id": "", "locale": "ru"}


def _link_on(html: str) -> str:
    """The path of the one-time link shown on an admin page."""
    match = re.search(r'value="https?://[^/"]+(/invite/[^"]+)"', html)
    assert match, "no invitation link on the page"
    return match.group(1)


def _says(html: str, phrase: str) -> bool:
    """Whether the page shows the phrase as whole words (so "1 человек" does not match "11 человек" or "1 человека")."""
    return re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", html) is not None


def _create(client, **fields):
    return client.post("/admin/users", data={**NEW_PERSON, **fields}, follow_redirects=True)


@pytest.fixture
def admin(client, people):
    return login(client, people["admin"])


def _client_as(app, user_id):
    return login(app.test_client(), user_id)


# Creating people and their one-time links ----------------------------------------------------------

def test_admin_creates_a_person_and_sees_the_invitation_link_once(admin):
    page = _create(admin, school_id="1")
    assert page.status_code == 200
    assert page.request.path.startswith("/admin/users/")
    assert "Ирина Волкова" in page.text
    assert "/invite/" in page.text
    assert "Она действует 72 часа и срабатывает только один раз." in page.text
    assert "Ссылка показана только сейчас" in page.text
    again = admin.get(page.request.path)  # a reload: the link was shown once and is gone
    assert again.status_code == 200
    assert "/invite/" not in again.text
    listing = admin.get("/admin/?q=irina")
    assert "Ирина Волкова" in listing.text and "Гимназия №3" in listing.text


def test_the_invitation_link_works_once(app, admin):
    link = _link_on(_create(admin).text)
    guest = app.test_client()
    assert guest.get(link).status_code == 200
    done = guest.post(link, data={"password": "новый-пароль-1", "repeat": "новый-пароль-1"})
    assert done.status_code == 303
    assert done.headers["Location"].endswith("/journal/")
    assert guest.get("/journal/").status_code == 200  # signed in as the new person
    again = app.test_client().get(link)  # used up: it opens no form again
    assert again.status_code == 410 and 'name="password"' not in again.text
    assert "Пароль по этой ссылке уже задан." in again.text
    db.session.execute(update(AccountLink).values(used_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    later = app.test_client().get(link)
    assert later.status_code == 404 and "Эта ссылка больше не действует." in later.text


def test_an_expired_link_is_refused(app, admin):
    link = _link_on(_create(admin).text)
    db.session.execute(update(AccountLink).values(expires_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    guest = app.test_client()
    assert guest.get(link).status_code == 404
    assert guest.post(link, data={"password": "новый-пароль-1", "repeat": "новый-пароль-1"}).status_code == 404


def test_a_new_link_replaces_the_unused_one(app, admin, people):
    first = _link_on(admin.post(f"/admin/users/{people['librarian']}/link", follow_redirects=True).text)
    second_page = admin.post(f"/admin/users/{people['librarian']}/link", headers=FRAGMENT)
    assert second_page.status_code == 200
    assert second_page.text.lstrip().startswith('<section id="access-panel"')  # only the section
    second = _link_on(second_page.text)
    assert "Выдать ссылку для смены пароля" in second_page.text  # she has a password already: this is a reset link
    guest = app.test_client()
    assert guest.get(first).status_code == 404
    assert guest.get(second).status_code == 200


def test_no_link_for_a_deactivated_account(admin):
    person = factories.make_user(login="gone", display_name="Ушедшая", active=False)
    response = admin.post(f"/admin/users/{person}/link", headers=FRAGMENT)
    assert response.status_code == 409
    assert "Сначала откройте доступ, затем выдайте ссылку." in response.text
    assert "/invite/" not in response.text


def test_a_duplicate_login_keeps_what_was_typed(admin):
    response = admin.post("/admin/users", data={**NEW_PERSON, "login": "ANNA", "display_name": "Анна Новикова"})
    assert response.status_code == 422
    assert "Логин anna уже занят." in response.text
    assert 'value="ANNA"' in response.text
    assert 'value="Анна Новикова"' in response.text
    fragment = admin.post("/admin/users", data={**NEW_PERSON, "login": "anna"}, headers=FRAGMENT)
    assert fragment.status_code == 422
    assert "<html" not in fragment.text
    assert fragment.text.lstrip().startswith('<form id="user-form"')
    assert "уже занят." in fragment.text


@pytest.mark.parametrize(("fields", "message"), [
    ({"display_name": "   "}, "Введите имя и фамилию."),
    ({"login": ""}, "Введите логин."),
    ({"login": "анна"}, "Логин — от 2 до 64 символов: латинские буквы"),
    ({"role": "superuser"}, "Выберите роль из списка."),
    ({"school_id": "999"}, "Выберите школу из списка."),
    ({"school_id": "²"}, "Выберите школу из списка."),
    ({"locale": "de"}, "Выберите язык из списка."),
])
def test_invalid_new_person_gets_a_message(admin, fields, message):
    response = admin.post("/admin/users", data={**NEW_PERSON, **fields})
    assert response.status_code == 422
    assert message in response.text
    assert admin.get("/admin/?q=irina").text.count("Ирина Волкова") == 0


def test_a_new_person_sent_again_is_created_once_with_a_new_link(app, admin):
    """The answer to «Создать» was lost (its link with it) and the button pressed again: the same
    account, and a new link in place of the one nobody saw."""
    first = _link_on(_create(admin, school_id="1").text)
    again = _create(admin, school_id="1", display_name="Ирина  Волкова ")
    assert again.status_code == 200 and "Ирина Волкова" in again.text
    second = _link_on(again.text)
    assert db.session.scalar(select(func.count(User.id)).where(User.login == "irina")) == 1
    assert app.test_client().get(first).status_code == 404
    assert app.test_client().get(second).status_code == 200
    htmx = admin.post("/admin/users", data={**NEW_PERSON, "school_id": "1"}, headers=FRAGMENT)
    assert htmx.status_code == 204 and htmx.headers["HX-Redirect"] == again.request.path


@pytest.mark.parametrize("change", ["other name", "other school", "signed in since", "deactivated since", "ten minutes later"])
def test_a_taken_login_is_refused_unless_it_is_the_same_form_again(app, admin, change):
    link = _link_on(_create(admin).text)
    fields = {}
    if change == "other name":
        fields = {"display_name": "Ирина Смирнова"}
    elif change == "other school":
        fields = {"school_id": "1"}
    elif change == "signed in since":
        app.test_client().post(link, data={"password": "новый-пароль-1", "repeat": "новый-пароль-1"})
    elif change == "deactivated since":
        admin.post(f"/admin/users/{db.session.scalar(select(User.id).where(User.login == 'irina'))}/deactivate")
    else:
        db.session.execute(update(User).where(User.login == "irina").values(created_at=utcnow() - timedelta(minutes=10)))
        db.session.commit()
    response = admin.post("/admin/users", data={**NEW_PERSON, **fields})
    assert response.status_code == 422 and "Логин irina уже занят." in response.text
    assert db.session.scalar(select(func.count(User.id)).where(User.login == "irina")) == 1


def test_htmx_create_redirects_to_the_person_page(admin):
    response = admin.post("/admin/users", data=NEW_PERSON, headers=FRAGMENT)
    assert response.status_code == 204
    page = admin.get(response.headers["HX-Redirect"])
    assert "/invite/" in page.text


def test_forms_carry_a_csrf_token(csrf_app):
    admin_id = factories.make_user("admin", login="root", display_name="Главный администратор")
    client = login(csrf_app.test_client(), admin_id)
    form = client.get("/admin/users/new")
    assert client.post("/admin/users", data=NEW_PERSON).status_code == 400  # no token
    token = csrf_token_from(form.text)
    created = client.post("/admin/users", data={**NEW_PERSON, "csrf_token": token})
    assert created.status_code == 303
    schools = client.get("/admin/schools")
    assert client.post("/admin/schools", data={"name": "Школа №7", "csrf_token": csrf_token_from(schools.text)}).status_code == 303


# Editing, deactivating -----------------------------------------------------------------------------

def test_admin_edits_a_person(admin, people):
    url = f"/admin/users/{people['librarian']}"
    response = admin.post(url, data={"login": "olga.p", "display_name": "Ольга Петрова-Сидорова", "role": "librarian",
                                      "school_id": "1", "locale": "en"})
    assert response.status_code == 303
    page = admin.get(url)
    assert "Ольга Петрова-Сидорова" in page.text and "olga.p" in page.text and "Гимназия №3" in page.text
    fragment = admin.post(url, data={"login": "olga.p", "display_name": "Ольга П.", "role": "librarian",
                                     "school_id": "", "locale": "ru"}, headers=FRAGMENT)
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<form id="user-form"')
    assert "Изменения сохранены." in fragment.text
    head = re.search(r'<header id="user-head" hx-swap-oob="true">.*?</header>', fragment.text, re.S)
    assert head and "<h1>Ольга П.</h1>" in head.group(0)  # the page's heading shows the new name at once


def _user_form(page: str) -> dict:
    """The account form as the browser sends it: its fields as they are on the page."""
    form = re.search(r'<form id="user-form".*?</form>', page, re.S).group(0)
    data = {name: unescape(value) for name, value in
            re.findall(r'<input[^>]*name="(login|display_name|profile_base)"[^>]*value="([^"]*)"', form)}
    for name in ("role", "school_id", "locale"):
        select_ = re.search(rf'<select[^>]*name="{name}".*?</select>', form, re.S).group(0)
        chosen = re.search(r'<option selected value="([^"]*)"|<option value="([^"]*)" selected', select_)
        data[name] = (chosen.group(1) or chosen.group(2)) if chosen else ""
    return data


@pytest.mark.parametrize("headers", [None, FRAGMENT])
def test_two_administrators_editing_one_account_overwrite_nothing_silently(app, people, headers):
    url = f"/admin/users/{people['librarian']}"
    tab_a, tab_b = (login(app.test_client(), people["admin"]) for _ in range(2))
    form_a, form_b = (_user_form(tab.get(url).text) for tab in (tab_a, tab_b))
    assert form_a["profile_base"] and form_a["display_name"] == "Ольга Петрова"
    assert tab_a.post(url, data={**form_a, "display_name": "Ольга Петрова-Сидорова", "school_id": "1"}).status_code == 303
    refused = tab_b.post(url, data={**form_b, "display_name": "Ольга Н. Петрова"}, headers=headers)
    assert refused.status_code == 409
    text = unescape(refused.text)
    assert "данные этой учётной записи сохранил кто-то другой" in text
    assert "«Ольга Петрова-Сидорова», логин olga, роль: педагог-библиотекарь, школа «Гимназия №3», язык: Русский" in text
    assert db.session.get(User, people["librarian"]).display_name == "Ольга Петрова-Сидорова"  # nothing of B's saved
    again = _user_form(refused.text)
    assert again["display_name"] == "Ольга Н. Петрова" and again["school_id"] == "2"  # what B sent stays
    assert tab_b.post(url, data=again, headers=headers).status_code == (200 if headers else 303)  # saved again, knowingly
    db.session.expire_all()
    olga = db.session.get(User, people["librarian"])
    assert (olga.display_name, olga.school_id) == ("Ольга Н. Петрова", 2)
    # The same details saved from both tabs are no conflict; nor is a form from a page without the field.
    assert tab_b.post(url, data={**again, "profile_base": form_b["profile_base"]}).status_code == 303
    older = {k: v for k, v in form_a.items() if k != "profile_base"}
    assert tab_a.post(url, data={**older, "display_name": "Ольга Петровна"}).status_code == 303
    db.session.expire_all()
    assert db.session.get(User, people["librarian"]).display_name == "Ольга Петровна"


def test_renaming_to_a_taken_login_is_refused(admin, people):
    response = admin.post(f"/admin/users/{people['librarian']}",
                          data={"login": "ruslana", "display_name": "Ольга", "role": "librarian", "school_id": "", "locale": "ru"},
                          headers=FRAGMENT)
    assert response.status_code == 422
    assert "Логин ruslana уже занят." in response.text
    assert 'value="ruslana"' in response.text
    # keeping one's own login is no conflict
    same = admin.post(f"/admin/users/{people['librarian']}",
                      data={"login": "olga", "display_name": "Ольга", "role": "librarian", "school_id": "", "locale": "ru"})
    assert same.status_code == 303


def test_an_admin_cannot_demote_or_deactivate_themselves(admin, people):
    me = f"/admin/users/{people['admin']}"
    demoted = admin.post(me, data={"login": "admin", "display_name": "Администратор", "role": "librarian",
                                   "school_id": "", "locale": "ru"})
    assert demoted.status_code == 422
    assert "Нельзя снять роль администратора с самого себя." in demoted.text
    deactivated = admin.post(f"{me}/deactivate")
    assert deactivated.status_code == 409
    assert "Нельзя отключить доступ к собственной учётной записи." in deactivated.text
    page = admin.get(me)
    assert "Учётная запись действует." in page.text
    assert f'action="{me}/deactivate"' not in page.text  # no such button on one's own page


def test_deactivating_signs_the_person_out(app, admin, people):
    olga = _client_as(app, people["librarian"])
    assert olga.get("/journal/").status_code == 200
    form_page = admin.get(f"/admin/users/{people['librarian']}")
    assert 'hx-confirm="Отключить доступ к Росту? Пользователь: Ольга Петрова.' in form_page.text
    response = admin.post(f"/admin/users/{people['librarian']}/deactivate", headers=FRAGMENT)
    assert response.status_code == 200
    assert "Ольга Петрова: доступ отключён, все сеансы завершены." in response.text
    assert "<html" not in response.text
    after = olga.get("/journal/")
    assert after.status_code == 302
    assert after.headers["Location"].startswith("/login")
    sign_in = app.test_client().post("/login", data={"login": "olga", "password": factories.PASSWORD})
    assert sign_in.status_code == 422
    listing = admin.get("/admin/?q=olga")
    assert "доступ отключён" in listing.text


def test_activating_lets_the_person_back_in(app, admin):
    person = factories.make_user(login="back", display_name="Вернувшаяся", active=False)
    response = admin.post(f"/admin/users/{person}/activate")
    assert response.status_code == 303
    assert "Вернувшаяся снова может входить в Рост." in admin.get(response.headers["Location"]).text
    assert app.test_client().post("/login", data={"login": "back", "password": factories.PASSWORD}).status_code == 303


# Mentorships ---------------------------------------------------------------------------------------

def test_assigning_a_methodist_shares_mentors_entries_and_removing_unshares(app, admin, people):
    entry = factories.make_entry(people["author"], visibility=Visibility.MENTORS, title="Итоги недели чтения")
    lidia = _client_as(app, people["other_methodist"])
    assert lidia.get(f"/journal/{entry}").status_code == 404
    url = f"/admin/users/{people['author']}/methodists"
    both = admin.post(url, data={"methodists": [str(people["methodist"]), str(people["other_methodist"])]})
    assert both.status_code == 303
    assert lidia.get(f"/journal/{entry}").status_code == 200
    only_ruslana = admin.post(url, data={"methodists": [str(people["methodist"])]}, headers=FRAGMENT)
    assert only_ruslana.status_code == 200
    assert only_ruslana.text.lstrip().startswith('<form id="methodists-panel"')
    assert "Методисты сохранены." in only_ruslana.text
    assert lidia.get(f"/journal/{entry}").status_code == 404
    assert _client_as(app, people["methodist"]).get(f"/journal/{entry}").status_code == 200


def test_methodist_checkboxes_and_mentees(admin, people):
    librarian_page = admin.get(f"/admin/users/{people['author']}").text
    assert re.search(rf'<input checked id="methodists-\d+" name="methodists" type="checkbox" value="{people["methodist"]}">', librarian_page)
    assert f'value="{people["other_methodist"]}"' in librarian_page
    methodist_page = admin.get(f"/admin/users/{people['methodist']}").text
    assert "Подопечные" in methodist_page and "Анна Смирнова" in methodist_page
    assert 'id="methodists-panel"' not in methodist_page
    listing = admin.get("/admin/").text
    assert _says(listing, "1 методист") and _says(listing, "1 подопечный")


def test_only_methodists_from_the_list_can_be_assigned(admin, people):
    url = f"/admin/users/{people['author']}/methodists"
    response = admin.post(url, data={"methodists": [str(people["librarian"])]})
    assert response.status_code == 422
    assert "Выберите методистов из списка." in response.text
    assert admin.post(f"/admin/users/{people['methodist']}/methodists", data={}).status_code == 404


def test_a_role_change_ends_the_old_mentorships(app, admin, people):
    entry = factories.make_entry(people["author"], visibility=Visibility.MENTORS)
    ruslana = _client_as(app, people["methodist"])
    assert ruslana.get(f"/journal/{entry}").status_code == 200
    response = admin.post(f"/admin/users/{people['methodist']}", headers=FRAGMENT,
                          data={"login": "ruslana", "display_name": "Руслана Трач", "role": "librarian", "school_id": "", "locale": "ru"})
    assert response.status_code == 204 and response.headers["HX-Redirect"] == f"/admin/users/{people['methodist']}"
    assert ruslana.get(f"/journal/{entry}").status_code == 404
    assert _says(admin.get(f"/admin/?q={'Анна'}").text, "0 методистов")


# The people list -----------------------------------------------------------------------------------

def test_search_answers_a_fragment_to_htmx_and_a_page_otherwise(admin):
    fragment = admin.get("/admin/?q=анна", headers=FRAGMENT)
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert fragment.text.lstrip().startswith('<section id="people-table"')
    assert "Анна Смирнова" in fragment.text and "Ольга Петрова" not in fragment.text
    assert "HX-Request" in fragment.headers["Vary"]
    page = admin.get("/admin/?q=анна")
    assert "<html" in page.text
    assert 'hx-trigger="input changed delay:300ms, search"' in page.text
    assert 'value="анна"' in page.text  # the search box keeps the query
    assert "Анна Смирнова" in page.text and "Ольга Петрова" not in page.text
    assert "<th" in page.text
    assert page.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(("query", "found", "missing"), [
    ("role=methodist", ["Руслана Трач", "Лидия Карма"], ["Анна Смирнова"]),
    ("school=2", ["Ольга Петрова"], ["Анна Смирнова", "Руслана Трач"]),
    ("school=none&role=admin", ["Администратор"], ["Руслана Трач"]),
    ("q=RUSL", ["Руслана Трач"], ["Лидия Карма"]),
    ("q=%25", [], ["Анна Смирнова"]),  # a literal percent sign matches nothing here
])
def test_people_filters(admin, query, found, missing):
    text = admin.get(f"/admin/?{query}").text
    for name in found:
        assert name in text
    for name in missing:
        assert name not in text


def test_people_pages_keep_the_filters(app, admin):
    app.config["PEOPLE_PER_PAGE"] = 2
    first = admin.get("/admin/?q=а&school=")  # five people have an "а" in their name
    assert "Страница 1" in first.text
    next_page = re.search(r'<a rel="next" href="([^"]+)" hx-get="[^"]+" hx-target="#people-table"', first.text)
    assert next_page and "q=%D0%B0" in next_page.group(1) and "page=2" in next_page.group(1)
    assert "Следующая →" in first.text and "Старше" not in first.text
    second = admin.get(next_page.group(1).replace("&amp;", "&"), headers=FRAGMENT)
    assert second.status_code == 200
    assert "Страница 2" in second.text and 'rel="prev"' in second.text


@pytest.mark.parametrize("junk", ["page=abc", "school=abc", "role=%00", "school=99999999999999999999", "page=-1"])
def test_junk_in_the_query_string_is_harmless(admin, junk):
    assert admin.get(f"/admin/?{junk}").status_code == 200


# Schools -------------------------------------------------------------------------------------------

def test_schools_are_added_renamed_and_counted(admin):
    page = admin.get("/admin/schools")
    assert "Гимназия №3" in page.text and _says(page.text, "1 человек")
    added = admin.post("/admin/schools", data={"name": "  Школа   №12 "})
    assert added.status_code == 303
    page = admin.get("/admin/schools").text
    assert "Школа №12" in page and _says(page, "0 человек")
    fragment = admin.post("/admin/schools", data={"name": "Школа №5"}, headers=FRAGMENT)
    assert fragment.status_code == 201
    assert fragment.text.lstrip().startswith('<div id="schools-panel"')
    assert "Школа №5" in fragment.text
    renamed = admin.post("/admin/schools/1", data={"school-1-name": "Гимназия №3 имени Пушкина"}, headers=FRAGMENT)
    assert renamed.status_code == 200
    assert renamed.text.lstrip().startswith('<form id="school-1"')
    assert "Гимназия №3 имени Пушкина" in admin.get("/admin/schools").text


@pytest.mark.parametrize("headers", [None, FRAGMENT])
def test_two_administrators_renaming_one_school_overwrite_nothing_silently(app, people, headers):
    tab_a, tab_b = (login(app.test_client(), people["admin"]) for _ in range(2))
    base_a, base_b = (re.search(r'name="school-1-name_base"[^>]*value="([0-9a-f]+)"', tab.get("/admin/schools").text).group(1)
                      for tab in (tab_a, tab_b))
    assert tab_a.post("/admin/schools/1", data={"school-1-name": "Гимназия №3 имени Пушкина",
                                                "school-1-name_base": base_a}).status_code == 303
    refused = tab_b.post("/admin/schools/1", data={"school-1-name": "Гимназия №3 г. Энска", "school-1-name_base": base_b},
                         headers=headers)
    assert refused.status_code == 409
    text = unescape(refused.text)
    assert "школу переименовали в «Гимназия №3 имени Пушкина»" in text and 'value="Гимназия №3 г. Энска"' in text
    assert db.session.get(School, 1).name == "Гимназия №3 имени Пушкина"
    base = re.search(r'name="school-1-name_base"[^>]*value="([0-9a-f]+)"', refused.text).group(1)
    again = tab_b.post("/admin/schools/1", data={"school-1-name": "Гимназия №3 г. Энска", "school-1-name_base": base},
                       headers=headers)
    assert again.status_code == (200 if headers else 303)
    db.session.expire_all()
    assert db.session.get(School, 1).name == "Гимназия №3 г. Энска"
    # The same name from both tabs is no conflict.
    assert tab_a.post("/admin/schools/1", data={"school-1-name": "Гимназия №3 г. Энска",
                                                "school-1-name_base": base_a}).status_code == 303


@pytest.mark.parametrize("headers", [None, FRAGMENT])
def test_a_school_form_sent_twice_adds_one_school_and_says_so_both_times(admin, headers):
    for _ in range(2):  # the button pressed twice, or the answer lost and the form sent again
        added = admin.post("/admin/schools", data={"name": "Школа №12"}, headers=headers)
        assert added.status_code == (201 if headers else 303)
        assert "уже есть" not in added.text
    assert "Школа «Школа №12» добавлена." in (added.text if headers else admin.get("/admin/schools").text)
    assert db.session.scalar(select(func.count()).select_from(School).where(School.name == "Школа №12")) == 1


def test_duplicate_school_names_are_refused(admin):
    duplicate = admin.post("/admin/schools", data={"name": "лицей №1"})
    assert duplicate.status_code == 422
    assert "Школа «Лицей №1» уже есть." in duplicate.text
    assert 'value="лицей №1"' in duplicate.text
    rename = admin.post("/admin/schools/1", data={"school-1-name": "Лицей №1"}, headers=FRAGMENT)
    assert rename.status_code == 422
    assert "<html" not in rename.text
    assert 'value="Лицей №1"' in rename.text and "уже есть. Выберите другое название." in rename.text
    plain = admin.post("/admin/schools/1", data={"school-1-name": "Лицей №1"})
    assert plain.status_code == 422 and "<html" in plain.text and 'id="school-1-name-error"' in plain.text
    assert admin.post("/admin/schools", data={"name": ""}).status_code == 422
    assert admin.post("/admin/schools/999", data={"school-999-name": "Новая"}).status_code == 404


# Who may come in -----------------------------------------------------------------------------------

ROUTES = [
    ("get", "/admin/"),
    ("get", "/admin/?q=anna"),
    ("get", "/admin/users/new"),
    ("post", "/admin/users"),
    ("get", "/admin/users/{author}"),
    ("post", "/admin/users/{author}"),
    ("post", "/admin/users/{author}/link"),
    ("post", "/admin/users/{author}/deactivate"),
    ("post", "/admin/users/{author}/activate"),
    ("post", "/admin/users/{author}/methodists"),
    ("get", "/admin/schools"),
    ("post", "/admin/schools"),
    ("post", "/admin/schools/1"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
@pytest.mark.parametrize("persona", ["author", "methodist"])
def test_everyone_but_administrators_gets_404(client, people, persona, method, path):
    login(client, people[persona])
    response = getattr(client, method)(path.format(**people), data={**NEW_PERSON, "name": "Школа"})
    assert response.status_code == 404
    assert getattr(client, method)(path.format(**people), headers=FRAGMENT).status_code == 404


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_signed_out_visitors_are_sent_to_sign_in(client, people, method, path):
    response = getattr(client, method)(path.format(**people))
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    htmx = getattr(client, method)(path.format(**people), headers=FRAGMENT)
    assert htmx.status_code == 401 and htmx.headers["HX-Redirect"].startswith("/login")


def test_unknown_people_and_huge_ids_are_404(admin):
    for path in ("/admin/users/999", "/admin/users/99999999999999999999"):
        assert admin.get(path).status_code == 404
    assert admin.post("/admin/users/99999999999999999999/link").status_code == 404
    assert admin.post("/admin/schools/99999999999999999999", data={}).status_code == 404


def test_admin_pages_never_show_entry_text(admin, people):
    factories.make_entry(people["author"], visibility=Visibility.PRIVATE, title="Тайное название",
                         body="Совсем личный текст о сомнениях")
    factories.make_entry(people["author"], visibility=Visibility.MENTORS, title="Для методиста",
                         body="Текст для наставника")
    pages = ["/admin/", "/admin/?q=анна", f"/admin/users/{people['author']}", f"/admin/users/{people['methodist']}",
             "/admin/schools", "/admin/users/new"]
    for path in pages:
        text = admin.get(path).text
        for secret in ("Тайное название", "Совсем личный текст", "Для методиста", "Текст для наставника"):
            assert secret not in text, path


def test_typed_names_are_escaped_in_messages(admin):
    school = factories.make_school("<b>Школа</b>")
    db.session.execute(update(School).where(School.id == school).values(created_at=utcnow() - timedelta(days=1)))
    db.session.commit()  # added long ago: sending its name is a duplicate, not the same form again
    factories.make_user("methodist", login="meta", display_name="<i>Мета</i>", active=False)
    duplicate = admin.post("/admin/schools", data={"name": "<b>Школа</b>"})
    assert duplicate.status_code == 422
    assert "<b>Школа</b>" not in duplicate.text and "&lt;b&gt;Школа&lt;/b&gt;" in duplicate.text
    person = factories.make_user(login="lib", display_name="Библиотекарь")
    factories.assign_mentor(db.session.scalar(select(User.id).where(User.login == "meta")), person)
    page = admin.get(f"/admin/users/{person}").text
    assert "<i>Мета</i>" not in page and "&lt;i&gt;Мета&lt;/i&gt; (доступ отключён)" in page
