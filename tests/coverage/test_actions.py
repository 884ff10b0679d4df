"""What a regulator acts on: gaps, single points of failure, forecast, by city, expiring certificates."""
from __future__ import annotations

from datetime import date

import pytest

from registry.records.dates import EARLIEST, LATEST, DateOutOfRange, add_months, month_end, month_ends_after
from registry.coverage.services import (
    coverage_by_region,
    coverage_forecast,
    coverage_gaps,
    coverage_report,
    expiring_certificates,
    single_points_of_failure,
)
from registry.errors import NotFound, ValidationError
from registry.extensions import db
from registry.reference.models import Region
from tests import factories
from tests.coverage.support import AS_OF, DAY
from tests.statements import counted as counted_queries

CITIES = ["360100", "360200", "360300", "360400", "360500", "360600", "360700", "360800", "360900", "361000",
          "361100"]


@pytest.fixture
def world(catalog):
    """Records whose figures change across the next two years, in several cities."""
    county = factories.region("360199", parent_code="360100")
    nanchang = factories.institution(region_code="360100")
    county_lab = factories.institution(region_code=county.code)
    jiujiang = factories.institution(region_code="360400")
    authorised = factories.institution(region_code="360700", kind="authorised")
    enterprise = factories.institution(region_code="360100", kind="enterprise")
    provincial = factories.institution(region_code="360000")

    l1 = factories.catalog_line(catalog, code="L1")
    l2 = factories.catalog_line(catalog, code="L2", mode="P+V")
    l3 = factories.catalog_line(catalog, code="L3", effective_from=date(2026, 3, 1))
    l4 = factories.catalog_line(catalog, code="L4", mode="P")
    l5 = factories.catalog_line(catalog, code="L5")
    later = factories.catalog_version(effective_from=date(2026, 9, 15), declared_line_count=2)
    m1 = factories.catalog_line(later, code="M1")
    m2 = factories.catalog_line(later, code="M2")

    std = factories.standard
    std(nanchang, lines=[l1], issued_on=date(2021, 1, 1), valid_until=date(2025, 12, 31))
    std(jiujiang, lines=[l1, l4], issued_on=date(2022, 8, 16), valid_until=date(2026, 8, 15))
    std(county_lab, lines=[l2, l3, m1], issued_on=date(2023, 2, 1), valid_until=date(2027, 1, 31))
    std(nanchang, lines=[l2], valid_until=date(2028, 1, 1), status="sealed", status_since=date(2026, 2, 1))
    std(nanchang, lines=[l5], issued_on=date(2026, 5, 10), valid_until=date(2030, 5, 9))
    std(enterprise, lines=[l1], category="enterprise_highest")
    std(jiujiang, lines=[l2], status="sealed", status_since=date(2024, 1, 1))
    std(authorised, lines=[m2], valid_until=date(2026, 12, 31), status="changing", status_since=date(2026, 10, 1))
    std(provincial, lines=[l1], issued_on=date(2021, 10, 1), valid_until=date(2025, 9, 30))
    std(nanchang, lines=[l5], withdrawn_at=factories.withdrawn_at())
    std(nanchang, is_carbon=True, build_kind="new", built_on=date(2025, 9, 10))
    std(jiujiang, is_carbon=True, build_kind="renovated", built_on=date(2026, 12, 31), issued_on=date(2026, 12, 31),
        valid_until=date(2030, 12, 30))
    std(jiujiang, is_carbon=True, build_kind="new", built_on=date(2020, 6, 1))
    std(county_lab, is_carbon=True, build_kind="new", built_on=date(2025, 1, 1), category="enterprise_highest")

    reg = dict(registration_level="2")
    factories.person(nanchang, registration_no="W1", registered_on=date(2021, 4, 1),
                     registration_valid_until=date(2026, 3, 31), **reg)
    factories.person(nanchang, employed_until=date(2025, 10, 15))
    factories.person(nanchang, employed_from=date(2026, 1, 1), registration_no="W3",
                     registered_on=date(2026, 4, 1), **reg)
    factories.person(jiujiang, employed_until=date(2026, 12, 31), registration_no="W4",
                     registered_on=date(2024, 1, 1), registration_valid_until=date(2027, 6, 30), **reg)
    factories.person(jiujiang, employed_from=None)
    factories.person(authorised, registration_no="W6", registered_on=date(2024, 1, 1), **reg)
    factories.person(county_lab, registration_no="W7", registered_on=date(2025, 8, 1), employed_from=date(2020, 1, 1))
    factories.person(county_lab, employed_from=date(2025, 7, 31), employed_until=date(2026, 7, 31))

    factories.regulation(published_on=date(2020, 3, 1), status="abolished", abolished_on=date(2026, 4, 30))
    factories.regulation(published_on=date(2025, 11, 15))
    factories.regulation(published_on=date(2026, 2, 1), is_carbon=True)
    factories.regulation(status="planned", published_on=None)
    factories.regulation(level="national", province=None, published_on=date(2024, 5, 1), is_carbon=True)
    factories.regulation(published_on=date(2019, 1, 1), withdrawn_at=factories.withdrawn_at())

    factories.recorded_value("national_industrial_centers", 0, as_of=date(2025, 1, 1))
    factories.recorded_value("national_industrial_centers", 1, as_of=date(2026, 1, 15))
    factories.recorded_value("national_industrial_centers", 2, region_code="360100", as_of=date(2025, 12, 31))
    factories.recorded_value("carbon_pilots", 4, as_of=date(2026, 6, 30))
    return dict(lines=dict(l1=l1, l2=l2, l3=l3, l4=l4, l5=l5, m1=m1, m2=m2), catalogs=(catalog, later),
                nanchang=nanchang, jiujiang=jiujiang)


