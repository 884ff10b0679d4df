"""ix_measurement_standards_in_force holds only the social public standards.

Every coverage count reads the social public standards not withdrawn; the
index was keyed by category first, so a third of each entry was the word
``social_public`` and half the entries were of other categories.  Partial
on ``category = 'social_public'`` (and not withdrawn), keyed from the
validity dates: 96 MB to 31 MB at 1,000,000 standards, and the province
report's count of two dates 62 to 46 ms on PostgreSQL.  The queries state
the category as a literal (``registry.standards.validity.social_public``),
which SQLite needs to use a partial index.

Revision ID: b6e2f4a8c190
Revises: 4dc914b23665
Create Date: 2026-12-06 06:20:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b6e2f4a8c190'
down_revision = '4dc914b23665'
branch_labels = None
depends_on = None

COLUMNS = ['valid_until', 'issued_on', 'status', 'status_since', 'institution_id', 'certified_since',
           'has_status_periods', 'id']
WHERE = "withdrawn_at IS NULL AND category = 'social_public'"
OLD_COLUMNS = ['category', *COLUMNS]
OLD_WHERE = "withdrawn_at IS NULL"


def _replace(columns, where):
    import sqlalchemy as sa

    op.drop_index('ix_measurement_standards_in_force', table_name='measurement_standards')
    op.create_index('ix_measurement_standards_in_force', 'measurement_standards', columns, unique=False,
                    postgresql_where=sa.text(where), sqlite_where=sa.text(where))


def upgrade():
    _replace(COLUMNS, WHERE)


def downgrade():
    _replace(OLD_COLUMNS, OLD_WHERE)
