"""Kept item markup (webapp.fragments): a comment, a post, an entry's summary or a thread's row is
rendered once for what it shows and reused. Nothing kept may ever be out of date, in another
language, or another person's: each partial reads only the values it is given, and a changed
value is another key."""
from __future__ import annotations

import os
import re
import time
from datetime import UTC, datetime, timedelta, timezone
from itertools import product

import pytest
from jinja2 import ChoiceLoader, FileSystemLoader, meta, nodes
from markupsafe import Markup

from webapp.extensions import db
from webapp.fragments import HELPERS, ITEMS, KeptItems
from webapp.groups.models import Post, Thread
from webapp.mentoring.models import Comment
from webapp.models import User, Visibility

from . import factories
from .conftest import login

# What an item partial may read besides its values, and what the key holds for it.
KEYED_HELPERS = {
    "_": "the language",
    "ngettext": "the language",
    "VISIBILITY_LABELS": "the language",
    "FEEDBACK_LABELS": "the language",
    "url_for": "the script root (the rest of an address is its endpoint and values)",
}
# Filters whose result depends on their input alone, or on the language and the city's time zone
# (the key and the app).
PURE_FILTERS = {"datetime", "date", "e", "escape", "length", "join", "default", "lower", "upper"}


def test_the_helpers_given_to_partials_are_the_keyed_ones():
    assert set(HELPERS) == set(KEYED_HELPERS)


@pytest.mark.parametrize("name", sorted(ITEMS))
def test_an_item_partial_reads_only_its_values_and_keyed_helpers(app, name):
    source = app.jinja_env.loader.get_source(app.jinja_env, name)[0]
    tree = app.jinja_env.parse(source)
    read = meta.find_undeclared_variables(tree)
    assert read - ITEMS[name] <= set(KEYED_HELPERS), f"{name} reads {sorted(read - ITEMS[name] - set(KEYED_HELPERS))}"
    assert ITEMS[name] <= read, f"{name} is given values it never shows: {sorted(ITEMS[name] - read)}"
    assert {f.name for f in tree.find_all(nodes.Filter)} <= PURE_FILTERS
    assert not list(tree.find_all((nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends)))


def test_a_comment_kept_for_its_author_is_not_shown_so_to_another_reader(client, people):
    entry = factories.make_entry(people["author"], visibility=Visibility.MENTORS)
    own = factories.make_comment(entry, people["author"], body="Мой комментарий")
    theirs = factories.make_comment(entry, people["methodist"], body="Отзыв методиста")

    for _ in range(2):  # the second time from what was kept
        login(client, people["author"])
        page = client.get(f"/journal/{entry}").text
        assert f"/comments/{own}/edit" in page and f"/comments/{theirs}/edit" not in page
        login(client, people["methodist"])
        page = client.get(f"/journal/{entry}").text
        assert f"/comments/{theirs}/edit" in page and f"/comments/{own}/edit" not in page
        assert re.search(rf'id="comment-{theirs}" class="comment comment-by-methodist"', page)


def test_a_changed_comment_or_name_shows_at_once(client, people):
    entry = factories.make_entry(people["author"], visibility=Visibility.COLLEAGUES)
    comment = factories.make_comment(entry, people["librarian"], body="Первый вариант")
    login(client, people["author"])
    page = client.get(f"/journal/{entry}").text
    assert "Первый вариант" in page and "Ольга Петрова" in page and "comment-edited" not in page

    login(client, people["librarian"])
    assert client.post(f"/comments/{comment}", data={"body": "Второй вариант"}).status_code in (200, 303)
    db.session.get(User, people["librarian"]).display_name = "Ольга Иванова"
    db.session.commit()

    login(client, people["author"])
    page = client.get(f"/journal/{entry}").text
    assert "Второй вариант" in page and "Первый вариант" not in page
    assert "Ольга Иванова" in page and "Ольга Петрова" not in page and "comment-edited" in page


def test_a_kept_comment_is_in_each_readers_language(client, people):
    entry = factories.make_entry(people["author"], visibility=Visibility.MENTORS)
    factories.make_comment(entry, people["methodist"])
    login(client, people["author"])
    assert ">методист<" in client.get(f"/journal/{entry}").text
    db.session.get(User, people["author"]).locale = "en"
    db.session.commit()
    page = client.get(f"/journal/{entry}").text
    assert ">methodist<" in page and ">методист<" not in page


