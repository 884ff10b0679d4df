"""A past status period keeps counting after the standard is in use again (issue 16): known answers.

A standard sealed on 2024-03-01 and resumed on 2024-09-01 covers on 2024-02-28,
not on 2024-05-01, and again on 2024-10-01: at the province, at a city, in the
by-city table, in the gaps, in the forecast's months, in the renewals list and
in the validity shown (Python and SQL); through an approved resumption
(恢复使用), a plain status edit (service and API) and an import; a sealed
period whose start is not known.
"""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from registry.applications import services as applications
from registry.coverage.renewals import EXPIRED, renewals
from registry.coverage.services import (
    coverage_by_region, coverage_forecast, coverage_gaps, coverage_report, single_points_of_failure,
)
from registry.extensions import db
from registry.standards.models import MeasurementStandard, StandardStatusPeriod
from registry.standards.services import update_standard
from registry.standards.validity import validity, validity_case, validity_clause
from tests import factories
from tests.applications.conftest import store  # noqa: F401 (autouse: each test's own document folder)
from tests.applications.support import in_state
from tests.coverage.support import indicator

S = MeasurementStandard
SEALED_ON, RESUMED_ON = date(2024, 3, 1), date(2024, 9, 1)
BEFORE, DURING, AFTER = date(2024, 2, 28), date(2024, 5, 1), date(2024, 10, 1)
CODE = "SP16"


@pytest.fixture
def held(catalog, users):
    """One social public standard of users.own (南昌, 360100) serving one line, valid 2022-01-01 .. 2026-12-31."""
    line = factories.catalog_line(catalog, code=CODE)
    standard = factories.standard(users.own, lines=[line], issued_on=date(2022, 1, 1), valid_until=date(2026, 12, 31),
                                  certificate_no="[2022]赣量标测证字第916号")
    db.session.commit()
    return standard


def _seal_and_resume_by_applications(standard, users) -> None:
    sealing = in_state("accepted", users, standard, kind="sealing", proposal={"effective_on": SEALED_ON.isoformat()})
    applications.decide(sealing, "approved", actor=users.regulator)
    resumption = in_state("accepted", users, standard, kind="resumption",
                          proposal={"effective_on": RESUMED_ON.isoformat()})
    applications.decide(resumption, "approved", actor=users.regulator)
    assert (standard.status, standard.status_since) == ("in_use", RESUMED_ON)
    period = db.session.scalars(sa.select(StandardStatusPeriod).where(
        StandardStatusPeriod.standard_id == standard.id)).one()
    assert (period.status, period.started_on, period.ended_on, period.application_id) == (
        "sealed", SEALED_ON, RESUMED_ON, resumption.id)


def _seal_and_resume_by_edits(standard, users) -> None:
    update_standard(standard, {"status": "sealed", "status_since": SEALED_ON}, actor=users.admin,
                    expected_version=None)
    update_standard(standard, {"status": "in_use", "status_since": RESUMED_ON}, actor=users.admin,
                    expected_version=None)


def _counted(day: date, region: str) -> tuple[int, int]:
    report = coverage_report(day, region)
    return (indicator(report, "social_public_standards")["value"],
            indicator(report, "mandatory_item_coverage")["numerator"])


