"""The report cache: a repeated report runs no coverage query; a committed change, another date or setting
does; two app servers share entries through Redis; a cache that is down costs speed, never a report."""
from __future__ import annotations

import re
import uuid
from contextlib import contextmanager
from datetime import date, datetime, timezone

import pytest
import sqlalchemy as sa
from flask_caching.backends.nullcache import NullCache
from flask_caching.backends.simplecache import SimpleCache

from registry.coverage import cache as coverage_cache
from registry.coverage import services
from registry.extensions import cache
from registry.standards.services import register_standard
from tests import factories
from tests.statements import counted as statements

AS_OF = date(2025, 6, 30)
# Tables only a coverage computation reads (the login, the layout and the version look-up read others).
COVERAGE_TABLES = ("measurement_standards", "catalog_lines", "catalog_versions", "persons", "regulations",
                   "recorded_values", "indicators")


def coverage_queries(seen: list[str]) -> list[str]:
    return [s for s in seen if any(table in s for table in COVERAGE_TABLES)]


@contextmanager
def backend(app, store):
    """Give ``app`` this cache backend for the block (the tests' default is NullCache)."""
    previous = app.extensions["cache"][cache]
    app.extensions["cache"][cache] = store
    try:
        yield store
    finally:
        app.extensions["cache"][cache] = previous


@pytest.fixture
def report_cache(app):
    with backend(app, SimpleCache()) as store:
        yield store


@pytest.fixture
def registry_data(session, users, catalog, nanchang):
    lines = [factories.catalog_line(catalog) for _ in range(3)]
    factories.standard(nanchang, lines=[lines[0]], valid_until=date(2027, 12, 31))
    factories.standard(users.own, lines=[lines[1]], valid_until=date(2025, 9, 30))
    factories.person(nanchang, registration_no="R-CACHE-1", registered_on=date(2023, 1, 1))
    session.commit()
    return lines


def _without_csrf(html: str) -> str:
    return re.sub(r'(name="csrf-token" content|name="csrf_token" value)="[^"]*"', "", html)


def _value(body: dict, key: str):
    return next(item for item in body["indicators"] if item["key"] == key)["value"]


# --- The cached dict and the object rebuilt from it ------------------------------


@pytest.mark.parametrize("kind, args, kwargs", [
    ("report", (AS_OF, None), {}), ("report", (AS_OF, "360100"), {}), ("regions", (AS_OF, None), {}),
    ("gaps", (AS_OF, None), {}), ("single_points", (AS_OF, "360100", 6), {}), ("forecast", (AS_OF, None, 3), {}),
    ("expiring", (AS_OF, 6, None), {"limit": 10}),
])
def test_a_rebuilt_result_equals_the_computed_one(registry_data, kind, args, kwargs):
    computed = coverage_cache.KINDS[kind](*args, **kwargs)
    rebuilt = coverage_cache.revive(type(computed), computed.to_dict())
    assert rebuilt == computed
    assert coverage_cache.result(kind, *args, **kwargs) == computed


def test_the_institution_share_is_rebuilt_too(registry_data, users):
    computed = services.institution_share(AS_OF, users.own.id)
    assert coverage_cache.revive(type(computed), computed.to_dict()) == computed


def _standards_figures(seen: list[str]) -> int:
    """How many figures the statements counted over the standards (several dates or regions may share a query)."""
    return sum(s.count("count(") for s in seen if "measurement_standards" in s)


@pytest.mark.parametrize("kind, region", [("report", None), ("report", "360100"), ("regions", None)])
def test_past_the_deadline_its_figures_are_computed_once(app, registry_data, report_cache, kind, region):
    """Every date after the last deadline is judged on the deadline's figures: kept, not computed again."""
    function = coverage_cache.KINDS[kind]
    with backend(app, NullCache()):
        uncached = function(date(2026, 9, 30), region).to_dict()
    with statements() as cold:
        function(date(2026, 6, 30), region)
    with statements() as warm:
        second = function(date(2026, 9, 30), region).to_dict()
    with statements() as in_force:
        function(date(2025, 6, 30), region)  # inside the plan: one date
    assert second == uncached
    assert second["plan"]["status"] == "deadline_passed"
    assert any(item["judged_on"] == "2025-12-31" for item in
               (second["indicators"] if kind == "report" else second["regions"][0]["indicators"]))
    assert _standards_figures(warm) < _standards_figures(cold)
    assert _standards_figures(warm) == _standards_figures(in_force)


