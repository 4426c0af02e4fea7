"""compose the names people look for (NFC): tags, display names, schools, groups

Typed text is stored in Unicode's composed form (NFC) now (webapp.text.strip_controls). Names stored
before could hold decomposed letters, a «й» as «и» and a combining breve (text copied from PDF files
often is), which look the same as the composed ones and do not match them: a tag filter missed the
entries, an administrator's search missed the person, and a second school or group of the same name
could be made. The upgrade composes them:
- a tag an entry then holds twice is kept once;
- a school whose composed name is another school's is that school: its people move there;
- a group whose composed name is another group's keeps its name: they are two groups, with members
  and threads of their own, and an administrator renames one.
The downgrade leaves the names composed: the earlier schema holds them as well.

Revision ID: c81f4e2a9d37
Revises: b6d2f4a8c391
Create Date: 2026-11-26 15:30:00.000000

"""
import unicodedata

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c81f4e2a9d37'
down_revision = 'b6d2f4a8c391'
branch_labels = None
depends_on = None

users = sa.table('users', sa.column('id', sa.Integer), sa.column('display_name', sa.String),
                 sa.column('school_id', sa.Integer))
schools = sa.table('schools', sa.column('id', sa.Integer), sa.column('name', sa.String))
groups = sa.table('groups', sa.column('id', sa.Integer), sa.column('name', sa.String))
entry_tags = sa.table('entry_tags', sa.column('entry_id', sa.Integer), sa.column('name', sa.String))


def _changed(rows):
    """(id, composed) for the rows whose value NFC changes."""
    changed = []
    for row_id, value in rows:
        composed = unicodedata.normalize('NFC', value)
        if composed != value:
            changed.append((row_id, composed))
    return changed


def upgrade():
    bind = op.get_bind()

    tag_names = bind.scalars(sa.select(entry_tags.c.name).distinct()).all()
    for name, composed in _changed((name, name) for name in tag_names):
        holding = sa.select(entry_tags.c.entry_id).where(entry_tags.c.name == composed)
        bind.execute(entry_tags.delete().where(entry_tags.c.name == name, entry_tags.c.entry_id.in_(holding)))
        bind.execute(entry_tags.update().where(entry_tags.c.name == name).values(name=composed))

    for user_id, composed in _changed(bind.execute(sa.select(users.c.id, users.c.display_name)).all()):
        bind.execute(users.update().where(users.c.id == user_id).values(display_name=composed))

    for school_id, composed in _changed(bind.execute(sa.select(schools.c.id, schools.c.name)).all()):
        same = bind.scalar(sa.select(schools.c.id).where(schools.c.name == composed))
        if same is None:
            bind.execute(schools.update().where(schools.c.id == school_id).values(name=composed))
        else:
            bind.execute(users.update().where(users.c.school_id == school_id).values(school_id=same))
            bind.execute(schools.delete().where(schools.c.id == school_id))

    for group_id, composed in _changed(bind.execute(sa.select(groups.c.id, groups.c.name)).all()):
        if bind.scalar(sa.select(groups.c.id).where(groups.c.name == composed)) is None:
            bind.execute(groups.update().where(groups.c.id == group_id).values(name=composed))


def downgrade():
    pass
