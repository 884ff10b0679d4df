"""import runs: the lease of a background run (attempts, worker, heartbeat, failure reason)

Background imports move from a thread of the web worker to the job queue
(``registry worker``): the run's claim, progress and heartbeat are kept in
its row so any web worker can read them and a run whose worker died can be
failed and retried.  Runs left ``queued`` or ``running`` by the old
background threads can never finish: they become ``failed`` (reason
``interrupted``), which a retry can take up.  Finished runs ran once.

Revision ID: d4a7c9e2f613
Revises: b3f1c2d4e5a6
Create Date: 2026-12-05 18:10:00.000000

"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd4a7c9e2f613'
down_revision = 'b3f1c2d4e5a6'
branch_labels = None
depends_on = None

INTERRUPTED = ("升级到此版本前已中断，未写入任何数据；可以重试 / "
               "interrupted before this version; nothing was written; it can be retried")


def upgrade():
    with op.batch_alter_table('import_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('worker_id', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('started_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('failure_reason', sa.String(length=40), nullable=True))
        batch_op.create_index(batch_op.f('ix_import_runs_status'), ['status'], unique=False)

    runs = sa.table('import_runs', sa.column('status', sa.String), sa.column('attempts', sa.Integer),
                    sa.column('failure_reason', sa.String), sa.column('message', sa.Text),
                    sa.column('finished_at', sa.DateTime(timezone=True)))
    op.execute(runs.update().where(runs.c.status != 'queued').values(attempts=1))
    op.execute(runs.update().where(runs.c.status.in_(('queued', 'running')))
               .values(status='failed', failure_reason='interrupted', message=INTERRUPTED,
                       finished_at=datetime.now(timezone.utc)))

    with op.batch_alter_table('import_runs', schema=None) as batch_op:
        batch_op.alter_column('attempts', existing_type=sa.Integer(), existing_nullable=False, server_default=None)


def downgrade():
    with op.batch_alter_table('import_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_runs_status'))
        batch_op.drop_column('failure_reason')
        batch_op.drop_column('heartbeat_at')
        batch_op.drop_column('started_at')
        batch_op.drop_column('worker_id')
        batch_op.drop_column('attempts')
