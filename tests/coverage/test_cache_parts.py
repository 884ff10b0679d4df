"""What the report cache shares besides whole reports: parts several reports or dates read (the figures at a
plan's deadline), one forecast for every day of a month, and a list's total.  Each must answer exactly what
computing afresh answers, and move with the data."""
from __future__ import annotations

import json
from datetime import date

import pytest

from registry.coverage import cache as coverage_cache
from registry.coverage import services
from registry.standards.services import register_standard
from tests import factories
from tests.coverage.test_cache import coverage_queries, registry_data, report_cache  # noqa: F401 (fixtures)
from tests.statements import counted as statements

# The seeded plan's deadline is 2025-12-31: every date after it also asks for the figures on that day.
AFTER_DEADLINE = (date(2026, 3, 5), date(2026, 3, 20), date(2026, 4, 2))


@pytest.mark.parametrize("kind, args", [
    ("report", (None,)), ("report", ("360100",)), ("regions", (None,)), ("forecast", (None, 6)),
    ("gaps", (None,)), ("single_points", ("360100",)),
])
def test_reports_built_from_kept_parts_equal_fresh_ones(registry_data, report_cache, kind, args):
    for day in AFTER_DEADLINE:
        assert coverage_cache.as_dict(kind, day, *args) == coverage_cache.KINDS[kind](day, *args).to_dict(), day


def test_the_figures_at_the_deadline_are_computed_once_for_every_later_date(registry_data, report_cache):
    coverage_cache.as_dict("regions", AFTER_DEADLINE[0])
    with statements() as later:
        coverage_cache.as_dict("regions", AFTER_DEADLINE[1])
    with statements() as fresh:
        coverage_cache.clear()
        coverage_cache.forget_data_version()
        coverage_cache.as_dict("regions", AFTER_DEADLINE[1])
    assert 0 < len(coverage_queries(later)) < len(coverage_queries(fresh))


def test_a_kept_part_moves_with_the_data(registry_data, report_cache, nanchang, users, session):
    before = coverage_cache.as_dict("report", AFTER_DEADLINE[0])
    register_standard({"certificate_no": "[2024]赣量标缓证字第9号", "name": "缓存测试装置", "category": "social_public",
                       "institution_id": nanchang.id, "issued_on": date(2024, 1, 1),
                       "valid_until": date(2029, 1, 1)}, actor=users.regulator)
    session.commit()
    after = coverage_cache.as_dict("report", AFTER_DEADLINE[1])
    assert after == services.coverage_report(AFTER_DEADLINE[1]).to_dict()
    count = {item["key"]: item for item in after["indicators"]}["social_public_standards"]
    earlier = {item["key"]: item for item in before["indicators"]}["social_public_standards"]
    assert count["value"] == earlier["value"] + 1
    # The figures at the deadline (2025-12-31) count it too: the kept part was not read from before the change.
    assert count["judged_value"] == earlier["judged_value"] + 1


def test_a_kept_record_is_read_back_from_the_session(registry_data, report_cache, catalog):
    calls = []

    def version_in_force(day):
        calls.append(day)
        return services.catalog_in_force(day), 3

    first = coverage_cache.kept(version_in_force, (date(2025, 6, 30),), {})
    again = coverage_cache.kept(version_in_force, (date(2025, 6, 30),), {})
    assert again == first and again[0] is catalog
    assert calls == [date(2025, 6, 30)], "the second call read the kept answer"


def test_an_argument_the_key_cannot_spell_skips_the_cache(report_cache):
    calls = []

    def name_of(value):
        calls.append(value)
        return type(value).__name__

    assert coverage_cache.kept(name_of, (type("Opaque", (), {})(),), {}) == "Opaque"
    assert len(calls) == 1 and len(report_cache._cache) == 0


# --- One forecast for every day of a month --------------------------------------