def test_a_thread_row_and_a_post_show_what_changed(client, people):
    group = factories.make_group()
    factories.add_member(group, people["librarian"])
    thread = factories.make_thread(group, people["librarian"], title="Первая тема")
    login(client, people["librarian"])
    assert "Первая тема" in client.get(f"/groups/{group}").text
    post = db.session.query(Post).filter_by(thread_id=thread).one()
    shown = client.get(f"/threads/{thread}", follow_redirects=True).text
    assert "Первое сообщение темы." in shown and f"/posts/{post.id}/edit" in shown

    db.session.get(Thread, thread).title = "Тема переименована"
    db.session.get(Thread, thread).locked = True
    post.body = "Сообщение исправлено."
    db.session.commit()
    listing = client.get(f"/groups/{group}").text
    assert "Тема переименована" in listing and "Первая тема" not in listing and "badge-locked" in listing
    shown = client.get(f"/threads/{thread}", follow_redirects=True).text
    assert "Сообщение исправлено." in shown and "Первое сообщение темы." not in shown
    assert f"/posts/{post.id}/edit" not in shown  # closed: no more editing


def _comment_values(**changed) -> dict:
    values = {"id": 7, "author": "Анна", "body": Markup("<p>текст</p>"), "created_at": datetime(2026, 11, 2, 9, 30),
              "edited_at": None, "by_methodist": False, "by_author": True, "own": False}
    return {**values, **changed}


def test_a_text_and_its_markup_are_kept_apart(app):
    """The same characters as Markup (sanitised HTML) and as a plain text must not share a key:
    the text would come out unescaped."""
    kept = KeptItems(app)
    with app.test_request_context("/"):
        as_markup = kept("comments/_comment.html", **_comment_values(body=Markup("<b>жирный</b>")))
        as_text = kept("comments/_comment.html", **_comment_values(body="<b>жирный</b>"))
    assert "<b>жирный</b>" in as_markup
    assert "&lt;b&gt;жирный&lt;/b&gt;" in as_text and "<b>" not in as_text


def test_addresses_in_kept_markup_follow_the_script_root(app):
    kept = KeptItems(app)
    with app.test_request_context("/"):
        plain = kept("comments/_comment.html", **_comment_values(own=True))
    with app.test_request_context("/", base_url="http://localhost/rost/"):
        rooted = kept("comments/_comment.html", **_comment_values(own=True))
    assert 'href="/comments/7/edit"' in plain and 'href="/rost/comments/7/edit"' in rooted


def test_only_plain_values_and_all_of_them(app):
    kept = KeptItems(app)
    with app.test_request_context("/"):
        with pytest.raises(TypeError, match="plain values"):
            kept("comments/_comment.html", **_comment_values(author=object()))
        with pytest.raises(TypeError, match="takes"):
            kept("comments/_comment.html", **{k: v for k, v in _comment_values().items() if k != "own"})
        summary = {"id": 3, "title": "Запись", "excerpt": "Текст", "created_at": datetime(2026, 11, 2),
                   "visibility": Visibility.COLLEAGUES, "status": None, "author": None, "school": None,
                   "heading": "h3", "tag_endpoint": "journal.index"}
        with pytest.raises(TypeError, match="plain values"):  # keyed by equal texts, it could skip escaping
            kept("journal/_entry_summary.html", **summary, tags=(Markup("<b>чтение</b>"),))
        assert 'href="/journal/?tag=%3Cb%3E' in kept("journal/_entry_summary.html", **summary, tags=("<b>",))


def test_what_is_kept_stays_within_its_limit(app):
    kept = KeptItems(app, limit=20_000)
    with app.test_request_context("/"):
        for number in range(200):
            made = kept("comments/_comment.html", **_comment_values(id=number, body=Markup("<p>" + "ы" * 300 + "</p>")))
            assert f'id="comment-{number}"' in made
            assert kept.chars <= 20_000
    assert 0 < len(kept.kept) < 200


def test_comment_markup_is_rendered_once_per_distinct_values(app, people):
    """What the memo is for: a second reader of the same comments costs no rendering."""
    entry = factories.make_entry(people["author"], visibility=Visibility.COLLEAGUES)
    for n in range(3):
        factories.make_comment(entry, people["librarian"], body=f"Комментарий {n}")
    kept = app.jinja_env.globals["kept_item"]
    client = app.test_client()
    login(client, people["methodist"])
    client.get(f"/journal/{entry}")
    count = len(kept.kept)
    assert count >= 3
    login(client, people["other_methodist"])  # sees them the same way: not the author, no marks
    assert client.get(f"/journal/{entry}").text.count('class="comment"') == 3
    assert len(kept.kept) == count
    assert db.session.query(Comment).count() == 3