def _assert_sealed_between(standard) -> None:
    db.session.commit()
    assert standard.has_status_periods is True
    for region in ("360000", "360100"):
        assert [_counted(day, region) for day in (BEFORE, DURING, AFTER)] == [(1, 1), (0, 0), (1, 1)], region
    # The by-city table: 南昌's column.
    for day, expected in ((BEFORE, 1), (DURING, 0), (AFTER, 1)):
        table = coverage_by_region(day, "360000")
        nanchang = next(column for column in table.regions if column.region == "360100").to_dict()
        assert indicator(nanchang, "social_public_standards")["value"] == expected
        assert indicator(nanchang, "mandatory_item_coverage")["numerator"] == expected
    # The gaps: the line is a gap only while sealed, at the province and in 南昌.
    for day, gap in ((BEFORE, False), (DURING, True), (AFTER, False)):
        gaps = coverage_gaps(day, "360000")
        assert (CODE in [line.code for line in gaps.uncovered]) is gap
        nanchang = next(region for region in gaps.by_region if region.region == "360100")
        assert (CODE in [line.code for line in nanchang.lines]) is gap
    # The forecast's month ends: 2024-02-29 counted, March .. August not, September and October again.
    forecast = coverage_forecast(date(2024, 1, 31), "360100", 10)
    for key in ("social_public_standards", "mandatory_item_coverage"):
        series = next(s for s in forecast.indicators if s.key == key)
        values = {point.date: point.value for point in series.points}
        assert values[date(2024, 2, 29)] not in (0, None), key
        assert [values[date(2024, m, 31 if m in (3, 5, 7, 8) else 30)] for m in range(3, 9)] == [0] * 6, key
        assert values[date(2024, 9, 30)] not in (0, None) and values[date(2024, 10, 31)] not in (0, None), key
    # The validity shown, in Python and in SQL (CASE and filter).
    db.session.expire_all()
    for day, state in ((BEFORE, "valid"), (DURING, "sealed"), (AFTER, "valid")):
        assert validity(standard, day) == state
        assert db.session.scalar(sa.select(validity_case(day)).where(S.id == standard.id)) == state
        assert db.session.scalar(sa.select(S.id).where(S.id == standard.id, validity_clause(state, day))) \
            == standard.id


def test_an_approved_resumption_keeps_the_sealed_period(held, users):
    _seal_and_resume_by_applications(held, users)
    _assert_sealed_between(held)


def test_a_plain_status_edit_keeps_the_sealed_period(held, users):
    _seal_and_resume_by_edits(held, users)
    _assert_sealed_between(held)


def test_the_api_status_edit_keeps_the_sealed_period(held, users, client, auth):
    headers = auth.token(users.institution)
    url = f"/api/v1/standards/{held.id}"
    sealed = client.patch(url, headers={**headers, "If-Match": f'"{held.version}"'},
                          json={"status": "sealed", "status_since": SEALED_ON.isoformat()})
    assert sealed.status_code == 200, sealed.get_json()
    resumed = client.patch(url, headers={**headers, "If-Match": sealed.headers["ETag"]},
                           json={"status": "in_use", "status_since": RESUMED_ON.isoformat()})
    assert resumed.status_code == 200, resumed.get_json()
    assert client.get(url + f"?as_of={DURING.isoformat()}", headers=headers).status_code == 200
    db.session.expire_all()
    _assert_sealed_between(db.session.get(S, held.id))


def test_before_the_change_the_whole_past_counted_as_in_use(held, users):
    """What the issue was: without the period the sealed months count again (the flag alone decides)."""
    _seal_and_resume_by_edits(held, users)
    db.session.execute(sa.update(S).where(S.id == held.id).values(has_status_periods=False))
    db.session.commit()
    assert _counted(DURING, "360100") == (1, 1)


def test_a_sealed_period_with_an_unknown_start(held, users):
    update_standard(held, {"status": "sealed"}, actor=users.admin, expected_version=None)
    assert held.status_since is None
    update_standard(held, {"status": "in_use", "status_since": RESUMED_ON}, actor=users.admin, expected_version=None)
    db.session.commit()
    period = db.session.scalars(sa.select(StandardStatusPeriod)).one()
    assert (period.status, period.started_on, period.ended_on) == ("sealed", None, RESUMED_ON)
    # Not in use on any day before the end, in use from it.
    for day in (date(2022, 6, 30), BEFORE, DURING):
        assert _counted(day, "360100") == (0, 0)
        assert validity(held, day) == "sealed"
    assert _counted(AFTER, "360100") == (1, 1) and validity(held, AFTER) == "valid"


