"""index methodists' verdicts by entry and date

The author's journal shows each listed entry's latest verdict, read with the entry as a column of
the page's statement, and the entry's page lists its verdicts newest first. With only the primary
key (entry_id, methodist_id), each of those sorted an entry's verdicts; (entry_id, updated_at,
methodist_id) hands them over in order, the latest first.

Revision ID: e2a6c4f81b37
Revises: d47a1c9e5b20
Create Date: 2026-11-27 23:45:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e2a6c4f81b37'
down_revision = 'd47a1c9e5b20'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_feedback_entry_updated', 'entry_feedback', ['entry_id', 'updated_at', 'methodist_id'])


def downgrade():
    op.drop_index('ix_feedback_entry_updated', table_name='entry_feedback')
