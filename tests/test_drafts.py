"""Never lose a word: the editor's text survives expired tokens and sessions, size
limits, a restart, and a second tab saving the same entry."""
from __future__ import annotations

import re
import time
from html import unescape
from urllib.parse import unquote

import pytest
from sqlalchemy import func, select

from webapp import create_app
from webapp.config import ENTRY_BODY_LIMIT
from webapp.extensions import db
from webapp.journal.drafts import CLAIM_SESSION_KEY, OWNER_TOKEN_DAYS
from webapp.models import EntryDraft, JournalEntry, User

from . import factories
from .conftest import FRAGMENT, csrf_token_from, login

LONG_RUSSIAN = "Рефлексия о проведённом библиотечном уроке. " * 10


def editor_text(html: str) -> str:
    match = re.search(r"<textarea[^>]*name=\"body\"[^>]*>(.*?)</textarea>", html, re.S)
    assert match, "no editor on the page"
    return unescape(match.group(1)).lstrip("\r\n")


def form_of(html: str) -> dict:
    """The hidden fields of the entry editor on the page, as the browser sends them (an edit's
    version too: the conflict check must be fed what the page holds, not a number the test picks)."""
    form = {
        "csrf_token": csrf_token_from(html),
        "draft_key": re.search(r'name="draft_key" value="([^"]+)"', html).group(1),
        "draft_owner": re.search(r'name="draft_owner" value="([^"]+)"', html).group(1),
    }
    version = re.search(r'name="version" value="([^"]*)"', html)
    if version:
        form["version"] = version.group(1)
    return form


@pytest.fixture
def author(csrf_app):
    return factories.make_user(login="anna", school_id=factories.make_school())


def sign_in(client, login_name="anna"):
    token = csrf_token_from(client.get("/login").text)
    return client.post("/login", data={"login": login_name, "password": factories.PASSWORD, "csrf_token": token})


def test_autosave_keeps_the_text_and_the_editor_brings_it_back(csrf_app, author):
    client = login(csrf_app.test_client(), author)
    form = form_of(client.get("/journal/new").text)
    response = client.post("/journal/drafts", data={**form, "title": "Недописанное", "body": LONG_RUSSIAN},
                           headers=FRAGMENT)
    assert response.status_code == 200
    drafts_page = client.get("/journal/drafts").text
    assert "Недописанное" in drafts_page
    resumed = client.get(f"/journal/drafts/{form['draft_key']}").text
    assert editor_text(resumed) == LONG_RUSSIAN


def test_an_empty_new_editor_stores_nothing(csrf_app, author):
    client = login(csrf_app.test_client(), author)
    form = form_of(client.get("/journal/new").text)
    assert client.post("/journal/drafts", data={**form, "title": "", "body": ""}).status_code == 204
    assert db.session.scalar(select(EntryDraft)) is None


def test_text_survives_a_form_token_older_than_its_limit(csrf_app, author, monkeypatch):
    client = login(csrf_app.test_client(), author)
    form = form_of(client.get("/journal/new").text)
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 2 * 3600)  # two hours later

    saved = client.post("/journal/drafts", data={**form, "title": "Долгая запись", "body": LONG_RUSSIAN},
                        headers=FRAGMENT)
    assert saved.status_code == 200
    fresh = re.search(r'name="csrf_token" value="([^"]+)"[^>]*hx-swap-oob', saved.text)
    assert fresh, "the autosave hands the page a fresh token"

    response = client.post("/journal/", data={**form, "title": "Долгая запись", "body": LONG_RUSSIAN + " Итог."})
    assert response.status_code == 303
    assert db.session.scalar(select(JournalEntry)) is None  # refused...
    resumed = client.get(response.location).text  # ...but the text is back in the editor
    assert editor_text(resumed) == LONG_RUSSIAN + " Итог."

    response = client.post("/journal/", data={**form_of(resumed), "title": "Долгая запись",
                                              "body": editor_text(resumed), "visibility": "mentors"})
    assert response.status_code == 303
    assert db.session.scalar(select(JournalEntry.body)) == LONG_RUSSIAN + " Итог."


