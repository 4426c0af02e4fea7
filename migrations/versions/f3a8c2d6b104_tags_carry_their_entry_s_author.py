"""tags carry their entry's author

The journal's tag filter lists every tag a person has used. It found them through each of their
entries in turn: one look-up into entry_tags per entry, a journal of years read again on every
opening of the journal. A tag now carries its entry's author, and ix_entry_tags_author_id holds
one person's tags together. The foreign key to the entry becomes (entry_id, author_id), so a
tag's author is always its entry's; a unique index on journal_entries (id, author_id) is what
it refers to.

Revision ID: f3a8c2d6b104
Revises: b5c7d9e1f3a2
Create Date: 2026-11-28 06:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f3a8c2d6b104'
down_revision = 'b5c7d9e1f3a2'
branch_labels = None
depends_on = None

_FK = 'fk_entry_tags_entry_id_journal_entries'


def upgrade():
    op.create_index('uq_journal_entries_id_author_id', 'journal_entries', ['id', 'author_id'], unique=True)
    with op.batch_alter_table('entry_tags') as batch_op:
        batch_op.add_column(sa.Column('author_id', sa.Integer(), nullable=True))
    op.execute("UPDATE entry_tags SET author_id = (SELECT journal_entries.author_id FROM journal_entries "
               "WHERE journal_entries.id = entry_tags.entry_id)")
    with op.batch_alter_table('entry_tags') as batch_op:
        batch_op.alter_column('author_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_constraint(_FK, type_='foreignkey')
        batch_op.create_foreign_key(_FK, 'journal_entries', ['entry_id', 'author_id'], ['id', 'author_id'],
                                    ondelete='CASCADE')
        batch_op.create_index('ix_entry_tags_author_id', ['author_id', 'name'], unique=False)


def downgrade():
    with op.batch_alter_table('entry_tags') as batch_op:
        batch_op.drop_index('ix_entry_tags_author_id')
        batch_op.drop_constraint(_FK, type_='foreignkey')
        batch_op.create_foreign_key(_FK, 'journal_entries', ['entry_id'], ['id'], ondelete='CASCADE')
        batch_op.drop_column('author_id')
    op.drop_index('uq_journal_entries_id_author_id', table_name='journal_entries')
