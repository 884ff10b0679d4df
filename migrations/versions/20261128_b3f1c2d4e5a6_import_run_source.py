"""import runs: source_run_id, the preview a confirmed import applies

One confirmation per preview (unique), so a preview cannot be applied twice.

Revision ID: b3f1c2d4e5a6
Revises: 971491b4e375
Create Date: 2026-11-28 10:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b3f1c2d4e5a6'
down_revision = '971491b4e375'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('import_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_run_id', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_import_runs_source_run_id'), ['source_run_id'])
        batch_op.create_foreign_key(batch_op.f('fk_import_runs_source_run_id_import_runs'), 'import_runs',
                                    ['source_run_id'], ['id'])


def downgrade():
    with op.batch_alter_table('import_runs', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_import_runs_source_run_id_import_runs'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_import_runs_source_run_id'), type_='unique')
        batch_op.drop_column('source_run_id')
