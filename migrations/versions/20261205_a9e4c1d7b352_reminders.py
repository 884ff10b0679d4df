"""reminders: the sent-log and inbox of reminders, and each user's reminder settings

``reminders`` holds one row per user, item, threshold and channel (unique:
the same reminder is never recorded twice, whoever runs
``registry reminders run``); the ``inbox`` channel is the in-app inbox.
``reminder_settings``: the kinds a user has muted, e-mail on or off, and the
language of the e-mails.  New tables only: nothing existing changes.

Revision ID: a9e4c1d7b352
Revises: e7b3d1a9c425
Create Date: 2026-12-05 20:46:37.682026

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a9e4c1d7b352'
down_revision = 'e7b3d1a9c425'
branch_labels = None
depends_on = None


def _enum(name, *values):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True)


def upgrade():
    op.create_table(
        'reminder_settings',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('muted_kinds', sa.JSON(), nullable=False),
        sa.Column('email', sa.Boolean(), nullable=False),
        sa.Column('language', _enum('reminder_language', 'zh', 'en'), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_reminder_settings_user_id_users')),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_reminder_settings')),
    )
    op.create_table(
        'reminders',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('kind', _enum('reminder_kind', 'certificate_apply_by', 'registration_lapsing'), nullable=False),
        sa.Column('item_key', sa.String(length=100), nullable=False),
        sa.Column('threshold', sa.String(length=20), nullable=False),
        sa.Column('channel', _enum('reminder_channel', 'inbox', 'email'), nullable=False),
        sa.Column('recipient', sa.String(length=254), nullable=False),
        sa.Column('institution_id', sa.Integer(), nullable=True),
        sa.Column('params', sa.JSON(), nullable=False),
        sa.Column('subject', sa.String(length=300), nullable=True),
        sa.Column('due_on', sa.Date(), nullable=True),
        sa.Column('status', _enum('reminder_status', 'pending', 'sending', 'sent', 'failed'), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.String(length=500), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'],
                                name=op.f('fk_reminders_institution_id_institutions')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_reminders_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reminders')),
        sa.UniqueConstraint('user_id', 'kind', 'item_key', 'threshold', 'channel', name='uq_reminders_once'),
    )
    with op.batch_alter_table('reminders', schema=None) as batch_op:
        batch_op.create_index('ix_reminders_inbox', ['user_id', 'channel', 'read_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_reminders_institution_id'), ['institution_id'], unique=False)
        batch_op.create_index('ix_reminders_to_send', ['channel', 'status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_reminders_user_id'), ['user_id'], unique=False)


def downgrade():
    op.drop_table('reminders')
    op.drop_table('reminder_settings')
