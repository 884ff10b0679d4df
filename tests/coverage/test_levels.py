"""Coverage per administrative level: the lines each level counts, and the holders that serve it.

Known answers on one catalog:

    line  levels            holder of its covering standard
    A     (empty: every)    九江's own institute (serves 九江)
    P     province          the provincial institute in 南昌 (serves the province)
    C     city              the provincial institute
    K     county            an institute of a 南昌 county (serves that county)
    CK    city, county      nobody
"""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from registry.catalog.models import CatalogLine
from registry.catalog.services import add_line, normalize_levels
from registry.coverage.services import (coverage_by_region, coverage_forecast, coverage_gaps, coverage_report,
                                        institution_share, single_points_of_failure)
from registry.errors import ValidationError
from registry.extensions import db
from registry.institutions.models import Institution
from registry.institutions.services import clean_institution
from tests import factories
from tests.coverage.support import AS_OF, indicator

COUNTY = "360150"


@pytest.fixture
def levels_world(catalog):
    factories.region(COUNTY, parent_code="360100", level="county")
    lines = {code: factories.catalog_line(catalog, code=code, levels=levels)
             for code, levels in (("A", None), ("P", "province"), ("C", "city"), ("K", "county"),
                                  ("CK", "city,county"))}
    provincial = factories.institution(region_code="360100", serves_region_code="360000")
    jiujiang = factories.institution(region_code="360400")
    county = factories.institution(region_code=COUNTY)
    factories.standard(jiujiang, lines=[lines["A"]])
    factories.standard(provincial, lines=[lines["P"], lines["C"]])
    factories.standard(county, lines=[lines["K"]])
    return lines


def coverage(region=None) -> tuple[int, int]:
    item = indicator(coverage_report(AS_OF, region), "mandatory_item_coverage")
    return item["numerator"], item["denominator"]


def test_the_province_counts_every_line_covered_anywhere(levels_world):
    assert coverage() == (4, 5)
    catalog = coverage_report(AS_OF).to_dict()["catalog"]
    assert (catalog["counted_level"], catalog["counted_line_count"], catalog["mandatory_line_count"]) == ("any", 5, 5)


@pytest.mark.parametrize("city, expected", [
    ("360400", (2, 3)),  # A by its own institute, C by the provincial institute; CK uncovered
    ("360100", (1, 3)),  # C by the provincial institute (in the city too); A is 九江's
    ("360700", (1, 3)),  # 赣州: only the provincial institute's C
])
def test_a_city_counts_its_level_covered_by_holders_serving_it(levels_world, city, expected):
    assert coverage(city) == expected
    catalog = coverage_report(AS_OF, city).to_dict()["catalog"]
    assert (catalog["counted_level"], catalog["counted_line_count"], catalog["mandatory_line_count"]) == ("city", 3, 5)


def test_a_county_counts_its_level(levels_world):
    # A, K and CK are expected at county level; the county's institute covers K; the provincial
    # institute serves the county too, but its lines (P, C) are not county lines.
    assert coverage(COUNTY) == (1, 3)
    assert coverage_report(AS_OF, COUNTY).to_dict()["catalog"]["counted_level"] == "county"


def test_the_provincial_institute_serving_only_its_city_covers_no_other_city(levels_world):
    provincial = db.session.scalar(sa.select(Institution).where(Institution.serves_region_code == "360000"))
    provincial.serves_region_code = None
    db.session.flush()
    assert coverage("360400") == (1, 3)
    assert coverage("360100") == (1, 3)
    assert coverage() == (4, 5)  # the province's count does not depend on service areas


def test_the_city_table_and_gaps_use_the_same_rule(levels_world):
    table = coverage_by_region(AS_OF).to_dict()
    assert (table["catalog"]["counted_level"], table["catalog"]["counted_line_count"]) == ("city", 3)
    for column in table["regions"]:
        assert column["indicators"] == coverage_report(AS_OF, column["region"]).to_dict()["indicators"]
    gaps = coverage_gaps(AS_OF).to_dict()
    assert [line["code"] for line in gaps["uncovered"]] == ["CK"]
    by_city = {entry["region"]: [line["code"] for line in entry["lines"]] for entry in gaps["by_region"]}
    assert by_city["360400"] == ["CK"]
    assert by_city["360100"] == ["A", "CK"]
    city = coverage_gaps(AS_OF, "360400").to_dict()
    assert (city["mandatory_line_count"], [line["code"] for line in city["uncovered"]]) == (3, ["CK"])
    assert city["catalog"]["counted_level"] == "city"
    in_county = {e["region"]: [line["code"] for line in e["lines"]]
                 for e in coverage_gaps(AS_OF, "360100").to_dict()["by_region"]}[COUNTY]
    assert in_county == ["A", "CK"]  # K by its own institute; P and C are not county lines