def test_text_survives_an_expired_session(csrf_app, author):
    client = login(csrf_app.test_client(), author)
    form = form_of(client.get("/journal/new").text)
    client.delete_cookie("session")  # the session ended (timeout, server secret rotated, browser closed)

    response = client.post("/journal/", data={**form, "title": "После обеда", "body": LONG_RUSSIAN})
    assert response.status_code == 302
    assert response.location.startswith("/login")
    assert client.get(response.location).status_code == 200

    signed_in = client.post(response.location, data={
        "login": "anna", "password": factories.PASSWORD, "csrf_token": csrf_token_from(client.get("/login").text)})
    assert signed_in.status_code == 303
    assert signed_in.location == f"/journal/drafts/{form['draft_key']}"
    assert editor_text(client.get(signed_in.location).text) == LONG_RUSSIAN


def selected_step(html: str) -> str:
    select = re.search(r'<select[^>]*name="step_id".*?</select>', html, re.S).group(0)
    chosen = re.search(r'<option selected value="([^"]*)"|<option value="([^"]*)" selected', select)
    return next(value for value in chosen.groups() if value is not None) if chosen else ""


def test_an_entry_rescued_after_the_session_ended_keeps_its_plan_step(csrf_app, author):
    from webapp.plans.progress import current_year

    step = factories.make_step(factories.make_plan(author, year=current_year()), title="Урок медиаграмотности")
    client = login(csrf_app.test_client(), author)
    form = form_of(client.get("/journal/new").text)
    client.delete_cookie("session")
    response = client.post("/journal/", data={**form, "title": "После урока", "body": LONG_RUSSIAN, "step_id": str(step)})
    assert response.location.startswith("/login")
    signed_in = client.post(response.location, data={
        "login": "anna", "password": factories.PASSWORD, "csrf_token": csrf_token_from(client.get("/login").text)})
    resumed = client.get(signed_in.location).text
    assert editor_text(resumed) == LONG_RUSSIAN and selected_step(resumed) == str(step)


def test_an_edit_s_draft_keeps_the_step_it_changed_to(csrf_app, author):
    from webapp.plans.progress import current_year

    plan = factories.make_plan(author, year=current_year())
    first, second = factories.make_step(plan, title="Первый шаг"), factories.make_step(plan, title="Второй шаг")
    entry = factories.make_entry(author, title="Запись", body="текст")
    db.session.get(JournalEntry, entry).step_id = first
    db.session.commit()
    client = login(csrf_app.test_client(), author)
    page = client.get(f"/journal/{entry}/edit").text
    assert selected_step(page) == str(first)
    saved = client.post("/journal/drafts", data={**form_of(page), "entry_id": entry, "title": "Запись", "body": "текст",
                                                 "step_id": str(second)}, headers=FRAGMENT)
    assert saved.status_code in (200, 204)
    assert selected_step(client.get(f"/journal/{entry}/edit").text) == str(second)  # only the step changed
    assert db.session.get(JournalEntry, entry).step_id == first  # the entry itself is not changed by a draft


@pytest.mark.parametrize("step", ["other", "missing"])
def test_a_draft_never_keeps_a_step_that_is_not_the_writer_s(csrf_app, author, step):
    from webapp.plans.progress import current_year

    other = factories.make_user(login="olga")
    step_id = factories.make_step(factories.make_plan(other, year=current_year())) if step == "other" else 987654
    client = login(csrf_app.test_client(), author)
    form = form_of(client.get("/journal/new").text)
    saved = client.post("/journal/drafts", data={**form, "title": "Черновик", "body": "текст", "step_id": str(step_id)},
                        headers=FRAGMENT)
    assert saved.status_code in (200, 204)
    draft = db.session.scalar(select(EntryDraft).where(EntryDraft.key == form["draft_key"]))
    assert draft.body == "текст" and draft.step_id is None


def test_a_rescued_draft_keeps_the_whole_of_an_overlong_title_and_text(csrf_app, author):
    """The person is told the text is kept as a draft: all of it, however far over the limits."""
    title, body = "Заголовок " + "з" * 1995 + "КОНЕЦ", "Текст " + "t" * 1_200_000 + "КОНЕЦ"
    client = login(csrf_app.test_client(), author)
    form = form_of(client.get("/journal/new").text)
    client.delete_cookie("session")
    response = client.post("/journal/", data={**form, "title": title, "body": body, "tags": "метка, " * 300})
    assert response.location.startswith("/login")
    draft = db.session.scalar(select(EntryDraft).where(EntryDraft.key == form["draft_key"]))
    assert (draft.title, draft.body, draft.tags) == (title, body, "метка, " * 300)


