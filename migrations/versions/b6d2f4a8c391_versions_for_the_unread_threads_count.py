"""versions for the navigation's unread-threads count

The navigation's poll compares versions kept on write (a group's posts, a person's reading)
instead of counting every read mark the person has left.

Revision ID: b6d2f4a8c391
Revises: 5d1e8a3f7c20
Create Date: 2026-11-26 03:30:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b6d2f4a8c391'
down_revision = '5d1e8a3f7c20'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN with a constant default: no table is copied, on SQLite either.
    op.add_column('groups', sa.Column('posts_version', sa.Integer(), server_default='0', nullable=False))
    op.add_column('users', sa.Column('reading_version', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('users') as batch_op:
        batch_op.drop_column('reading_version')
    with op.batch_alter_table('groups') as batch_op:
        batch_op.drop_column('posts_version')
