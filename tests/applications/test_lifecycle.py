"""Every step × every state × every role through the services: allowed ones move the application,
forbidden ones are refused with nothing written (the application, its timeline and the audit trail)."""
from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from registry.applications import services
from registry.applications.models import ApplicationDocument, ApplicationEvent
from registry.audit.models import AuditEvent
from registry.errors import Conflict, DomainError, Forbidden, NotFound, StaleEdit, ValidationError
from registry.extensions import db
from registry.standards.models import MeasurementStandard
from tests import factories
from tests.applications.support import NEW_ISSUED, PDF, examiner, in_state

STATES = ("draft", "submitted", "returned", "accepted", "under_review", "rectification", "rectification_answered",
          "decided", "closed", "withdrawn")
ROLES = ("admin", "regulator", "institution", "other")
APPLICANT_SIDE, REGULATOR_SIDE = {"institution"}, {"admin", "regulator"}
# The known answer, written out here (not read from services.ACTIONS): action -> (roles, states).
EXPECTED = {
    "update_draft": (APPLICANT_SIDE, {"draft", "returned"}),
    "submit": (APPLICANT_SIDE, {"draft", "returned"}),
    "withdraw": (APPLICANT_SIDE, {"draft", "submitted", "returned", "accepted", "under_review"}),
    "respond_rectification": (APPLICANT_SIDE, {"rectification", "rectification_answered"}),
    "return_for_completion": (REGULATOR_SIDE, {"submitted"}),
    "accept": (REGULATOR_SIDE, {"submitted"}),
    "assign_examiners": (REGULATOR_SIDE, {"accepted", "under_review"}),
    "decide": (REGULATOR_SIDE, {"accepted", "under_review"}),
    "confirm_rectification": (REGULATOR_SIDE, {"rectification_answered"}),
    "reject_rectification": (REGULATOR_SIDE, {"rectification", "rectification_answered"}),
    "close": (REGULATOR_SIDE, {"decided"}),
    "add_document": (APPLICANT_SIDE, {"draft", "returned", "rectification", "rectification_answered"}),
}
REVIEW_UPLOADS = {"accepted", "under_review", "rectification", "rectification_answered", "decided"}
AFTER = {"update_draft": None, "submit": "submitted", "withdraw": "withdrawn", "respond_rectification": "rectification",
         "return_for_completion": "returned", "accept": "accepted", "assign_examiners": "under_review",
         "decide": "decided", "confirm_rectification": "decided", "reject_rectification": "decided",
         "close": "closed", "add_document": None}


def _call(action, application, actor, exam_id):
    v = application.version
    if action == "update_draft":
        return services.update_draft(application, {"title": "新标题"}, actor=actor, expected_version=v)
    if action == "submit":
        return services.submit(application, actor=actor, expected_version=v)
    if action == "withdraw":
        return services.withdraw(application, actor=actor, comment="不再申请", expected_version=v)
    if action == "respond_rectification":
        return services.respond_rectification(application, "已整改完毕", actor=actor, expected_version=v)
    if action == "return_for_completion":
        return services.return_for_completion(application, actor=actor, comment="缺少记录", expected_version=v)
    if action == "accept":
        return services.accept(application, actor=actor, expected_version=v)
    if action == "assign_examiners":
        return services.assign_examiners(application, [exam_id], actor=actor, expected_version=v)
    if action == "decide":
        return services.decide(application, "rejected", actor=actor, comment="理由", expected_version=v)
    if action == "confirm_rectification":
        return services.confirm_rectification(application, actor=actor, expected_version=v)
    if action == "reject_rectification":
        return services.reject_rectification(application, actor=actor, comment="未整改", expected_version=v)
    if action == "close":
        return services.close(application, actor=actor, expected_version=v)
    if action == "add_document":
        return services.add_document(application, "other", io.BytesIO(PDF), "附件.pdf", actor=actor)
    raise AssertionError(action)


def _written(application_id):
    return (db.session.scalar(sa.select(sa.func.count()).select_from(ApplicationEvent)
                              .where(ApplicationEvent.application_id == application_id)),
            db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)),
            db.session.scalar(sa.select(sa.func.count()).select_from(ApplicationDocument)))


def _expected(action, role, state):
    roles, states = EXPECTED[action]
    if action == "add_document" and role in REGULATOR_SIDE and state in REVIEW_UPLOADS:
        return True
    return role in roles and state in states


