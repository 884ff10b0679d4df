"""Record services: validation, uniqueness, versions, withdrawal and audit rows."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from registry.audit.models import AuditEvent
from registry.auth.models import User
from registry.catalog.services import add_line, create_version, normalize_mode
from registry.errors import Conflict, Forbidden, NotFound, StaleEdit, ValidationError
from registry.extensions import db
from registry.indicators.models import Plan
from registry.indicators.services import create_target, record_value
from registry.institutions.services import create_institution, update_institution
from registry.personnel.services import add_person, update_person
from registry.regulations.services import create_regulation
from registry.records.services import get_or_404, withdraw
from registry.standards.models import MeasurementStandard
from registry.standards.services import register_standard, update_standard
from tests import factories


def _events(entity_type: str, entity_id) -> list[AuditEvent]:
    from registry.extensions import db

    return list(db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.entity_type == entity_type, AuditEvent.entity_id == str(entity_id)).order_by(AuditEvent.id)))


def _user(role: str, institution=None) -> User:
    from registry.extensions import db

    user = User(email=f"{role}{factories.credit_code()}@example.org", role=role,
                institution_id=institution.id if institution else None, password_hash="x")
    db.session.add(user)
    db.session.flush()
    return user


def test_create_institution_normalises_and_audits():
    code = factories.credit_code()
    inst = create_institution({"credit_code": code.lower(), "name": " 南昌计量所 ", "region_code": "南昌",
                               "kind": "legal_metrology"}, actor=None)
    assert (inst.credit_code, inst.name, inst.region_code) == (code, "南昌计量所", "360100")
    [event] = _events("institutions", inst.id)
    assert event.action == "create" and event.actor_label == "system" and event.after["credit_code"] == code


def test_institution_errors_are_reported_per_field():
    with pytest.raises(ValidationError) as exc:
        create_institution({"credit_code": "91350100M000100Y44", "name": "", "region_code": "999999",
                            "kind": "bank"}, actor=None)
    assert set(exc.value.errors) == {"credit_code", "name", "region_code", "kind"}
    assert "expected 3" in exc.value.errors["credit_code"][0]


def test_duplicate_credit_code_is_a_conflict():
    inst = factories.institution()
    with pytest.raises(Conflict):
        create_institution({"credit_code": inst.credit_code, "name": "x", "region_code": "360100", "kind": "other"},
                           actor=None)


def test_register_standard_parses_structure_and_defaults_validity(app):
    holder = factories.institution()
    line = factories.catalog_line(factories.catalog_version())
    std = register_standard({
        "certificate_no": "〔2024〕赣量标证字第 7 号", "name": "水表检定装置", "code": 4113803,
        "category": "social_public", "institution_id": holder.id, "issued_on": date(2024, 3, 1),
        "range_text": "(0.01~80) m³/h", "uncertainty_text": "U=0.2%, k=2", "catalog_line_ids": [line.id],
    }, actor=None)
    assert std.certificate_no == "[2024]赣量标证字第7号"
    assert std.code == "04113803" and std.discipline_code == "04"
    assert std.valid_until == date(2028, 2, 29)  # 4 years less a day
    assert (std.range_lower, std.range_upper, std.range_unit) == (0.01, 80.0, "m³/h")
    assert (std.uncertainty_kind, std.uncertainty_value, std.coverage_factor) == ("uncertainty", 0.2, 2.0)
    [event] = _events("measurement_standards", std.id)
    assert event.after["catalog_line_ids"] == [line.id]


def test_standard_rejects_validity_before_issue_and_unknown_lines():
    holder = factories.institution()
    with pytest.raises(ValidationError) as exc:
        register_standard({"certificate_no": "[2024]赣量标证字第8号", "name": "x", "category": "social_public",
                           "institution_id": holder.id, "issued_on": date(2024, 3, 1),
                           "valid_until": date(2024, 2, 1), "catalog_line_ids": [999999]}, actor=None)
    assert set(exc.value.errors) == {"valid_until", "catalog_line_ids"}


def test_stale_edit_is_refused_and_changes_nothing():
    std = factories.standard(factories.institution())
    version = std.version
    update_standard(std, {"name": "新名称"}, actor=None, expected_version=version)
    assert std.version == version + 1
    with pytest.raises(StaleEdit):
        update_standard(std, {"name": "又一个名称"}, actor=None, expected_version=version)
    assert std.name == "新名称"


def test_status_change_is_dated_and_audited():
    std = factories.standard(factories.institution())
    update_standard(std, {"status": "sealed", "status_since": date(2025, 6, 1)}, actor=None,
                    expected_version=std.version)
    assert (std.status, std.status_since) == ("sealed", date(2025, 6, 1))
    event = _events("measurement_standards", std.id)[-1]
    assert event.action == "update"
    assert event.before == {"status": "in_use", "status_since": None}
    assert event.after == {"status": "sealed", "status_since": "2025-06-01"}


def test_no_op_update_writes_no_audit_and_keeps_version():
    std = factories.standard(factories.institution())
    before = (std.version, len(_events("measurement_standards", std.id)))
    update_standard(std, {"name": std.name}, actor=None, expected_version=std.version)
    assert (std.version, len(_events("measurement_standards", std.id))) == before


def test_withdraw_needs_a_reason_and_blocks_later_edits():
    std = factories.standard(factories.institution())
    with pytest.raises(ValidationError):
        withdraw(std, "  ", actor=None)
    withdraw(std, "重复登记 / duplicate", actor=None)
    assert std.is_withdrawn
    with pytest.raises(Conflict):
        update_standard(std, {"name": "x"}, actor=None, expected_version=None)


@pytest.mark.parametrize("role", ["admin", "regulator", "institution"])
@pytest.mark.parametrize("whose", ["own", "other"])
def test_standard_access_by_role_and_owner(role, whose):
    own, other = factories.institution(), factories.institution()
    actor = _user(role, own if role == "institution" else None)
    target = factories.standard(own if whose == "own" else other)
    allowed = role != "institution" or whose == "own"
    if allowed:
        assert get_or_404(MeasurementStandard, target.id, actor=actor) is target
        update_standard(target, {"name": "改名"}, actor=actor, expected_version=target.version)
        assert target.name == "改名"
    else:
        with pytest.raises(NotFound):
            get_or_404(MeasurementStandard, target.id, actor=actor)
        with pytest.raises(NotFound):
            update_standard(target, {"name": "改名"}, actor=actor, expected_version=target.version)
        assert target.name != "改名"


def test_institution_user_files_only_under_own_institution():
    own, other = factories.institution(), factories.institution()
    actor = _user("institution", own)
    data = {"certificate_no": "[2024]赣量标证字第99号", "name": "x", "category": "social_public",
            "institution_id": other.id, "issued_on": date(2024, 1, 1)}
    with pytest.raises(ValidationError):
        register_standard(data, actor=actor)
    data["institution_id"] = own.id
    assert register_standard(data, actor=actor).institution_id == own.id


def test_institution_user_cannot_manage_reference_data_or_institutions():
    own = factories.institution()
    actor = _user("institution", own)
    with pytest.raises(Forbidden):
        create_regulation({"code": "JJG(赣) 1-2024", "title": "x"}, actor=actor)
    with pytest.raises(Forbidden):
        create_institution({"credit_code": factories.credit_code(), "name": "x", "region_code": "360100",
                            "kind": "other"}, actor=actor)
    with pytest.raises(Forbidden):
        update_institution(own, {"kind": "enterprise"}, actor=actor, expected_version=own.version)
    update_institution(own, {"contact": "张三"}, actor=actor, expected_version=own.version)
    assert own.contact == "张三"


def test_regulation_code_spelling_and_derived_fields():
    reg = create_regulation({"code": "JJF（赣） 12—2020", "title": "测试规范", "published_on": date(2020, 5, 1)},
                            actor=None)
    assert (reg.code, reg.series, reg.province, reg.level, reg.kind, reg.status) == (
        "JJF(赣) 12-2020", "JJF", "赣", "local", "calibration_specification", "published")
    with pytest.raises(Conflict):
        create_regulation({"code": "JJF(赣)12-2020", "title": "重复"}, actor=None)
    with pytest.raises(ValidationError) as exc:
        create_regulation({"code": "JJG 1-2020", "title": "x", "status": "abolished"}, actor=None)
    assert set(exc.value.errors) == {"published_on", "abolished_on"}


def test_person_id_number_is_hashed_and_masked_never_stored():
    holder = factories.institution()
    person = add_person({"name": "李四", "institution_id": holder.id, "id_number": "11010519491231002X",
                         "registration_no": "R-1", "registration_level": "1", "registered_on": date(2022, 1, 1)},
                        actor=None)
    assert person.id_number_mask == "11**************2X"
    assert len(person.id_number_hash) == 64 and "11010519491231002X" not in person.id_number_hash
    assert person.registration_valid_until == date(2026, 12, 31)
    event = _events("persons", person.id)[0]
    assert "11010519491231002X" not in str(event.after)
    with pytest.raises(ValidationError):
        add_person({"name": "x", "institution_id": holder.id, "id_number": "110105194912310021"}, actor=None)


def test_person_registration_needs_level_and_date():
    holder = factories.institution()
    with pytest.raises(ValidationError) as exc:
        add_person({"name": "王五", "institution_id": holder.id, "registration_no": "R-2"}, actor=None)
    assert set(exc.value.errors) == {"registration_level", "registered_on"}
    person = add_person({"name": "王五", "institution_id": holder.id}, actor=None)
    with pytest.raises(ValidationError):
        update_person(person, {"employed_from": date(2024, 1, 1), "employed_until": date(2023, 1, 1)},
                      actor=None, expected_version=person.version)


def test_catalog_mode_spellings_and_unique_line_codes():
    assert normalize_mode(" p + v ") == "P+V" and normalize_mode("Ｖ") == "V"
    version = create_version({"name": "测试目录X", "source_document": "doc", "effective_from": date(2021, 1, 1),
                              "declared_line_count": 2}, actor=None)
    add_line(version, {"code": "1", "name": "水表", "mode": "V"}, actor=None)
    with pytest.raises(Conflict):
        add_line(version, {"code": "1", "name": "电能表", "mode": "V"}, actor=None)


def test_recorded_values_only_for_recorded_indicators():
    record = record_value({"indicator_key": "integrity_units", "region_code": "360000", "as_of": date(2024, 12, 31),
                           "value": "3210", "source": "年度报告"}, actor=None)
    assert str(record.value) == "3210"
    with pytest.raises(ValidationError):
        record_value({"indicator_key": "social_public_standards", "region_code": "360000",
                      "as_of": date(2024, 12, 31), "value": 1, "source": "x"}, actor=None)
    with pytest.raises(ValidationError):
        create_target({"plan_id": db.session.scalar(sa.select(Plan.id)), "indicator_key": "carbon_pilots",
                       "region_code": "360100", "comparator": "between", "target": 3}, actor=None)


def test_flags_given_on_creation_are_kept():
    """Found by the API fuzz run: a flag in the data clashed with its default (TypeError)."""
    version = create_version({"name": "标志测试", "source_document": "x", "effective_from": date(2020, 1, 1),
                              "declared_line_count": 1, "is_partial": True}, actor=None)
    assert version.is_partial is True
    regulation = create_regulation({"code": "JJG(赣) 977-2024", "title": "标志测试", "is_urgent": True,
                                    "is_carbon": True}, actor=None)
    assert (regulation.is_urgent, regulation.is_carbon) == (True, True)
