"""A report counts its own date, a passed deadline's and the province's figures in one pass (conditional counts
per date and region over the rows any of them counts): each figure must equal the one counted alone."""
from __future__ import annotations

from datetime import date

import pytest

from registry.coverage import services
from tests.coverage.test_actions import world  # noqa: F401 (fixture)

# Either side of the status dates, the certificates' last days, the later catalog version (2026-09-15).
DAYS = (date(2025, 9, 30), date(2025, 12, 31), date(2026, 1, 31), date(2026, 2, 1), date(2026, 3, 31),
        date(2026, 9, 15), date(2026, 12, 31))


@pytest.mark.parametrize("region", [None, "360100", "360400"])
def test_counted_together_each_figure_equals_it_counted_alone(world, region):  # noqa: F811
    definitions = services._definitions()
    statuses = services.covering_statuses()
    keys = frozenset(d.key for d in definitions)
    scope, province = services.resolve_region(region), services.resolve_region(None)
    asks = [(keys, day, scope) for day in DAYS]
    asks.append((frozenset({services.SOCIAL_PUBLIC, services.CARBON_STANDARDS}), DAYS[-1], province))
    together = services._measures_together(definitions, asks, statuses)
    alone = [services._measures_together(definitions, [ask], statuses)[0] for ask in asks]
    assert together == alone
    # Not a comparison of nothing: the figures move across the dates.
    counts = [measures[services.SOCIAL_PUBLIC].value for measures, _ in together[:-1]]
    coverage = [(m[services.COVERAGE].value, m[services.COVERAGE].denominator) for m, _ in together[:-1]]
    assert len(set(counts)) > 1 and len(set(coverage)) > 1
    assert together[0][1] is not together[-2][1], "two catalog versions in one pass"


def test_a_report_past_the_deadline_equals_its_parts_counted_one_date_at_a_time(world):  # noqa: F811
    """The report's judged value is the figure on the deadline, its share the city's of the province's."""
    report = services.coverage_report(date(2026, 3, 31), "360100").to_dict()
    assert report["plan"]["status"] == "deadline_passed"
    items = {item["key"]: item for item in report["indicators"]}
    on_deadline = services.coverage_report(date(2025, 12, 31), "360100").to_dict()
    assert items[services.COVERAGE]["judged_value"] == next(
        item["value"] for item in on_deadline["indicators"] if item["key"] == services.COVERAGE)
    province = services.coverage_report(date(2026, 3, 31)).to_dict()
    whole = next(item["value"] for item in province["indicators"] if item["key"] == services.SOCIAL_PUBLIC)
    share = items[services.SOCIAL_PUBLIC]["share_of_province"]
    assert whole and share == round(items[services.SOCIAL_PUBLIC]["value"] / whole, 4)


@pytest.mark.parametrize("region", [None, "360100"])
def test_the_cities_counted_together_equal_each_date_counted_alone(world, region):  # noqa: F811
    """The table of cities counts a passed deadline's figures with its own date (``_by_region_days``)."""
    definitions = services._definitions()
    statuses = services.covering_statuses()
    keys = {d.key for d in definitions if d.key not in services.PROVINCE_WIDE_KEYS}
    scope = services.resolve_region(region)
    children, levels = services._children_and_levels(scope)
    codes = [code for code, _ in children]
    asks = [(keys, day) for day in DAYS] + [({services.METROLOGISTS, services.COVERAGE}, DAYS[0])]
    together = services._by_region_days(definitions, asks, scope, codes, levels, statuses)
    alone = [services._by_region_days(definitions, [ask], scope, codes, levels, statuses)[0] for ask in asks]
    assert together == alone
    if region is None:
        # Not a comparison of nothing: the cities' figures move across the dates.
        counts = [tuple(m[services.SOCIAL_PUBLIC].value for m in per_region.values())
                  for per_region, *_ in together[:-1]]
        coverage = [tuple((m[services.COVERAGE].value, m[services.COVERAGE].denominator) for m in per_region.values())
                    for per_region, *_ in together[:-1]]
        assert len(set(counts)) > 1 and len(set(coverage)) > 1


def test_a_count_in_one_pass_leaves_out_only_the_bounds_its_where_states(app):
    """The window's own bounds (its first and last days) are not tested again per row; another day's are."""
    first, middle, last = date(2025, 12, 31), date(2026, 3, 31), date(2026, 11, 1)
    statuses = ("in_use",)
    with app.app_context():
        where = services._covering_window(first, last, statuses)
        for day in (first, middle, last):
            kept = services._not_stated(services._covering_on(day, statuses), where)
            assert all(not any(clause.compare(stated) for stated in where) for clause in kept)
            assert (services.S.valid_until >= day).compare(services.S.valid_until >= first) == (day == first)
            assert any(clause.compare(services.S.valid_until >= day) for clause in kept) == (day != first)
            bound = services.certified_from() <= day
            assert any(clause.compare(bound) for clause in kept) == (day != last)
        assert len(services._not_stated(services._covering_on(middle, statuses), where)) == \
            len(services._covering_on(middle, statuses))
        employed = (services.P.withdrawn_at.is_(None), services._employed_clauses(last)[0],
                    services._employed_clauses(first)[1])
        kept = services._not_stated(services._employed_clauses(last), employed)
        assert len(kept) == 1 and kept[0].compare(services._employed_clauses(last)[1])