def test_whoever_else_signs_in_after_a_rescue_goes_to_their_own_start_page(csrf_app, author):
    """Anna's session ended as she saved; she left the sign-in page that would take her back to her
    draft. Olga signs in there: her own journal, not the address of Anna's draft (a 404 to her)."""
    factories.make_user(login="olga")
    client = login(csrf_app.test_client(), author)
    form = form_of(client.get("/journal/new").text)
    client.delete_cookie("session")
    sign_in_page = client.post("/journal/", data={**form, "title": "Т", "body": "текст Анны"}).location
    assert f"/journal/drafts/{form['draft_key']}" in unquote(sign_in_page)

    signed_in = client.post(sign_in_page, data={
        "login": "olga", "password": factories.PASSWORD, "csrf_token": csrf_token_from(client.get(sign_in_page).text)})
    assert signed_in.status_code == 303 and signed_in.location == "/journal/"
    assert client.get(sign_in_page).location == "/journal/"  # signed in already: the same
    assert client.get(f"/journal/drafts/{form['draft_key']}").status_code == 404  # still not hers to open


def test_htmx_save_with_an_expired_session_redirects_to_login_after_keeping_the_text(csrf_app, author):
    client = login(csrf_app.test_client(), author)
    form = form_of(client.get("/journal/new").text)
    client.delete_cookie("session")
    response = client.post("/journal/", data={**form, "title": "Через htmx", "body": "мысль"}, headers=FRAGMENT)
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login?next=")
    assert "ваш текст сохранён как черновик" in client.get(response.headers["HX-Redirect"]).text  # says why
    sign_in(client)
    assert "мысль" in client.get(f"/journal/drafts/{form['draft_key']}").text


def test_autosave_with_an_expired_session_keeps_the_text_and_says_so(csrf_app, author):
    client = login(csrf_app.test_client(), author)
    form = form_of(client.get("/journal/new").text)
    client.delete_cookie("session")
    response = client.post("/journal/drafts", data={**form, "title": "Т", "body": "несохранённое"}, headers=FRAGMENT)
    assert response.status_code == 200
    assert "/login?next=" in response.text  # a sign-in link, the editor stays where it is
    sign_in(client)
    assert "несохранённое" in client.get(f"/journal/drafts/{form['draft_key']}").text


def test_text_survives_a_login_in_another_tab(csrf_app, author):
    client = csrf_app.test_client()
    sign_in(client)
    form = form_of(client.get("/journal/new").text)
    client.delete_cookie("session")
    sign_in(client)  # signed in again in another tab: a new session, and the first tab's token is stale
    response = client.post("/journal/", data={**form, "title": "Из первой вкладки", "body": LONG_RUSSIAN})
    assert response.status_code == 303
    assert editor_text(client.get(response.location).text) == LONG_RUSSIAN


def test_rescued_text_goes_to_its_writer_not_to_whoever_signs_in_next_on_that_computer(csrf_app, author):
    """A shared library computer: Anna's session ended while she wrote; she leaves, Olga signs in
    in the same browser. Anna's text is Anna's draft, found when she signs in, anywhere."""
    factories.make_user(login="olga")
    client = login(csrf_app.test_client(), author)
    form = form_of(client.get("/journal/new").text)
    client.delete_cookie("session")
    client.post("/journal/", data={**form, "title": "Личное", "body": "моё"})
    sign_in(client, "olga")
    assert client.get(f"/journal/drafts/{form['draft_key']}").status_code == 404
    assert "моё" not in client.get("/journal/drafts").text
    elsewhere = csrf_app.test_client()
    sign_in(elsewhere)
    assert editor_text(elsewhere.get(f"/journal/drafts/{form['draft_key']}").text) == "моё"


def test_a_stale_editor_keeps_its_text_for_its_writer_while_someone_else_is_signed_in(csrf_app, author):
    factories.make_user(login="olga")
    client = login(csrf_app.test_client(), author)
    form = form_of(client.get("/journal/new").text)
    client.delete_cookie("session")
    sign_in(client, "olga")  # in another tab of the same browser, while Anna's editor is still open
    autosaved = client.post("/journal/drafts", data={**form, "title": "Личное", "body": "моё"}, headers=FRAGMENT)
    assert autosaved.status_code == 409 and "открыт под другой учётной записью" in autosaved.text
    sent = client.post("/journal/", data={**form, "title": "Личное", "body": "моё, дописанное"}, headers=FRAGMENT)
    assert sent.status_code == 409 and sent.headers["HX-Retarget"] == "find .form-alert"
    assert "черновик той учётной записи" in sent.text
    plain = client.post("/journal/", data={**form, "title": "Личное", "body": "моё, дописанное"})
    assert plain.status_code == 409 and "моё, дописанное" in plain.text  # the page holds it to copy
    assert "моё" not in client.get("/journal/drafts").text
    assert db.session.scalars(select(EntryDraft.body).where(EntryDraft.user_id == author)).all() == ["моё, дописанное"]


