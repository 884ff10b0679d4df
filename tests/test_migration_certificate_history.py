"""4dc914b23665: a database with standards gets each one's current certificate in its history, once."""
from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa
from flask_migrate import upgrade

from registry.extensions import db
from tests.test_migrations import add_a_holder, scratch_app  # noqa: F401 - scratch_app: the fixture

BACKFILL = "4dc914b23665"


def test_standards_at_the_previous_head_get_their_current_certificate(scratch_app):  # noqa: F811
    with scratch_app.app_context():
        upgrade(revision="9e0ed96cdd52")
        stamp = {"t": datetime(2026, 1, 1, tzinfo=UTC)}
        with db.engine.begin() as conn:
            add_a_holder(conn, stamp)
            for n, (number, issued, until) in enumerate((
                    ("[2020]赣量标测证字第001号", date(2020, 3, 1), date(2024, 2, 28)),
                    ("[2021]赣量标测证字第002号", date(2021, 5, 1), date(2025, 4, 30)),
                    ("[2023]赣量标测证字第003号", date(2023, 6, 1), date(2027, 5, 31))), start=1):
                conn.execute(sa.text(
                    "INSERT INTO measurement_standards (id, certificate_no, public_id, name, category, institution_id, "
                    "issued_on, valid_until, status, is_carbon, is_demo, created_at, updated_at, version) VALUES "
                    "(:id, :no, :pid, :name, 'social_public', 7, :issued, :until, 'in_use', false, false, :t, :t, 1)"),
                    {**stamp, "id": n, "no": number, "pid": f"p{n}", "name": f"标准{n}", "issued": issued,
                     "until": until})
            # Standard 3 was renewed by an approval after 9e0ed96cdd52: its old and new certificates are there.
            conn.execute(sa.text(
                "INSERT INTO standard_certificates (standard_id, certificate_no, issued_on, valid_until, "
                "application_id, recorded_at) VALUES (3, '[2019]赣量标测证字第003号', :a, :b, NULL, :t), "
                "(3, '[2023]赣量标测证字第003号', :c, :d, NULL, :t)"),
                {**stamp, "a": date(2019, 6, 1), "b": date(2023, 5, 31), "c": date(2023, 6, 1), "d": date(2027, 5, 31)})
        upgrade(revision=BACKFILL)
        with db.engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT standard_id, certificate_no, issued_on, valid_until, application_id, recorded_at "
                "FROM standard_certificates ORDER BY standard_id, issued_on")).all()
        assert [(r.standard_id, r.certificate_no, str(r.issued_on), str(r.valid_until), r.application_id)
                for r in rows] == [
            (1, "[2020]赣量标测证字第001号", "2020-03-01", "2024-02-28", None),
            (2, "[2021]赣量标测证字第002号", "2021-05-01", "2025-04-30", None),
            (3, "[2019]赣量标测证字第003号", "2019-06-01", "2023-05-31", None),
            (3, "[2023]赣量标测证字第003号", "2023-06-01", "2027-05-31", None),
        ]
        assert all(r.recorded_at is not None for r in rows)
