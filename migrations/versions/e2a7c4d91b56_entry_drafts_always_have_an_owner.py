"""entry drafts always have an owner

A draft rescued after the session ended used to wait, ownerless, for whoever signed in next in
that browser (claim_token). It is now kept for the person the editor was shown to, so every draft
has its user. Drafts still waiting to be claimed have no one to go to and are removed.

Revision ID: e2a7c4d91b56
Revises: b6d2f4a8c391
Create Date: 2026-11-26 12:10:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e2a7c4d91b56'
down_revision = 'b6d2f4a8c391'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("DELETE FROM entry_drafts WHERE user_id IS NULL")
    with op.batch_alter_table('entry_drafts') as batch_op:
        batch_op.drop_index('ix_entry_drafts_claim_token')
        batch_op.drop_column('claim_token')
        batch_op.alter_column('user_id', existing_type=sa.Integer(), nullable=False)


def downgrade():
    with op.batch_alter_table('entry_drafts') as batch_op:
        batch_op.alter_column('user_id', existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column('claim_token', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_entry_drafts_claim_token', ['claim_token'], unique=False)
