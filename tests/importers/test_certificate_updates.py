"""An import updating certificate dates keeps the certificate history by the rule the form and the API follow.

``registry.standards.services.CertificateChanges``, in the import's bulk update (``importers.apply``):
an issue date moved later adds the new certificate, any other change corrects the row of the
certificate in force (or adds it when none is recorded); the import stays all-or-nothing.
"""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

import importers.apply
from importers import run_import
from registry.applications.models import StandardCertificate
from registry.coverage.services import coverage_report
from registry.extensions import db
from registry.standards.models import MeasurementStandard
from registry.standards.services import record_current_certificates
from registry.standards.validity import validity, validity_case
from tests import factories
from tests.coverage.support import indicator
from tests.importers.books import STANDARD_HEADER, xlsx
from tests.importers.test_import import standard_row

ISSUED, VALID = date(2022, 1, 1), date(2025, 12, 31)


def history(standard_id: int) -> list[tuple]:
    return [tuple(row) for row in db.session.execute(
        sa.select(StandardCertificate.certificate_no, StandardCertificate.issued_on, StandardCertificate.valid_until)
        .where(StandardCertificate.standard_id == standard_id)
        .order_by(StandardCertificate.issued_on, StandardCertificate.id))]


def held(numbers: list[int], *, recorded: bool = True) -> tuple[object, list[MeasurementStandard]]:
    """An institution and its standards ``[2022]赣量标证字第<n>号``, certified 2022-01-01 .. 2025-12-31."""
    holder = factories.institution()
    standards = [factories.standard(holder, certificate_no=f"[2022]赣量标证字第{n}号", issued_on=ISSUED,
                                    valid_until=VALID) for n in numbers]
    if recorded:
        db.session.execute(record_current_certificates(lambda column: column.in_([s.id for s in standards])))
    return holder, standards


def row(standard, holder, issued: date, valid: date) -> list:
    return standard_row(standard.certificate_no, holder.credit_code, **{"发证日期*": issued, "有效期至*": valid})


def test_an_import_renews_and_corrects_by_the_rule():
    holder, (renewed, corrected, earlier) = held([9101, 9102, 9103])
    _, (unrecorded,) = held([9104], recorded=False)
    unrecorded.institution_id = holder.id
    db.session.flush()
    book = xlsx({"计量标准": [STANDARD_HEADER,
                             row(renewed, holder, date(2026, 1, 1), date(2029, 12, 31)),
                             row(corrected, holder, ISSUED, date(2025, 12, 30)),
                             row(earlier, holder, date(2021, 12, 1), VALID),
                             row(unrecorded, holder, ISSUED, date(2026, 1, 31))]})
    report = run_import(book, actor=None)
    assert report.ok, report.errors
    assert report.sheets["计量标准"]["updated"] == 4
    assert history(renewed.id) == [(renewed.certificate_no, ISSUED, VALID),
                                   (renewed.certificate_no, date(2026, 1, 1), date(2029, 12, 31))]
    assert history(corrected.id) == [(corrected.certificate_no, ISSUED, date(2025, 12, 30))]
    assert history(earlier.id) == [(earlier.certificate_no, date(2021, 12, 1), VALID)]
    assert history(unrecorded.id) == [(unrecorded.certificate_no, ISSUED, date(2026, 1, 31))]
    # The same workbook again changes nothing, in the history neither.
    assert run_import(book, actor=None).ok
    assert len(history(renewed.id)) == 2 and len(history(corrected.id)) == 1


def test_a_renewal_of_an_unrecorded_certificate_keeps_the_old_one():
    holder, (standard,) = held([9111], recorded=False)
    report = run_import(xlsx({"计量标准": [STANDARD_HEADER, row(standard, holder, date(2025, 11, 1),
                                                                 date(2029, 10, 31))]}), actor=None)
    assert report.ok, report.errors
    assert history(standard.id) == [(standard.certificate_no, ISSUED, VALID),
                                    (standard.certificate_no, date(2025, 11, 1), date(2029, 10, 31))]


def test_a_failing_import_leaves_the_history_as_it_was():
    holder, (renewed, corrected) = held([9121, 9122])
    _, (unrecorded,) = held([9123], recorded=False)
    bad = standard_row("[2024]赣量标证字第9124号", holder.credit_code, **{"有效期至*": date(2020, 1, 1)})
    report = run_import(xlsx({"计量标准": [STANDARD_HEADER,
                                           row(renewed, holder, date(2026, 1, 1), date(2029, 12, 31)),
                                           row(corrected, holder, ISSUED, date(2025, 12, 30)),
                                           standard_row(unrecorded.certificate_no, holder.credit_code,
                                                        **{"发证日期*": date(2025, 6, 1), "有效期至*": date(2029, 5, 31)}),
                                           bad]}), actor=None)
    assert not report.ok and [e.row for e in report.errors] == [5]
    db.session.expire_all()
    assert history(renewed.id) == [(renewed.certificate_no, ISSUED, VALID)]
    assert history(corrected.id) == [(corrected.certificate_no, ISSUED, VALID)]
    assert history(unrecorded.id) == []
    assert db.session.get(MeasurementStandard, renewed.id).issued_on == ISSUED


