"""Markdown bodies stored with their HTML: rendered and sanitised once, when written.

Pages show `body_markup` and never render Markdown themselves: a thread page of thirty posts or an
entry with fifty comments costs no Markdown work, and a journal list shows each entry's stored
excerpt. Every ORM write of `body` renders again (an attribute event), so no write path can forget.

When webapp/markup.py changes how Markdown is rendered or cleaned (the allowlist, the renderer's
version), the stored HTML is made again with `flask render-markdown` (docs/deploy.md, upgrading).
"""
from __future__ import annotations

import sqlalchemy as sa
from markupsafe import Markup
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, mapped_column

from .markup import plain_excerpt, render_markdown

# Plain text of an entry shown in lists (the journal, the feed, search, a tag).
EXCERPT_LENGTH = 280
BATCH = 500


class RenderedBody:
    """The sanitised HTML of `body`, kept by keep_rendered()."""

    body_html: Mapped[str] = mapped_column(sa.Text, default="", server_default="")

    @property
    def body_markup(self) -> Markup:
        return Markup(self.body_html)


def rendered_fields(body: str | None, *, excerpt: bool) -> dict[str, str]:
    """What is stored beside a body: its HTML and, for entries, the excerpt lists show."""
    html = str(render_markdown(body or ""))
    fields = {"body_html": html}
    if excerpt:
        fields["excerpt"] = plain_excerpt(html, EXCERPT_LENGTH)
    return fields


def keep_rendered(model: type, *, excerpt: bool = False) -> None:
    """Render `model.body` into its stored fields whenever the ORM sets it (constructor included)."""

    @event.listens_for(model.body, "set")
    def _render(target, value, _old, _initiator) -> None:
        for name, stored in rendered_fields(value, excerpt=excerpt).items():
            setattr(target, name, stored)


# Tables with a stored rendering, and whether they keep an excerpt too.
STORED = {"journal_entries": True, "comments": False, "posts": False}


def render_stored(connection: Connection, tables: dict[str, bool], *, live: bool = False) -> dict[str, int]:
    """Render every stored body of `tables` again, in batches by id, with Core statements that name
    their columns (a migration runs this too, whatever the models look like later).

    `live`: the site may be serving meanwhile (flask render-markdown). Each batch is then read,
    the transaction ended, rendered with no lock held (a 100,000-character entry takes 0.1 s;
    SQLite would hold its one write lock), and written in a short transaction of its own; a body
    edited between the read and the write keeps the rendering its edit stored.
    Returns how many rows of each table were rendered."""
    done: dict[str, int] = {}
    for name, excerpt in tables.items():
        columns = [sa.column("id"), sa.column("body"), sa.column("body_html")]
        if excerpt:
            columns.append(sa.column("excerpt"))
        table = sa.table(name, *columns)
        # Bound names differ from the column names: SQLAlchemy keeps those for its own SET values.
        update = (sa.update(table)
                  .where(table.c.id == sa.bindparam("row_id"), table.c.body == sa.bindparam("old_body"))
                  .values({c: sa.bindparam(f"new_{c}") for c in ("body_html", "excerpt") if c in table.c}))
        last, count = 0, 0
        while True:
            rows = connection.execute(
                sa.select(table.c.id, table.c.body).where(table.c.id > last).order_by(table.c.id).limit(BATCH)
            ).all()
            if not rows:
                break
            if live:
                connection.rollback()
            values = []
            for row in rows:
                fields = rendered_fields(row.body, excerpt=excerpt)
                values.append({"row_id": row.id, "old_body": row.body, **{f"new_{k}": v for k, v in fields.items()}})
            connection.execute(update, values)
            if live:
                connection.commit()
            last, count = rows[-1].id, count + len(rows)
        done[name] = count
    return done
