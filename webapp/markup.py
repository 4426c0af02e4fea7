"""User Markdown in, safe HTML out: rendered with raw HTML off, then cleaned by an allowlist."""
from __future__ import annotations

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


# Enough Markdown for an excerpt of a few hundred characters of text, even with links and emphasis.
EXCERPT_SOURCE = 1200


def plain_excerpt(text: str, length: int) -> str:
    """The beginning of a person's Markdown as plain text of at most `length` characters, for
    notifications. Only the first paragraphs are rendered: an entry may run to 100,000
    characters, and a list of twenty must not render them all to show 200 of each."""
    source = text or ""
    if len(source) > EXCERPT_SOURCE:
        # Cut between paragraphs, else lines, else words: never inside a word.
        for boundary in ("\n\n", "\n", " "):
            cut = source.rfind(boundary, length, EXCERPT_SOURCE)
            if cut != -1:
                source = source[:cut]
                break
        else:
            source = source[:EXCERPT_SOURCE]
    return shorten(plain_text(render_markdown(source)), length)


def plain_text(html: str) -> str:
    """Rendered HTML as one line of text: tags gone, entities decoded, whitespace collapsed."""
    return " ".join(Markup(html).striptags().split())


def shorten(plain: str, length: int) -> str:
    """At most `length` characters, cut between words, with an ellipsis when anything was cut."""
    if len(plain) <= length:
        return plain
    cut = plain[: length - 1]
    if " " in cut:
        cut = cut[: cut.rfind(" ")]  # not inside a word
    return cut.rstrip(" ,;:") + "…"
