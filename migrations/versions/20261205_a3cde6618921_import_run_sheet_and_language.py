"""import runs remember the sheet a CSV upload is and the language its messages are in

``import_runs.sheet``: the sheet a CSV upload was named as (``--sheet``, the
upload form's or the API's ``sheet`` field); NULL when told by its header or
for a workbook.  ``import_runs.language``: ``zh`` or ``en``, the language of
the user who started the run, so a background worker writes its messages in
that language; NULL for every existing run (Chinese, the default).

Revision ID: a3cde6618921
Revises: a9e4c1d7b352
Create Date: 2026-12-05 21:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a3cde6618921'
down_revision = 'a9e4c1d7b352'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('import_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sheet', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=True))


def downgrade():
    with op.batch_alter_table('import_runs', schema=None) as batch_op:
        batch_op.drop_column('language')
        batch_op.drop_column('sheet')