@pytest.mark.parametrize("state", STATES)
def test_role_state_action(users, session, state):
    exam = examiner("矩阵考评员")
    for action in EXPECTED:
        for role in ROLES:
            application = in_state(state, users, factories.standard(users.own))
            actor = getattr(users, role)
            before_state, before_version = application.state, application.version
            written = _written(application.id)
            allowed = _expected(action, role, state)
            offered = services.may(actor, application, action)
            assert offered == allowed, (action, role, state)
            if allowed:
                _call(action, application, actor, exam.id)
                if AFTER[action]:
                    assert application.state == AFTER[action], (action, role, state)
                continue
            with pytest.raises((Forbidden, Conflict, NotFound)) as refused:
                _call(action, application, actor, exam.id)
            if role == "other":
                assert isinstance(refused.value, NotFound)  # another institution's: as if it did not exist
            assert (application.state, application.version) == (before_state, before_version), (action, role)
            assert _written(application.id) == written, (action, role, state)


def test_stale_decision_is_refused(users):
    application = in_state("under_review", users, factories.standard(users.own))
    with pytest.raises(StaleEdit):
        services.decide(application, "approved", actor=users.regulator, expected_version=application.version - 1)
    assert application.state == "under_review" and application.decision is None


def test_decision_in_wrong_state_is_refused(users):
    application = in_state("submitted", users, factories.standard(users.own))
    with pytest.raises(Conflict) as refused:
        services.decide(application, "approved", actor=users.regulator)
    assert refused.value.field == "state"
    assert application.state == "submitted"


def test_checklist_must_be_complete_to_submit(users):
    standard = factories.standard(users.own)
    application = services.create_draft({"kind": "reexamination", "standard_id": standard.id}, actor=users.institution)
    assert services.missing_documents(application) == list(services.REQUIRED_DOCUMENTS["reexamination"])
    with pytest.raises(ValidationError) as refused:
        services.submit(application, actor=users.institution)
    assert set(refused.value.errors["documents"]) == set(services.REQUIRED_DOCUMENTS["reexamination"])
    assert application.state == "draft"


def test_returned_application_is_completed_and_resubmitted(users):
    application = in_state("returned", users, factories.standard(users.own))
    assert application.returned_reason == "缺材料"
    services.update_draft(application, {"title": "补正后"}, actor=users.institution, expected_version=application.version)
    services.submit(application, actor=users.institution)
    assert application.state == "submitted"
    actions = [e.action for e in db.session.scalars(services.events_query(application))]
    assert actions == ["create", "submit", "return_for_completion", "submit"]


def test_return_needs_a_reason(users):
    application = in_state("submitted", users, factories.standard(users.own))
    with pytest.raises(ValidationError):
        services.return_for_completion(application, actor=users.regulator, comment="  ")
    assert application.state == "submitted"


def test_rejection_needs_reasons_and_changes_nothing_but_the_application(users):
    standard = factories.standard(users.own)
    application = in_state("under_review", users, standard)
    before = {c: getattr(standard, c) for c in ("issued_on", "valid_until", "certificate_no", "status", "version")}
    audit_rows = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                                   .where(AuditEvent.entity_type == "measurement_standards"))
    with pytest.raises(ValidationError):
        services.decide(application, "rejected", actor=users.regulator)
    services.decide(application, "rejected", actor=users.regulator, comment="稳定性不符合要求")
    assert (application.state, application.decision) == ("decided", "rejected")
    db.session.expire(standard)
    assert {c: getattr(standard, c) for c in before} == before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                             .where(AuditEvent.entity_type == "measurement_standards")) == audit_rows


def test_rectification_then_confirmation_writes_the_standard(users):
    standard = factories.standard(users.own)
    application = in_state("rectification", users, standard)
    assert standard.issued_on.isoformat() == "2024-01-01"  # not yet
    services.respond_rectification(application, "已补做稳定性考核", actor=users.institution)
    services.confirm_rectification(application, actor=users.regulator)
    assert (application.state, application.decision) == ("decided", "approved_after_rectification")
    assert standard.issued_on == NEW_ISSUED


def test_late_reexamination_is_flagged(users, app):
    # valid until 2027-12-31, apply by 2027-06-30 (6 months): submitting on 2027-07-01 is late, the day before not.
    from datetime import date

    for day, late in ((date(2027, 6, 30), False), (date(2027, 7, 1), True)):
        application = in_state("draft", users, factories.standard(users.own))
        services.submit(application, actor=users.institution, today=day)
        assert application.late is late, day
        services.accept(application, actor=users.regulator)  # accepted all the same
        assert application.state == "accepted"


