"""What every page carries: a strict CSP, cache and Vary headers, htmx pinned with SRI,
and templates that need no eval."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from webapp.config import HTMX_SRI

from .conftest import FRAGMENT, login

ROOT = Path(__file__).resolve().parent.parent


def test_login_page_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    for directive in ("default-src 'self'", "script-src 'self'", "style-src 'self'", "object-src 'none'",
                      "frame-ancestors 'none'", "form-action 'self'", "base-uri 'self'"):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_cdn_is_allowed_only_when_htmx_comes_from_it(tmp_path):
    from .conftest import make_test_app
    cdn = make_test_app(tmp_path, HTMX_SOURCE="cdn")
    page = cdn.test_client().get("/login")
    # htmx's own file, not the whole CDN: it serves any package of anyone's
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self' https://cdn.jsdelivr.net/npm/htmx.org@4.0.1/dist/htmx.min.js;" in csp
    assert 'src="https://cdn.jsdelivr.net/npm/htmx.org@4.0.1/dist/htmx.min.js"' in page.text
    assert f'integrity="{HTMX_SRI}"' in page.text


def test_local_htmx_is_served_with_the_same_hash(client):
    page = client.get("/login")
    assert "cdn.jsdelivr.net" not in page.headers["Content-Security-Policy"]
    assert 'src="/static/vendor/htmx.min.js"' in page.text
    assert f'integrity="{HTMX_SRI}"' in page.text


def test_signed_in_pages_are_not_cached_and_vary_on_htmx(client, people):
    login(client, people["author"])
    response = client.get("/journal/")
    assert response.headers["Cache-Control"] == "no-store"
    assert {"HX-Request", "HX-Request-Type"} <= {v.strip() for v in response.headers["Vary"].split(",")}


def test_fragment_is_a_block_and_the_page_is_whole(client, people):
    login(client, people["author"])
    page, fragment = client.get("/journal/"), client.get("/journal/", headers=FRAGMENT)
    assert page.text.lstrip().startswith("<!doctype html>")
    assert "<html" not in fragment.text and 'id="entry-list"' in fragment.text
    boosted = client.get("/journal/", headers={"HX-Request": "true", "HX-Request-Type": "full"})
    assert boosted.text.lstrip().startswith("<!doctype html>")


def test_unknown_page_is_a_russian_404_page(client, people):
    login(client, people["author"])
    response = client.get("/journal/999999")
    assert response.status_code == 404
    assert "Такой страницы нет" in response.text


def test_an_address_that_only_takes_a_form_says_to_use_the_page_s_buttons(client, people):
    """GET /logout, typed or bookmarked: the page says what to do, and its header has «Выйти»."""
    login(client, people["author"])
    response = client.get("/logout")
    assert response.status_code == 405
    assert "пользуйтесь кнопками и ссылками на страницах сайта" in response.text
    assert re.search(r'<form method="post" action="/logout"[^>]*>.*?Выйти', response.text, re.S)


TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT / "templates")))
def test_templates_need_no_eval_and_no_inline_code(path):
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"\bhx-on", text), "hx-on needs eval"
    assert not re.search(r"hx-trigger=\"[^\"]*\[", text), "trigger filters need eval"
    assert not re.search(r"(hx-vals|hx-headers|hx-confirm)[^=]*=\s*['\"]\s*(js|javascript):", text)
    assert not re.search(r"<script(?![^>]*\bsrc=)", text), "inline script"
    assert not re.search(r"\sstyle=", text) and "<style" not in text, "inline style"
    assert not re.search(r"\son[a-z]+=", text), "inline event handler"


def test_user_content_is_never_processed_by_htmx():
    for path in TEMPLATES:
        for line in path.read_text(encoding="utf-8").splitlines():
            if "|markdown" in line and "striptags" not in line:
                assert "hx-ignore" in line, f"{path.name}: rendered Markdown outside an hx-ignore element"


def test_an_id_too_large_for_the_database_is_404(client, people):
    login(client, people["author"])
    assert client.get("/journal/99999999999999999999").status_code == 404
    assert client.get("/journal/2147483648/edit").status_code == 404


def test_query_counter_sees_a_page_load(client, people):
    from .conftest import counted_queries
    login(client, people["author"])
    with counted_queries() as statements:
        client.get("/journal/")
    assert any("journal_entries" in s for s in statements)
    assert any("FROM users" in s for s in statements)  # the signed-in user is loaded