POINT_FIELDS = ("value", "numerator", "denominator", "value_as_of", "value_source")


# --------------------------------------------------------------------------- forecast

@pytest.mark.parametrize("region", [None, "360100", "360400", "360300", "360199"])
def test_each_forecast_month_equals_the_single_date_report(world, region):
    forecast = coverage_forecast(AS_OF, region, 24).to_dict()
    assert forecast["dates"] == [d.isoformat() for d in month_ends_after(AS_OF, 24)]
    assert forecast["dates"][0] == "2025-07-31" and forecast["dates"][-1] == "2027-06-30"
    for index, day in enumerate(forecast["dates"]):
        single = coverage_report(date.fromisoformat(day), region).to_dict()
        assert [s["key"] for s in forecast["indicators"]] == [i["key"] for i in single["indicators"]]
        for series, expected in zip(forecast["indicators"], single["indicators"]):
            point = series["points"][index]
            assert point["date"] == day
            assert {f: point[f] for f in POINT_FIELDS} == {f: expected[f] for f in POINT_FIELDS}, (day, series["key"])
            # A month is judged only while a plan is in force; after its deadline the report judges on the deadline.
            judged_then = expected["judged_on"] == day
            assert point["met"] == (expected["met"] if judged_then else None), (day, series["key"])
            assert point["target"] == (expected["target"] if judged_then else None)


def test_forecast_known_answers_for_the_province(world):
    forecast = coverage_forecast(AS_OF, None, 24).to_dict()
    series = {s["key"]: {p["date"]: p for p in s["points"]} for s in forecast["indicators"]}
    cover = series["mandatory_item_coverage"]
    # L1 stays covered by 九江's standard until 2026-08-15; L2 by the county lab; L5 from 2026-05-10.
    assert (cover["2025-12-31"]["numerator"], cover["2025-12-31"]["denominator"]) == (2, 3)
    assert (cover["2026-03-31"]["numerator"], cover["2026-03-31"]["denominator"]) == (3, 4)  # L3 in effect
    assert (cover["2026-05-31"]["numerator"], cover["2026-05-31"]["denominator"]) == (4, 4)
    assert (cover["2026-08-31"]["numerator"], cover["2026-08-31"]["denominator"]) == (3, 4)
    # From 2026-09-15 the later catalog (M1, M2) is in force; M2's standard is changing from 2026-10-01.
    assert (cover["2026-09-30"]["numerator"], cover["2026-09-30"]["denominator"]) == (2, 2)
    assert (cover["2026-10-31"]["numerator"], cover["2026-10-31"]["denominator"]) == (1, 2)
    assert (cover["2027-02-28"]["numerator"], cover["2027-02-28"]["denominator"]) == (0, 2)
    assert series["social_public_standards"]["2025-07-31"]["value"] == 8
    assert series["carbon_standards"]["2026-11-30"]["value"] == 2
    assert series["carbon_standards"]["2026-12-31"]["value"] == 3
    assert [c["id"] for c in forecast["catalogs"]] == [c.id for c in world["catalogs"]]
    first = {s["key"]: s["first_unmet"] for s in forecast["indicators"]}
    assert first["mandatory_item_coverage"] == "2025-07-31"  # 2/3 < 0.90
    assert first["national_industrial_centers"] == "2025-07-31"
    assert first["carbon_pilots"] is None  # nothing recorded before 2026-06-30, then 4 (between 3 and 5)


