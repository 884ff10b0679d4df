"""Every door that creates a standard starts its certificate history; an approval notes its application."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from importers import run_import
from registry.applications import services
from registry.applications.models import StandardCertificate
from registry.extensions import db
from registry.standards.models import MeasurementStandard
from registry.standards.services import register_standard
from tests.applications.support import examiner, upload_checklist
from tests.importers.books import STANDARD_HEADER, xlsx
from tests.importers.test_import import standard_row


def history(standard_id: int) -> list[tuple]:
    return [tuple(row) for row in db.session.execute(
        sa.select(StandardCertificate.certificate_no, StandardCertificate.issued_on, StandardCertificate.valid_until,
                  StandardCertificate.application_id)
        .where(StandardCertificate.standard_id == standard_id).order_by(StandardCertificate.id))]


def test_the_service_records_a_new_standards_certificate(users):
    standard = register_standard({"certificate_no": "[2025]赣量标证字第 811 号", "name": "新标准",
                                  "category": "social_public", "institution_id": users.own.id,
                                  "issued_on": "2025-03-01"}, actor=users.regulator)
    assert history(standard.id) == [(standard.certificate_no, date(2025, 3, 1), standard.valid_until, None)]


def test_the_api_records_a_new_standards_certificate(client, auth, users):
    created = client.post("/api/v1/standards", headers=auth.token(users.regulator), json={
        "certificate_no": "[2025]赣量标证字第 812 号", "name": "接口新标准", "category": "social_public",
        "institution_id": users.own.id, "issued_on": "2025-03-01", "valid_until": "2029-02-28"})
    assert created.status_code == 201, created.get_json()
    assert history(created.get_json()["id"]) == [
        (created.get_json()["certificate_no"], date(2025, 3, 1), date(2029, 2, 28), None)]


def test_an_import_records_each_new_standards_certificate(users):
    holder = users.own.credit_code
    book = xlsx({"计量标准": [STANDARD_HEADER, standard_row("[2024]赣量标证字第 813 号", holder),
                             standard_row("[2024]赣量标证字第 814 号", holder, **{"发证日期*": date(2024, 5, 1),
                                                                              "有效期至*": date(2028, 4, 30)})]})
    report = run_import(book, actor=None)
    assert report.ok, report.errors
    found = {s.certificate_no: s.id for s in db.session.scalars(sa.select(MeasurementStandard).where(
        MeasurementStandard.certificate_no.in_(["[2024]赣量标证字第813号", "[2024]赣量标证字第814号"])))}
    assert len(found) == 2
    assert history(found["[2024]赣量标证字第813号"]) == [
        ("[2024]赣量标证字第813号", date(2024, 3, 1), date(2028, 2, 29), None)]
    assert history(found["[2024]赣量标证字第814号"]) == [
        ("[2024]赣量标证字第814号", date(2024, 5, 1), date(2028, 4, 30), None)]
    # Importing the same rows again changes nothing: no second history row.
    assert run_import(book, actor=None).ok
    assert len(history(found["[2024]赣量标证字第813号"])) == 1


def test_an_approved_new_standard_has_one_row_naming_its_application(users):
    application = services.create_draft({"kind": "new", "proposal": {
        "name": "新建装置", "category": "social_public", "certificate_no": "[2025]赣量标证字第 815 号",
        "issued_on": "2025-06-01"}}, actor=users.institution)
    upload_checklist(application, users.institution)
    services.submit(application, actor=users.institution)
    services.accept(application, actor=users.regulator)
    services.assign_examiners(application, [examiner().id], actor=users.regulator)
    services.decide(application, "approved", actor=users.regulator)
    standard = application.standard
    assert history(standard.id) == [(standard.certificate_no, date(2025, 6, 1), standard.valid_until, application.id)]

