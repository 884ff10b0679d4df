"""coverage.institution_share and reexamination_apply_by: one institution against its city and the province."""
from __future__ import annotations

from datetime import date

import pytest

from registry.coverage import services
from registry.errors import NotFound
from tests import factories
from tests.dashboard.conftest import AS_OF


def test_share_counts_the_institutions_standards_against_city_and_province(users, province):
    share = services.institution_share(AS_OF, users.own.id)
    # own: a (2028), c (2025-08-31) in force; the 2024 one expired.  南昌 adds other's c; 九江 b and c.
    assert (share.social_public, share.city_social_public, share.province_social_public) == (2, 3, 5)
    assert share.city == "360100"
    report = services.coverage_report(AS_OF)
    assert share.province_social_public == next(i.value for i in report.indicators
                                                if i.key == "social_public_standards")
    city = services.coverage_report(AS_OF, "360100")
    assert share.city_social_public == next(i.value for i in city.indicators if i.key == "social_public_standards")


def test_share_names_the_lines_only_this_institution_covers_in_its_city(users, province):
    share = services.institution_share(AS_OF, users.own.id)
    assert share.mandatory_line_count == 4 and share.lines_covered == 2
    assert [line.code for line in share.sole_in_city] == ["LA"]  # c is also covered by other in 南昌
    assert share.sole_in_city_count == 1
    assert share.catalog.name == province.catalog.name and share.warnings


def test_share_follows_the_date(users, province):
    later = services.institution_share(date(2025, 9, 15), users.own.id)  # own's c expired on 2025-08-31
    assert later.social_public == 1 and later.lines_covered == 1
    other = services.institution_share(date(2025, 9, 15), users.other_institution.id)
    assert [line.code for line in other.sole_in_city] == ["LC"]


def test_a_county_institution_counts_for_its_city(session, users, province):
    factories.region("360199", parent_code="360100")
    county = factories.institution(region_code="360199")
    factories.standard(county, lines=[province.lines.a], valid_until=date(2030, 1, 1))
    share = services.institution_share(AS_OF, users.own.id)
    assert share.sole_in_city == []  # the county institute covers a too
    assert services.institution_share(AS_OF, county.id).city == "360100"


def test_share_of_an_unknown_institution_is_not_found():
    with pytest.raises(NotFound):
        services.institution_share(AS_OF, 987654321)


def test_share_without_a_catalog_in_force_warns(users):
    share = services.institution_share(date(2019, 1, 1), users.own.id)  # the seeded catalog starts in 2020
    assert share.catalog is None and share.lines_covered == 0 and share.warnings


@pytest.mark.parametrize("valid_until, months, expected", [
    (date(2027, 8, 31), None, date(2027, 2, 28)),
    (date(2027, 6, 30), 6, date(2026, 12, 30)),
    (date(2027, 1, 15), 12, date(2026, 1, 15)),
])
def test_reexamination_apply_by_is_the_lead_time_before_expiry(app, valid_until, months, expected):
    assert services.reexamination_apply_by(valid_until, months) == expected
