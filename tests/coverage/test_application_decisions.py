"""What decisions do to coverage, known answers: a renewal keeps every past day, a past sealing counts
from its date, a rejection changes nothing.  Through the report, the by-city table, the forecast, the
renewals list and the validity rule (Python and SQL)."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from registry.applications import services
from registry.applications.models import StandardCertificate
from registry.coverage.renewals import renewals
from registry.coverage.services import coverage_by_region, coverage_forecast, coverage_report
from registry.errors import ValidationError
from registry.extensions import db
from registry.standards.validity import validity, validity_case
from tests import factories
from tests.applications.conftest import store  # noqa: F401 (autouse: each test's own document folder)
from tests.applications.support import in_state
from tests.coverage.support import indicator

ISSUED, EXPIRES = date(2022, 1, 1), date(2025, 12, 31)
DAYS = (date(2021, 12, 31), ISSUED, date(2023, 6, 30), date(2025, 10, 31), date(2025, 11, 1), EXPIRES,
        date(2026, 1, 1), date(2027, 6, 30))
RENEWED = date(2025, 11, 1)


def _counted(day: date) -> int:
    return indicator(coverage_report(day, "360100"), "social_public_standards")["value"]


def _covered_lines(day: date) -> int:
    return indicator(coverage_report(day, "360100"), "mandatory_item_coverage")["numerator"]


@pytest.fixture
def renewing(catalog, users):
    """One social public standard of users.own (南昌) serving one line, certificate 2022-01-01 .. 2025-12-31."""
    line = factories.catalog_line(catalog, code="APP1")
    return factories.standard(users.own, lines=[line], issued_on=ISSUED, valid_until=EXPIRES,
                              certificate_no="[2022]赣量标测证字第501号")


def test_an_approved_reexamination_keeps_every_past_day_and_covers_the_following_day(renewing, users):
    before = {day: (_counted(day), _covered_lines(day)) for day in DAYS}
    assert before == {date(2021, 12, 31): (0, 0), ISSUED: (1, 1), date(2023, 6, 30): (1, 1),
                      date(2025, 10, 31): (1, 1), date(2025, 11, 1): (1, 1), EXPIRES: (1, 1),
                      date(2026, 1, 1): (0, 0), date(2027, 6, 30): (0, 0)}
    application = in_state("under_review", users, renewing, proposal={"issued_on": RENEWED.isoformat()})
    services.decide(application, "approved", actor=users.regulator,
                    values={"certificate_no": "[2025]赣量标测证字第777号"})
    db.session.flush()
    # The new certificate: 2025-11-01 .. 2029-10-31 (4 years less a day), the new number.
    assert (renewing.issued_on, renewing.valid_until, renewing.certificate_no) == (
        RENEWED, date(2029, 10, 31), "[2025]赣量标测证字第777号")
    assert renewing.certified_since == ISSUED
    after = {day: (_counted(day), _covered_lines(day)) for day in DAYS}
    # Every day up to the old expiry is as it was (2023-06-30 included: before the new issue date) ...
    assert {d: v for d, v in after.items() if d <= EXPIRES} == {d: v for d, v in before.items() if d <= EXPIRES}
    # ... and the day after the old expiry, and later, now count.
    assert after[date(2026, 1, 1)] == (1, 1) and after[date(2027, 6, 30)] == (1, 1)
    # Both certificates are kept; the new one names the application.
    kept = db.session.execute(sa.select(StandardCertificate.certificate_no, StandardCertificate.issued_on,
                                        StandardCertificate.valid_until, StandardCertificate.application_id)
                              .where(StandardCertificate.standard_id == renewing.id)
                              .order_by(StandardCertificate.issued_on)).all()
    assert [tuple(row) for row in kept] == [("[2022]赣量标测证字第501号", ISSUED, EXPIRES, None),
                                            ("[2025]赣量标测证字第777号", RENEWED, date(2029, 10, 31), application.id)]
    # The validity rule agrees, in Python and SQL: a past day inside the old certificate is not "not yet valid".
    for day, state in ((date(2023, 6, 30), "valid"), (date(2021, 12, 31), "not_yet_valid"),
                       (date(2026, 1, 1), "valid")):
        assert validity(renewing, day) == state
        assert db.session.scalar(sa.select(validity_case(day)).where(
            sa.literal_column("measurement_standards.id") == renewing.id)) == state


def test_the_by_city_table_the_forecast_and_the_renewals_list_see_the_renewal(renewing, users):
    application = in_state("under_review", users, renewing, proposal={"issued_on": RENEWED.isoformat()})
    services.decide(application, "approved", actor=users.regulator)
    table = coverage_by_region(date(2023, 6, 30), "360000")
    nanchang = next(column for column in table.regions if column.region == "360100")
    assert indicator(nanchang.to_dict(), "social_public_standards")["value"] == 1
    forecast = coverage_forecast(date(2025, 10, 31), "360100", 3)
    series = next(s for s in forecast.indicators if s.key == "social_public_standards")
    assert [point.value for point in series.points] == [1, 1, 1]  # Nov, Dec 2025 and Jan 2026 (renewed)
    expired = renewals(date(2026, 1, 15), "360100", window="expired")
    assert renewing.id not in [item.standard.id for item in expired.items]


def test_a_reexamination_after_expiry_is_refused_with_the_advice_to_apply_as_new(renewing, users):
    application = in_state("under_review", users, renewing, proposal={"issued_on": "2026-01-02"})
    with pytest.raises(ValidationError) as refused:
        services.decide(application, "approved", actor=users.regulator)
    assert "新建" in refused.value.message and refused.value.field == "values.issued_on"
    assert (renewing.issued_on, renewing.valid_until, renewing.certified_since) == (ISSUED, EXPIRES, None)
    assert application.state == "under_review"
    # The day right after expiry still renews without a gap.
    services.decide(application, "approved", actor=users.regulator, values={"issued_on": "2026-01-01"},
                    expected_version=application.version)
    assert _counted(date(2023, 6, 30)) == 1 and _counted(date(2026, 1, 1)) == 1


def test_an_approved_sealing_dated_in_the_past_changes_coverage_from_that_date(renewing, users):
    sealed_on = date(2024, 3, 1)
    application = in_state("accepted", users, renewing, kind="sealing",
                           proposal={"effective_on": sealed_on.isoformat()})
    assert (_counted(date(2024, 2, 29)), _counted(sealed_on), _counted(date(2025, 6, 30))) == (1, 1, 1)
    services.decide(application, "approved", actor=users.regulator)
    assert (renewing.status, renewing.status_since) == ("sealed", sealed_on)
    assert (_counted(date(2024, 2, 29)), _counted(sealed_on), _counted(date(2025, 6, 30))) == (1, 0, 0)
    assert _covered_lines(date(2024, 2, 29)) == 1 and _covered_lines(sealed_on) == 0


def test_a_rejected_application_changes_nothing_but_the_application(renewing, users):
    before = {day: _counted(day) for day in DAYS}
    columns = {c: getattr(renewing, c) for c in ("issued_on", "valid_until", "certificate_no", "status",
                                                  "status_since", "certified_since", "version")}
    for kind, proposal in (("reexamination", {"issued_on": RENEWED.isoformat()}),
                           ("sealing", {"effective_on": "2024-03-01"})):
        application = in_state("accepted", users, renewing, kind=kind, proposal=proposal)
        services.decide(application, "rejected", actor=users.regulator, comment="不符合要求")
        assert (application.state, application.decision) == ("decided", "rejected")
    db.session.flush()
    db.session.expire(renewing)
    assert {c: getattr(renewing, c) for c in columns} == columns
    assert {day: _counted(day) for day in DAYS} == before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StandardCertificate)
                             .where(StandardCertificate.standard_id == renewing.id)) == 0
