"""index comments by author and date, shared entries by author and last edit

The methodist's desk shows each mentee's latest moments: their newest shared entry, their latest
edit of one, their newest comment on one. Each is now read newest first from an index and stops
at the first match, instead of aggregating every entry and comment the mentee ever wrote. The
entries' index carries the id too, so that counting the entries awaiting an answer reads the index
alone on PostgreSQL as well.

Revision ID: 5d1e8a3f7c20
Revises: 7f3b2c9e4a11
Create Date: 2026-11-25 23:50:00.000000

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '5d1e8a3f7c20'
down_revision = '7f3b2c9e4a11'
branch_labels = None
depends_on = None


def upgrade():
    # Plain index operations: no table is copied, on SQLite either.
    op.create_index('ix_comments_author_created', 'comments', ['author_id', 'created_at'])
    # With id: the awaiting count's NOT EXISTS probes need it, and PostgreSQL's indexes carry no row id.
    op.create_index('ix_entries_author_visibility_updated', 'journal_entries',
                    ['author_id', 'visibility', 'updated_at', 'id'])


def downgrade():
    op.drop_index('ix_entries_author_visibility_updated', table_name='journal_entries')
    op.drop_index('ix_comments_author_created', table_name='comments')
