"""standard status periods: a sealed period stays sealed after the standard is in use again

``standard_status_periods`` holds each ended period in which a standard had a
status other than in use (封存 from March to September, then 恢复使用), so
coverage and validity count those days as not in use.  The periods before
this migration are rebuilt from the audit trail (every status change through
the services and imports is audited with its before/after values); what the
trail does not hold is not known.  ``measurement_standards.has_status_periods``
flags the few standards that have one, and joins the coverage index so the
coverage counts stay index-only scans.

Revision ID: 5d2f8a1c7e34
Revises: 9e0ed96cdd52
Create Date: 2026-12-06 03:00:00.000000

"""
from datetime import date, datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5d2f8a1c7e34'
down_revision = '9e0ed96cdd52'
branch_labels = None
depends_on = None

IN_FORCE = "withdrawn_at IS NULL"
OLD_COLUMNS = ['category', 'valid_until', 'issued_on', 'status', 'status_since', 'institution_id', 'certified_since']
STATUSES = ('in_use', 'sealed', 'revoked', 'changing')


def _in_force_index(columns):
    op.create_index('ix_measurement_standards_in_force', 'measurement_standards', columns, unique=False,
                    postgresql_where=sa.text(IN_FORCE), sqlite_where=sa.text(IN_FORCE))


def _drop_in_force_index():
    op.drop_index('ix_measurement_standards_in_force', table_name='measurement_standards',
                  postgresql_where=sa.text(IN_FORCE), sqlite_where=sa.text(IN_FORCE))


def _date(value):
    if value in (None, ''):
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _periods_from_audit(connection):
    """The ended periods the audit trail shows: (standard_id, status, started_on, ended_on, application_id)."""
    audit = sa.table('audit_events', sa.column('id', sa.Integer), sa.column('action', sa.String),
                     sa.column('entity_type', sa.String), sa.column('entity_id', sa.String),
                     sa.column('before', sa.JSON), sa.column('after', sa.JSON), sa.column('note', sa.Text),
                     sa.column('occurred_at', sa.DateTime))
    # Only the standards whose status ever changed in an update (few): their whole trail is read.
    changed = sa.select(audit.c.entity_id).where(
        audit.c.entity_type == 'measurement_standards', audit.c.action == 'update',
        sa.cast(audit.c.before, sa.Text).like('%"status"%')).distinct()
    ids = [row[0] for row in connection.execute(changed)]
    periods = []
    for start in range(0, len(ids), 500):
        part = ids[start:start + 500]
        rows = connection.execute(
            sa.select(audit.c.entity_id, audit.c.action, audit.c.before, audit.c.after, audit.c.note,
                      audit.c.occurred_at)
            .where(audit.c.entity_type == 'measurement_standards', audit.c.entity_id.in_(part),
                   audit.c.action.in_(('create', 'update')))
            .order_by(audit.c.entity_id, audit.c.id))
        state = {}
        for entity_id, action, before, after, note, occurred_at in rows:
            before, after = before or {}, after or {}
            known = state.setdefault(entity_id, {})
            if action == 'create':
                known.clear()
                known['status'] = after.get('status', 'in_use')
                known['status_since'] = _date(after.get('status_since'))
                continue
            if 'status' not in after:
                if 'status_since' in after:
                    known['status_since'] = _date(after['status_since'])
                continue
            old = before.get('status', known.get('status'))
            if 'status_since' in before:
                old_since = _date(before['status_since'])
            else:
                old_since = known.get('status_since')  # unchanged: the known value, else not known
            new_since = _date(after['status_since']) if 'status_since' in after else old_since
            if old and old != 'in_use' and old in STATUSES and old != after['status']:
                # An end not dated by the change: the day of the change (the services' rule).
                ended = new_since
                if ended is None and occurred_at is not None:
                    ended = (occurred_at if isinstance(occurred_at, datetime)
                             else datetime.fromisoformat(str(occurred_at))).date()
                started = old_since
                if ended is not None and (started is None or started < ended):
                    application = None
                    if note and str(note).startswith('application:'):
                        try:
                            application = int(str(note).split(':', 1)[1])
                        except ValueError:
                            application = None
                    periods.append((int(entity_id), old, started, ended, application))
            known['status'] = after['status']
            known['status_since'] = new_since
    return periods


def upgrade():
    op.create_table('standard_status_periods',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('standard_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum(*STATUSES, name='standard_status', native_enum=False, create_constraint=True, length=8), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=True),
    sa.Column('ended_on', sa.Date(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('started_on IS NULL OR started_on < ended_on', name=op.f('ck_standard_status_periods_status_period_order')),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_standard_status_periods_application_id_applications'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['standard_id'], ['measurement_standards.id'], name=op.f('fk_standard_status_periods_standard_id_measurement_standards'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_standard_status_periods'))
    )
    op.create_index('ix_standard_status_periods_standard', 'standard_status_periods',
                    ['standard_id', 'ended_on', 'started_on', 'status'], unique=False)
    with op.batch_alter_table('measurement_standards', schema=None) as batch_op:
        # A constant default (not sa.false()): SQLite adds the column in place instead of rebuilding the table.
        batch_op.add_column(sa.Column('has_status_periods', sa.Boolean(), server_default='0', nullable=False))
    _drop_in_force_index()
    _in_force_index(OLD_COLUMNS + ['has_status_periods', 'id'])

    connection = op.get_bind()
    periods = _periods_from_audit(connection)
    if periods:
        table = sa.table('standard_status_periods', sa.column('standard_id', sa.Integer),
                         sa.column('status', sa.String), sa.column('started_on', sa.Date),
                         sa.column('ended_on', sa.Date), sa.column('application_id', sa.Integer),
                         sa.column('created_at', sa.DateTime(timezone=True)))
        standards = sa.table('measurement_standards', sa.column('id', sa.Integer),
                             sa.column('has_status_periods', sa.Boolean))
        applications = sa.table('applications', sa.column('id', sa.Integer))
        existing = {row[0] for row in connection.execute(sa.select(standards.c.id).where(
            standards.c.id.in_(sorted({p[0] for p in periods}))))}
        named = sorted({p[4] for p in periods if p[4] is not None})
        known_applications = {row[0] for row in connection.execute(
            sa.select(applications.c.id).where(applications.c.id.in_(named)))} if named else set()
        now = datetime.now(timezone.utc)
        rows = [{'standard_id': s, 'status': status, 'started_on': started, 'ended_on': ended,
                 'application_id': a if a in known_applications else None, 'created_at': now}
                for s, status, started, ended, a in periods if s in existing]
        if rows:
            connection.execute(table.insert(), rows)
            ids = sorted({row['standard_id'] for row in rows})
            for start in range(0, len(ids), 500):
                connection.execute(standards.update().where(standards.c.id.in_(ids[start:start + 500]))
                                   .values(has_status_periods=True))


def downgrade():
    _drop_in_force_index()
    _in_force_index(OLD_COLUMNS)
    with op.batch_alter_table('measurement_standards', schema=None) as batch_op:
        batch_op.drop_column('has_status_periods')
    op.drop_index('ix_standard_status_periods_standard', table_name='standard_status_periods')
    op.drop_table('standard_status_periods')
