"""entry drafts keep the plan step chosen in the editor

A draft kept the title, text, visibility and tags of an editor, not the plan step: an entry
rescued after the session ended, or resumed from the drafts, came back unlinked from the step the
person had chosen (or, for an edit, linked to the entry's step before the change). A draft of an
edit made before this keeps its entry's step, as its editor showed it.

Revision ID: b5c7d9e1f3a2
Revises: e2a6c4f81b37
Create Date: 2026-11-28 02:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b5c7d9e1f3a2'
down_revision = 'e2a6c4f81b37'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('entry_drafts') as batch_op:
        batch_op.add_column(sa.Column('step_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_entry_drafts_step_id_plan_steps'), 'plan_steps', ['step_id'], ['id'],
                                    ondelete='SET NULL')
    op.execute("UPDATE entry_drafts SET step_id = (SELECT journal_entries.step_id FROM journal_entries "
               "WHERE journal_entries.id = entry_drafts.entry_id) WHERE entry_id IS NOT NULL")


def downgrade():
    with op.batch_alter_table('entry_drafts') as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_entry_drafts_step_id_plan_steps'), type_='foreignkey')
        batch_op.drop_column('step_id')
