"""The dashboard keeps its drawn report part: a repeated page draws nothing again, yet each reader gets their
own navigation, name and CSRF token, each language its own text, and a committed change shows at once."""
from __future__ import annotations

import re
from datetime import date

import pytest

from registry.coverage import cache as coverage_cache
from registry.standards.services import register_standard
from tests.coverage.test_cache import backend, coverage_queries
from tests.dashboard.conftest import AS_OF, indicator_rows
from tests.statements import counted as statements

URL = f"/dashboard?as_of={AS_OF}"


@pytest.fixture
def page_cache(app):
    from flask_caching.backends.simplecache import SimpleCache

    with backend(app, SimpleCache()) as store:
        yield store


def _fragments(store) -> list[str]:
    return [key for key in store._cache if key.startswith("page:dashboard:")]


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_a_repeated_dashboard_draws_the_report_part_once(client, users, auth, province, page_cache):
    auth.login_session(users.regulator)
    first = client.get(URL).get_data(as_text=True)
    assert len(_fragments(page_cache)) == 1
    with statements() as seen:
        again = client.get(URL).get_data(as_text=True)
    assert coverage_queries(seen) == []
    assert indicator_rows(again) == indicator_rows(first)
    assert 'data-testid="regions-table"' in again and 'id="dashboard-data"' in again


def test_each_reader_gets_their_own_name_and_token_around_the_kept_part(client, users, auth, province, page_cache):
    auth.login_session(users.regulator)
    regulator = client.get(URL).get_data(as_text=True)
    auth.login_session(users.admin)
    admin = client.get(URL).get_data(as_text=True)
    assert users.admin.email in admin and users.regulator.email not in admin
    assert users.regulator.email in regulator
    assert 'href="/admin/users"' in admin and 'href="/admin/users"' not in regulator  # navigation: per request
    assert indicator_rows(admin) == indicator_rows(regulator)
    assert _csrf(admin) and _csrf(regulator)
    assert len(_fragments(page_cache)) == 2, "one kept part per role"


def test_each_language_has_its_own_kept_part(client, users, auth, province, page_cache):
    auth.login_session(users.regulator)
    chinese = client.get(URL).get_data(as_text=True)
    client.get("/lang/en")
    english = client.get(URL).get_data(as_text=True)
    assert "指标与目标" in chinese and "Indicators and targets" not in chinese
    assert "Indicators and targets" in english and "指标与目标" not in english
    client.get("/lang/zh_Hans_CN")
    assert "指标与目标" in client.get(URL).get_data(as_text=True)
    assert len(_fragments(page_cache)) == 2


def test_a_committed_change_is_drawn_at_once(client, users, auth, province, page_cache, session):
    auth.login_session(users.regulator)
    before = indicator_rows(client.get(URL).get_data(as_text=True))["social_public_standards"]["value"]
    register_standard({"certificate_no": "[2024]赣量标页证字第1号", "name": "页面缓存测试装置", "category": "social_public",
                       "institution_id": province.jiujiang.id, "issued_on": date(2024, 1, 1),
                       "valid_until": date(2029, 1, 1)}, actor=users.regulator)
    session.commit()
    after = indicator_rows(client.get(URL).get_data(as_text=True))["social_public_standards"]["value"]
    assert after == before + 1


def test_dates_and_regions_are_kept_apart(client, users, auth, province, page_cache):
    auth.login_session(users.regulator)
    province_page = client.get(URL).get_data(as_text=True)
    city_page = client.get(f"{URL}&region=360400").get_data(as_text=True)
    assert 'data-testid="dashboard-scope"' in city_page
    assert province_page != city_page
    client.get("/dashboard?as_of=2025-07-31")
    assert len(_fragments(page_cache)) == 3


def test_nothing_is_kept_while_templates_reload(app, client, users, auth, province, page_cache):
    auth.login_session(users.regulator)
    app.jinja_env.auto_reload = True
    try:
        assert client.get(URL).status_code == 200
    finally:
        app.jinja_env.auto_reload = False
    assert _fragments(page_cache) == []


def test_a_bad_date_is_never_kept(client, users, auth, province, page_cache):
    auth.login_session(users.regulator)
    assert client.get("/dashboard?as_of=2025-02-30").status_code == 400
    assert _fragments(page_cache) == []
    assert coverage_cache.get_fragment("page:dashboard:none") is None
