"""coverage indexes: standards in force, carbon standards, staff roster, withdrawn institutions

Partial indexes (``withdrawn_at IS NULL``) holding every column the coverage
counts read, so PostgreSQL answers them with index-only scans.

Revision ID: 7f6ece305a8b
Revises: 8684ef5fc5ab
Create Date: 2026-11-28 04:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7f6ece305a8b'
down_revision = '8684ef5fc5ab'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('institutions', schema=None) as batch_op:
        batch_op.create_index(
            'ix_institutions_withdrawn', ['id'], unique=False,
            postgresql_where=sa.text('withdrawn_at IS NOT NULL'), sqlite_where=sa.text('withdrawn_at IS NOT NULL'))

    with op.batch_alter_table('measurement_standards', schema=None) as batch_op:
        batch_op.create_index(
            'ix_measurement_standards_in_force',
            ['category', 'valid_until', 'issued_on', 'status', 'status_since', 'institution_id'], unique=False,
            postgresql_where=sa.text('withdrawn_at IS NULL'), sqlite_where=sa.text('withdrawn_at IS NULL'))
        batch_op.create_index(
            'ix_measurement_standards_carbon', ['built_on', 'institution_id', 'build_kind'], unique=False,
            postgresql_where=sa.text('is_carbon AND withdrawn_at IS NULL'),
            sqlite_where=sa.text('is_carbon = 1 AND withdrawn_at IS NULL'))

    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.create_index(
            'ix_persons_roster',
            ['institution_id', 'employed_from', 'employed_until', 'registered_on', 'registration_valid_until',
             'registration_no'], unique=False,
            postgresql_where=sa.text('withdrawn_at IS NULL'), sqlite_where=sa.text('withdrawn_at IS NULL'))


def downgrade():
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.drop_index('ix_persons_roster')

    with op.batch_alter_table('measurement_standards', schema=None) as batch_op:
        batch_op.drop_index('ix_measurement_standards_carbon')
        batch_op.drop_index('ix_measurement_standards_in_force')

    with op.batch_alter_table('institutions', schema=None) as batch_op:
        batch_op.drop_index('ix_institutions_withdrawn')
