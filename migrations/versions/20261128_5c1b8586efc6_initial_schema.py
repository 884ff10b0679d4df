"""initial schema: reference tables, registries, accounts, audit trail

The audit table is append-only: a trigger refuses UPDATE and DELETE on both
SQLite and PostgreSQL, so not even a bug in the application can rewrite it.

Revision ID: 5c1b8586efc6
Revises: 
Create Date: 2026-11-28 03:31:12.025452

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5c1b8586efc6'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('catalog_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('source_document', sa.String(length=300), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('declared_line_count', sa.Integer(), nullable=False),
    sa.Column('is_partial', sa.Boolean(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_reason', sa.String(length=500), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_versions')),
    sa.UniqueConstraint('name', name=op.f('uq_catalog_versions_name'))
    )
    with op.batch_alter_table('catalog_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_catalog_versions_effective_from'), ['effective_from'], unique=False)

    op.create_table('disciplines',
    sa.Column('code', sa.String(length=2), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.Enum('discipline', 'sector', name='discipline_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_disciplines'))
    )
    op.create_table('indicators',
    sa.Column('key', sa.String(length=50), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.Enum('ratio', 'count', name='indicator_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('source', sa.Enum('registry', 'recorded', name='indicator_source', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('comparator', sa.Enum('>=', '<=', '=', 'between', name='comparator', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('target', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.Column('target_max', sa.Numeric(precision=14, scale=4), nullable=True),
    sa.Column('deadline', sa.Date(), nullable=True),
    sa.Column('counts_from', sa.Date(), nullable=True),
    sa.Column('source_document', sa.String(length=300), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_reason', sa.String(length=500), nullable=True),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_indicators'))
    )
    op.create_table('reference_datasets',
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('version', sa.String(length=100), nullable=False),
    sa.Column('source', sa.String(length=500), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('loaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_reference_datasets'))
    )
    op.create_table('regions',
    sa.Column('code', sa.String(length=6), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=True),
    sa.Column('level', sa.Enum('province', 'city', 'county', name='region_level', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('parent_code', sa.String(length=6), nullable=True),
    sa.Column('table_version', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['parent_code'], ['regions.code'], name=op.f('fk_regions_parent_code_regions')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_regions'))
    )
    with op.batch_alter_table('regions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_regions_parent_code'), ['parent_code'], unique=False)

    op.create_table('regulations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('series', sa.Enum('JJG', 'JJF', name='regulation_series', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('province', sa.String(length=4), nullable=True),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('kind', sa.Enum('verification_regulation', 'calibration_specification', 'technical_specification', name='regulation_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('level', sa.Enum('national', 'local', name='regulation_level', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('status', sa.Enum('planned', 'drafting', 'published', 'implemented', 'abolished', name='regulation_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('published_on', sa.Date(), nullable=True),
    sa.Column('implemented_on', sa.Date(), nullable=True),
    sa.Column('abolished_on', sa.Date(), nullable=True),
    sa.Column('is_urgent', sa.Boolean(), nullable=False),
    sa.Column('is_carbon', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_reason', sa.String(length=500), nullable=True),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_regulations')),
    sa.UniqueConstraint('code', name=op.f('uq_regulations_code'))
    )
    with op.batch_alter_table('regulations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_regulations_level'), ['level'], unique=False)
        batch_op.create_index(batch_op.f('ix_regulations_province'), ['province'], unique=False)
        batch_op.create_index(batch_op.f('ix_regulations_title'), ['title'], unique=False)

    op.create_table('catalog_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('catalog_version_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('sub_name', sa.String(length=200), nullable=True),
    sa.Column('mode', sa.Enum('P', 'V', 'P+V', name='supervision_mode', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('verification_form', sa.Enum('first_only', 'periodic', name='verification_form', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('scope_note', sa.Text(), nullable=True),
    sa.Column('effective_from', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_reason', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['catalog_version_id'], ['catalog_versions.id'], name=op.f('fk_catalog_lines_catalog_version_id_catalog_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_lines')),
    sa.UniqueConstraint('catalog_version_id', 'code', name='uq_catalog_lines_version_code')
    )
    with op.batch_alter_table('catalog_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_catalog_lines_catalog_version_id'), ['catalog_version_id'], unique=False)

    op.create_table('institutions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('credit_code', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('kind', sa.Enum('legal_metrology', 'authorised', 'enterprise', 'public_institution', 'other', name='institution_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('contact', sa.String(length=100), nullable=True),
    sa.Column('phone', sa.String(length=50), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_reason', sa.String(length=500), nullable=True),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['region_code'], ['regions.code'], name=op.f('fk_institutions_region_code_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_institutions')),
    sa.UniqueConstraint('credit_code', name=op.f('uq_institutions_credit_code'))
    )
    with op.batch_alter_table('institutions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_institutions_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_institutions_name'), ['name'], unique=False)
        batch_op.create_index(batch_op.f('ix_institutions_region_code'), ['region_code'], unique=False)

    op.create_table('measurement_standards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('certificate_no', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('code', sa.String(length=8), nullable=True),
    sa.Column('category', sa.Enum('social_public', 'department_highest', 'enterprise_highest', name='standard_category', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('discipline_code', sa.String(length=2), nullable=True),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('range_text', sa.String(length=300), nullable=True),
    sa.Column('range_lower', sa.Float(), nullable=True),
    sa.Column('range_upper', sa.Float(), nullable=True),
    sa.Column('range_unit', sa.String(length=30), nullable=True),
    sa.Column('uncertainty_text', sa.String(length=300), nullable=True),
    sa.Column('uncertainty_kind', sa.Enum('uncertainty', 'accuracy_class', 'mpe', name='uncertainty_kind', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('uncertainty_value', sa.Float(), nullable=True),
    sa.Column('uncertainty_unit', sa.String(length=30), nullable=True),
    sa.Column('coverage_factor', sa.Float(), nullable=True),
    sa.Column('issuer', sa.String(length=200), nullable=True),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('responsible_person', sa.String(length=100), nullable=True),
    sa.Column('status', sa.Enum('in_use', 'sealed', 'revoked', 'changing', name='standard_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('status_since', sa.Date(), nullable=True),
    sa.Column('is_carbon', sa.Boolean(), nullable=False),
    sa.Column('build_kind', sa.Enum('new', 'renovated', name='build_kind', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('built_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_reason', sa.String(length=500), nullable=True),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.CheckConstraint('valid_until >= issued_on', name=op.f('ck_measurement_standards_validity_order')),
    sa.ForeignKeyConstraint(['discipline_code'], ['disciplines.code'], name=op.f('fk_measurement_standards_discipline_code_disciplines')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_measurement_standards_institution_id_institutions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_measurement_standards')),
    sa.UniqueConstraint('certificate_no', name=op.f('uq_measurement_standards_certificate_no'))
    )
    with op.batch_alter_table('measurement_standards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_measurement_standards_code'), ['code'], unique=False)
        batch_op.create_index('ix_measurement_standards_coverage', ['category', 'status', 'valid_until', 'issued_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_measurement_standards_discipline_code'), ['discipline_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_measurement_standards_institution_id'), ['institution_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_measurement_standards_name'), ['name'], unique=False)
        batch_op.create_index(batch_op.f('ix_measurement_standards_valid_until'), ['valid_until'], unique=False)

    op.create_table('persons',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('employed_from', sa.Date(), nullable=True),
    sa.Column('employed_until', sa.Date(), nullable=True),
    sa.Column('id_number_hash', sa.String(length=64), nullable=True),
    sa.Column('id_number_mask', sa.String(length=18), nullable=True),
    sa.Column('registration_no', sa.String(length=50), nullable=True),
    sa.Column('registration_level', sa.Enum('1', '2', name='registration_level', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('registration_items', sa.JSON(), nullable=True),
    sa.Column('registered_on', sa.Date(), nullable=True),
    sa.Column('registration_valid_until', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_reason', sa.String(length=500), nullable=True),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_persons_institution_id_institutions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_persons')),
    sa.UniqueConstraint('registration_no', name=op.f('uq_persons_registration_no'))
    )
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.create_index('ix_persons_employment', ['institution_id', 'employed_from', 'employed_until'], unique=False)
        batch_op.create_index(batch_op.f('ix_persons_id_number_hash'), ['id_number_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_persons_institution_id'), ['institution_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_persons_name'), ['name'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('password_hash', sa.String(length=300), nullable=False),
    sa.Column('role', sa.Enum('admin', 'regulator', 'institution', name='user_role', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=True),
    sa.Column('display_name', sa.String(length=100), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('session_epoch', sa.Integer(), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("(role = 'institution') = (institution_id IS NOT NULL)", name=op.f('ck_users_institution_role')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_users_institution_id_institutions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_institution_id'), ['institution_id'], unique=False)

    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_label', sa.String(length=254), nullable=False),
    sa.Column('action', sa.String(length=30), nullable=False),
    sa.Column('entity_type', sa.String(length=50), nullable=False),
    sa.Column('entity_id', sa.String(length=50), nullable=False),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_events_actor_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index('ix_audit_events_entity', ['entity_type', 'entity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_occurred_at'), ['occurred_at'], unique=False)

    op.create_table('recorded_values',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('indicator_key', sa.String(length=50), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('value', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.Column('source', sa.String(length=300), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_reason', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['indicator_key'], ['indicators.key'], name=op.f('fk_recorded_values_indicator_key_indicators')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_recorded_values_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['region_code'], ['regions.code'], name=op.f('fk_recorded_values_region_code_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recorded_values'))
    )
    with op.batch_alter_table('recorded_values', schema=None) as batch_op:
        batch_op.create_index('ix_recorded_values_lookup', ['indicator_key', 'region_code', 'as_of'], unique=False)

    op.create_table('standard_catalog_lines',
    sa.Column('standard_id', sa.Integer(), nullable=False),
    sa.Column('catalog_line_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['catalog_line_id'], ['catalog_lines.id'], name=op.f('fk_standard_catalog_lines_catalog_line_id_catalog_lines'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['standard_id'], ['measurement_standards.id'], name=op.f('fk_standard_catalog_lines_standard_id_measurement_standards'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('standard_id', 'catalog_line_id', name=op.f('pk_standard_catalog_lines'))
    )
    with op.batch_alter_table('standard_catalog_lines', schema=None) as batch_op:
        batch_op.create_index('ix_standard_catalog_lines_catalog_line_id', ['catalog_line_id', 'standard_id'], unique=False)

    op.create_table('standard_regulations',
    sa.Column('standard_id', sa.Integer(), nullable=False),
    sa.Column('regulation_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['regulation_id'], ['regulations.id'], name=op.f('fk_standard_regulations_regulation_id_regulations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['standard_id'], ['measurement_standards.id'], name=op.f('fk_standard_regulations_standard_id_measurement_standards'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('standard_id', 'regulation_id', name=op.f('pk_standard_regulations'))
    )
    with op.batch_alter_table('standard_regulations', schema=None) as batch_op:
        batch_op.create_index('ix_standard_regulations_regulation_id', ['regulation_id'], unique=False)

    _create_audit_triggers()


def downgrade():
    _drop_audit_triggers()
    with op.batch_alter_table('standard_regulations', schema=None) as batch_op:
        batch_op.drop_index('ix_standard_regulations_regulation_id')

    op.drop_table('standard_regulations')
    with op.batch_alter_table('standard_catalog_lines', schema=None) as batch_op:
        batch_op.drop_index('ix_standard_catalog_lines_catalog_line_id')

    op.drop_table('standard_catalog_lines')
    with op.batch_alter_table('recorded_values', schema=None) as batch_op:
        batch_op.drop_index('ix_recorded_values_lookup')

    op.drop_table('recorded_values')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_occurred_at'))
        batch_op.drop_index('ix_audit_events_entity')
        batch_op.drop_index(batch_op.f('ix_audit_events_actor_id'))

    op.drop_table('audit_events')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_institution_id'))

    op.drop_table('users')
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_persons_name'))
        batch_op.drop_index(batch_op.f('ix_persons_institution_id'))
        batch_op.drop_index(batch_op.f('ix_persons_id_number_hash'))
        batch_op.drop_index('ix_persons_employment')

    op.drop_table('persons')
    with op.batch_alter_table('measurement_standards', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_measurement_standards_valid_until'))
        batch_op.drop_index(batch_op.f('ix_measurement_standards_name'))
        batch_op.drop_index(batch_op.f('ix_measurement_standards_institution_id'))
        batch_op.drop_index(batch_op.f('ix_measurement_standards_discipline_code'))
        batch_op.drop_index('ix_measurement_standards_coverage')
        batch_op.drop_index(batch_op.f('ix_measurement_standards_code'))

    op.drop_table('measurement_standards')
    with op.batch_alter_table('institutions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_institutions_region_code'))
        batch_op.drop_index(batch_op.f('ix_institutions_name'))
        batch_op.drop_index(batch_op.f('ix_institutions_kind'))

    op.drop_table('institutions')
    with op.batch_alter_table('catalog_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_catalog_lines_catalog_version_id'))

    op.drop_table('catalog_lines')
    with op.batch_alter_table('regulations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_regulations_title'))
        batch_op.drop_index(batch_op.f('ix_regulations_province'))
        batch_op.drop_index(batch_op.f('ix_regulations_level'))

    op.drop_table('regulations')
    with op.batch_alter_table('regions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_regions_parent_code'))

    op.drop_table('regions')
    op.drop_table('reference_datasets')
    op.drop_table('indicators')
    op.drop_table('disciplines')
    with op.batch_alter_table('catalog_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_catalog_versions_effective_from'))

    op.drop_table('catalog_versions')


def _create_audit_triggers():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION audit_events_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'audit_events is append-only';
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_events_no_{event.lower()} BEFORE {event} ON audit_events "
                "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
            )


def _drop_audit_triggers():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")