def test_forecast_cost_does_not_grow_with_the_months(world):
    with counted_queries() as short:
        coverage_forecast(AS_OF, "360100", 2)
    with counted_queries() as long:
        coverage_forecast(AS_OF, "360100", 36)
    assert len(short) == len(long) <= 15


@pytest.mark.parametrize("months", [0, -1, 121])
def test_forecast_months_are_bounded(months):
    with pytest.raises(ValidationError):
        coverage_forecast(AS_OF, None, months)


def test_forecast_before_any_catalog_warns(world):
    forecast = coverage_forecast(date(2019, 10, 15), None, 3).to_dict()
    assert forecast["dates"] == ["2019-10-31", "2019-11-30", "2019-12-31"]
    assert "2019-10-31 无生效的强检目录，覆盖率无法计算。" in forecast["warnings"]
    coverage = next(s for s in forecast["indicators"] if s["key"] == "mandatory_item_coverage")
    assert [p["value"] for p in coverage["points"]] == [None, None, None]


# --------------------------------------------------------------------------- by city

@pytest.mark.parametrize("as_of", [AS_OF, date(2026, 10, 31), date(2019, 6, 30)])
def test_each_city_equals_the_single_region_report(world, as_of):
    table = coverage_by_region(as_of).to_dict()
    assert [column["region"] for column in table["regions"]] == CITIES
    assert table["regions"][0]["region_name"] == "南昌市"
    for column in table["regions"]:
        single = coverage_report(as_of, column["region"]).to_dict()
        assert column["indicators"] == single["indicators"], column["region"]
    assert table["warnings"] == coverage_report(as_of).warnings


def test_by_region_of_a_city_lists_its_counties(world):
    table = coverage_by_region(AS_OF, "360100").to_dict()
    assert [column["region"] for column in table["regions"]] == ["360199"]
    assert table["regions"][0]["indicators"] == coverage_report(AS_OF, "360199").to_dict()["indicators"]


def test_by_city_is_a_fixed_number_of_queries(world):
    with counted_queries() as statements:
        coverage_by_region(AS_OF)
    # 13 (coverage: each city's lines, and its uncovered ones, the list the gaps share), plus the plans and
    # targets (2), the province's counts for shares (3, kept in the report cache: one look-up of the data
    # version) and the undated statuses (2)
    assert len(statements) <= 21
    with counted_queries() as one_county:
        coverage_by_region(AS_OF, "360100")
    for n in range(20):
        factories.region(f"3601{50 + n}", parent_code="360100")
    with counted_queries() as more:
        assert len(coverage_by_region(AS_OF, "360100").regions) == 21
    assert len(more) == len(one_county)


# --------------------------------------------------------------------------- gaps

