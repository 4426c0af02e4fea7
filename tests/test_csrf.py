"""Every state-changing route needs the CSRF token; it is accepted from the form and from
the X-CSRFToken header htmx sends. A request refused for its token never loses typed text."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.journal.drafts import RESCUE_ENDPOINTS
from webapp.mentoring.models import Comment
from webapp.models import EntryDraft, JournalEntry, User, Visibility

from . import factories
from .conftest import csrf_token_from, login

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def unsafe_routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods & UNSAFE):
            yield rule, method


def concrete(rule, entry_id, user_id):
    values = {"entry_id": entry_id, "key": "draftkey-none-1", "token": "no-such-token", "user_id": user_id,
              "school_id": 1, "comment_id": 1, "plan_id": 1, "step_id": 1, "notification_id": 1,
              "group_id": 1, "thread_id": 1, "post_id": 1}
    path = rule.rule
    for name in rule.arguments:
        path = re.sub(rf"<(?:[a-z_]+:)?{name}>", str(values[name]), path)
    return path


@pytest.fixture
def signed_in(csrf_app):
    school = factories.make_school()
    author = factories.make_user(login="anna", school_id=school)
    admin = factories.make_user("admin", login="root")
    entry = factories.make_entry(author, title="Исходный заголовок")
    return {"author": author, "admin": admin, "entry": entry}


def test_every_unsafe_route_refuses_a_request_without_token(csrf_app, signed_in):
    failures = []
    for rule, method in unsafe_routes(csrf_app):
        persona = signed_in["admin"] if rule.endpoint.startswith("admin.") else signed_in["author"]
        client = login(csrf_app.test_client(), persona)
        entries_before = db.session.scalar(select(func.count()).select_from(JournalEntry))
        comments_before = db.session.scalar(select(func.count()).select_from(Comment))
        response = client.open(concrete(rule, signed_in["entry"], signed_in["author"]), method=method,
                               data={"title": "Подделка", "body": "текст", "visibility": "colleagues",
                                     "draft_key": "forgedkey-123", "version": "1"})
        if rule.endpoint in RESCUE_ENDPOINTS:
            # Refused, but the text is rescued into a draft rather than thrown away.
            entry = db.session.get(JournalEntry, signed_in["entry"])
            changed = (db.session.scalar(select(func.count()).select_from(JournalEntry)) != entries_before
                       or db.session.scalar(select(func.count()).select_from(Comment)) != comments_before
                       or entry.title != "Исходный заголовок")
            if changed:
                failures.append(f"{method} {rule.rule}: changed data without a token")
        elif response.status_code != 400:
            failures.append(f"{method} {rule.rule}: {response.status_code}, expected 400")
    assert not failures, "\n".join(failures)


def _token(client) -> str:
    return csrf_token_from(client.get("/journal/").text)


def test_token_is_accepted_from_the_form(csrf_app, signed_in):
    client = login(csrf_app.test_client(), signed_in["author"])
    response = client.post("/journal/", data={"csrf_token": _token(client), "title": "Из формы",
                                              "visibility": "mentors", "draft_key": "formkey-0001"})
    assert response.status_code == 303
    assert db.session.scalar(select(JournalEntry).where(JournalEntry.title == "Из формы")) is not None


def test_token_is_accepted_from_the_htmx_header(csrf_app, signed_in):
    client = login(csrf_app.test_client(), signed_in["author"])
    token = _token(client)
    response = client.post(f"/journal/{signed_in['entry']}/delete",
                           headers={"X-CSRFToken": token, "HX-Request": "true", "HX-Request-Type": "partial"})
    assert response.status_code == 200
    assert db.session.get(JournalEntry, signed_in["entry"]) is None


def test_login_form_needs_its_token(csrf_app, signed_in):
    client = csrf_app.test_client()
    assert client.post("/login", data={"login": "anna", "password": factories.PASSWORD}).status_code == 400
    token = csrf_token_from(client.get("/login").text)
    response = client.post("/login", data={"login": "anna", "password": factories.PASSWORD, "csrf_token": token})
    assert response.status_code == 303


def test_stale_token_on_an_htmx_action_reloads_the_page(csrf_app, signed_in):
    client = login(csrf_app.test_client(), signed_in["author"])
    response = client.post(f"/journal/{signed_in['entry']}/delete", headers={
        "X-CSRFToken": "stale", "HX-Request": "true", "HX-Request-Type": "partial"})
    assert response.status_code == 400
    assert response.headers["HX-Refresh"] == "true"
    assert db.session.get(JournalEntry, signed_in["entry"]) is not None
    assert "поэтому она обновлена" in client.get(f"/journal/{signed_in['entry']}").text  # said on the reloaded page


FRAGMENT = {"HX-Request": "true", "HX-Request-Type": "partial"}


def test_a_stale_form_with_typed_text_keeps_it_and_gets_a_fresh_token(csrf_app, signed_in):
    """A form the drafts do not rescue (here a plan's comment): with htmx the text stays where it is,
    the message goes into the form's line and the page's tokens are renewed; without JavaScript the
    page says what happened and holds the text to copy."""
    client = login(csrf_app.test_client(), signed_in["author"])
    typed = {"body": "Длинный комментарий к плану", "csrf_token": "stale"}
    kept = client.post("/plans/1/comments", data=typed, headers=FRAGMENT)
    assert kept.status_code == 400 and "HX-Refresh" not in kept.headers
    assert kept.headers["HX-Retarget"] == "find .form-alert" and kept.headers["HX-Reswap"] == "innerHTML"
    assert "Ваш текст остался здесь" in kept.text
    fresh = csrf_token_from(kept.text)
    assert fresh != "stale" and 'hx-swap-oob="outerHTML:input.form-token"' in kept.text
    page = client.post("/plans/1/comments", data=typed)
    assert page.status_code == 400 and "Длинный комментарий к плану</textarea>" in page.text


def test_a_form_sent_after_the_session_ended_keeps_its_text(csrf_app, signed_in):
    client = login(csrf_app.test_client(), signed_in["author"])
    client.delete_cookie("session")  # ended; the token below is the new session's, so only the sign-in is missing
    kept = client.post("/plans/1/comments", data={"body": "Длинный комментарий", "csrf_token": csrf_token_from(
        client.get("/login").text)}, headers={**FRAGMENT, "HX-Current-URL": "http://localhost/plans/1"})
    assert kept.status_code == 401 and kept.headers["HX-Retarget"] == "find .form-alert"
    assert "Войдите снова в другой вкладке" in kept.text and 'href="/login?next=' in kept.text



def test_a_prefixed_field_s_text_is_kept_too(csrf_app, signed_in):
    """A plan step's title is named step<id>-title: refused for its token, the row's form keeps it
    and says why, rather than the page reloading over it."""
    client = login(csrf_app.test_client(), signed_in["author"])
    kept = client.post("/plans/steps/1", data={"step1-title": "Новое название шага", "csrf_token": "stale"},
                       headers=FRAGMENT)
    assert kept.status_code == 400 and "HX-Refresh" not in kept.headers
    assert kept.headers["HX-Retarget"] == "find .form-alert" and "Ваш текст остался здесь" in kept.text


def test_a_stale_digest_settings_form_keeps_the_address_typed(csrf_app, signed_in):
    client = login(csrf_app.test_client(), signed_in["author"])
    typed = {"kinds": "entry_comment", "weekly_digest": "y", "email": "anna.smirnova@gimnazia3.ru", "csrf_token": "stale"}
    kept = client.post("/notifications/settings", data=typed, headers=FRAGMENT)
    assert kept.status_code == 400 and "HX-Refresh" not in kept.headers and "Ваш текст остался здесь" in kept.text
    page = client.post("/notifications/settings", data=typed)
    assert page.status_code == 400 and "anna.smirnova@gimnazia3.ru</textarea>" in page.text


def test_a_plain_form_refused_for_its_token_shows_the_description_to_copy(csrf_app, signed_in):
    client = login(csrf_app.test_client(), signed_in["author"])
    page = client.post("/groups/1/edit", data={"description": "Описание группы на полстраницы", "csrf_token": "stale"})
    assert page.status_code == 400 and "Описание группы на полстраницы</textarea>" in page.text


def test_a_plain_form_sent_after_the_session_ended_shows_the_text_and_says_so(csrf_app, signed_in):
    """Not the sign-in page, which would drop the text, nor "the page was open too long": the
    token went with the session, and that is what the person is told."""
    client = login(csrf_app.test_client(), signed_in["author"])
    token = csrf_token_from(client.get(f"/journal/{signed_in['entry']}").text)
    client.delete_cookie("session")
    page = client.post("/groups/1/edit", data={"description": "Описание, которое нельзя потерять", "csrf_token": token})
    assert page.status_code == 401 and "Сеанс завершился" in page.text and "слишком долго" not in page.text
    assert "Описание, которое нельзя потерять</textarea>" in page.text and 'href="/login?next=' in page.text


def test_a_plain_button_pressed_after_the_session_ended_leads_to_sign_in_and_back(csrf_app, signed_in):
    """Nothing typed to keep: not "the page was open too long", which a reload would not mend."""
    client = login(csrf_app.test_client(), signed_in["author"])
    page = f"/journal/{signed_in['entry']}"
    token = csrf_token_from(client.get(page).text)
    client.delete_cookie("session")
    pressed = client.post("/notifications/read-all", data={"csrf_token": token}, headers={"Referer": f"http://localhost{page}"})
    assert pressed.status_code == 303 and pressed.location == f"/login?next={page}"
    sign_in = client.get(pressed.location).text
    assert "Сеанс завершился, поэтому ничего не сделано" in sign_in and "слишком долго" not in sign_in
    # The same from the account page's language form, the auth blueprint's own.
    language = client.post("/account/locale", data={"locale": "en", "csrf_token": token})
    assert language.status_code == 303 and language.location == "/login"
    # Forms for someone not signed in: a stale token there is a page open too long.
    for path in ("/login", "/invite/no-such-token"):
        stale = client.post(path, data={"login": "anna", "password": "x", "csrf_token": token})
        assert stale.status_code == 400 and "слишком долго" in stale.text, path
    # Without a referrer: back to the form's own address if it is a page, else just to sign in.
    delete = client.post(f"/journal/{signed_in['entry']}/delete", data={"csrf_token": token})
    assert delete.status_code == 303 and delete.location == f"/login?next=/journal/{signed_in['entry']}/delete"
    assert client.post("/notifications/read-all", data={"csrf_token": token}).location == "/login"
    # Signing out when the session has already ended is done: the sign-in page, nothing to repeat.
    client.get("/login")  # shows (and so clears) what the two answers above flashed
    signed_out = client.post("/logout", data={"csrf_token": token}, headers={"Referer": f"http://localhost{page}"})
    assert signed_out.status_code == 303 and signed_out.location == "/login"
    assert "повторите действие" not in client.get("/login").text
    # Another site's page as the referrer leads to the sign-in page alone.
    elsewhere = client.post("/notifications/read-all", data={"csrf_token": token}, headers={"Referer": "https://evil.example/x"})
    assert elsewhere.status_code == 303 and elsewhere.location == "/login"


def test_an_htmx_form_sent_after_the_session_ended_says_the_session_ended(csrf_app, signed_in):
    client = login(csrf_app.test_client(), signed_in["author"])
    token = csrf_token_from(client.get(f"/journal/{signed_in['entry']}").text)
    client.delete_cookie("session")
    kept = client.post("/plans/1/comments", data={"body": "Комментарий к плану", "csrf_token": token},
                       headers={**FRAGMENT, "HX-Current-URL": "http://localhost/plans/1"})
    assert kept.status_code == 401 and kept.headers["HX-Retarget"] == "find .form-alert"
    assert "Войдите снова в другой вкладке" in kept.text and "слишком долго" not in kept.text


def test_an_idle_editor_s_autosave_after_the_session_ended_flashes_nothing(csrf_app, signed_in):
    """Nobody pressed anything: the sign-in page it is reloaded into must not say "repeat the action"."""
    client = login(csrf_app.test_client(), signed_in["author"])
    token = csrf_token_from(client.get("/journal/new").text)
    client.delete_cookie("session")
    refused = client.post("/journal/drafts", data={"draft_key": "idlekey-0001", "title": "", "body": "",
                                                   "csrf_token": token}, headers=FRAGMENT)
    assert refused.status_code == 400 and refused.headers["HX-Refresh"] == "true"
    assert "поэтому она обновлена" not in client.get("/login").text


def test_forged_cross_site_save_does_not_overwrite_a_draft(csrf_app, signed_in):
    """Without the token, a save can only add a draft under a key the page never had."""
    author = db.session.get(User, signed_in["author"])
    client = login(csrf_app.test_client(), author.id)
    client.post("/journal/drafts", data={"csrf_token": _token(client), "draft_key": "realkey-0001",
                                         "title": "Мой черновик", "body": "мои мысли"})
    client.post("/journal/drafts", data={"draft_key": "guessed-key-01", "title": "Чужое", "body": "спам",
                                         "visibility": Visibility.COLLEAGUES})
    mine = db.session.scalar(select(EntryDraft).where(EntryDraft.key == "realkey-0001"))
    assert mine.body == "мои мысли"
