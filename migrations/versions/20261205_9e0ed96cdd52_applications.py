"""applications: examinations under JJF 1033, their documents, the examiner roster, certificate history

New tables ``applications``, ``application_events`` (timeline),
``application_documents`` (one row per stored version), ``examiners`` and
``application_examiners``, ``standard_certificates`` (every certificate a
standard held; existing standards get their row the first time an approval
renews the certificate, so nothing is copied here).

``measurement_standards.certified_since``: the start of the unbroken run of
certificates when a re-examination moved ``issued_on`` forward; NULL (every
existing row) means the issue date, so nothing is backfilled.  Coverage counts
from ``coalesce(certified_since, issued_on)``; both coverage indexes gain the
column so the counts stay index-only.  The reminder kinds gain the
applications' four.

Revision ID: 9e0ed96cdd52
Revises: 8b0193b21490
Create Date: 2026-12-05 23:44:55.871589

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9e0ed96cdd52'
down_revision = '8b0193b21490'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('examiners',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('certificate_no', sa.String(length=100), nullable=True),
    sa.Column('disciplines', sa.JSON(), nullable=False),
    sa.Column('organisation', sa.String(length=200), nullable=True),
    sa.Column('phone', sa.String(length=50), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_examiners')),
    sa.UniqueConstraint('certificate_no', name=op.f('uq_examiners_certificate_no'))
    )
    with op.batch_alter_table('examiners', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_examiners_name'), ['name'], unique=False)

    op.create_table('applications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('new', 'reexamination', 'replacement', 'change', 'sealing', 'revocation', 'resumption', name='application_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('state', sa.Enum('draft', 'submitted', 'returned', 'accepted', 'under_review', 'rectification', 'decided', 'closed', 'withdrawn', name='application_state', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('standard_id', sa.Integer(), nullable=True),
    sa.Column('applicant_id', sa.Integer(), nullable=True),
    sa.Column('filed_by', sa.Enum('institution', 'regulator', name='application_side', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=True),
    sa.Column('proposal', sa.JSON(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('returned_reason', sa.String(length=2000), nullable=True),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.Column('review_started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision', sa.Enum('approved', 'approved_after_rectification', 'rejected', name='application_decision', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('decision_reasons', sa.String(length=4000), nullable=True),
    sa.Column('decided_values', sa.JSON(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('rectification_deadline', sa.Date(), nullable=True),
    sa.Column('rectification_response', sa.String(length=4000), nullable=True),
    sa.Column('rectification_responded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['applicant_id'], ['users.id'], name=op.f('fk_applications_applicant_id_users')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_applications_decided_by_id_users')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_applications_institution_id_institutions')),
    sa.ForeignKeyConstraint(['standard_id'], ['measurement_standards.id'], name=op.f('fk_applications_standard_id_measurement_standards')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_applications'))
    )
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.create_index('ix_applications_institution', ['institution_id', 'state'], unique=False)
        batch_op.create_index('ix_applications_queue', ['state', 'submitted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_applications_standard_id'), ['standard_id'], unique=False)

    op.create_table('application_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('application_form', 'technical_report', 'logbook', 'equipment_certificates', 'repeatability_records', 'stability_records', 'old_certificate', 'change_form', 'rectification_evidence', 'issued_certificate', 'other', name='application_document_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('version_no', sa.Integer(), nullable=False),
    sa.Column('original_name', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('storage_key', sa.String(length=200), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_application_documents_application_id_applications'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_application_documents_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_application_documents')),
    sa.UniqueConstraint('application_id', 'kind', 'version_no', name='uq_application_documents_version'),
    sa.UniqueConstraint('storage_key', name=op.f('uq_application_documents_storage_key'))
    )
    with op.batch_alter_table('application_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_application_documents_application_id'), ['application_id'], unique=False)

    op.create_table('application_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('from_state', sa.String(length=20), nullable=True),
    sa.Column('to_state', sa.String(length=20), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_label', sa.String(length=254), nullable=False),
    sa.Column('comment', sa.String(length=4000), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_application_events_actor_id_users')),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_application_events_application_id_applications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_application_events'))
    )
    with op.batch_alter_table('application_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_application_events_application_id'), ['application_id'], unique=False)

    op.create_table('application_examiners',
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('examiner_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_application_examiners_application_id_applications'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['examiner_id'], ['examiners.id'], name=op.f('fk_application_examiners_examiner_id_examiners')),
    sa.PrimaryKeyConstraint('application_id', 'examiner_id', name=op.f('pk_application_examiners'))
    )
    with op.batch_alter_table('application_examiners', schema=None) as batch_op:
        batch_op.create_index('ix_application_examiners_examiner_id', ['examiner_id'], unique=False)

    op.create_table('standard_certificates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('standard_id', sa.Integer(), nullable=False),
    sa.Column('certificate_no', sa.String(length=100), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('valid_until >= issued_on', name=op.f('ck_standard_certificates_validity_order')),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_standard_certificates_application_id_applications')),
    sa.ForeignKeyConstraint(['standard_id'], ['measurement_standards.id'], name=op.f('fk_standard_certificates_standard_id_measurement_standards'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_standard_certificates'))
    )
    with op.batch_alter_table('standard_certificates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_standard_certificates_application_id'), ['application_id'], unique=False)
        batch_op.create_index('ix_standard_certificates_standard', ['standard_id', 'issued_on'], unique=False)

    with op.batch_alter_table('measurement_standards', schema=None) as batch_op:
        batch_op.add_column(sa.Column('certified_since', sa.Date(), nullable=True))
        batch_op.drop_index('ix_measurement_standards_in_force', postgresql_where=sa.text('withdrawn_at IS NULL'),
                            sqlite_where=sa.text('withdrawn_at IS NULL'))
        batch_op.create_index('ix_measurement_standards_in_force', ['category', 'valid_until', 'issued_on', 'status', 'status_since', 'institution_id', 'certified_since'], unique=False, postgresql_where=sa.text('withdrawn_at IS NULL'), sqlite_where=sa.text('withdrawn_at IS NULL'))
        # Both coverage indexes hold certified_since: coalesce(certified_since, issued_on) stays index-only.
        batch_op.drop_index('ix_measurement_standards_coverage')
        batch_op.create_index('ix_measurement_standards_coverage',
                              ['category', 'status', 'valid_until', 'issued_on', 'certified_since'], unique=False)
    _reminder_kinds(NEW_KINDS)


OLD_KINDS = "'certificate_apply_by', 'registration_lapsing'"
NEW_KINDS = "'certificate_apply_by', 'registration_lapsing', 'application_returned', 'application_decided', 'rectification_due', 'application_overdue'"


def _reminder_kinds(kinds):
    with op.batch_alter_table('reminders', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_reminders_reminder_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_reminders_reminder_kind'), f"kind IN ({kinds})")


def downgrade():
    op.execute(f"DELETE FROM reminders WHERE kind NOT IN ({OLD_KINDS})")
    _reminder_kinds(OLD_KINDS)
    with op.batch_alter_table('measurement_standards', schema=None) as batch_op:
        batch_op.drop_index('ix_measurement_standards_coverage')
        batch_op.create_index('ix_measurement_standards_coverage', ['category', 'status', 'valid_until', 'issued_on'],
                              unique=False)
        batch_op.drop_index('ix_measurement_standards_in_force', postgresql_where=sa.text('withdrawn_at IS NULL'), sqlite_where=sa.text('withdrawn_at IS NULL'))
        batch_op.create_index('ix_measurement_standards_in_force', ['category', 'valid_until', 'issued_on', 'status', 'status_since', 'institution_id'], unique=False, postgresql_where=sa.text('withdrawn_at IS NULL'), sqlite_where=sa.text('withdrawn_at IS NULL'))
        batch_op.drop_column('certified_since')

    with op.batch_alter_table('standard_certificates', schema=None) as batch_op:
        batch_op.drop_index('ix_standard_certificates_standard')
        batch_op.drop_index(batch_op.f('ix_standard_certificates_application_id'))

    op.drop_table('standard_certificates')
    with op.batch_alter_table('application_examiners', schema=None) as batch_op:
        batch_op.drop_index('ix_application_examiners_examiner_id')

    op.drop_table('application_examiners')
    with op.batch_alter_table('application_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_application_events_application_id'))

    op.drop_table('application_events')
    with op.batch_alter_table('application_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_application_documents_application_id'))

    op.drop_table('application_documents')
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_applications_standard_id'))
        batch_op.drop_index('ix_applications_queue')
        batch_op.drop_index('ix_applications_institution')

    op.drop_table('applications')
    with op.batch_alter_table('examiners', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_examiners_name'))

    op.drop_table('examiners')