@pytest.mark.parametrize("owner", [None, "forged", "another key", "signed out since", "deactivated"])
def test_a_post_whose_editor_names_no_writer_it_can_be_kept_for_stores_nothing(csrf_app, author, owner):
    """Without a session, nothing is written unless the form's draft_owner names its writer, for
    this draft, in a session still theirs: the text stays in the page (webapp.errors), never in a
    row for someone it may not belong to."""
    client = login(csrf_app.test_client(), author)
    form = form_of(client.get("/journal/new").text)
    names = {None: None, "forged": form["draft_owner"][:-2] + "xx", "another key": form["draft_owner"],
             "signed out since": form["draft_owner"], "deactivated": form["draft_owner"]}
    data = {"draft_key": "zzzzzzzz12345678" if owner == "another key" else form["draft_key"], "title": "Чужое", "body": "Я" * 10_000}
    if names[owner] is not None:
        data["draft_owner"] = names[owner]
    if owner == "signed out since":
        client.post("/logout", data={"csrf_token": form["csrf_token"]})  # every session of hers revoked
    if owner == "deactivated":
        db.session.get(User, author).active = False
        db.session.commit()
    client.delete_cookie("session")
    response = client.post("/journal/", data=data)
    assert response.status_code == 401
    assert "Я" * 100 in response.text  # the text is on the page, to be copied
    assert db.session.scalar(select(func.count()).select_from(EntryDraft)) == 0


def _later(monkeypatch, seconds: int) -> None:
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + seconds)


def test_another_session_s_old_token_never_puts_text_into_the_signed_in_account(csrf_app, author, monkeypatch):
    """Flask-WTF calls any well-signed token over its age "expired", whose session it was or not:
    a token from an attacker's own session, an hour old, posted through Anna's browser, stores
    nothing in her account, neither a new draft nor one over her entry."""
    attacker = csrf_app.test_client()
    token = csrf_token_from(attacker.get("/login").text)
    victim = login(csrf_app.test_client(), author)
    entry = factories.make_entry(author, title="Моя", body="оригинал")
    victim.get("/journal/")
    _later(monkeypatch, 2 * 3600)
    for path in ("/journal/drafts", f"/journal/{entry}"):
        victim.post(path, data={"csrf_token": token, "draft_key": "attackerkey12345", "title": "Моя", "body": "ПОДМЕНА"},
                    headers=FRAGMENT)
    assert db.session.scalar(select(func.count()).select_from(EntryDraft)) == 0
    assert "ПОДМЕНА" not in victim.get(f"/journal/{entry}/edit").text


def test_a_writer_who_signed_out_leaves_nothing_to_whoever_signs_in_next(csrf_app, author, monkeypatch):
    """Anna signs out, Olga signs in in the same browser; two hours later Anna's old tab saves. The
    text is not Olga's draft, and Anna's signing out ended her editor's claim too: Olga is told,
    the text stays in the form."""
    factories.make_user(login="olga")
    client = csrf_app.test_client()
    sign_in(client)
    form = form_of(client.get("/journal/new").text)
    client.post("/logout", data={"csrf_token": form["csrf_token"]})
    sign_in(client, "olga")
    client.get("/journal/")
    _later(monkeypatch, 2 * 3600)
    response = client.post("/journal/", data={**form, "title": "Личное Анны", "body": "тайна Анны"}, headers=FRAGMENT)
    assert response.status_code == 409 and "ничего не сохранено" in response.text
    assert response.headers["HX-Retarget"] == "find .form-alert"
    assert db.session.scalar(select(func.count()).select_from(EntryDraft)) == 0