def test_the_provinces_counts_for_city_shares_are_computed_once(app, registry_data, report_cache):
    """A city's count without a city target shows its share of the province's: one province count per date."""
    with backend(app, NullCache()):
        uncached = services.coverage_report(AS_OF, "360400").to_dict()
    with statements() as cold:
        services.coverage_report(AS_OF, "360100")
    with statements() as warm:
        second = services.coverage_report(AS_OF, "360400").to_dict()
    assert second == uncached
    social = next(item for item in second["indicators"] if item["key"] == "social_public_standards")
    assert social["basis"] == "no_city_target" and social["share_of_province"] is not None
    assert _standards_figures(warm) < _standards_figures(cold)


# --- Hits, misses and invalidation ------------------------------------------------


def test_a_repeated_api_report_runs_no_coverage_query(client, auth, users, registry_data, report_cache):
    headers = auth.token(users.regulator)
    url = f"/api/v1/coverage?as_of={AS_OF}&region=360100"
    with statements() as first:
        body = client.get(url, headers=headers).get_json()
    assert coverage_queries(first), "the first request computes the report"
    with statements() as second:
        again = client.get(url, headers=headers).get_json()
    assert again == body
    assert coverage_queries(second) == [], second
    assert sum("audit_events" in s for s in second) == 1, "one look-up of the data version"


def test_a_repeated_dashboard_runs_no_coverage_query(client, auth, users, registry_data, report_cache):
    auth.login_session(users.regulator)
    url = f"/dashboard?as_of={AS_OF}&region=360100"
    first = client.get(url)
    assert first.status_code == 200
    with statements() as second:
        again = client.get(url)
    assert again.status_code == 200
    assert coverage_queries(second) == [], second
    assert _without_csrf(again.get_data(as_text=True)) == _without_csrf(first.get_data(as_text=True))


def test_the_api_and_the_dashboard_share_entries(client, auth, users, registry_data, report_cache):
    auth.login_session(users.regulator)
    client.get(f"/dashboard?as_of={AS_OF}&region=360100")
    with statements() as seen:
        response = client.get(f"/api/v1/coverage?as_of={AS_OF}&region=360100")
    assert response.status_code == 200
    assert coverage_queries(seen) == []


def test_a_committed_change_is_seen_at_once(client, auth, users, registry_data, report_cache, nanchang, session):
    headers = auth.token(users.regulator)
    url = f"/api/v1/coverage?as_of={AS_OF}&region=360100"
    before = _value(client.get(url, headers=headers).get_json(), "social_public_standards")
    register_standard({"certificate_no": "[2024]赣量标缓证字第1号", "name": "缓存测试装置", "category": "social_public",
                       "institution_id": nanchang.id, "issued_on": date(2024, 1, 1)}, actor=users.regulator)
    session.commit()
    with statements() as seen:
        after = client.get(url, headers=headers).get_json()
    assert coverage_queries(seen), "the new data version is a miss"
    assert _value(after, "social_public_standards") == before + 1
    assert after == services.coverage_report(AS_OF, "360100").to_dict()


def test_a_change_rolled_back_leaves_the_entry(client, auth, users, registry_data, report_cache, nanchang, session):
    headers = auth.token(users.regulator)
    url = f"/api/v1/coverage?as_of={AS_OF}"
    client.get(url, headers=headers)
    register_standard({"certificate_no": "[2024]赣量标缓证字第2号", "name": "未提交装置", "category": "social_public",
                       "institution_id": nanchang.id, "issued_on": date(2024, 1, 1)}, actor=users.regulator)
    session.rollback()
    with statements() as seen:
        client.get(url, headers=headers)
    assert coverage_queries(seen) == []


def test_dates_and_settings_are_in_the_key(app, client, auth, users, registry_data, report_cache):
    headers = auth.token(users.regulator)
    body = client.get(f"/api/v1/coverage?as_of={AS_OF}", headers=headers).get_json()
    later = client.get("/api/v1/coverage?as_of=2030-01-01", headers=headers).get_json()
    assert later["as_of"] == "2030-01-01" != body["as_of"]
    previous = app.config["COVERING_STATUSES"]
    app.config["COVERING_STATUSES"] = ("sealed",)
    try:
        sealed = client.get(f"/api/v1/coverage?as_of={AS_OF}", headers=headers).get_json()
    finally:
        app.config["COVERING_STATUSES"] = previous
    assert _value(sealed, "social_public_standards") == 0 < _value(body, "social_public_standards")


