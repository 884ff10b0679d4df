"""undated statuses: import runs' warnings, and an index for the coverage reports' count

A standard whose status other than in use arrives without its date is
imported without one (it counts as in use on no date) and the run says so
in ``import_runs.warnings`` (existing runs: NULL).  Every coverage report
counts such standards: a partial index holds only them (few), so the count
does not scan the table.

Revision ID: c4d8e2a7f910
Revises: c4a7e2b9d013
Create Date: 2026-12-05 18:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4d8e2a7f910'
down_revision = 'c4a7e2b9d013'
branch_labels = None
depends_on = None


UNDATED = "status_since IS NULL AND status <> 'in_use' AND withdrawn_at IS NULL"


def upgrade():
    with op.batch_alter_table('import_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('warnings', sa.JSON(), nullable=True))
    op.create_index('ix_measurement_standards_undated_status', 'measurement_standards',
                    ['category', 'institution_id'], unique=False,
                    postgresql_where=sa.text(UNDATED), sqlite_where=sa.text(UNDATED))


def downgrade():
    op.drop_index('ix_measurement_standards_undated_status', table_name='measurement_standards',
                  postgresql_where=sa.text(UNDATED), sqlite_where=sa.text(UNDATED))
    with op.batch_alter_table('import_runs', schema=None) as batch_op:
        batch_op.drop_column('warnings')
