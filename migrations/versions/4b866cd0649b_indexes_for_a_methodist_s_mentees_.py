"""indexes for a methodist's mentees' entries and comments

The desk and "awaiting answers" filter entries by author and visibility, and ask whether the
methodist commented on each; without these, SQLite (before ANALYZE) walked every shared entry of
the city through the visibility index and every comment of the methodist.

Revision ID: 4b866cd0649b
Revises: cc0b14b813c1
Create Date: 2026-11-25 21:31:17.893032

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '4b866cd0649b'
down_revision = 'cc0b14b813c1'
branch_labels = None
depends_on = None


def upgrade():
    # Plain index operations: no table is copied, on SQLite either.
    op.create_index('ix_comments_author_id_entry_id', 'comments', ['author_id', 'entry_id'])
    op.drop_index('ix_comments_author_id', table_name='comments')
    op.create_index('ix_entries_author_visibility_created', 'journal_entries', ['author_id', 'visibility', 'created_at'])


def downgrade():
    op.drop_index('ix_entries_author_visibility_created', table_name='journal_entries')
    op.create_index('ix_comments_author_id', 'comments', ['author_id'])
    op.drop_index('ix_comments_author_id_entry_id', table_name='comments')
