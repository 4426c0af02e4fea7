"""index threads by group and last post

The thread list's poll asks for the newest post id of a group, and the navigation counts threads
with unread posts; both read (group_id, last_post_id) from this index instead of every thread row.

Revision ID: 9e3c5a7d2b10
Revises: 4b866cd0649b
Create Date: 2026-11-25 21:58:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '9e3c5a7d2b10'
down_revision = '4b866cd0649b'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_threads_group_last_post', 'threads', ['group_id', 'last_post_id'])


def downgrade():
    op.drop_index('ix_threads_group_last_post', table_name='threads')