def test_gaps_in_the_province_and_in_each_city(world):
    gaps = coverage_gaps(AS_OF).to_dict()
    assert (gaps["mandatory_line_count"], gaps["uncovered_count"]) == (3, 1)
    assert [line["code"] for line in gaps["uncovered"]] == ["L5"]
    by_city = {entry["region"]: [line["code"] for line in entry["lines"]] for entry in gaps["by_region"]}
    assert list(by_city) == CITIES
    assert by_city["360100"] == ["L5"]  # L1 held in 南昌, L2 in its county
    assert by_city["360400"] == ["L2", "L5"]  # 九江's L2 standard is sealed
    assert by_city["360700"] == ["L1", "L2", "L5"]
    for city in CITIES:
        single = coverage_gaps(AS_OF, city).to_dict()
        assert [line["code"] for line in single["uncovered"]] == by_city[city]
        report = coverage_report(AS_OF, city).to_dict()
        coverage = next(i for i in report["indicators"] if i["key"] == "mandatory_item_coverage")
        assert coverage["denominator"] - coverage["numerator"] == len(by_city[city])
    assert gaps["uncovered"][0] == {"id": world["lines"]["l5"].id, "code": "L5", "name": world["lines"]["l5"].name,
                                    "sub_name": None, "mode": "V"}


def test_gaps_without_a_catalog():
    gaps = coverage_gaps(date(2019, 1, 1))
    assert gaps.catalog is None and gaps.uncovered == [] and gaps.warnings


# --------------------------------------------------------------------------- single points of failure

def test_single_points_of_failure(catalog, nanchang):
    jiujiang = factories.institution(region_code="360400")
    until = add_months(AS_OF, 6)
    assert until == date(2025, 12, 30)
    lines = {code: factories.catalog_line(catalog, code=code) for code in ("A", "B", "C", "D", "E", "F")}
    a = factories.standard(nanchang, lines=[lines["A"]], valid_until=until)
    factories.standard(nanchang, lines=[lines["B"]], valid_until=until + DAY)
    c1 = factories.standard(nanchang, lines=[lines["C"]], valid_until=date(2025, 10, 1))
    c2 = factories.standard(jiujiang, lines=[lines["C"]], valid_until=date(2025, 8, 1))
    factories.standard(nanchang, lines=[lines["D"]], valid_until=date(2025, 8, 1))
    factories.standard(nanchang, lines=[lines["D"]], valid_until=date(2027, 1, 1))
    factories.standard(nanchang, lines=[lines["D"]], valid_until=date(2025, 7, 1), status="sealed",
                       status_since=date(2025, 1, 1))
    f1 = factories.standard(nanchang, lines=[lines["F"]], valid_until=date(2025, 9, 1))
    factories.standard(jiujiang, lines=[lines["F"]], valid_until=date(2027, 1, 1))

    risks = single_points_of_failure(AS_OF, None, 6).to_dict()
    assert (risks["until"], risks["months"]) == ("2025-12-30", 6)
    assert [(entry["line"]["code"], entry["covered_until"]) for entry in risks["lines"]] == [
        ("C", "2025-10-01"), ("A", "2025-12-30")]
    c_entry = risks["lines"][0]
    assert [s["certificate_no"] for s in c_entry["standards"]] == [c2.certificate_no, c1.certificate_no]
    assert c_entry["standards"][0]["institution_name"] == jiujiang.name
    assert c_entry["standards"][0]["valid_until"] == "2025-08-01"
    assert risks["lines"][1]["standards"][0]["id"] == a.id

    city = single_points_of_failure(AS_OF, "360100", 6).to_dict()
    assert [(e["line"]["code"], [s["id"] for s in e["standards"]]) for e in city["lines"]] == [
        ("F", [f1.id]), ("C", [c1.id]), ("A", [a.id])]
    assert single_points_of_failure(AS_OF).to_dict()["lines"] == risks["lines"]  # REEXAMINATION_LEAD_MONTHS = 6
    wider = single_points_of_failure(AS_OF, None, 7).to_dict()
    assert [entry["line"]["code"] for entry in wider["lines"]] == ["C", "A", "B"]


# --------------------------------------------------------------------------- expiring certificates

