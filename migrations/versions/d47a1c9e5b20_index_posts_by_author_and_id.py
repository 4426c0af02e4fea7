"""index posts by author and id

Starting a thread looks for the person's newest post (a thread sent again is started once). With
an index on author_id alone, PostgreSQL walked the primary key backwards from the newest post of
all until it met one of theirs: the whole table for someone who has not posted. (author_id, id)
answers "their newest post" in one index step on both databases; it also serves everything the
index on author_id served.

Revision ID: d47a1c9e5b20
Revises: c81f4e2a9d37
Create Date: 2026-11-26 23:40:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'd47a1c9e5b20'
down_revision = 'c81f4e2a9d37'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_posts_author_id_id', 'posts', ['author_id', 'id'])
    op.drop_index('ix_posts_author_id', table_name='posts')


def downgrade():
    op.create_index('ix_posts_author_id', 'posts', ['author_id'])
    op.drop_index('ix_posts_author_id_id', table_name='posts')
