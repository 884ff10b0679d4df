"""Free text after a range or an uncertainty is not a unit when it cannot be one (longer than the column)."""
from __future__ import annotations

import sqlalchemy as sa

from importers import run_import
from registry.extensions import db
from registry.standards.models import MeasurementStandard
from registry.standards.parsing import MAX_UNIT, parse_range, parse_uncertainty
from tests import factories
from tests.importers.books import STANDARD_HEADER, xlsx
from tests.importers.test_import import standard_row

LONG = "m³/h " + "x" * MAX_UNIT


def test_a_long_tail_is_left_unparsed():
    assert parse_range(f"(0~80) {LONG}").unit is None and parse_range(f"(0~80) {LONG}").lower is None
    assert parse_range("(0~80) m³/h").unit == "m³/h"
    assert parse_uncertainty(f"U=0.2 {LONG}, k=2").kind is None
    assert parse_uncertainty(f"±0.5 {LONG}").kind is None
    assert parse_uncertainty("U=0.2%, k=2").unit == "%"


def test_a_row_with_a_long_range_text_imports(session):
    holder = factories.institution()
    row = standard_row("[2099]赣量标单位证字第001号", holder.credit_code, **{"测量范围": f"(0~80) {LONG}"})
    report = run_import(xlsx({"计量标准": [STANDARD_HEADER, row]}), actor=None)
    assert report.ok and report.applied, report.errors
    stored = db.session.scalar(sa.select(MeasurementStandard).where(
        MeasurementStandard.certificate_no == "[2099]赣量标单位证字第001号"))
    assert stored.range_text == f"(0~80) {LONG}" and stored.range_unit is None
