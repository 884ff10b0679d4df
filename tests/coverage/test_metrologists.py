"""Metrologist follow-up: each legal metrology institution's share against the 60 % target, summing to the indicator."""
from __future__ import annotations

from datetime import date

import pytest

from registry.coverage.metrologists import metrologist_follow_up
from registry.coverage.services import coverage_report
from registry.errors import ValidationError
from tests import factories
from tests.coverage.support import AS_OF, indicator
from tests.statements import counted


def staff(employer, registered: int, unregistered: int, **fields):
    for _ in range(registered):
        factories.person(employer, registration_no=f"R{next(factories._serial)}", registered_on=date(2023, 1, 1),
                         **fields)
    for _ in range(unregistered):
        factories.person(employer, **fields)


@pytest.fixture
def roster():
    nanchang = factories.institution(region_code="360100", name="甲所")    # 3 of 10: needs 3 more
    jiujiang = factories.institution(region_code="360400", name="乙所")    # 4 of 5: met
    small = factories.institution(region_code="360400", name="丙所")       # 1 of 3: needs 1 (0.6 * 3 = 1.8 -> 2)
    empty = factories.institution(region_code="360100", name="丁所")       # nobody employed
    staff(nanchang, 3, 7)
    staff(jiujiang, 4, 1)
    staff(small, 1, 2)
    # Not counted: left before the date, a registration lapsed, another kind of institution, withdrawn.
    staff(nanchang, 2, 2, employed_until=date(2024, 12, 31))
    factories.person(jiujiang, registration_no="LAPSED", registered_on=date(2018, 1, 1),
                     registration_valid_until=date(2023, 1, 1))  # employed, not registered on the date
    staff(factories.institution(region_code="360100", kind="authorised"), 5, 0)
    staff(factories.institution(region_code="360100", withdrawn_at=factories.withdrawn_at()), 5, 0)
    return {"nanchang": nanchang, "jiujiang": jiujiang, "small": small, "empty": empty}


def test_each_institution_against_the_target(roster):
    follow = metrologist_follow_up(AS_OF)
    assert follow.target == 0.6 and follow.comparator == ">=" and follow.plan is not None
    rows = {item.institution_name: item for item in follow.institutions}
    assert set(rows) == {"甲所", "乙所", "丙所", "丁所"}
    assert (rows["甲所"].staff, rows["甲所"].registered, rows["甲所"].share, rows["甲所"].needed) == (10, 3, 0.3, 3)
    assert (rows["乙所"].staff, rows["乙所"].registered, rows["乙所"].met, rows["乙所"].needed) == (6, 4, True, 0)
    assert (rows["丙所"].staff, rows["丙所"].registered, rows["丙所"].needed) == (3, 1, 1)
    assert (rows["丁所"].staff, rows["丁所"].share, rows["丁所"].met) == (0, None, None)
    assert rows["甲所"].city == "360100" and rows["乙所"].city_name == "九江市"
    # Below target first, most needed first.
    assert [item.institution_name for item in follow.institutions][:2] == ["甲所", "丙所"]
    assert follow.below_target == 2


def test_the_figures_sum_to_the_province_indicator(roster):
    follow = metrologist_follow_up(AS_OF)
    share = indicator(coverage_report(AS_OF), "registered_metrologist_share")
    assert (follow.registered, follow.staff) == (share["numerator"], share["denominator"]) == (8, 19)
    assert sum(item.registered for item in follow.institutions) == share["numerator"]
    assert sum(item.staff for item in follow.institutions) == share["denominator"]
    assert follow.share == share["value"]
    # 0.6 * 19 = 11.4 -> 12 registrations, 4 more.
    assert follow.needed == 4


def test_a_city_sums_to_the_citys_indicator(roster):
    follow = metrologist_follow_up(AS_OF, "360400")
    share = indicator(coverage_report(AS_OF, "360400"), "registered_metrologist_share")
    assert [item.institution_name for item in follow.institutions] == ["丙所", "乙所"]
    assert (follow.registered, follow.staff) == (share["numerator"], share["denominator"]) == (5, 9)
    assert follow.target_region == "360000"  # no city target: the province's


@pytest.mark.parametrize("sort, first", [("name", "丁所"), ("-share", "乙所"), ("staff", "丁所"),
                                         ("-staff", "甲所"), ("-needed", "丁所")])
def test_sorted_by_any_column(roster, sort, first):
    assert metrologist_follow_up(AS_OF, sort=sort).institutions[0].institution_name == first


def test_no_plan_no_target(roster):
    follow = metrologist_follow_up(date(2019, 1, 1))
    assert follow.target is None and follow.needed is None
    assert all(item.needed is None and item.met is None for item in follow.institutions)


def test_a_bad_sort_is_refused():
    with pytest.raises(ValidationError):
        metrologist_follow_up(AS_OF, sort="salary")


def test_one_query_for_any_number_of_institutions(roster):
    metrologist_follow_up(AS_OF)
    with counted() as few:
        metrologist_follow_up(AS_OF, "360400")
    for _ in range(5):
        staff(factories.institution(region_code="360400"), 1, 1)
    with counted() as many:
        metrologist_follow_up(AS_OF, "360400")
    assert len(few) == len(many)