def test_the_writer_signed_in_again_keeps_the_old_tab_s_text(csrf_app, author):
    """Anna signs out and in again; her old tab's save is hers: kept as her draft, and the editor
    comes back with a fresh token (not "press again" for ever)."""
    client = csrf_app.test_client()
    sign_in(client)
    form = form_of(client.get("/journal/new").text)
    client.post("/logout", data={"csrf_token": form["csrf_token"]})
    sign_in(client)
    client.get("/journal/")
    response = client.post("/journal/", data={**form, "title": "Т", "body": "мой текст"}, headers=FRAGMENT)
    assert response.headers["HX-Redirect"] == f"/journal/drafts/{form['draft_key']}"
    assert editor_text(client.get(response.headers["HX-Redirect"]).text) == "мой текст"


def test_an_autosave_that_cannot_be_kept_says_so_in_its_own_status_line(csrf_app, author):
    client = login(csrf_app.test_client(), author)
    form = form_of(client.get("/journal/new").text)
    client.delete_cookie("session")
    response = client.post("/journal/drafts", data={**form, "draft_owner": "", "title": "Т", "body": "текст"},
                           headers=FRAGMENT)
    assert response.status_code == 401
    assert "HX-Retarget" not in response.headers  # into the autosave's own status line
    assert response.text.startswith('<span class="error">Сеанс завершился: текст не сохранён.')


def test_an_editor_older_than_its_owner_token_keeps_its_text_in_the_page(csrf_app, author, monkeypatch):
    client = login(csrf_app.test_client(), author)
    form = form_of(client.get("/journal/new").text)
    client.delete_cookie("session")
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + (OWNER_TOKEN_DAYS + 1) * 86400)
    response = client.post("/journal/", data={**form, "title": "Старая вкладка", "body": "неделю открыта"})
    assert response.status_code == 401 and "неделю открыта" in response.text
    assert db.session.scalar(select(func.count()).select_from(EntryDraft)) == 0


def test_a_draft_rescued_by_the_release_before_owner_tokens_is_claimed_at_the_next_sign_in(csrf_app, author):
    client = csrf_app.test_client()
    client.get("/login")
    with client.session_transaction() as session:
        session[CLAIM_SESSION_KEY] = "claim-token-of-this-browser"
    db.session.add(EntryDraft(key="legacykey1234567", claim_token="claim-token-of-this-browser", title="Давнее", body="спасённое"))
    db.session.commit()
    sign_in(client)
    assert "спасённое" in client.get("/journal/drafts").text


def test_an_entry_of_83000_cyrillic_characters_is_saved(csrf_app, author):
    client = login(csrf_app.test_client(), author)
    form = form_of(client.get("/journal/new").text)
    body = ("Ж" * 99 + "\n") * 900  # 90,000 characters, about 540 KB once URL-encoded
    response = client.post("/journal/", data={**form, "title": "Большой отчёт", "body": body})
    assert response.status_code == 303
    assert len(db.session.scalar(select(JournalEntry.body))) == len(body)


def test_a_body_over_the_entry_limit_is_kept_with_a_clear_message(csrf_app, author):
    client = login(csrf_app.test_client(), author)
    form = form_of(client.get("/journal/new").text)
    body = "Я" * (ENTRY_BODY_LIMIT + 5000)
    response = client.post("/journal/", data={**form, "title": "Слишком длинно", "body": body}, headers=FRAGMENT)
    assert response.status_code == 422
    assert editor_text(response.text) == body
    assert str(ENTRY_BODY_LIMIT) in response.text.replace("\u00a0", "").replace(" ", "")
    assert db.session.scalar(select(EntryDraft.body).where(EntryDraft.key == form["draft_key"])) == body


