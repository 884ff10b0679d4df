"""Targets per plan and per region: which plan judges a date, which target judges a city."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from registry.coverage.services import coverage_by_region, coverage_forecast, coverage_report
from registry.errors import Conflict, ValidationError
from registry.extensions import db
from registry.indicators.models import Indicator, Plan, PlanTarget
from registry.indicators.services import create_plan, create_target, update_plan, update_target
from tests import factories
from tests.coverage.support import indicator

DEADLINE = date(2025, 12, 31)
BEFORE = date(2025, 6, 30)      # inside 2021–2025
AFTER = date(2026, 6, 30)       # after its deadline, no later plan
PAST = date(2022, 6, 30)        # an earlier date inside 2021–2025
RATIOS = ("mandatory_item_coverage", "registered_metrologist_share")
PROVINCE_WIDE = ("local_regulations", "carbon_specifications")


def _province_target(key: str) -> PlanTarget:
    return db.session.scalar(sa.select(PlanTarget).where(PlanTarget.indicator_key == key,
                                                         PlanTarget.region_code == "360000"))


@pytest.fixture
def world(catalog):
    """南昌 holds 3 social public standards, 九江 1 (expiring 2026-03-31); one line, covered in 南昌."""
    nanchang = factories.institution(region_code="360100", kind="legal_metrology")
    jiujiang = factories.institution(region_code="360400", kind="legal_metrology")
    line = factories.catalog_line(catalog)
    factories.standard(nanchang, lines=[line])
    factories.standard(nanchang)
    factories.standard(nanchang)
    factories.standard(jiujiang, valid_until=date(2026, 3, 31))
    factories.person(nanchang, registration_no="KA-1", registered_on=date(2021, 1, 1))
    factories.person(nanchang)
    factories.regulation(published_on=date(2022, 1, 1))
    factories.recorded_value("integrity_units", 3000, as_of=date(2024, 1, 1))
    factories.recorded_value("integrity_units", 1200, region_code="360100", as_of=date(2024, 1, 1))
    _province_target("social_public_standards").target = Decimal(4)
    db.session.flush()
    return dict(nanchang=nanchang, jiujiang=jiujiang, line=line)


# --------------------------------------------------------------------------- the plan in force

def test_the_province_is_judged_by_the_plan_in_force(world):
    report = coverage_report(BEFORE).to_dict()
    assert report["plan"]["name"] == "2021–2025" and report["plan"]["status"] == "in_force"
    item = indicator(report, "social_public_standards")
    assert (item["value"], item["target"], item["met"], item["basis"]) == (4, 4, True, "target")
    assert (item["judged_on"], item["deadline"], item["target_region"]) == ("2025-06-30", "2025-12-31", "360000")
    assert indicator(report, "local_regulations")["value"] == 1


def test_a_past_date_is_judged_on_that_date(world):
    report = coverage_report(PAST).to_dict()
    assert report["plan"]["status"] == "in_force"
    item = indicator(report, "social_public_standards")
    assert (item["value"], item["met"], item["judged_on"]) == (0, False, "2022-06-30")  # issued 2024


def test_after_the_deadline_the_last_plan_is_judged_on_its_deadline(world):
    report = coverage_report(AFTER).to_dict()
    assert report["plan"]["name"] == "2021–2025" and report["plan"]["status"] == "deadline_passed"
    item = indicator(report, "social_public_standards")
    # 九江's certificate ended 2026-03-31: 3 today, but the verdict is the one of 2025-12-31 (4 ≥ 4).
    assert (item["value"], item["judged_value"], item["judged_on"], item["met"]) == (3, 4, "2025-12-31", True)


@pytest.mark.parametrize("region", [None, "360100", "360400"])
def test_after_the_deadline_every_indicator_has_the_deadline_verdict(world, region):
    after = coverage_report(AFTER, region).to_dict()
    on_deadline = coverage_report(DEADLINE, region).to_dict()
    for late, then in zip(after["indicators"], on_deadline["indicators"]):
        assert late["key"] == then["key"]
        assert (late["met"], late["basis"], late["target"]) == (then["met"], then["basis"], then["target"]), late["key"]
        if late["target"] is not None:
            assert (late["judged_value"], late["judged_on"]) == (then["value"], "2025-12-31"), late["key"]
        else:
            assert late["judged_on"] is None and late["met"] is None


def test_before_any_plan_nothing_is_judged(world):
    report = coverage_report(date(2020, 6, 30)).to_dict()
    assert report["plan"] is None
    assert all(item["met"] is None and item["basis"] == "no_target" for item in report["indicators"])


def test_a_later_plan_added_as_data_judges_its_own_period(world):
    plan = create_plan({"name": "2026–2030", "source_document": "测试规划", "starts_on": date(2026, 1, 1),
                        "deadline": date(2030, 12, 31)}, actor=None)
    create_target({"plan_id": plan.id, "indicator_key": "social_public_standards", "comparator": ">=",
                   "target": "10"}, actor=None)
    report = coverage_report(AFTER).to_dict()
    assert (report["plan"]["name"], report["plan"]["status"]) == ("2026–2030", "in_force")
    item = indicator(report, "social_public_standards")
    assert (item["value"], item["target"], item["met"], item["deadline"]) == (3, 10, False, "2030-12-31")
    # The new plan sets no coverage target: no verdict, and not the old plan's either.
    assert (indicator(report, "mandatory_item_coverage")["met"], indicator(report, "mandatory_item_coverage")["basis"]) \
        == (None, "no_target")
    assert indicator(coverage_report(BEFORE), "social_public_standards")["target"] == 4  # the old plan still judges 2025


# --------------------------------------------------------------------------- a city

def test_a_city_count_without_its_own_target_gets_its_share_and_no_verdict(world):
    item = indicator(coverage_report(BEFORE, "360100"), "social_public_standards")
    assert (item["value"], item["met"], item["target"], item["basis"]) == (3, None, None, "no_city_target")
    assert item["share_of_province"] == 0.75
    recorded = indicator(coverage_report(BEFORE, "360100"), "integrity_units")
    assert (recorded["value"], recorded["met"], recorded["share_of_province"]) == (1200, None, 0.4)


def test_a_city_target_judges_that_city_only(world):
    plan = db.session.scalar(sa.select(Plan))
    create_target({"plan_id": plan.id, "indicator_key": "social_public_standards", "region_code": "360100",
                   "comparator": ">=", "target": "5"}, actor=None)
    nanchang = indicator(coverage_report(BEFORE, "360100"), "social_public_standards")
    assert (nanchang["target"], nanchang["met"], nanchang["basis"], nanchang["target_region"]) == \
        (5, False, "target", "360100")
    jiujiang = indicator(coverage_report(BEFORE, "360400"), "social_public_standards")
    assert (jiujiang["met"], jiujiang["basis"]) == (None, "no_city_target")
    assert indicator(coverage_report(BEFORE), "social_public_standards")["target"] == 4


def test_a_city_ratio_is_judged_against_the_provinces_target_and_says_so(world):
    report = coverage_report(BEFORE, "360100")
    coverage = indicator(report, "mandatory_item_coverage")
    assert (coverage["value"], coverage["target"], coverage["met"], coverage["basis"]) == \
        (1.0, 0.9, True, "province_target")
    share = indicator(report, "registered_metrologist_share")
    assert (share["value"], share["met"], share["basis"]) == (0.5, False, "province_target")
    jiujiang = indicator(coverage_report(BEFORE, "360400"), "mandatory_item_coverage")
    assert (jiujiang["value"], jiujiang["met"]) == (0.0, False)


def test_province_wide_indicators_are_not_repeated_in_a_city(world):
    for region in ("360100", "360400"):
        for key in PROVINCE_WIDE:
            item = indicator(coverage_report(BEFORE, region), key)
            assert (item["value"], item["met"], item["basis"]) == (None, None, "province_wide")


@pytest.mark.parametrize("key", ["social_public_standards", "mandatory_item_coverage",
                                 "registered_metrologist_share", "local_regulations", "national_industrial_centers",
                                 "provincial_industrial_centers", "type_evaluation_labs", "integrity_units",
                                 "carbon_standards", "carbon_specifications", "carbon_industrial_centers",
                                 "carbon_reference_materials", "carbon_pilots"])
def test_every_indicator_in_a_city_has_the_rule_of_its_kind(world, key):
    item = indicator(coverage_report(BEFORE, "360100"), key)
    kind = db.session.get(Indicator, key).kind
    expected = "province_wide" if key in PROVINCE_WIDE else "province_target" if kind == "ratio" \
        else "no_city_target"
    assert item["basis"] == expected
    assert (item["met"] is None) == (expected != "province_target")


def test_the_city_table_judges_each_city_as_its_own_report(world):
    plan = db.session.scalar(sa.select(Plan))
    create_target({"plan_id": plan.id, "indicator_key": "social_public_standards", "region_code": "360400",
                   "comparator": ">=", "target": "1"}, actor=None)
    for day in (BEFORE, AFTER):
        table = coverage_by_region(day).to_dict()
        assert table["plan"]["name"] == "2021–2025"
        for column in table["regions"]:
            assert column["indicators"] == coverage_report(day, column["region"]).to_dict()["indicators"]


# --------------------------------------------------------------------------- the forecast

def test_the_forecast_judges_only_months_a_plan_is_in_force(world):
    forecast = coverage_forecast(date(2025, 10, 15), None, 6).to_dict()
    series = next(s for s in forecast["indicators"] if s["key"] == "registered_metrologist_share")
    met = {p["date"]: p["met"] for p in series["points"]}
    assert met["2025-10-31"] is False and met["2025-12-31"] is False
    assert [met[d] for d in ("2026-01-31", "2026-02-28", "2026-03-31")] == [None, None, None]
    assert series["first_unmet"] == "2025-10-31"
    late = coverage_forecast(date(2026, 1, 15), None, 24).to_dict()
    assert all(p["met"] is None for s in late["indicators"] for p in s["points"])
    assert all(s["first_unmet"] is None for s in late["indicators"]) and late["plans"] == []


# --------------------------------------------------------------------------- bad input

def _counts() -> tuple[int, int]:
    return (db.session.scalar(sa.select(sa.func.count()).select_from(Plan)),
            db.session.scalar(sa.select(sa.func.count()).select_from(PlanTarget)))


@pytest.mark.parametrize("data, field", [
    ({"name": "倒置", "starts_on": date(2030, 1, 1), "deadline": date(2026, 12, 31)}, "deadline"),
    ({"name": "重叠", "starts_on": date(2025, 1, 1), "deadline": date(2030, 12, 31)}, "starts_on"),
    ({"name": "包含", "starts_on": date(2019, 1, 1), "deadline": date(2031, 12, 31)}, "deadline"),
    ({"starts_on": date(2026, 1, 1), "deadline": date(2030, 12, 31)}, "name"),
])
def test_a_bad_plan_is_refused_naming_the_field(data, field):
    before = _counts()
    with pytest.raises(ValidationError) as error:
        create_plan(data, actor=None)
    assert field in error.value.errors
    assert _counts() == before


def test_a_plan_moved_onto_another_is_refused():
    later = create_plan({"name": "2026–2030", "starts_on": date(2026, 1, 1), "deadline": date(2030, 12, 31)},
                        actor=None)
    with pytest.raises(ValidationError) as error:
        update_plan(later, {"starts_on": date(2025, 7, 1)}, actor=None, expected_version=later.version)
    assert "starts_on" in error.value.errors and "2021–2025" in error.value.errors["starts_on"][0]
    db.session.refresh(later)
    assert later.starts_on == date(2026, 1, 1)


@pytest.mark.parametrize("data, field", [
    ({"indicator_key": "local_regulations", "region_code": "360100"}, "region_code"),
    ({"indicator_key": "carbon_specifications", "region_code": "360400"}, "region_code"),
    ({"indicator_key": "social_public_standards", "region_code": "999999"}, "region_code"),
    ({"indicator_key": "no_such_indicator"}, "indicator_key"),
    ({"indicator_key": "carbon_pilots", "comparator": "between"}, "target_max"),
    ({"indicator_key": "social_public_standards", "plan_id": 999999}, "plan_id"),
])
def test_a_bad_target_is_refused_naming_the_field(data, field):
    plan = db.session.scalar(sa.select(Plan))
    before = _counts()
    with pytest.raises(ValidationError) as error:
        create_target({"plan_id": plan.id, "comparator": ">=", "target": "1", **data}, actor=None)
    assert field in error.value.errors
    assert _counts() == before


def test_a_second_target_for_the_same_place_is_a_conflict_and_fixed_fields_stay():
    plan = db.session.scalar(sa.select(Plan))
    with pytest.raises(Conflict):
        create_target({"plan_id": plan.id, "indicator_key": "social_public_standards", "comparator": ">=",
                       "target": "1"}, actor=None)
    target = _province_target("social_public_standards")
    with pytest.raises(ValidationError) as error:
        update_target(target, {"region_code": "360100"}, actor=None, expected_version=target.version)
    assert "region_code" in error.value.errors


def test_the_api_refuses_overlapping_plans_and_writes_nothing(client, auth, users):
    headers = auth.token(users.regulator)
    before = _counts()
    response = client.post("/api/v1/plans", headers=headers, json={
        "name": "重叠规划", "starts_on": "2024-01-01", "deadline": "2028-12-31"})
    assert response.status_code == 422 and "starts_on" in response.get_json()["errors"]
    response = client.post("/api/v1/targets", headers=headers, json={
        "plan_id": db.session.scalar(sa.select(Plan.id)), "indicator_key": "local_regulations",
        "region_code": "360100", "comparator": ">=", "target": "1"})
    assert response.status_code == 422 and "region_code" in response.get_json()["errors"]
    assert _counts() == before
