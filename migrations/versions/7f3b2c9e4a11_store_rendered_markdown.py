"""store rendered Markdown with entries, comments and posts

Pages showed every body by rendering and sanitising its Markdown on each view (an entry with fifty
comments: fifty-one renderings per request). The sanitised HTML is now stored beside the Markdown,
with a plain-text excerpt for entries, and rendered once per write (webapp/rendered.py). The
upgrade renders what is already stored, in batches of 500 rows.

Revision ID: 7f3b2c9e4a11
Revises: 9e3c5a7d2b10
Create Date: 2026-11-25 23:40:00.000000

"""
import sqlalchemy as sa
from alembic import op

from webapp.rendered import render_stored

# revision identifiers, used by Alembic.
revision = '7f3b2c9e4a11'
down_revision = '9e3c5a7d2b10'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('journal_entries') as batch_op:
        batch_op.add_column(sa.Column('body_html', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('excerpt', sa.Text(), server_default='', nullable=False))
    with op.batch_alter_table('comments') as batch_op:
        batch_op.add_column(sa.Column('body_html', sa.Text(), server_default='', nullable=False))
    with op.batch_alter_table('posts') as batch_op:
        batch_op.add_column(sa.Column('body_html', sa.Text(), server_default='', nullable=False))
    # The tables this revision gave a rendering, named here: a later revision may add others.
    render_stored(op.get_bind(), {'journal_entries': True, 'comments': False, 'posts': False})


def downgrade():
    with op.batch_alter_table('posts') as batch_op:
        batch_op.drop_column('body_html')
    with op.batch_alter_table('comments') as batch_op:
        batch_op.drop_column('body_html')
    with op.batch_alter_table('journal_entries') as batch_op:
        batch_op.drop_column('excerpt')
        batch_op.drop_column('body_html')
