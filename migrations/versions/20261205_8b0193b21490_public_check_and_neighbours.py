"""public check and neighbours: a certificate's search key, its public page's id, adjacent regions

``measurement_standards.certificate_key``: the certificate number folded to
one search key (no brackets or spaces, half-width, upper case, the serial's
leading zeros dropped: ``codes.certificate_search_key``), indexed, so the
public query finds a number in any printed spelling with one look-up.
``measurement_standards.public_id``: the random id of the standard's
permanent public page (never the database id), unique.  Both are filled here
for every existing row.  ``region_adjacency``: pairs of regions sharing a
border, with whether the pair was confirmed and its source (the seed loads
Jiangxi's cities, unconfirmed).

Revision ID: 8b0193b21490
Revises: a3cde6618921
Create Date: 2026-12-05 21:00:00.000000

"""
import re
import secrets
import unicodedata

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8b0193b21490'
down_revision = 'a3cde6618921'
branch_labels = None
depends_on = None

# A copy of registry.records.codes.certificate_search_key as of this revision (a migration does not follow later code).
_DROPPED = re.compile(r"[\s\[\]〔〕【】()（）［］{}｛｝〖〗〘〙﹝﹞⦅⦆「」『』<>《》〈〉]")
_SERIAL_ZEROS = re.compile(r"第0+(?=\d)")
BATCH = 5000


def _key(number):
    return _SERIAL_ZEROS.sub("第", _DROPPED.sub("", unicodedata.normalize("NFKC", number or "").upper()))


def upgrade():
    with op.batch_alter_table('measurement_standards', schema=None) as batch_op:
        batch_op.add_column(sa.Column('certificate_key', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('public_id', sa.String(length=24), nullable=True))

    standards = sa.table('measurement_standards', sa.column('id', sa.Integer), sa.column('certificate_no', sa.String),
                         sa.column('certificate_key', sa.String), sa.column('public_id', sa.String))
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(sa.select(standards.c.id, standards.c.certificate_no)
                                  .where(standards.c.id > last).order_by(standards.c.id).limit(BATCH)).all()
        if not rows:
            break
        connection.execute(
            standards.update().where(standards.c.id == sa.bindparam('row_id'))
            .values(certificate_key=sa.bindparam('key'), public_id=sa.bindparam('token')),
            [{'row_id': id_, 'key': _key(number), 'token': secrets.token_urlsafe(12)} for id_, number in rows])
        last = rows[-1][0]

    with op.batch_alter_table('measurement_standards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_measurement_standards_certificate_key'), ['certificate_key'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_measurement_standards_public_id'), ['public_id'])

    op.create_table(
        'region_adjacency',
        sa.Column('region_code', sa.String(length=6), nullable=False),
        sa.Column('neighbour_code', sa.String(length=6), nullable=False),
        sa.Column('confirmed', sa.Boolean(), nullable=False),
        sa.Column('source', sa.String(length=300), nullable=False),
        sa.CheckConstraint('region_code < neighbour_code', name=op.f('ck_region_adjacency_ordered_pair')),
        sa.ForeignKeyConstraint(['neighbour_code'], ['regions.code'],
                                name=op.f('fk_region_adjacency_neighbour_code_regions')),
        sa.ForeignKeyConstraint(['region_code'], ['regions.code'],
                                name=op.f('fk_region_adjacency_region_code_regions')),
        sa.PrimaryKeyConstraint('region_code', 'neighbour_code', name=op.f('pk_region_adjacency')),
    )
    op.create_index('ix_region_adjacency_neighbour_code', 'region_adjacency', ['neighbour_code'], unique=False)


def downgrade():
    op.drop_index('ix_region_adjacency_neighbour_code', table_name='region_adjacency')
    op.drop_table('region_adjacency')
    with op.batch_alter_table('measurement_standards', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_measurement_standards_public_id'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_measurement_standards_certificate_key'))
        batch_op.drop_column('public_id')
        batch_op.drop_column('certificate_key')