def test_an_import_meeting_a_changed_record_leaves_the_history_as_it_was(monkeypatch):
    """Another edit between the check and the write: the import fails whole, history included."""
    holder, (recorded,) = held([9131])
    _, (unrecorded,) = held([9132], recorded=False)
    unrecorded.institution_id = holder.id
    db.session.flush()
    apply = importers.apply.Applier.apply

    def behind_its_back(self, plans):
        db.session.execute(sa.update(MeasurementStandard.__table__).where(
            MeasurementStandard.__table__.c.id == recorded.id).values(version=MeasurementStandard.__table__.c.version + 1))
        return apply(self, plans)

    monkeypatch.setattr(importers.apply.Applier, "apply", behind_its_back)
    report = run_import(xlsx({"计量标准": [STANDARD_HEADER,
                                           row(recorded, holder, date(2026, 1, 1), date(2029, 12, 31)),
                                           row(unrecorded, holder, date(2026, 1, 1), date(2029, 12, 31))]}),
                        actor=None)
    assert not report.ok, "the import should have met the changed record"
    db.session.expire_all()
    assert history(recorded.id) == [(recorded.certificate_no, ISSUED, VALID)]
    assert history(unrecorded.id) == []  # the old certificate recorded before the renewal was rolled back too


def test_a_dry_run_writes_no_history():
    holder, (standard,) = held([9141])
    report = run_import(xlsx({"计量标准": [STANDARD_HEADER, row(standard, holder, date(2026, 1, 1),
                                                                 date(2029, 12, 31))]}), actor=None, dry_run=True)
    assert report.ok and report.sheets["计量标准"]["updated"] == 1
    assert history(standard.id) == [(standard.certificate_no, ISSUED, VALID)]


def test_an_import_renewal_keeps_the_unbroken_run_of_certificates():
    """Known answers (registry.standards.services.certified_since_after): 2019-06-01 .. 2023-05-31 renewed as
    2023-06-01 .. 2027-05-31 still counts on 2021-01-01; renewed from 2023-09-01 (a gap) the run starts again."""
    holder = factories.institution()
    unbroken, gap = (factories.standard(holder, certificate_no=f"[2019]赣量标证字第{n}号", issued_on=date(2019, 6, 1),
                                        valid_until=date(2023, 5, 31)) for n in (9201, 9202))
    past, in_gap = date(2021, 1, 1), date(2023, 7, 1)

    def counted(day: date) -> tuple[int, int]:
        return tuple(indicator(coverage_report(day, region), "social_public_standards")["value"]
                     for region in ("360100", "360000"))

    assert (counted(past), counted(in_gap)) == ((2, 2), (0, 0))
    book = xlsx({"计量标准": [STANDARD_HEADER, row(unbroken, holder, date(2023, 6, 1), date(2027, 5, 31)),
                             row(gap, holder, date(2023, 9, 1), date(2027, 8, 31))]})
    report = run_import(book, actor=None)
    assert report.ok, report.errors
    db.session.expire_all()
    assert (unbroken.certified_since, gap.certified_since) == (date(2019, 6, 1), None)
    assert (counted(past), counted(in_gap), counted(date(2023, 9, 1))) == ((1, 1), (1, 1), (2, 2))
    for standard, day, state in ((unbroken, past, "valid"), (gap, past, "not_yet_valid"),
                                 (gap, in_gap, "not_yet_valid"), (unbroken, in_gap, "valid")):
        assert validity(standard, day) == state
        assert db.session.scalar(sa.select(validity_case(day)).where(
            sa.literal_column("measurement_standards.id") == standard.id)) == state
    # The same workbook again changes nothing.
    assert run_import(book, actor=None).sheets["计量标准"]["updated"] == 0
    db.session.expire_all()
    assert unbroken.certified_since == date(2019, 6, 1)


def test_a_new_standard_starts_its_history_whichever_way_the_sheet_is_written(write_mode):
    """Created by an import, checked then written or streamed to the writer thread (importers.pipeline):
    its current certificate is the first row of its history, as the form and the API record it."""
    holder = factories.institution()
    numbers = [f"[2024]赣量标证字第{n}号" for n in (9201, 9202, 9203)]
    book = xlsx({"计量标准": [STANDARD_HEADER, *(standard_row(number, holder.credit_code, **{
        "发证日期*": ISSUED, "有效期至*": VALID}) for number in numbers)]})
    report = run_import(book, actor=None)
    assert report.ok, report.errors
    assert report.sheets["计量标准"]["created"] == 3
    ids = db.session.scalars(sa.select(MeasurementStandard.id)
                             .where(MeasurementStandard.certificate_no.in_(numbers))
                             .order_by(MeasurementStandard.certificate_no)).all()
    assert [history(i) for i in ids] == [[(number, ISSUED, VALID)] for number in numbers], write_mode
