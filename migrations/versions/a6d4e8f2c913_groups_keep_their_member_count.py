"""groups keep their member count

A group's page and the list of groups counted the group's members on every showing: the city's
association, with every librarian in it, was counted member by member each time its thread list
was opened. The count is now kept on the group's row by joining and leaving, and filled in here
from the members there are.

Revision ID: a6d4e8f2c913
Revises: f3a8c2d6b104
Create Date: 2026-11-28 09:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a6d4e8f2c913'
down_revision = 'f3a8c2d6b104'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('groups', sa.Column('member_count', sa.Integer(), server_default='0', nullable=False))
    op.execute("UPDATE groups SET member_count = (SELECT count(*) FROM group_members "
               "WHERE group_members.group_id = groups.id)")


def downgrade():
    with op.batch_alter_table('groups') as batch_op:
        batch_op.drop_column('member_count')
