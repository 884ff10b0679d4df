"""Known answers for each indicator: every boundary and exclusion in its definition."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from registry.coverage.services import coverage_gaps, coverage_report, resolve_region
from registry.errors import NotFound, ValidationError
from registry.indicators.models import Indicator, PlanTarget
from tests import factories
from tests.coverage.support import AS_OF, DAY, indicator


def coverage(as_of=AS_OF, region=None, **kwargs) -> tuple[int, int]:
    item = indicator(coverage_report(as_of, region, **kwargs), "mandatory_item_coverage")
    return item["numerator"], item["denominator"]


def value(key, as_of=AS_OF, region=None):
    return indicator(coverage_report(as_of, region), key)["value"]


# Each case: a standard's fields, and whether it covers / counts on AS_OF.
STANDARD_CASES = {
    "issued that day": (dict(issued_on=AS_OF), True),
    "valid until that day": (dict(issued_on=date(2021, 7, 1), valid_until=AS_OF), True),
    "expired the day before": (dict(issued_on=date(2021, 6, 30), valid_until=AS_OF - DAY), False),
    "issued the day after": (dict(issued_on=AS_OF + DAY), False),
    "sealed before the date": (dict(status="sealed", status_since=date(2025, 1, 1)), False),
    "sealed that day": (dict(status="sealed", status_since=AS_OF), False),
    "sealed from the day after": (dict(status="sealed", status_since=AS_OF + DAY), True),
    "sealed, date unknown": (dict(status="sealed", status_since=None), False),
    "revoked": (dict(status="revoked", status_since=date(2025, 1, 1)), False),
    "revoked later": (dict(status="revoked", status_since=date(2025, 9, 1)), True),
    "changing": (dict(status="changing", status_since=date(2025, 1, 1)), False),
    "in use since a later date": (dict(status="in_use", status_since=date(2026, 1, 1)), True),
    "department highest": (dict(category="department_highest"), False),
    "enterprise highest": (dict(category="enterprise_highest"), False),
    "withdrawn": (dict(withdrawn_at=factories.withdrawn_at()), False),
}


@pytest.mark.parametrize("fields, covers", STANDARD_CASES.values(), ids=STANDARD_CASES.keys())
def test_which_standards_cover_a_line(catalog, nanchang, fields, covers):
    line = factories.catalog_line(catalog)
    factories.standard(nanchang, lines=[line], **fields)
    assert coverage() == (int(covers), 1)
    assert value("social_public_standards") == int(covers)


def test_standard_of_a_withdrawn_institution_does_not_cover(catalog):
    holder = factories.institution(withdrawn_at=factories.withdrawn_at())
    factories.standard(holder, lines=[factories.catalog_line(catalog)])
    assert coverage() == (0, 1)
    assert value("social_public_standards") == 0


def test_covering_statuses_is_a_setting(app, catalog, nanchang):
    factories.standard(nanchang, lines=[factories.catalog_line(catalog)], status="changing",
                       status_since=date(2025, 1, 1))
    assert coverage() == (0, 1)
    assert coverage(statuses=("in_use", "changing")) == (1, 1)
    app.config["COVERING_STATUSES"] = ("in_use", "changing")
    try:
        assert coverage() == (1, 1)
        assert value("social_public_standards") == 1
    finally:
        app.config["COVERING_STATUSES"] = ("in_use",)
    with pytest.raises(ValidationError):
        coverage(statuses=("expired",))


def test_which_lines_are_counted(catalog, nanchang):
    v_line = factories.catalog_line(catalog, mode="V")
    pv_line = factories.catalog_line(catalog, mode="P+V")
    p_line = factories.catalog_line(catalog, mode="P")
    later = factories.catalog_line(catalog, effective_from=AS_OF + DAY)
    today = factories.catalog_line(catalog, effective_from=AS_OF)
    withdrawn = factories.catalog_line(catalog, withdrawn_at=factories.withdrawn_at())
    uncovered = factories.catalog_line(catalog)
    factories.standard(nanchang, lines=[v_line, pv_line, p_line, later, today, withdrawn])
    # Counted: V, P+V, the line in effect that day, and the uncovered one; P-only, later and withdrawn are not.
    assert coverage() == (3, 4)
    assert coverage(AS_OF + DAY) == (4, 5)
    assert [line.code for line in coverage_gaps(AS_OF).uncovered] == [uncovered.code]


def test_a_line_covered_twice_counts_once_and_one_standard_covers_several_lines(catalog, nanchang):
    first, second, third = (factories.catalog_line(catalog) for _ in range(3))
    factories.standard(nanchang, lines=[first])
    factories.standard(nanchang, lines=[first])
    factories.standard(nanchang, lines=[second, third])
    factories.catalog_line(catalog)  # uncovered
    assert coverage() == (3, 4)
    assert value("social_public_standards") == 3


def test_catalog_version_in_force_switches_by_date(nanchang):
    old = factories.catalog_version(effective_from=date(2021, 1, 1), declared_line_count=2)
    new = factories.catalog_version(effective_from=date(2024, 1, 1), declared_line_count=3)
    factories.catalog_version(effective_from=date(2024, 6, 1), withdrawn_at=factories.withdrawn_at())
    old_line = factories.catalog_line(old)
    new_lines = [factories.catalog_line(new) for _ in range(3)]
    factories.standard(nanchang, lines=[old_line, new_lines[0]], issued_on=date(2022, 1, 1))

    before = coverage_report(date(2023, 12, 31))
    assert before.catalog.id == old.id and indicator(before, "mandatory_item_coverage")["numerator"] == 1
    assert indicator(before, "mandatory_item_coverage")["denominator"] == 1
    on = coverage_report(date(2024, 1, 1))
    assert on.catalog.id == new.id
    assert (indicator(on, "mandatory_item_coverage")["numerator"],
            indicator(on, "mandatory_item_coverage")["denominator"]) == (1, 3)
    assert coverage_report(date(2024, 7, 1)).catalog.id == new.id  # the withdrawn later version is ignored


def test_catalog_is_reported_with_a_warning_when_short_or_partial(catalog, nanchang):
    factories.catalog_line(catalog)
    factories.catalog_line(catalog, mode="P")
    report = coverage_report(AS_OF).to_dict()
    assert report["catalog"] == {
        "id": catalog.id, "name": catalog.name, "source_document": "test", "effective_from": "2021-01-01",
        "declared_line_count": 5, "loaded_line_count": 2, "mandatory_line_count": 1, "is_partial": False,
        "counted_level": "any", "counted_line_count": 1,
    }
    assert len(report["warnings"]) == 1 and "2" in report["warnings"][0] and "5" in report["warnings"][0]
    assert report["warnings"][0] == f"强检目录「{catalog.name}」仅载入 2 条，声明 5 条，覆盖率只反映已载入的条目。"

    complete = factories.catalog_version(effective_from=date(2022, 1, 1), declared_line_count=1)
    factories.catalog_line(complete)
    assert coverage_report(AS_OF).warnings == []
    complete.is_partial = True
    factories.db.session.flush()
    assert coverage_report(AS_OF).warnings == [f"强检目录「{complete.name}」标记为部分目录。"]


def test_no_catalog_in_force_gives_no_coverage_and_a_warning(nanchang):
    report = coverage_report(date(2019, 12, 31))  # before the seeded 2020 catalog
    item = indicator(report, "mandatory_item_coverage")
    assert report.catalog is None
    assert (item["value"], item["numerator"], item["denominator"], item["met"]) == (None, 0, 0, None)
    assert "2019-12-31 无生效的强检目录，覆盖率无法计算。" in report.warnings


def test_regions_province_city_and_county(catalog):
    county = factories.region("360199", parent_code="360100")
    line = factories.catalog_line(catalog)
    in_city = factories.institution(region_code="360100")
    in_county = factories.institution(region_code=county.code)
    elsewhere = factories.institution(region_code="360200")
    provincial = factories.institution(region_code="360000")
    factories.standard(in_county, lines=[line])
    for holder in (in_city, elsewhere, provincial):
        factories.standard(holder)

    assert value("social_public_standards") == 4
    assert value("social_public_standards", region="360100") == 2  # the city and its county
    assert value("social_public_standards", region="360199") == 1
    assert value("social_public_standards", region="360200") == 1
    assert value("social_public_standards", region="360300") == 0
    assert coverage(region="360100") == (1, 1)
    assert coverage(region="360200") == (0, 1)  # another city's standard does not cover


def test_unknown_or_malformed_region_is_refused():
    with pytest.raises(NotFound):
        coverage_report(AS_OF, "369900")
    with pytest.raises(ValidationError):
        coverage_report(AS_OF, "36010")
    assert resolve_region(None).is_province and resolve_region("360100").codes == ("360100",)


# --------------------------------------------------------------------------- registered metrologists

REGISTERED = dict(registration_no="R", registered_on=date(2024, 1, 1), registration_valid_until=date(2028, 12, 31))
# Each case: a person's fields, counted in the denominator, counted in the numerator.
PERSON_CASES = {
    "registered": (dict(REGISTERED), True, True),
    "registration valid until that day": (dict(REGISTERED, registration_valid_until=AS_OF), True, True),
    "registration lapsed the day before": (dict(REGISTERED, registration_valid_until=AS_OF - DAY), True, False),
    "registered that day": (dict(REGISTERED, registered_on=AS_OF), True, True),
    "registered the day after": (dict(REGISTERED, registered_on=AS_OF + DAY), True, False),
    "registration open-ended": (dict(REGISTERED, registration_valid_until=None), True, True),
    "registration number but no date": (dict(REGISTERED, registered_on=None), True, False),
    "date but no registration number": (dict(REGISTERED, registration_no=None), True, False),
    "not registered": (dict(), True, False),
    "left the day before": (dict(REGISTERED, employed_until=AS_OF - DAY), False, False),
    "leaves that day": (dict(REGISTERED, employed_until=AS_OF), True, True),
    "starts that day": (dict(employed_from=AS_OF), True, False),
    "starts the day after": (dict(REGISTERED, employed_from=AS_OF + DAY), False, False),
    "employment start unknown": (dict(REGISTERED, employed_from=None), True, True),
    "withdrawn": (dict(REGISTERED, withdrawn_at=factories.withdrawn_at()), False, False),
}


@pytest.mark.parametrize("fields, staff, registered", PERSON_CASES.values(), ids=PERSON_CASES.keys())
def test_registered_metrologist_share_cases(nanchang, fields, staff, registered):
    factories.person(nanchang, **fields)
    factories.person(nanchang)  # a colleague, always staff, never registered
    item = indicator(coverage_report(AS_OF, "360100"), "registered_metrologist_share")
    assert (item["numerator"], item["denominator"]) == (int(registered), 1 + int(staff))


def test_registered_metrologist_share_counts_legal_metrology_institutions_in_the_region(nanchang):
    authorised = factories.institution(region_code="360100", kind="authorised")
    other_city = factories.institution(region_code="360200", kind="legal_metrology")
    closed = factories.institution(region_code="360100", kind="legal_metrology",
                                   withdrawn_at=factories.withdrawn_at())
    for n, employer in enumerate((nanchang, nanchang, authorised, other_city, closed)):
        factories.person(employer, **dict(REGISTERED, registration_no=f"R{n}"))
    factories.person(nanchang)
    factories.person(other_city)

    city = indicator(coverage_report(AS_OF, "360100"), "registered_metrologist_share")
    assert (city["numerator"], city["denominator"], city["value"]) == (2, 3, 0.6667)
    assert city["met"] is True  # 2/3 ≥ 0.60
    province = indicator(coverage_report(AS_OF), "registered_metrologist_share")
    assert (province["numerator"], province["denominator"], province["value"]) == (3, 5, 0.6)
    assert province["met"] is True  # exactly the target: 3/5 == 0.60
    assert indicator(coverage_report(AS_OF, "360300"), "registered_metrologist_share")["value"] is None


# --------------------------------------------------------------------------- regulations

REGULATION_CASES = {
    "published": (dict(), True),
    "implemented": (dict(status="implemented"), True),
    "published that day": (dict(published_on=AS_OF), True),
    "published the day after": (dict(published_on=AS_OF + DAY), False),
    "no publication date": (dict(published_on=None), False),
    "planned": (dict(status="planned"), False),
    "drafting": (dict(status="drafting"), False),
    "abolished that day": (dict(status="abolished", abolished_on=AS_OF), False),
    "abolished the day after": (dict(status="abolished", abolished_on=AS_OF + DAY), True),
    "withdrawn": (dict(withdrawn_at=factories.withdrawn_at()), False),
    "national": (dict(level="national", province=None), False),
    "another province": (dict(province="冀"), False),
}


@pytest.mark.parametrize("fields, counts", REGULATION_CASES.values(), ids=REGULATION_CASES.keys())
def test_local_regulations_cases(fields, counts):
    factories.regulation(**fields)
    assert value("local_regulations") == int(counts)


def test_local_regulations_are_the_provinces_and_not_repeated_for_a_city():
    factories.regulation()
    factories.regulation(is_carbon=True)
    province = coverage_report(AS_OF)
    city = coverage_report(AS_OF, "360500")
    for key, count in (("local_regulations", 2), ("carbon_specifications", 1)):
        assert (indicator(province, key)["value"], indicator(province, key)["basis"]) == (count, "target")
        assert indicator(city, key)["value"] is None and indicator(city, key)["met"] is None
        assert indicator(city, key)["basis"] == "province_wide"
    assert indicator(city, "social_public_standards")["basis"] == "no_city_target"


@pytest.mark.parametrize("fields, counts", [
    (dict(is_carbon=True), True),
    (dict(is_carbon=True, level="national", province=None, code="JJF 2001-2024", series="JJF"), True),
    (dict(is_carbon=True, status="drafting"), False),
    (dict(is_carbon=True, published_on=AS_OF + DAY), False),
    (dict(is_carbon=True, status="abolished", abolished_on=date(2025, 1, 1)), False),
    (dict(is_carbon=True, withdrawn_at=factories.withdrawn_at()), False),
    (dict(is_carbon=False), False),
], ids=["local", "national", "drafting", "not yet published", "abolished", "withdrawn", "not carbon"])
def test_carbon_specifications_cases(fields, counts):
    factories.regulation(**fields)
    assert value("carbon_specifications") == int(counts)


# --------------------------------------------------------------------------- carbon standards

CARBON = dict(is_carbon=True, build_kind="new", built_on=date(2023, 5, 1))
CARBON_CASES = {
    "built in the plan": (dict(CARBON), True),
    "renovated": (dict(CARBON, build_kind="renovated"), True),
    "built on the plan's first day": (dict(CARBON, built_on=date(2021, 1, 1)), True),
    "built the day before the plan": (dict(CARBON, built_on=date(2020, 12, 31)), False),
    "built that day": (dict(CARBON, built_on=AS_OF), True),
    "built the day after": (dict(CARBON, built_on=AS_OF + DAY), False),
    "no build kind": (dict(CARBON, build_kind=None), False),
    "no build date": (dict(CARBON, built_on=None), False),
    "not carbon": (dict(CARBON, is_carbon=False), False),
    "withdrawn": (dict(CARBON, withdrawn_at=factories.withdrawn_at()), False),
    "enterprise highest counts too": (dict(CARBON, category="enterprise_highest"), True),
}


@pytest.mark.parametrize("fields, counts", CARBON_CASES.values(), ids=CARBON_CASES.keys())
def test_carbon_standards_cases(nanchang, fields, counts):
    factories.standard(nanchang, **fields)
    assert value("carbon_standards") == int(counts)
    assert value("carbon_standards", region="360100") == int(counts)
    assert value("carbon_standards", region="360200") == 0


def test_carbon_standards_count_from_the_indicator_else_the_plan_start(app, session, nanchang):
    factories.standard(nanchang, **dict(CARBON, built_on=date(2022, 6, 1)))
    factories.standard(nanchang, **dict(CARBON, built_on=date(2024, 6, 1)))
    definition = session.get(Indicator, "carbon_standards")
    assert definition.counts_from == app.config["PLAN_START_DATE"] == date(2021, 1, 1)
    assert value("carbon_standards") == 2
    definition.counts_from = date(2023, 1, 1)
    session.flush()
    assert value("carbon_standards") == 1
    definition.counts_from = None
    session.flush()
    app.config["PLAN_START_DATE"] = date(2024, 6, 2)
    try:
        assert value("carbon_standards") == 0
    finally:
        app.config["PLAN_START_DATE"] = date(2021, 1, 1)


# --------------------------------------------------------------------------- recorded values and targets

def test_recorded_values_pick_the_latest_up_to_the_date_for_the_region():
    factories.recorded_value("national_industrial_centers", 0, as_of=date(2024, 1, 1))
    latest = factories.recorded_value("national_industrial_centers", 1, as_of=date(2025, 3, 1))
    factories.recorded_value("national_industrial_centers", 9, as_of=date(2025, 5, 1),
                             withdrawn_at=factories.withdrawn_at())
    factories.recorded_value("national_industrial_centers", 2, as_of=AS_OF + DAY)
    factories.recorded_value("national_industrial_centers", 3, region_code="360100", as_of=date(2025, 4, 1))

    province = indicator(coverage_report(AS_OF), "national_industrial_centers")
    assert (province["value"], province["value_as_of"], province["value_source"]) == (1, "2025-03-01", latest.source)
    assert province["source"] == "recorded" and province["met"] is True
    assert province["numerator"] is None and province["denominator"] is None
    assert indicator(coverage_report(AS_OF, "360100"), "national_industrial_centers")["value"] == 3
    assert indicator(coverage_report(AS_OF + DAY), "national_industrial_centers")["value"] == 2
    nothing = indicator(coverage_report(AS_OF, "360200"), "national_industrial_centers")
    assert (nothing["value"], nothing["met"], nothing["value_as_of"]) == (None, None, None)


def test_same_day_recorded_values_take_the_last_recorded():
    factories.recorded_value("integrity_units", 4000, as_of=date(2025, 1, 1))
    factories.recorded_value("integrity_units", 5200.5, as_of=date(2025, 1, 1))
    item = indicator(coverage_report(AS_OF), "integrity_units")
    assert item["value"] == 5200.5 and item["met"] is True


@pytest.mark.parametrize("recorded, met", [(2, False), (3, True), (4, True), (5, True), (6, False)])
def test_between_target(recorded, met):
    factories.recorded_value("carbon_pilots", recorded)
    item = indicator(coverage_report(AS_OF), "carbon_pilots")
    assert (item["comparator"], item["target"], item["target_max"]) == ("between", 3, 5)
    assert item["met"] is met


@pytest.mark.parametrize("comparator, target, met", [(">=", "0.5", True), (">=", "0.5001", False),
                                                     ("<=", "0.5", True), ("<=", "0.4999", False),
                                                     ("=", "0.5", True), ("=", "0.6667", False)])
def test_ratio_met_is_exact(session, catalog, nanchang, comparator, target, met):
    goal = session.scalar(sa.select(PlanTarget).where(PlanTarget.indicator_key == "mandatory_item_coverage"))
    goal.comparator, goal.target = comparator, Decimal(target)
    session.flush()
    factories.standard(nanchang, lines=[factories.catalog_line(catalog)])
    factories.catalog_line(catalog)
    item = indicator(coverage_report(AS_OF), "mandatory_item_coverage")
    assert (item["value"], item["met"]) == (0.5, met)


def test_indicators_follow_position_skip_withdrawn_and_carry_their_definition(session):
    session.get(Indicator, "integrity_units").withdrawn_at = factories.withdrawn_at()
    session.get(Indicator, "carbon_pilots").position = -1
    session.flush()
    report = coverage_report(AS_OF).to_dict()
    keys = [item["key"] for item in report["indicators"]]
    expected = list(session.scalars(sa.select(Indicator.key).where(Indicator.withdrawn_at.is_(None))
                                    .order_by(Indicator.position, Indicator.key)))
    assert keys == expected and keys[0] == "carbon_pilots" and "integrity_units" not in keys
    first = report["indicators"][1]
    assert set(first) == {"key", "name", "name_en", "kind", "value", "numerator", "denominator", "target",
                          "target_max", "comparator", "deadline", "met", "source", "value_as_of", "value_source",
                          "basis", "target_region", "judged_on", "judged_value", "share_of_province"}
    assert (first["key"], first["name"], first["deadline"]) == ("social_public_standards", "社会公用计量标准数量",
                                                                "2025-12-31")
    assert report["as_of"] == "2025-06-30" and report["region"] == "360000" and report["region_name"] == "江西省"


def test_registry_indicator_without_a_counter_falls_back_to_recorded_values(session):
    session.add(Indicator(key="new_thing", name="新指标", name_en="New", kind="count", source="registry",
                          position=99))
    session.flush()
    factories.recorded_value("new_thing", 7)
    report = coverage_report(AS_OF)
    item = indicator(report, "new_thing")
    assert (item["value"], item["source"]) == (7, "recorded")
    assert any("new_thing" in w for w in report.warnings)