def test_the_default_date_is_keyed_as_today(client, auth, users, registry_data, report_cache):
    headers = auth.token(users.regulator)
    client.get("/api/v1/coverage", headers=headers)
    with statements() as seen:
        body = client.get(f"/api/v1/coverage?as_of={date.today()}", headers=headers).get_json()
    assert body["as_of"] == date.today().isoformat()
    assert coverage_queries(seen) == [], "no date and today's date are the same entry"


def test_the_cli_reads_through_the_cache(runner, registry_data, report_cache):
    first = runner.invoke(args=["coverage", "--as-of", AS_OF.isoformat(), "--json"])
    assert first.exit_code == 0, first.output
    with statements() as seen:
        second = runner.invoke(args=["coverage", "--as-of", AS_OF.isoformat(), "--json"])
    assert second.output == first.output
    assert coverage_queries(seen) == []
    cleared = runner.invoke(args=["coverage", "clear-cache"])
    assert cleared.exit_code == 0 and len(report_cache._cache) == 0


def test_no_cache_in_tests_by_default(app, client, auth, users, registry_data):
    headers = auth.token(users.regulator)
    client.get(f"/api/v1/coverage?as_of={AS_OF}", headers=headers)
    with statements() as seen:
        client.get(f"/api/v1/coverage?as_of={AS_OF}", headers=headers)
    assert coverage_queries(seen), "NullCache: every request computes"


# --- Redis: shared by app servers, and a Redis that is down -----------------------


def _redis_or_skip(url: str):
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.skip(f"no Redis at {url}: {error}")
    return client


def _app_with_redis(base, url: str, prefix: str):
    import config
    from registry import create_app

    settings = config.TestingConfig()
    settings.SQLALCHEMY_DATABASE_URI = base.config["SQLALCHEMY_DATABASE_URI"]
    settings.CACHE_TYPE, settings.CACHE_REDIS_URL, settings.CACHE_KEY_PREFIX = "RedisCache", url, prefix
    return create_app(settings)


def test_two_app_servers_share_entries_through_redis(app, users, registry_data, auth):
    url = app.config["TEST_REDIS_URL"]
    redis_client = _redis_or_skip(url)
    prefix = f"registry-test:{uuid.uuid4().hex}:"
    first, second = _app_with_redis(app, url, prefix), _app_with_redis(app, url, prefix)
    headers = auth.token(users.regulator)  # the tests' session (one connection) serves both apps
    try:
        query = f"/api/v1/coverage?as_of={AS_OF}&region=360100"
        with first.app_context():
            body = first.test_client().get(query, headers=headers).get_json()
        assert redis_client.keys(prefix + "*"), "the first server stored the report in Redis"
        with second.app_context(), statements() as seen:
            again = second.test_client().get(query, headers=headers).get_json()
        assert again == body
        assert coverage_queries(seen) == [], "the second server read the first one's entry"
        with second.app_context():
            coverage_cache.clear()
        assert not redis_client.keys(prefix + "*")
    finally:
        for key in redis_client.keys(prefix + "*"):
            redis_client.delete(key)


def test_a_cache_that_is_down_costs_only_speed(app, client, auth, users, registry_data):
    from flask_caching.backends.rediscache import RedisCache

    headers = auth.token(users.regulator)
    expected = client.get(f"/api/v1/coverage?as_of={AS_OF}", headers=headers).get_json()
    down = RedisCache(host="127.0.0.1", port=1, key_prefix="registry-test-down:")
    with backend(app, down):
        response = client.get(f"/api/v1/coverage?as_of={AS_OF}", headers=headers)
    assert response.status_code == 200
    assert response.get_json() == expected


def test_a_transaction_that_commits_after_a_later_one_is_seen(client, auth, users, registry_data, report_cache,
                                                              session):
    """On PostgreSQL ids are handed out at insert: id 10 may commit after id 11.  The version still moves."""
    from registry.audit.models import AuditEvent
    from registry.audit.services import event_values

    headers = auth.token(users.regulator)
    url = f"/api/v1/coverage?as_of={AS_OF}"
    last = session.scalar(sa.select(sa.func.max(AuditEvent.id))) or 0
    session.add(AuditEvent(id=last + 2, **event_values("update", "measurement_standards", 1, note="later id")))
    session.commit()
    client.get(url, headers=headers)
    session.add(AuditEvent(id=last + 1, occurred_at=datetime(2000, 1, 1, tzinfo=timezone.utc),
                           **event_values("update", "measurement_standards", 1, note="earlier id, later commit")))
    session.commit()
    with statements() as seen:
        client.get(url, headers=headers)
    assert coverage_queries(seen), "the late commit moved the data version"
