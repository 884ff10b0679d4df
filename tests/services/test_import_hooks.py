"""The hooks services offer the importer: refs=, follow_on_values, event_values."""
from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from registry.audit.models import AuditEvent
from registry.audit.services import event_values, record
from registry.errors import ValidationError
from registry.institutions.services import clean_institution
from registry.personnel.services import clean_person
from registry.standards.parsing import parse_range
from registry.standards.services import clean_standard, follow_on_values
from tests import factories


class Refs:
    """Resolve references by name, the way a workbook names them."""

    def region_code(self, value):
        return {"洪城": "360100"}[value]

    def institution_id(self, value):
        if value != "甲所":
            raise ValidationError(f"机构不存在：{value}")
        return "pending:甲所"

    def discipline_code(self, value):
        return {"热学": "04"}[value]

    def discipline_exists(self, code):
        return code == "04"

    def catalog_lines(self, value):
        return [f"line:{v}" for v in value]

    def regulations(self, value):
        return [f"regulation:{v}" for v in value]


def test_clean_functions_resolve_references_through_refs():
    values = clean_institution({"credit_code": factories.credit_code(), "name": "x", "region_code": "洪城",
                                "kind": "other"}, refs=Refs())
    assert values["region_code"] == "360100"
    values = clean_standard({"certificate_no": "[2024]赣量标证字第1号", "name": "x", "category": "social_public",
                             "institution_id": "甲所", "issued_on": date(2024, 1, 1), "code": "04113803",
                             "catalog_line_ids": ["水表"], "regulation_ids": ["JJG 1-2020"]}, refs=Refs())
    assert values["institution_id"] == "pending:甲所" and values["discipline_code"] == "04"
    assert values["catalog_lines"] == ["line:水表"] and values["regulations"] == ["regulation:JJG 1-2020"]
    with pytest.raises(ValidationError) as exc:
        clean_person({"name": "张三", "institution_id": "乙所"}, refs=Refs())
    assert "乙所" in exc.value.errors["institution_id"][0]


def test_without_refs_references_are_ids_checked_in_the_database():
    holder = factories.institution()
    assert clean_person({"name": "张三", "institution_id": holder.id})["institution_id"] == holder.id
    with pytest.raises(ValidationError):
        clean_person({"name": "张三", "institution_id": "甲所"})


def test_follow_on_values_parse_texts_and_leave_an_undated_status_change_undated():
    assert follow_on_values({"range_text": "(0~200) ℃"}, None)["range_upper"] == 200.0
    current = SimpleNamespace(status="in_use", status_since=None)
    # A change of status given without its date is stored without one: never today's date.
    assert follow_on_values({"status": "sealed"}, current) == {"status_since": None}
    assert follow_on_values({"status": "sealed", "status_since": date(2024, 1, 1)}, current) == {}
    assert follow_on_values({"status": "in_use"}, current) == {}
    # The stored date of an earlier status does not carry over to the next one.
    sealed = SimpleNamespace(status="sealed", status_since=date(2024, 1, 1))
    assert follow_on_values({"status": "revoked"}, sealed) == {"status_since": None}
    new = follow_on_values({"status": "revoked"}, None)
    assert new["status_since"] is None and new["uncertainty_kind"] is None


def test_parsed_texts_are_remembered():
    assert parse_range("(1~2) m") is parse_range("(1~2) m")


def test_event_values_match_what_record_writes(session):
    holder = factories.institution()
    event = record("create", holder, actor=None, after={"x": 1}, note="n")
    session.flush()
    values = event_values("create", "institutions", holder.id, actor=None, after={"x": 1}, note="n")
    stored = session.get(AuditEvent, event.id)
    assert {k: getattr(stored, k) for k in values} == values
    assert session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.id == event.id)) == 1