@pytest.mark.parametrize("first, second", [
    (date(2025, 6, 10), date(2025, 6, 20)),
    (date(2025, 6, 30), date(2025, 7, 1)),  # the same month-ends follow a month's last day and the next one's first
])
def test_days_with_the_same_month_ends_share_one_forecast(registry_data, report_cache, first, second):
    assert coverage_cache.as_dict("forecast", first, None, 4) == services.coverage_forecast(first, None, 4).to_dict()
    with statements() as seen:
        shared = coverage_cache.as_dict("forecast", second, None, 4)
    assert coverage_queries(seen) == [], "the second day read the first one's entry"
    assert shared == services.coverage_forecast(second, None, 4).to_dict()
    assert shared["as_of"] == second.isoformat()


def test_a_day_in_the_next_month_is_another_forecast(registry_data, report_cache):
    coverage_cache.as_dict("forecast", date(2025, 6, 10), None, 4)
    with statements() as seen:
        later = coverage_cache.as_dict("forecast", date(2025, 7, 10), None, 4)
    assert coverage_queries(seen)
    assert later["dates"][0] == "2025-07-31"


# --- A list's total ---------------------------------------------------------------


def _total(client, headers, query: str = "") -> int:
    response = client.get(f"/api/v1/standards?page_size=1{query}", headers=headers)
    assert response.status_code == 200
    return json.loads(response.headers["X-Pagination"])["total"]


def _counts(seen: list[str]) -> list[str]:
    return [s for s in seen if "count(*)" in s and "measurement_standards" in s]


def test_the_standards_total_is_counted_once_per_data_version(client, auth, users, registry_data, report_cache,
                                                              nanchang, session):
    headers = auth.token(users.regulator)
    first = _total(client, headers)
    with statements() as seen:
        assert _total(client, headers) == first
    assert _counts(seen) == [], "the total came from the cache"
    factories.standard(nanchang)
    register_standard({"certificate_no": "[2024]赣量标缓证字第8号", "name": "计数测试装置", "category": "social_public",
                       "institution_id": nanchang.id, "issued_on": date(2024, 1, 1)}, actor=users.regulator)
    session.commit()
    with statements() as seen:
        assert _total(client, headers) == first + 2
    assert _counts(seen), "a new data version counts again"


def test_each_reader_and_filter_has_its_own_total(client, auth, users, registry_data, report_cache, nanchang):
    everyone = _total(client, auth.token(users.regulator))
    own = _total(client, auth.token(users.institution))
    assert own == 1 and everyone == 2
    assert _total(client, auth.token(users.regulator), f"&institution_id={nanchang.id}") == 1
    assert _total(client, auth.token(users.regulator), "&q=nothing-like-this") == 0
    assert _total(client, auth.token(users.regulator)) == everyone


def test_the_total_with_no_cache_is_counted_each_time(client, auth, users, registry_data):
    headers = auth.token(users.regulator)
    _total(client, headers)
    with statements() as seen:
        _total(client, headers)
    assert _counts(seen)


def test_the_cities_table_and_the_gaps_probe_the_cities_once(registry_data, report_cache):
    day = date(2025, 6, 30)
    with statements() as table:
        coverage_cache.as_dict("regions", day)
    with statements() as gaps:
        assert coverage_cache.as_dict("gaps", day) == services.coverage_gaps(day).to_dict()

    def probes(seen):
        return [s for s in seen if "AS region" in s and "EXISTS" in s]

    assert len(probes(table)) == 1 and probes(gaps) == [], "the gaps read the table's list of uncovered lines"


def test_the_cities_counted_with_the_deadline_keep_both_dates(registry_data, report_cache):
    """The table's own date, counted with the deadline's figures in one pass, is kept as well as the deadline's."""
    fresh = services.coverage_by_region(AFTER_DEADLINE[0]).to_dict()
    with statements() as again:
        assert services.coverage_by_region(AFTER_DEADLINE[0]).to_dict() == fresh
    assert [s for s in coverage_queries(again) if "measurement_standards" in s or "persons" in s] == []