@pytest.mark.parametrize("given, stored", [
    (None, None), ("", None), ([], None), ("市级；县级", "city,county"), (["county", "province"], "province,county"),
    ("省级,市级,县级", "province,city,county"), ("city", "city"), ("设区市", "city"),
])
def test_levels_are_read_in_any_spelling_and_stored_in_order(given, stored):
    assert normalize_levels(given) == stored


@pytest.mark.parametrize("given", ["town", "市级；乡级", ["city", "village"], 3])
def test_an_unknown_level_is_an_error_naming_the_field_and_nothing_is_written(catalog, users, given):
    before = db.session.scalar(sa.select(sa.func.count()).select_from(CatalogLine))
    with pytest.raises(ValidationError) as caught:
        add_line(catalog, {"code": "Z1", "name": "x", "mode": "V", "levels": given}, actor=users.admin)
    assert "levels" in caught.value.errors
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CatalogLine)) == before


def test_a_service_area_is_the_own_region_or_one_above_it():
    assert clean_institution({"region_code": "360100", "serves_region_code": "360000"}, partial=True) == {
        "region_code": "360100", "serves_region_code": "360000"}
    assert clean_institution({"region_code": "360100", "serves_region_code": "南昌市"}, partial=True)[
        "serves_region_code"] is None  # its own region: stored as the default
    with pytest.raises(ValidationError) as caught:
        clean_institution({"region_code": "360100", "serves_region_code": "360400"}, partial=True)
    assert "serves_region_code" in caught.value.errors


def test_the_api_refuses_an_unknown_level_with_422(client, auth, users, catalog):
    db.session.commit()
    headers = auth.token(users.admin)
    url = f"/api/v1/catalog/versions/{catalog.id}/lines"
    refused = client.post(url, headers=headers, json={"code": "Z1", "name": "x", "mode": "V", "levels": ["town"]})
    assert refused.status_code == 422 and "levels" in refused.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CatalogLine)
                             .where(CatalogLine.code == "Z1")) == 0
    created = client.post(url, headers=headers, json={"code": "Z1", "name": "x", "mode": "V", "levels": "市级,县级"})
    assert created.status_code == 201 and created.get_json()["levels"] == ["city", "county"]


# --------------------------------------------------------------------------- forecast, single points, share

LAST_VALID = "2027-12-31"  # every standard's certificate (tests.factories)


@pytest.mark.parametrize("region, expected", [
    (None, (4, 5)), ("360400", (2, 3)), ("360100", (1, 3)), ("360700", (1, 3)), (COUNTY, (1, 3))])
def test_the_forecast_counts_a_region_as_its_coverage_does(levels_world, region, expected):
    forecast = coverage_forecast(AS_OF, region, 36).to_dict()
    series = indicator({"indicators": forecast["indicators"]}, "mandatory_item_coverage")
    points = {point["date"]: (point["numerator"], point["denominator"]) for point in series["points"]}
    assert points[LAST_VALID] == expected
    assert points["2028-01-31"] == (0, expected[1])  # every certificate has ended
    assert forecast["catalogs"][0]["counted_level"] == ("any" if region is None else
                                                        "county" if region == COUNTY else "city")


@pytest.mark.parametrize("region, expected", [
    (None, ["A", "C", "K", "P"]), ("360400", ["A", "C"]), ("360700", ["C"]), ("360100", ["C"]), (COUNTY, ["K"])])
def test_single_points_are_the_lines_the_region_counts_covered_by_holders_serving_it(levels_world, region,
                                                                                     expected):
    risks = single_points_of_failure(AS_OF, region, 36).to_dict()
    assert sorted(entry["line"]["code"] for entry in risks["lines"]) == expected
    assert risks["catalog"]["counted_line_count"] == (5 if region is None else 3)
    assert single_points_of_failure(AS_OF, region, 12).to_dict()["lines"] == []  # all run to 2027-12-31


def _holder(**where) -> Institution:
    return db.session.scalar(sa.select(Institution).where(*(getattr(Institution, k) == v for k, v in where.items())))


def test_an_institution_share_counts_the_lines_of_its_city_level(levels_world, catalog):
    provincial = _holder(serves_region_code="360000")
    share = institution_share(AS_OF, provincial.id).to_dict()
    # It covers P (province level only) and C; its city (南昌) counts A, C and CK.
    assert (share["city"], share["lines_covered"], share["mandatory_line_count"]) == ("360100", 1, 3)
    assert [line["code"] for line in share["sole_in_city"]] == ["C"]
    assert share["catalog"]["counted_level"] == "city"
    county = _holder(region_code=COUNTY)
    assert (institution_share(AS_OF, county.id).lines_covered, institution_share(AS_OF, county.id).city) == (
        0, "360100")  # K is a county line: not counted for 南昌
    jiujiang = _holder(region_code="360400")
    assert [line.code for line in institution_share(AS_OF, jiujiang.id).sole_in_city] == ["A"]
    # A standard of 南昌's county institute covering C: the provincial institute no longer holds it alone.
    factories.standard(county, lines=[levels_world["C"]])
    assert institution_share(AS_OF, provincial.id).sole_in_city == []
