"""levels and service areas: where a catalog line expects a standard, and whom an institution serves

``catalog_lines.levels``: the administrative levels at which a social public
standard is expected for the line (``province``, ``city``, ``county``,
comma-separated in that order); NULL, as for every existing line, means
every level (the coverage of before).  ``institutions.serves_region_code``:
the region an institution serves when wider than its own (a provincial
institute serves the province); NULL, as for every existing institution,
means its own region.

Revision ID: e7b3d1a9c425
Revises: c4d8e2a7f910
Create Date: 2026-12-05 19:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e7b3d1a9c425'
down_revision = 'c4d8e2a7f910'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('catalog_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('levels', sa.String(length=40), nullable=True))
    with op.batch_alter_table('institutions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('serves_region_code', sa.String(length=6), nullable=True))
        batch_op.create_foreign_key('fk_institutions_serves_region_code_regions', 'regions',
                                    ['serves_region_code'], ['code'])


def downgrade():
    with op.batch_alter_table('institutions', schema=None) as batch_op:
        batch_op.drop_constraint('fk_institutions_serves_region_code_regions', type_='foreignkey')
        batch_op.drop_column('serves_region_code')
    with op.batch_alter_table('catalog_lines', schema=None) as batch_op:
        batch_op.drop_column('levels')