MOMENT = datetime(2026, 11, 2, 9, 30)


def _summary(**changed) -> dict:
    values = {"id": 3, "title": "Запись", "excerpt": "Текст", "created_at": MOMENT, "visibility": Visibility.COLLEAGUES,
              "status": None, "tags": (), "author": None, "school": None, "heading": "h3", "tag_endpoint": "journal.index"}
    return {**values, **changed}


def test_a_tuple_holding_markup_is_refused_even_when_equal_texts_were_kept(app):
    kept = KeptItems(app)
    with app.test_request_context("/"):
        kept("journal/_entry_summary.html", **_summary(tags=("<b>",)))
        with pytest.raises(TypeError, match="plain values"):
            kept("journal/_entry_summary.html", **_summary(tags=(Markup("<b>"),)))


def test_moments_with_a_zone_are_refused(app):
    """Two zones' equal moments are equal keys, but other markup."""
    kept = KeptItems(app)
    utc = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
    moscow = utc.astimezone(timezone(timedelta(hours=3)))
    with app.test_request_context("/"):
        for moment in (utc, moscow):  # stored moments are naive UTC; a zone would be a mistake
            with pytest.raises(TypeError, match="plain values"):
                kept("comments/_comment.html", **_comment_values(created_at=moment))


COMMENT_NAMES = ("id", "author", "body", "created_at", "edited_at", "by_methodist", "by_author", "own")


def _comment_rows(count: int, **changed) -> list[tuple]:
    return [tuple(_comment_values(id=number, body=Markup(f"<p>текст {number}</p>"), **changed).values())
            for number in range(count)]


def test_a_list_is_its_items_one_by_one_kept_once_and_made_again_when_any_row_changes(app):
    """kept_item.each: the same markup as each item's, the list kept as a whole while every row is
    the same, and another list (from the items kept) as soon as one value of one row differs."""
    kept = KeptItems(app)
    rows = _comment_rows(3)
    assert tuple(_comment_values()) == COMMENT_NAMES
    with app.test_request_context("/"):
        one_by_one = "\n".join(kept("comments/_comment.html", **dict(zip(COMMENT_NAMES, row, strict=True))) for row in rows)
        made = kept.each("comments/_comment.html", COMMENT_NAMES, rows)
        assert made == one_by_one and made.count("<article") == 3
        count = len(kept.kept)
        assert kept.each("comments/_comment.html", COMMENT_NAMES, list(rows)) == made
        assert len(kept.kept) == count  # found whole
        mine = [*rows[:2], rows[2][:-1] + (True,)]  # the last one is the reader's own now
        changed = kept.each("comments/_comment.html", COMMENT_NAMES, mine)
        assert changed != made
        assert changed == "\n".join(kept("comments/_comment.html", **dict(zip(COMMENT_NAMES, row, strict=True))) for row in mine)
        assert kept.each("comments/_comment.html", COMMENT_NAMES, []) == ""


def test_a_list_takes_only_plain_values_even_when_equal_ones_were_kept(app):
    kept = KeptItems(app)
    names = tuple(_summary())
    with app.test_request_context("/"):
        kept.each("journal/_entry_summary.html", names, [tuple(_summary(tags=("<b>",)).values())])
        with pytest.raises(TypeError, match="plain values"):  # equal texts, but markup: it would skip escaping
            kept.each("journal/_entry_summary.html", names, [tuple(_summary(tags=(Markup("<b>"),)).values())])
        with pytest.raises(TypeError, match="plain values"):
            kept.each("comments/_comment.html", COMMENT_NAMES, [tuple(_comment_values(author=object()).values())])
        with pytest.raises(TypeError, match="takes"):
            kept.each("comments/_comment.html", COMMENT_NAMES[:-1], [row[:-1] for row in _comment_rows(1)])


def test_a_list_kept_for_one_reader_is_not_shown_to_another(client, people):
    """The entry page asks for its comments as one list: each reader's own flags are in its rows."""
    entry = factories.make_entry(people["author"], visibility=Visibility.MENTORS)
    factories.make_comment(entry, people["author"], body="Мой комментарий")
    factories.make_comment(entry, people["methodist"], body="Отзыв методиста")
    for _ in range(2):  # the second time from what was kept
        for reader, own in ((people["author"], "Мой комментарий"), (people["methodist"], "Отзыв методиста")):
            login(client, reader)
            html = client.get(f"/journal/{entry}").text
            mine = re.findall(r'<article id="comment-\d+" class="comment[^"]*"[^>]*>.*?</article>', html, re.S)
            assert [own in item for item in mine if "Edit" in item or "Изменить" in item] == [True]