def test_a_resumption_without_its_date_ends_the_period_on_the_day_of_the_change(held, users):
    update_standard(held, {"status": "sealed", "status_since": SEALED_ON}, actor=users.admin, expected_version=None)
    update_standard(held, {"status": "in_use"}, actor=users.admin, expected_version=None)
    db.session.commit()
    period = db.session.scalars(sa.select(StandardStatusPeriod)).one()
    assert (period.started_on, period.ended_on) == (SEALED_ON, date.today())
    assert _counted(BEFORE, "360100") == (1, 1) and _counted(DURING, "360100") == (0, 0)


def test_changes_that_leave_no_status_keep_no_period(held, users):
    update_standard(held, {"responsible_person": "张三"}, actor=users.admin, expected_version=None)
    update_standard(held, {"status": "sealed", "status_since": SEALED_ON}, actor=users.admin, expected_version=None)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StandardStatusPeriod)) == 0
    assert held.has_status_periods is False


def test_a_covering_period_status_still_covers(held, users, app):
    """With ``changing`` among COVERING_STATUSES, a past 变更中 period counts as in use."""
    update_standard(held, {"status": "changing", "status_since": SEALED_ON}, actor=users.admin,
                    expected_version=None)
    update_standard(held, {"status": "in_use", "status_since": RESUMED_ON}, actor=users.admin, expected_version=None)
    db.session.commit()
    assert _counted(DURING, "360100") == (0, 0)
    assert indicator(coverage_report(DURING, "360100", statuses=("in_use", "changing")),
                     "social_public_standards")["value"] == 1
    assert validity(held, DURING) == "changing"


def test_single_points_and_renewals_see_the_period(held, users):
    _seal_and_resume_by_edits(held, users)
    db.session.commit()
    # On a day inside the period the standard covers nothing: no single point of failure either.
    assert [item.line.code for item in single_points_of_failure(DURING, "360100", 36).lines] == []
    after = single_points_of_failure(AFTER, "360100", 36).lines
    assert [item.line.code for item in after] == [CODE]
    assert [ref.validity for ref in after[0].standards] == ["valid"]
    # Expired while sealed: not in the "expired, still in use" list on a day inside the period.
    db.session.execute(sa.update(S).where(S.id == held.id).values(valid_until=date(2024, 4, 1)))
    db.session.commit()
    assert renewals(DURING, "360100", window=EXPIRED).expired_total == 0
    assert renewals(date(2024, 10, 1), "360100", window=EXPIRED).expired_total == 1


def test_an_import_resuming_a_sealed_standard_keeps_the_period(held, users):
    from importers.run import run_import
    from tests.importers.books import xlsx

    header = ["证书编号", "计量标准名称", "类别", "建标单位统一社会信用代码", "发证日期", "有效期至", "状态", "状态日期"]

    def row(status: str, since: date) -> list:
        return [held.certificate_no, held.name, "社会公用", users.own.credit_code, held.issued_on, held.valid_until,
                status, since]

    for status, since in (("封存", SEALED_ON), ("在用", RESUMED_ON)):
        report = run_import(xlsx({"计量标准": [header, row(status, since)]}), actor=None)
        assert report.ok, report
        db.session.commit()
    db.session.expire_all()
    standard = db.session.get(S, held.id)
    assert (standard.status, standard.status_since) == ("in_use", RESUMED_ON)
    period = db.session.scalars(sa.select(StandardStatusPeriod)).one()
    assert (period.status, period.started_on, period.ended_on, period.application_id) == (
        "sealed", SEALED_ON, RESUMED_ON, None)
    _assert_sealed_between(standard)


def test_the_standard_page_shows_its_status_history(held, users, client, auth):
    _seal_and_resume_by_applications(held, users)
    auth.login_session(users.regulator)
    page = client.get(f"/standards/{held.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    history = html[html.index('data-testid="status-history"'):]
    history = history[:history.index("</section>")]
    assert history.index('data-period-status="sealed"') < history.index('data-current="true"')
    assert "2024年3月1日" in history and history.count("2024年9月1日") == 2 and "封存" in history and "在用" in history