def test_expiring_certificates(nanchang):
    jiujiang = factories.institution(region_code="360400")
    std = factories.standard
    today = std(nanchang, issued_on=date(2021, 7, 1), valid_until=AS_OF)
    horizon = std(nanchang, valid_until=date(2025, 12, 30))
    std(nanchang, valid_until=date(2025, 12, 31))
    std(nanchang, issued_on=date(2021, 6, 30), valid_until=AS_OF - DAY)
    std(nanchang, issued_on=AS_OF + DAY, valid_until=date(2025, 9, 1))
    std(nanchang, valid_until=date(2025, 9, 1), withdrawn_at=factories.withdrawn_at())
    other = std(jiujiang, valid_until=date(2025, 8, 1), status="sealed", status_since=date(2025, 1, 1))
    enterprise = std(nanchang, valid_until=date(2025, 7, 15), category="enterprise_highest")

    listing = expiring_certificates(AS_OF, 6).to_dict()
    assert listing["until"] == "2025-12-30" and listing["total"] == 4
    assert [item["id"] for item in listing["items"]] == [today.id, enterprise.id, other.id, horizon.id]
    assert listing["items"][2]["status"] == "sealed" and listing["items"][2]["credit_code"] == jiujiang.credit_code
    closed = factories.institution(region_code="360100", withdrawn_at=factories.withdrawn_at())
    std(closed, valid_until=date(2025, 8, 1))
    city = expiring_certificates(AS_OF, 6, "360100")
    assert (city.total, [i.id for i in city.items]) == (3, [today.id, enterprise.id, horizon.id])
    assert expiring_certificates(AS_OF, 6).total == 4  # the withdrawn institution's standard is not listed
    own = expiring_certificates(AS_OF, 6, institution_id=jiujiang.id).to_dict()
    assert (own["total"], [i["id"] for i in own["items"]]) == (1, [other.id])
    page = expiring_certificates(AS_OF, 6, limit=2, offset=1).to_dict()
    assert (page["total"], [i["id"] for i in page["items"]]) == (4, [enterprise.id, other.id])
    assert expiring_certificates(AS_OF).total == 4  # REEXAMINATION_LEAD_MONTHS
    assert expiring_certificates(AS_OF, 0).total == 1


@pytest.mark.parametrize("kwargs, error", [
    (dict(institution_id=999_999), NotFound), (dict(limit=0), ValidationError), (dict(offset=-1), ValidationError),
    (dict(months=-1), ValidationError), (dict(region="999999"), NotFound),
])
def test_expiring_certificates_refuses_bad_arguments(kwargs, error):
    with pytest.raises(error):
        expiring_certificates(AS_OF, **kwargs)


# --------------------------------------------------------------------------- months

@pytest.mark.parametrize("day, months, expected", [
    (date(2025, 1, 31), 1, date(2025, 2, 28)),
    (date(2024, 1, 31), 1, date(2024, 2, 29)),
    (date(2025, 12, 31), 14, date(2027, 2, 28)),
    (date(2025, 3, 31), -1, date(2025, 2, 28)),
    (date(2025, 6, 30), 6, date(2025, 12, 30)),
    (date(2025, 6, 15), 0, date(2025, 6, 15)),
])
def test_add_months(day, months, expected):
    assert add_months(day, months) == expected


@pytest.mark.parametrize("day, months", [(date(9999, 12, 31), 1), (date(9999, 7, 31), 6), (date(1, 1, 31), -1),
                                         (date(2025, 6, 30), 12 * 8000)])
def test_add_months_refuses_to_leave_the_calendar(day, months):
    with pytest.raises(DateOutOfRange, match="beyond the calendar") as raised:
        add_months(day, months)
    assert isinstance(raised.value, ValidationError)  # every door answers it as bad input, never a crash


def test_the_registrys_dates_leave_room_for_any_horizon():
    assert add_months(LATEST, 600) == date(3049, 12, 31) and add_months(EARLIEST, -600) == date(1850, 1, 1)


def test_month_ends():
    assert month_end(date(2024, 2, 3)) == date(2024, 2, 29)
    assert month_ends_after(date(2025, 6, 15), 2) == [date(2025, 6, 30), date(2025, 7, 31)]
    assert month_ends_after(date(2025, 6, 30), 2) == [date(2025, 7, 31), date(2025, 8, 31)]
    assert month_ends_after(date(2025, 11, 30), 3) == [date(2025, 12, 31), date(2026, 1, 31), date(2026, 2, 28)]


def test_region_fixture_is_rolled_back():
    assert db.session.get(Region, "360199") is None