def test_an_edited_partial_is_seen_when_templates_reload(app, tmp_path):
    """In development (templates reloaded when changed) a partial may change while the app runs."""
    (tmp_path / "comments").mkdir()
    partial = tmp_path / "comments" / "_comment.html"
    partial.write_text("first {{ id }}")
    app.jinja_env.loader = ChoiceLoader([FileSystemLoader(tmp_path), app.jinja_env.loader])
    app.jinja_env.auto_reload = True
    kept = KeptItems(app)
    with app.test_request_context("/"):
        assert kept("comments/_comment.html", **_comment_values()) == "first 7"
        partial.write_text("changed {{ id }}")
        later = time.time() + 5
        os.utime(partial, (later, later))
        assert kept("comments/_comment.html", **_comment_values()) == "changed 7"


@pytest.mark.parametrize("language", ["ru", "en"])
def test_kept_markup_is_what_a_fresh_render_gives_for_every_combination(app, language):
    """Cold, warm and a direct render agree for every flag combination and awkward texts."""
    evil = '<script>alert("x")</script> & \'q\' «ёлка»'
    kept = KeptItems(app)
    cases = []
    for own, by_methodist, by_author, edited in product((False, True), repeat=4):
        cases.append(("comments/_comment.html", _comment_values(own=own, by_methodist=by_methodist, by_author=by_author,
                                                          author=evil, edited_at=MOMENT if edited else None)))
    for unread, own, can_reply, can_manage, author, deleted in product(
            (False, True), (False, True), (False, True), (False, True), (None, evil), (False, True)):
        cases.append(("threads/_post.html", {"id": 5, "thread_id": 2, "author": author, "body": Markup("<p>x</p>"),
                                             "created_at": MOMENT, "edited_at": None, "unread": unread, "own": own,
                                             "can_reply": can_reply, "can_manage": can_manage,
                                             "page_number": 2, "deleted": deleted}))
    for status, author, school in product((None, "accepted", "needs_work"), (None, evil), (None, evil)):
        cases.append(("journal/_entry_summary.html", _summary(status=status, author=author, school=school, title=evil,
                                                              tags=("<b>", "a&b", '"q"', "с пробелом", "x'y"))))
    for pinned, locked, unread, author, count in product((False, True), (False, True), (False, True), (None, evil), (1, 2, 5)):
        cases.append(("groups/_thread_row.html", {"id": 4, "title": evil, "pinned": pinned, "locked": locked,
                                                  "unread": unread, "author": author, "post_count": count,
                                                  "last_post_at": MOMENT}))
    with app.test_request_context("/"):
        from flask_babel import force_locale
        with force_locale(language):
            for template, values in cases:
                fresh = app.jinja_env.get_template(template).render(values)
                assert kept(template, **values) == fresh, (template, values)
            for template, values in cases:
                assert kept(template, **values) == app.jinja_env.get_template(template).render(values)
                assert "<script>" not in kept(template, **values)


def test_the_new_badges_of_a_post_and_a_thread_row_are_each_readers_own(client, people):
    group = factories.make_group(members=(people["author"], people["librarian"]))
    thread = factories.make_thread(group, people["author"], title="Тема")
    login(client, people["author"])
    client.get(f"/threads/{thread}?page=1")  # the author reads the thread: nothing new for them
    factories.make_post(thread, people["author"], body="Ещё одно")
    for _ in range(2):  # the second time from kept markup
        login(client, people["librarian"])  # has read nothing
        assert "unread-marker" in client.get(f"/groups/{group}").text
        assert "post-unread" in client.get(f"/threads/{thread}?page=1", headers={"HX-Request": "true", "HX-Request-Type": "partial"}).text
        login(client, people["author"])  # own posts are never new to their author
        assert "post-unread" not in client.get(f"/threads/{thread}?page=1").text
    login(client, people["librarian"])
    client.get(f"/threads/{thread}?page=1")  # reads it now
    assert "unread-marker" not in client.get(f"/groups/{group}").text
    assert "post-unread" not in client.get(f"/threads/{thread}?page=1").text


def test_a_leader_may_delete_anyones_post_a_member_only_their_own(client, people):
    group = factories.make_group(leaders=(people["admin"],), members=(people["author"], people["librarian"]))
    thread = factories.make_thread(group, people["author"], title="Тема")
    post = db.session.query(Post).filter_by(thread_id=thread).one().id
    for _ in range(2):
        login(client, people["admin"])
        assert f"/threads/posts/{post}/delete" in client.get(f"/threads/{thread}?page=1").text
        login(client, people["librarian"])
        page = client.get(f"/threads/{thread}?page=1").text
        assert f"/threads/posts/{post}/delete" not in page and f"/threads/posts/{post}/edit" not in page
        assert "quote-link" in page