@pytest.mark.parametrize(("path", "status"), [("/nowhere", 404), ("/journal/feed", 405)])
def test_a_request_over_the_size_limit_to_no_route_gets_its_own_answer_not_a_500(csrf_app, author, path, status):
    client = login(csrf_app.test_client(), author)
    body = "Ы" * (csrf_app.config["MAX_CONTENT_LENGTH"] // 2)
    for headers in (FRAGMENT, {}):
        response = client.post(path, data={"body": body}, headers=headers)
        assert response.status_code == status, headers
        assert "Ы" not in response.text


def test_a_request_over_the_size_limit_leaves_the_form_alone(csrf_app, author):
    client = login(csrf_app.test_client(), author)
    form = form_of(client.get("/journal/new").text)
    body = "Ы" * (csrf_app.config["MAX_CONTENT_LENGTH"] // 2)
    response = client.post("/journal/", data={**form, "title": "Огромное", "body": body}, headers=FRAGMENT)
    assert response.status_code == 413
    assert response.headers["HX-Retarget"] == "find .form-alert"  # beside the text in its own form, not over it
    assert "<textarea" not in response.text


def test_an_autosave_over_the_size_limit_says_so_in_its_own_status_line(csrf_app, author):
    client = login(csrf_app.test_client(), author)
    form = form_of(client.get("/journal/new").text)
    body = "Ы" * (csrf_app.config["MAX_CONTENT_LENGTH"] // 2)
    response = client.post("/journal/drafts", data={**form, "title": "Огромное", "body": body}, headers=FRAGMENT)
    assert response.status_code == 413
    assert "HX-Retarget" not in response.headers  # the autosave targets its status line itself
    assert "слишком большой" in response.text


def test_a_plain_form_over_the_size_limit_says_how_to_get_back_to_the_text(csrf_app, author):
    client = login(csrf_app.test_client(), author)
    form = form_of(client.get("/journal/new").text)
    body = "Ы" * (csrf_app.config["MAX_CONTENT_LENGTH"] // 2)
    response = client.post("/journal/", data={**form, "title": "Огромное", "body": body})
    assert response.status_code == 413
    assert "кнопкой «Назад»" in response.text and "Ничего не стёрто" not in response.text


def test_a_draft_survives_a_server_restart(csrf_app, author, tmp_path):
    client = login(csrf_app.test_client(), author)
    form = form_of(client.get("/journal/new").text)
    client.post("/journal/drafts", data={**form, "title": "До перезапуска", "body": LONG_RUSSIAN})
    db.session.remove()

    restarted = create_app({"TESTING": True, "SECRET_KEY": csrf_app.config["SECRET_KEY"],
                            "SQLALCHEMY_DATABASE_URI": csrf_app.config["SQLALCHEMY_DATABASE_URI"],
                            "HTMX_SOURCE": "local"})
    restarted.test_client_class = type(client)
    with restarted.app_context():
        again = restarted.test_client()
        again.set_cookie("session", client.get_cookie("session").value)
        assert editor_text(again.get(f"/journal/drafts/{form['draft_key']}").text) == LONG_RUSSIAN
        db.session.remove()
        db.engine.dispose()


def test_saving_closes_the_draft_and_a_late_autosave_does_not_reopen_it(csrf_app, author):
    client = login(csrf_app.test_client(), author)
    form = form_of(client.get("/journal/new").text)
    client.post("/journal/drafts", data={**form, "title": "Заметка о кружке", "body": "текст"})
    client.post("/journal/", data={**form, "title": "Заметка о кружке", "body": "текст", "visibility": "mentors"})
    assert client.post("/journal/drafts", data={**form, "title": "Заметка о кружке", "body": "текст"}).status_code == 204
    assert "Заметка о кружке" not in client.get("/journal/drafts").text
    # The editor's address is still the draft's where it was resumed; loading it again goes to the journal.
    again = client.get(f"/journal/drafts/{form['draft_key']}")
    assert again.status_code == 303 and again.location == "/journal/"
    assert "Этот черновик уже сохранён" in client.get(again.location).text
    assert login(csrf_app.test_client(), factories.make_user(login="olga")).get(
        f"/journal/drafts/{form['draft_key']}").status_code == 404  # someone else's: not there


def test_an_entry_deleted_in_another_tab_says_nothing_was_saved_and_leaves_the_text(csrf_app, author):
    entry = factories.make_entry(author, title="Удаляемая", body="старый текст")
    client = login(csrf_app.test_client(), author)
    form = {**form_of(client.get(f"/journal/{entry}/edit").text), "title": "Моя правка", "body": "Новый длинный текст"}
    assert client.post(f"/journal/{entry}/delete", data={"csrf_token": form["csrf_token"]}).status_code == 303  # the other tab
    saved = client.post(f"/journal/{entry}", data=form, headers=FRAGMENT)
    assert saved.status_code == 404 and saved.headers["HX-Retarget"] == "find .form-alert"
    assert "ничего не сохранено" in saved.text and "скопируйте его" in saved.text
    autosaved = client.post("/journal/drafts", data={**form, "entry_id": entry}, headers=FRAGMENT)
    assert autosaved.status_code == 404 and "HX-Retarget" not in autosaved.headers  # into its own status line
    assert "Не сохранено" in autosaved.text and "Текст остался в форме" in autosaved.text


def test_edit_opens_with_the_unsaved_draft(csrf_app, author):
    entry = factories.make_entry(author, title="Сохранённое", body="старый текст")
    client = login(csrf_app.test_client(), author)
    page = client.get(f"/journal/{entry}/edit").text
    client.post("/journal/drafts", data={**form_of(page), "entry_id": entry, "version": "1",
                                         "title": "Сохранённое", "body": "новый несохранённый текст"})
    assert editor_text(client.get(f"/journal/{entry}/edit").text) == "новый несохранённый текст"


@pytest.mark.parametrize("key", ["%00", "abc%00defgh", "short", "a" * 65, "%D0%BA%D0%BB%D1%8E%D1%87%D0%BA%D0%BB%D1%8E%D1%87"])
def test_an_address_that_is_no_draft_key_is_not_there(csrf_app, author, key):
    """Typed or mangled draft addresses answer 404 before the database is asked (PostgreSQL
    refuses a NUL in a text: it was a 500 there)."""
    client = login(csrf_app.test_client(), author)
    token = form_of(client.get("/journal/new").text)["csrf_token"]
    assert client.get(f"/journal/drafts/{key}").status_code == 404
    assert client.post(f"/journal/drafts/{key}/delete", data={"csrf_token": token}).status_code == 404


class TestEditConflict:
    def test_second_tab_gets_409_with_both_versions_and_nothing_is_overwritten(self, csrf_app, author):
        entry = factories.make_entry(author, title="Общий заголовок", body="исходный текст")
        tab1, tab2 = login(csrf_app.test_client(), author), login(csrf_app.test_client(), author)
        form1, form2 = form_of(tab1.get(f"/journal/{entry}/edit").text), form_of(tab2.get(f"/journal/{entry}/edit").text)

        first = tab1.post(f"/journal/{entry}", data={**form1, "title": "Общий заголовок",
                                                       "body": "текст из первой вкладки", "visibility": "mentors"})
        assert first.status_code == 303
        second = tab2.post(f"/journal/{entry}", data={**form2, "title": "Общий заголовок",
                                                        "body": "текст из второй вкладки", "visibility": "mentors"},
                           headers=FRAGMENT)
        assert second.status_code == 409
        assert "текст из первой вкладки" in second.text  # the saved version
        assert editor_text(second.text) == "текст из второй вкладки"  # mine, still in the editor
        assert db.session.get(JournalEntry, entry).body == "текст из первой вкладки"

        # Saving from the conflict page is a deliberate choice: it now wins.
        again = tab2.post(f"/journal/{entry}", data={**form_of(second.text), "title": "Общий заголовок",
                                                       "body": "объединённый текст", "visibility": "mentors"})
        assert again.status_code == 303
        assert db.session.get(JournalEntry, entry).body == "объединённый текст"
        assert db.session.get(JournalEntry, entry).version == 3


    @pytest.mark.parametrize("version", ["", "abc", "-1", "1.5"])
    def test_an_editor_that_names_no_version_is_shown_the_saved_entry_not_refused_mutely(
            self, csrf_app, author, version):
        entry = factories.make_entry(author, title="Заголовок", body="сохранённый текст")
        client = login(csrf_app.test_client(), author)
        form = form_of(client.get(f"/journal/{entry}/edit").text)
        answer = client.post(f"/journal/{entry}", data={**form, "version": version, "title": "Заголовок",
                                                         "body": "мой новый текст", "visibility": "mentors"},
                             headers=FRAGMENT)
        assert answer.status_code == 409
        assert "сохранённый текст" in answer.text and editor_text(answer.text) == "мой новый текст"
        assert db.session.get(JournalEntry, entry).body == "сохранённый текст"
        assert 'name="version" value="1"' in answer.text  # saving again now is a choice made with both in sight


class TestTextSentToAnEntryNotOneself:
    """A stale form posted to an entry one may not edit (someone's private entry, or an id that
    never was) keeps the text as a new entry's draft: the drafts never name that entry, and the
    answer is the same whether it exists or not."""

    DATA = {"title": "Мой заголовок", "body": "мой текст"}

    @pytest.fixture
    def secret(self, csrf_app, author):
        owner = factories.make_user(login="olga")
        return factories.make_entry(owner, visibility="private", title="Секретный заголовок")

    def test_signed_in(self, csrf_app, author, secret, monkeypatch):
        client = login(csrf_app.test_client(), author)
        forms = [form_of(client.get("/journal/new").text) for _ in range(2)]
        real_time = time.time
        monkeypatch.setattr(time, "time", lambda: real_time() + 2 * 3600)  # the form tokens have expired
        answers = [client.post(f"/journal/{entry_id}", data={**form, **self.DATA})
                   for form, entry_id in zip(forms, (secret, 999999), strict=True)]
        assert [(a.status_code, a.location.rsplit("/", 1)[0]) for a in answers] == [(303, "/journal/drafts")] * 2
        drafts = client.get("/journal/drafts").text
        assert "Секретный заголовок" not in drafts
        assert drafts.count("мой текст") == 2
        assert db.session.scalars(select(EntryDraft.entry_id).where(EntryDraft.user_id == author)).all() == [None, None]

    def test_signed_out_then_signing_in(self, csrf_app, author, secret):
        client = login(csrf_app.test_client(), author)
        forms = [form_of(client.get("/journal/new").text) for _ in range(2)]
        client.delete_cookie("session")
        existing, missing = (client.post(f"/journal/{entry_id}", data={**form, **self.DATA})
                             for form, entry_id in zip(forms, (secret, 999999), strict=True))
        assert (existing.status_code, existing.location.split("drafts")[0]) == (missing.status_code, missing.location.split("drafts")[0])
        sign_in(client)
        drafts = client.get("/journal/drafts").text
        assert "Секретный заголовок" not in drafts
        assert drafts.count("мой текст") == 2
        assert db.session.scalars(select(EntryDraft.entry_id).where(EntryDraft.user_id == author)).all() == [None, None]


def test_two_tabs_resuming_one_draft_lose_neither_text(csrf_app, author, monkeypatch):
    """Both editors open with the same unsaved draft (and so the same key). The first saves the
    entry; what the second goes on typing is still kept, and comes back in its editor."""
    entry = factories.make_entry(author, title="Заметка", body="старый текст")
    tab0 = login(csrf_app.test_client(), author)
    tab0.post("/journal/drafts", data={**form_of(tab0.get(f"/journal/{entry}/edit").text), "entry_id": entry,
                                       "version": "1", "title": "Заметка", "body": "недописанное"})
    tab1, tab2 = login(csrf_app.test_client(), author), login(csrf_app.test_client(), author)
    form1, form2 = form_of(tab1.get(f"/journal/{entry}/edit").text), form_of(tab2.get(f"/journal/{entry}/edit").text)
    assert form1["draft_key"] == form2["draft_key"]

    saved = tab1.post(f"/journal/{entry}", data={**form1, "version": "1", "title": "Заметка", "body": "дописанное в первой",
                                                  "visibility": "mentors"})
    assert saved.status_code == 303
    late = {**form1, "entry_id": entry, "version": "1", "title": "Заметка", "body": "дописанное в первой"}
    assert tab1.post("/journal/drafts", data=late).status_code == 204  # the first tab's own autosave, late

    second = {**form2, "entry_id": entry, "version": "1", "title": "Заметка", "body": "дописанное во второй"}
    assert tab2.post("/journal/drafts", data=second, headers=FRAGMENT).status_code == 200
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 2 * 3600)  # the second tab's token has expired
    response = tab2.post(f"/journal/{entry}", data={**second, "body": "дописанное во второй, до конца",
                                                     "visibility": "mentors"})
    assert response.status_code == 303
    assert editor_text(tab2.get(response.location).text) == "дописанное во второй, до конца"
    assert db.session.get(JournalEntry, entry).body == "дописанное в первой"


def test_a_mangled_draft_key_is_explained_in_russian_and_the_text_is_kept(client, people):
    login(client, people["author"])
    response = client.post("/journal/", data={"title": "Неделя чтения", "body": "Набранный текст записи",
                                              "visibility": "mentors", "draft_key": "испорченный ключ"})
    assert response.status_code == 422
    assert "Форма устарела. Скопируйте свой текст (он остался в форме ниже), обновите страницу" in response.text
    assert "bad draft key" not in response.text
    assert "Неделя чтения" in response.text and "Набранный текст записи" in response.text


def test_a_mangled_draft_key_on_an_edited_entry_is_explained_too(client, people):
    entry = factories.make_entry(people["author"])
    login(client, people["author"])
    response = client.post(f"/journal/{entry}", data={"title": "Новый заголовок", "body": "Новый текст",
                                                      "visibility": "mentors", "draft_key": "x"}, headers=FRAGMENT)
    assert response.status_code == 422
    assert "Форма устарела." in response.text and "Новый текст" in response.text
