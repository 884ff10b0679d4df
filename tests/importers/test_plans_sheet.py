"""The 规划 and 目标 sheets: a later plan and its province and city targets arrive as data."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from importers import run_import
from registry.coverage.services import coverage_report
from registry.extensions import db
from registry.indicators.models import Plan, PlanTarget
from tests.coverage.support import indicator
from tests.importers.books import xlsx

PLAN_HEADER = ["规划名称*", "依据文件", "起始日期*", "期限*", "说明"]
TARGET_HEADER = ["规划*", "指标*", "地区", "比较*", "目标值*", "上限"]


def _counts() -> tuple[int, int]:
    return (db.session.scalar(sa.select(sa.func.count()).select_from(Plan)),
            db.session.scalar(sa.select(sa.func.count()).select_from(PlanTarget)))


def _book(plans: list[list], targets: list[list]) -> bytes:
    return xlsx({"规划": [PLAN_HEADER, *plans], "目标": [TARGET_HEADER, *targets]})


NEXT_PLAN = ["2026–2030", "测试文件", "2026-01-01", "2030-12-31", None]


def test_a_later_plan_and_its_targets_import_and_judge_their_period():
    book = _book([NEXT_PLAN], [
        ["2026–2030", "social_public_standards", None, "≥", "2500", None],
        ["2026–2030", "social_public_standards", "南昌市", ">=", 300, None],
        ["2026–2030", "mandatory_item_coverage", "", "不低于", "0.95", None],
        ["2026–2030", "carbon_pilots", None, "区间", 4, 8],
    ])
    report = run_import(book, actor=None)
    assert report.ok, report.errors
    assert report.sheets["规划"]["created"] == 1 and report.sheets["目标"]["created"] == 4
    plan = db.session.scalar(sa.select(Plan).where(Plan.name == "2026–2030"))
    targets = {(t.indicator_key, t.region_code): t for t in plan.targets}
    assert float(targets[("mandatory_item_coverage", "360000")].target) == 0.95
    assert int(targets[("social_public_standards", "360100")].target) == 300
    assert (targets[("carbon_pilots", "360000")].comparator, int(targets[("carbon_pilots", "360000")].target_max)) \
        == ("between", 8)
    city = indicator(coverage_report(date(2027, 6, 30), "360100"), "social_public_standards")
    assert (city["target"], city["basis"], city["deadline"]) == (300, "target", "2030-12-31")
    again = run_import(book, actor=None)
    assert again.ok and again.sheets["规划"]["unchanged"] == 1 and again.sheets["目标"]["unchanged"] == 4


def test_a_target_changes_on_reimport_and_targets_name_stored_plans():
    book = xlsx({"目标": [TARGET_HEADER, ["2021–2025", "social_public_standards", None, ">=", "2000", None]]})
    report = run_import(book, actor=None)
    assert report.ok and report.sheets["目标"]["updated"] == 1, report.errors
    target = db.session.scalar(sa.select(PlanTarget).where(PlanTarget.indicator_key == "social_public_standards"))
    assert int(target.target) == 2000


def test_bad_plans_and_targets_are_reported_by_column_and_nothing_is_written():
    before = _counts()
    book = _book([NEXT_PLAN,
                  ["倒置", None, "2040-01-01", "2035-12-31", None],
                  ["重叠", None, "2025-06-01", "2025-12-31", None],
                  ["自相重叠", None, "2030-06-01", "2031-12-31", None]], [
        ["2026–2030", "local_regulations", "南昌市", ">=", "10", None],
        ["无此规划", "social_public_standards", None, ">=", "10", None],
        ["2026–2030", "no_such_indicator", None, ">=", "10", None],
        ["2026–2030", "carbon_pilots", None, "区间", "4", None],
    ])
    report = run_import(book, actor=None)
    assert not report.ok
    found = {(e.sheet, e.row, e.column) for e in report.errors}
    assert {("规划", 3, "期限"), ("规划", 4, "起始日期"), ("规划", 5, "起始日期")} <= found
    assert {("目标", 2, "地区"), ("目标", 3, "规划"), ("目标", 5, "上限")} <= found
    assert any(e.sheet == "目标" and e.row == 4 for e in report.errors)
    assert _counts() == before