def test_one_entry_in_the_feed_and_in_its_authors_journal(client, people):
    entry = factories.make_entry(people["author"], visibility=Visibility.COLLEAGUES, title="Общая <i>", tags=("a&b",))
    for _ in range(2):
        login(client, people["librarian"])
        feed = client.get("/journal/feed").text
        assert re.search(rf'<h2><a href="/journal/{entry}">Общая &lt;i&gt;</a></h2>', feed)
        assert "Анна Смирнова · Гимназия №3 ·" in feed and 'href="/journal/feed?tag=a%26b">#a&amp;b<' in feed
        login(client, people["author"])
        own = client.get("/journal/").text
        assert re.search(rf'<h3><a href="/journal/{entry}">Общая &lt;i&gt;</a></h3>', own)
        assert "Анна Смирнова" not in own.split(f'id="entry-{entry}"')[1].split("</article>")[0]
        assert 'href="/journal/?tag=a%26b"' in own


def test_a_quote_link_names_the_page_it_is_on(client, people):
    group = factories.make_group(members=(people["author"], people["librarian"]))
    thread = factories.make_thread(group, people["author"], title="Длинная")
    factories.make_posts(thread, people["author"], 31)
    login(client, people["librarian"])
    for number in (1, 2, 1, 2):  # cold and kept
        page = client.get(f"/threads/{thread}?page={number}").text
        links = re.findall(r'class="quote-link" href="([^"]+)"', page)
        assert links and all(f"page={number}&amp;" in link for link in links), links[:2]


def test_a_partial_that_reached_for_the_request_would_find_nothing(app, tmp_path):
    """Beside the check of each partial's source: what Flask gives every template (the request,
    the session, g, the config) is not in a partial's context at all."""
    (tmp_path / "comments").mkdir()
    (tmp_path / "comments" / "_comment.html").write_text("[{{ request }}{{ session }}{{ g }}{{ config }}] {{ id }}")
    app.jinja_env.loader = ChoiceLoader([FileSystemLoader(tmp_path), app.jinja_env.loader])
    with app.test_request_context("/"):
        assert KeptItems(app)("comments/_comment.html", **_comment_values()) == "[] 7"


def _body_field(html: str) -> str:
    return re.search(r'<textarea[^>]*name="body"[^>]*>(.*?)</textarea>', html, re.S).group(1).strip()


def test_the_new_entry_forms_fields_are_kept_per_steps_and_language_never_with_text(client, people):
    """The empty new-entry form's fields are kept (webapp.journal.views.kept_entry_fields): each
    person still sees their own plan's steps, in their language, and a form opened with text (a
    draft resumed) or refused is never what an empty form shows."""
    from webapp.journal import drafts
    from webapp.models import EntryDraft
    from webapp.plans.progress import current_year

    for person, step in ((people["author"], "Шаг автора"), (people["librarian"], "Шаг библиотекаря")):
        factories.make_step(factories.make_plan(person, year=current_year()), title=step)
    for _ in range(2):  # the second time from what was kept
        for person, mine, theirs in ((people["author"], "Шаг автора", "Шаг библиотекаря"),
                                     (people["librarian"], "Шаг библиотекаря", "Шаг автора")):
            login(client, person)
            page = client.get("/journal/").text
            assert mine in page and theirs not in page and _body_field(page) == ""
    login(client, people["author"])
    key = drafts.new_key()
    db.session.add(EntryDraft(key=key, user_id=people["author"], title="Черновик", body="Текст черновика"))
    db.session.commit()
    assert _body_field(client.get(f"/journal/drafts/{key}").text) == "Текст черновика"
    refused = client.post("/journal/", data={"title": "", "body": "Несохранённый текст", "visibility": "mentors",
                                             "tags": "", "draft_key": drafts.new_key()})
    assert refused.status_code == 422 and _body_field(refused.text) == "Несохранённый текст"
    page = client.get("/journal/").text
    assert _body_field(page) == "" and 'value="Черновик"' not in page and '<label for="title">Заголовок</label>' in page
    db.session.get(User, people["author"]).locale = "en"
    db.session.commit()
    page = client.get("/journal/").text
    assert '<label for="title">Title</label>' in page and "Шаг автора" in page
