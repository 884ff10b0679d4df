"""import runs: warnings, the rows imported as given that deserve a look

A standard whose status other than in use arrives without its date is
imported without one (it counts as in use on no date) and the run says so.
Existing runs have none (NULL).

Revision ID: c4d8e2a7f910
Revises: b3f1c2d4e5a6
Create Date: 2026-12-05 18:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4d8e2a7f910'
down_revision = 'b3f1c2d4e5a6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('import_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('warnings', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('import_runs', schema=None) as batch_op:
        batch_op.drop_column('warnings')
