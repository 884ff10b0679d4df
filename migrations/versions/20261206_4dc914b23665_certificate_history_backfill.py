"""Certificate history backfilled: every standard's current certificate in ``standard_certificates``.

9e0ed96cdd52 made the history start empty (a standard got its row only when
an approval renewed it).  Each standard's current certificate (number,
issue date, expiry; no application) is inserted where that certificate is
not recorded yet, in one ``INSERT ... SELECT`` (the history's
``(standard_id, issued_on)`` index answers the NOT EXISTS).  From this
revision on every door that creates a standard records it too
(``registry.standards.services.record_current_certificates``).

Downgrade keeps the rows: they are true history, and a row inserted here
cannot be told from one an approval recorded for the certificate it replaced.

Revision ID: 4dc914b23665
Revises: 5d2f8a1c7e34
Create Date: 2026-12-06 02:45:00

"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4dc914b23665'
down_revision = '5d2f8a1c7e34'
branch_labels = None
depends_on = None


def upgrade():
    op.get_bind().execute(sa.text(
        "INSERT INTO standard_certificates (standard_id, certificate_no, issued_on, valid_until, application_id, "
        "recorded_at) "
        "SELECT s.id, s.certificate_no, s.issued_on, s.valid_until, NULL, :now FROM measurement_standards s "
        "WHERE NOT EXISTS (SELECT 1 FROM standard_certificates c WHERE c.standard_id = s.id "
        "AND c.issued_on = s.issued_on AND c.certificate_no = s.certificate_no)"
    ).bindparams(sa.bindparam("now", datetime.now(timezone.utc), type_=sa.DateTime(timezone=True))))


def downgrade():
    pass
