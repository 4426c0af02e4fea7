"""User Markdown in, safe HTML out: rendered with raw HTML off, then cleaned by an allowlist."""
from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).disable("image")

ALLOWED_TAGS = {
    "p", "br", "hr", "em", "strong", "del", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "h1", "h2", "h3", "h4", "h5", "h6",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
ALLOWED_SCHEMES = {"http", "https", "mailto"}


def render_markdown(text: str) -> Markup:
    """The one function that turns a person's Markdown into HTML for any page."""
    html = _md.render(text or "")
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    return Markup(clean)


SHORT_TEXT = 4_000  # a group's description, a plan's aim: kept rendered; longer ones are rendered each time


@lru_cache(maxsize=1024)
def _render_short(text: str) -> Markup:
    return render_markdown(text)


def render_markdown_kept(text: str | None) -> Markup:
    """render_markdown for the short texts pages show that are not stored rendered (a group's
    description on every view of its thread list, a plan's aim and tasks, its comments): the
    result depends on the text alone, so the latest 1,024 of them are kept per process."""
    text = text or ""
    return _render_short(text) if len(text) <= SHORT_TEXT else render_markdown(text)


def plain_excerpt(html: str, length: int) -> str:
    """Rendered HTML as plain text for lists and notifications: tags gone, entities decoded,
    whitespace collapsed, at most `length` characters cut between words, with an ellipsis when
    anything was cut."""
    plain = " ".join(Markup(html).striptags().split())
    if len(plain) <= length:
        return plain
    cut = plain[: length - 1]
    if " " in cut:
        cut = cut[: cut.rfind(" ")]  # not inside a word
    return cut.rstrip(" ,;:") + "…"
