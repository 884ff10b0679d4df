"""plans and plan_targets: targets belong to a plan, for the province or a city

Existing targets (on ``indicators``: comparator, target, target_max, deadline)
become the province's targets in one plan, "2021–2025", running from
2021-01-01 to the latest deadline found (2025-12-31 when none). The columns
then leave ``indicators``; the downgrade puts each indicator's province
target of the earliest plan back.

Revision ID: c4a7e2b9d013
Revises: d4a7c9e2f613
Create Date: 2026-12-05 18:30:00.000000

"""
from datetime import date, datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4a7e2b9d013'
down_revision = 'd4a7c9e2f613'
branch_labels = None
depends_on = None

COMPARATORS = ('>=', '<=', '=', 'between')
FIRST_PLAN = '2021–2025'
FIRST_PLAN_SOURCE = '江西省市场监管局 2023-05-20 世界计量日公开表述；赣府发〔2022〕24号'


def _comparator():
    return sa.Enum(*COMPARATORS, name='comparator', native_enum=False, create_constraint=True, length=7)


def _sqlite_foreign_keys(on):
    """Switch SQLite's foreign keys off while ``indicators`` is rebuilt (batch mode), and back on.

    Rebuilding a table drops it, which SQLite refuses while other rows (recorded
    values, targets) refer to it; the pragma only takes effect outside a
    transaction (SQLite's own "12 steps" for changing a table). Before switching
    back on, every reference is checked.
    """
    conn = op.get_bind()
    if conn.dialect.name != 'sqlite':
        return
    if on:
        broken = conn.exec_driver_sql('PRAGMA foreign_key_check').all()
        if broken:
            raise RuntimeError(f'foreign keys broken by the migration: {broken[:5]}')
    conn.exec_driver_sql('COMMIT')
    conn.exec_driver_sql(f"PRAGMA foreign_keys = {'ON' if on else 'OFF'}")
    conn.exec_driver_sql('BEGIN IMMEDIATE')  # a migration writes (see registry.database.engine)


def upgrade():
    _sqlite_foreign_keys(False)
    op.create_table(
        'plans',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('source_document', sa.String(length=300), nullable=True),
        sa.Column('starts_on', sa.Date(), nullable=False),
        sa.Column('deadline', sa.Date(), nullable=False),
        sa.Column('description', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('withdrawn_reason', sa.String(length=500), nullable=True),
        sa.CheckConstraint('deadline >= starts_on', name=op.f('ck_plans_deadline_after_start')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_plans')),
        sa.UniqueConstraint('name', name=op.f('uq_plans_name')),
    )
    op.create_table(
        'plan_targets',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('plan_id', sa.Integer(), nullable=False),
        sa.Column('indicator_key', sa.String(length=50), nullable=False),
        sa.Column('region_code', sa.String(length=6), nullable=False),
        sa.Column('comparator', _comparator(), nullable=False),
        sa.Column('target', sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column('target_max', sa.Numeric(precision=14, scale=4), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('withdrawn_reason', sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(['indicator_key'], ['indicators.key'],
                                name=op.f('fk_plan_targets_indicator_key_indicators')),
        sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_plan_targets_plan_id_plans')),
        sa.ForeignKeyConstraint(['region_code'], ['regions.code'], name=op.f('fk_plan_targets_region_code_regions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_targets')),
        sa.UniqueConstraint('plan_id', 'indicator_key', 'region_code',
                            name=op.f('uq_plan_targets_plan_id')),
    )

    conn = op.get_bind()
    indicators = conn.execute(sa.text(
        'SELECT key, comparator, target, target_max, deadline FROM indicators ORDER BY key')).all()
    if indicators:
        province = conn.execute(sa.text('SELECT code FROM regions WHERE parent_code IS NULL ORDER BY code')).scalar()
        deadlines = [row.deadline for row in indicators if row.deadline is not None]
        deadline = max(deadlines) if deadlines else date(2025, 12, 31)
        if isinstance(deadline, str):  # SQLite hands dates back as text through sa.text()
            deadline = date.fromisoformat(deadline)
        now = datetime.now(timezone.utc)
        plans = sa.table('plans', sa.column('id', sa.Integer), sa.column('name'), sa.column('source_document'),
                         sa.column('starts_on', sa.Date), sa.column('deadline', sa.Date),
                         sa.column('created_at', sa.DateTime(timezone=True)),
                         sa.column('updated_at', sa.DateTime(timezone=True)), sa.column('version', sa.Integer))
        conn.execute(plans.insert().values(name=FIRST_PLAN, source_document=FIRST_PLAN_SOURCE,
                                           starts_on=min(date(2021, 1, 1), deadline), deadline=deadline,
                                           created_at=now, updated_at=now, version=1))
        plan_id = conn.execute(sa.text('SELECT id FROM plans WHERE name = :name'), {'name': FIRST_PLAN}).scalar_one()
        if province is not None:
            conn.execute(sa.text(
                'INSERT INTO plan_targets (plan_id, indicator_key, region_code, comparator, target, target_max, '
                'created_at, updated_at, version) '
                'SELECT :plan, key, :province, comparator, target, target_max, :now, :now, 1 FROM indicators'),
                {'plan': plan_id, 'province': province, 'now': now})

    with op.batch_alter_table('indicators', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_indicators_comparator'), type_='check')
        batch_op.drop_column('deadline')
        batch_op.drop_column('target_max')
        batch_op.drop_column('target')
        batch_op.drop_column('comparator')
    _sqlite_foreign_keys(True)


def downgrade():
    _sqlite_foreign_keys(False)
    with op.batch_alter_table('indicators', schema=None) as batch_op:
        batch_op.add_column(sa.Column('comparator', sa.String(length=7), nullable=True))
        batch_op.add_column(sa.Column('target', sa.Numeric(precision=14, scale=4), nullable=True))
        batch_op.add_column(sa.Column('target_max', sa.Numeric(precision=14, scale=4), nullable=True))
        batch_op.add_column(sa.Column('deadline', sa.Date(), nullable=True))

    conn = op.get_bind()
    province = conn.execute(sa.text('SELECT code FROM regions WHERE parent_code IS NULL ORDER BY code')).scalar()
    first = conn.execute(sa.text('SELECT id, deadline FROM plans WHERE withdrawn_at IS NULL '
                                 'ORDER BY starts_on, id')).first()
    if first is not None and province is not None:
        for row in conn.execute(sa.text(
                'SELECT indicator_key, comparator, target, target_max FROM plan_targets '
                'WHERE plan_id = :plan AND region_code = :province'), {'plan': first.id, 'province': province}).all():
            conn.execute(sa.text('UPDATE indicators SET comparator = :c, target = :t, target_max = :m, deadline = :d '
                                 'WHERE key = :k'),
                         {'c': row.comparator, 't': row.target, 'm': row.target_max, 'd': first.deadline,
                          'k': row.indicator_key})
    # An indicator the first plan set no province target for gets ">= 0": the old schema needs one.
    conn.execute(sa.text("UPDATE indicators SET comparator = '>=', target = 0 WHERE target IS NULL"))

    with op.batch_alter_table('indicators', schema=None) as batch_op:
        batch_op.alter_column('comparator', existing_type=sa.String(length=7), type_=_comparator(),
                              nullable=False)
        batch_op.alter_column('target', existing_type=sa.Numeric(precision=14, scale=4), nullable=False)

    op.drop_table('plan_targets')
    op.drop_table('plans')
    _sqlite_foreign_keys(True)
