"""import runs: one row per workbook import (status, progress, counts, errors)

The audit trail's 'import' row points at the run; the data rows it wrote
carry their own audit rows.

Revision ID: 971491b4e375
Revises: 7f6ece305a8b
Create Date: 2026-11-28 04:03:32.921117

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '971491b4e375'
down_revision = '7f6ece305a8b'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('import_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_label', sa.String(length=254), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=True),
    sa.Column('status', sa.Enum('queued', 'running', 'applied', 'previewed', 'invalid', 'rejected', 'failed', name='import_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('dry_run', sa.Boolean(), nullable=False),
    sa.Column('rows_total', sa.Integer(), nullable=False),
    sa.Column('rows_done', sa.Integer(), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('counts', sa.JSON(), nullable=True),
    sa.Column('errors', sa.JSON(), nullable=True),
    sa.Column('ignored_columns', sa.JSON(), nullable=True),
    sa.Column('changes', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_import_runs_actor_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_runs'))
    )
    with op.batch_alter_table('import_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_runs_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_runs_created_at'), ['created_at'], unique=False)



def downgrade():
    with op.batch_alter_table('import_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_runs_created_at'))
        batch_op.drop_index(batch_op.f('ix_import_runs_actor_id'))

    op.drop_table('import_runs')