def test_new_standard_approved_is_created_in_use_with_its_certificate(users):
    from registry.applications.models import StandardCertificate

    application = in_state("under_review", users, None, kind="new",
                           proposal={"name": "新建标准装置", "category": "social_public"})
    services.decide(application, "approved", actor=users.regulator,
                    values={"certificate_no": "[2026]赣量标测证字第7001号", "issued_on": "2026-03-01"})
    standard = application.standard
    assert (standard.name, standard.status, standard.institution_id) == ("新建标准装置", "in_use", users.own.id)
    assert (standard.issued_on.isoformat(), standard.valid_until.isoformat()) == ("2026-03-01", "2030-02-28")
    created = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.entity_type == "measurement_standards", AuditEvent.entity_id == str(standard.id))).all()
    assert [(e.action, e.note) for e in created] == [("create", f"application:{application.id}")]
    certificates = db.session.scalars(sa.select(StandardCertificate).where(
        StandardCertificate.standard_id == standard.id)).all()
    assert [(c.certificate_no, c.application_id) for c in certificates] == [
        ("[2026]赣量标测证字第7001号", application.id)]


def test_regulator_files_a_revocation_and_institution_files_a_replacement(users):
    standard = factories.standard(users.own)
    revocation = services.create_draft({"kind": "revocation", "standard_id": standard.id,
                                        "proposal": {"effective_on": "2025-05-01"}}, actor=users.regulator)
    assert services.missing_documents(revocation) == []
    with pytest.raises(Forbidden):
        services.create_draft({"kind": "reexamination", "standard_id": standard.id}, actor=users.regulator)
    with pytest.raises(ValidationError) as refused:
        services.create_draft({"kind": "replacement", "standard_id": standard.id,
                               "proposal": {"description": "更换主标准器", "changes": {"range_text": "0-10 MPa"}}},
                              actor=users.institution)
    assert "新建" in refused.value.message
    with pytest.raises(ValidationError):  # another institution's standard
        services.create_draft({"kind": "sealing", "standard_id": factories.standard(users.other_institution).id},
                              actor=users.institution)


def test_change_is_recorded_in_the_standards_history(users):
    standard = factories.standard(users.own, responsible_person="张三")
    application = in_state("accepted", users, standard, kind="change",
                           proposal={"description": "负责人变更", "changes": {"responsible_person": "李四"}})
    services.decide(application, "approved", actor=users.regulator)
    assert standard.responsible_person == "李四"
    rows = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.entity_type == "measurement_standards", AuditEvent.entity_id == str(standard.id))
        .order_by(AuditEvent.id)).all()
    assert [(r.action, r.note) for r in rows] == [("update", f"application:{application.id}"),
                                                   ("change", f"application:{application.id}")]
    assert rows[1].after["description"] == "负责人变更"


def test_resumption_only_while_the_certificate_is_valid(users):
    from datetime import date

    standard = factories.standard(users.own, status="sealed", status_since=date(2025, 1, 1))
    late = in_state("accepted", users, standard, kind="resumption", proposal={"effective_on": "2028-02-01"})
    with pytest.raises(ValidationError):
        services.decide(late, "approved", actor=users.regulator)
    assert standard.status == "sealed" and late.state == "accepted"
    ok = in_state("accepted", users, standard, kind="resumption", proposal={"effective_on": "2026-02-01"})
    services.decide(ok, "approved", actor=users.regulator)
    assert (standard.status, standard.status_since.isoformat()) == ("in_use", "2026-02-01")


def test_working_day_deadlines(users, app):
    from datetime import date, datetime, timezone

    application = in_state("submitted", users, factories.standard(users.own))
    application.submitted_at = datetime(2026, 12, 4, 9, tzinfo=timezone.utc)  # a Friday
    # 5 working days after Friday 4 December: Friday 11 December.
    assert services.deadline(application) == date(2026, 12, 11)
    assert not services.overdue(application, date(2026, 12, 11))
    assert services.overdue(application, date(2026, 12, 14))
    assert services.age_working_days(application, date(2026, 12, 14)) == 6
    app.config["APPLICATION_HOLIDAYS"] = ("2026-12-08",)
    try:
        assert services.deadline(application) == date(2026, 12, 14)
    finally:
        app.config["APPLICATION_HOLIDAYS"] = ()


def test_a_failure_after_storing_leaves_no_file_behind(users, store, monkeypatch):
    from tests.applications.conftest import stored_files

    application = in_state("draft", users, factories.standard(users.own))
    before = stored_files(store)

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(services, "record", broken)
    with pytest.raises(RuntimeError):
        services.add_document(application, "other", io.BytesIO(PDF), "附件.pdf", actor=users.institution)
    assert stored_files(store) == before and len(before) == 5
