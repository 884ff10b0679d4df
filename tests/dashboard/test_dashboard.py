"""The regulator's dashboard through the test client: access, arguments, and the service's numbers on the page."""
from __future__ import annotations

import re
from datetime import date

import pytest

from registry.coverage import services
from registry.coverage.renewals import renewals
from tests.dashboard.conftest import AS_OF, indicator_rows, section, text


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get("/dashboard?region=360100")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/dashboard")


def test_an_institution_user_is_told_the_dashboard_does_not_exist(client, users, auth):
    auth.login_session(users.institution)
    assert client.get("/dashboard").status_code == 404


@pytest.mark.parametrize("role", ["regulator", "admin"])
def test_staff_see_the_dashboard_for_today_and_the_province_by_default(client, users, auth, role):
    auth.login_session(getattr(users, role))
    response = client.get("/dashboard")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f'value="{date.today().isoformat()}"' in page
    assert '<option value="360000" selected>' in page
    assert set(indicator_rows(page)) == {item.key for item in services.coverage_report(date.today()).indicators}


@pytest.mark.parametrize("region", ["360000", "360100", "360400"])
def test_the_numbers_on_the_page_are_the_services_for_that_date_and_region(client, users, auth, province, region):
    auth.login_session(users.regulator)
    page = client.get(f"/dashboard?as_of={AS_OF}&region={region}").get_data(as_text=True)
    rows = indicator_rows(page)
    report = services.coverage_report(AS_OF, region)
    assert len(rows) == len(report.indicators)
    for item in report.indicators:
        assert rows[item.key] == {"value": item.value, "numerator": item.numerator,
                                  "denominator": item.denominator, "met": item.met}, item.key
    assert f'<option value="{region}" selected>' in page
    assert report.catalog.name in page


def test_the_as_of_date_changes_the_numbers(client, users, auth, province):
    auth.login_session(users.regulator)
    before = indicator_rows(client.get(f"/dashboard?as_of={AS_OF}").get_data(as_text=True))
    later = date(2025, 10, 15)  # 九江's standard on line b expired on 2025-09-30
    after = indicator_rows(client.get(f"/dashboard?as_of={later}").get_data(as_text=True))
    coverage = "mandatory_item_coverage"
    assert before[coverage]["numerator"] == 3 and after[coverage]["numerator"] == 2
    assert after[coverage]["numerator"] == next(
        i.numerator for i in services.coverage_report(later).indicators if i.key == coverage)


def test_the_page_shows_the_catalog_and_its_completeness_warning(client, users, auth, province):
    auth.login_session(users.regulator)
    page = client.get(f"/dashboard?as_of={AS_OF}").get_data(as_text=True)
    report = services.coverage_report(AS_OF)
    assert report.catalog.warnings()  # 4 of 6 declared lines loaded
    # Said once, in the page's language, not as the service's two-language sentence.
    for warning in report.catalog.warnings():
        assert warning not in text(page)
    assert "目录不完整" in page and "已载入目录 6 条中的 4 条" in text(page)
    for warning in set(report.warnings) - set(report.catalog.warnings()):
        assert warning in text(page)


def test_met_and_unmet_are_said_in_words(client, users, auth, province):
    auth.login_session(users.regulator)
    page = client.get(f"/dashboard?as_of={AS_OF}").get_data(as_text=True)
    assert "✗ 未达标" in page and 'class="tag tag-bad"' in page


def test_the_city_table_and_chart_data_are_the_by_region_services(client, users, auth, province):
    import json
    import re

    auth.login_session(users.regulator)
    page = client.get(f"/dashboard?as_of={AS_OF}&region=360400").get_data(as_text=True)
    table = services.coverage_by_region(AS_OF)
    data = json.loads(re.search(r'<script type="application/json" id="dashboard-data">(.*?)</script>',
                                page, re.S).group(1))
    assert data["byRegion"]["codes"] == [column.region for column in table.regions]
    for i, item in enumerate(table.regions[0].indicators):
        assert data["byRegion"]["values"][item.key] == [column.indicators[i].value for column in table.regions]
    cities = section(page, "regions-table")
    jiujiang = next(column for column in table.regions if column.region == "360400")
    coverage = next(i for i in jiujiang.indicators if i.key == "mandatory_item_coverage")
    assert f'data-region="360400" data-value="{coverage.value}"' in cities
    forecast = services.coverage_forecast(AS_OF, "360400", 24)
    assert data["forecast"]["dates"] == [day.isoformat() for day in forecast.dates]
    assert data["forecast"]["values"]["mandatory_item_coverage"] == [
        point.value for point in next(s for s in forecast.indicators if s.key == "mandatory_item_coverage").points]
    assert "chart.umd.min.js" in page and "dashboard.js" in page


def test_gaps_show_the_count_per_city_and_the_lines(client, users, auth, province):
    auth.login_session(users.regulator)
    page = client.get(f"/dashboard?as_of={AS_OF}&region=360100").get_data(as_text=True)
    gaps = services.coverage_gaps(AS_OF)
    per_city = section(page, "gaps-by-city")
    for entry in gaps.by_region:
        assert f'data-region="{entry.region}"' in per_city
    nanchang = next(entry for entry in gaps.by_region if entry.region == "360100")
    assert [line.code for line in nanchang.lines] == ["LB", "LD"]
    assert f"{nanchang.uncovered_count} / {gaps.mandatory_line_count}" in per_city
    lines = page[page.index('data-testid="gap-lines"'):]
    assert "LB" in lines and "LD" in lines and "LA" not in lines.split("</ul>")[0]


def test_single_points_list_the_lines_and_their_standards(client, users, auth, province):
    auth.login_session(users.regulator)
    page = client.get(f"/dashboard?as_of={AS_OF}&region=360100").get_data(as_text=True)
    risks = services.single_points_of_failure(AS_OF, "360100")
    assert [entry.line.code for entry in risks.lines] == ["LC"]
    table = section(page, "risks")
    assert province.own_soon.certificate_no in table and province.other_soon.certificate_no in table
    assert users.own.name in table and users.other_institution.name in table
    # Standard and institution pages are another feature's: linked only when they exist.
    from registry.web.core import has_endpoint

    with client.application.test_request_context():
        linked = has_endpoint("standards_pages.detail")
    assert (f"/standards/{province.own_soon.id}" in table) == linked


def test_the_province_risks_differ_from_the_citys(client, users, auth, province):
    auth.login_session(users.regulator)
    page = client.get(f"/dashboard?as_of={AS_OF}").get_data(as_text=True)
    assert [e.line.code for e in services.single_points_of_failure(AS_OF).lines] == ["LB"]
    assert province.jj_b.certificate_no in section(page, "risks")
    assert province.own_soon.certificate_no not in section(page, "risks")


def test_the_expiring_count_links_to_the_list(client, users, auth, province):
    auth.login_session(users.regulator)
    page = client.get(f"/dashboard?as_of={AS_OF}&region=360100").get_data(as_text=True)
    listing = renewals(AS_OF, "360100")
    assert (listing.apply_now_total, listing.overdue_total, listing.expired_total) == (2, 2, 1)
    count = page[page.index('data-testid="expiring-count"'):]
    assert 'data-apply-now="2" data-overdue="2" data-expired="1"' in count
    assert "2 张证书应在 2025年12月30日 前申请复查" in count.split("</p>")[0]
    assert f"/dashboard/expiring?as_of={AS_OF}&amp;region=360100" in count


@pytest.mark.parametrize("query, message", [
    ("as_of=2025-02-30", "日期“2025-02-30”无效"),
    ("as_of=yesterday", "日期“yesterday”无效"),
    ("as_of=0001-01-01", "日期应在"),
    ("as_of=9999-12-31", "日期应在"),
    ("region=999999", "地区“999999”不是"),
    ("region=abc", "地区“abc”不是"),
    ("region=360102", "地区“360102”不是"),
])
def test_a_bad_date_or_region_is_answered_plainly(client, users, auth, query, message):
    auth.login_session(users.regulator)
    response = client.get(f"/dashboard?{query}")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert 'name="as_of"' in page  # the form is still there to correct it
    assert "dashboard.js" not in page


def test_the_dashboard_reads_in_english(client, users, auth, province):
    auth.login_session(users.regulator)
    client.get("/lang/en")
    page = client.get(f"/dashboard?as_of={AS_OF}").get_data(as_text=True)
    for phrase in ("Coverage overview", "Indicators and targets", "Not met", "Gaps", "Single points of failure",
                   "Mandatory-verification item coverage"):
        assert phrase in page, phrase
    assert "建标空白" not in page


def test_the_expiring_list_for_staff_covers_the_region(client, users, auth, province):
    auth.login_session(users.regulator)
    page = client.get(f"/dashboard/expiring?as_of={AS_OF}&region=360100").get_data(as_text=True)
    table = section(page, "renewals-table")
    assert province.own_soon.certificate_no in table and province.other_soon.certificate_no in table
    assert province.jj_b.certificate_no not in table and province.own_a.certificate_no not in table
    # apply for re-examination six months before expiry: 2025-08-31 -> 2025-02-28, already past on AS_OF
    assert "2025年2月28日" in table and table.count("已过申请期") == 2
    # the list before apply-by windows is still there
    old = client.get(f"/dashboard/expiring?as_of={AS_OF}&region=360100&window=expiring").get_data(as_text=True)
    assert province.own_soon.certificate_no in section(old, "expiring-table")
    expired = client.get(f"/dashboard/expiring?as_of={AS_OF}&region=360100&window=expired").get_data(as_text=True)
    assert province.own_expired.certificate_no in section(expired, "renewals-table")
    assert client.get("/dashboard/expiring?window=soon").status_code == 400


def test_the_expiring_list_rejects_a_bad_date(client, users, auth):
    auth.login_session(users.regulator)
    response = client.get("/dashboard/expiring?as_of=2025-13-01")
    assert response.status_code == 400 and "无效" in response.get_data(as_text=True)


def test_the_expiring_list_pages_through_the_service(client, users, auth, session):
    from tests import factories

    for day in range(1, 31):
        factories.standard(users.own, issued_on=date(2024, 1, 1), valid_until=date(2025, 7, day))
    session.commit()
    auth.login_session(users.regulator)
    first = client.get(f"/dashboard/expiring?as_of={AS_OF}&region=360100").get_data(as_text=True)
    second = client.get(f"/dashboard/expiring?as_of={AS_OF}&region=360100&page=2").get_data(as_text=True)
    listing = renewals(AS_OF, "360100", limit=100)
    numbers = [item.standard.certificate_no for item in listing.items]
    assert listing.total == 30
    assert all(number in section(first, "renewals-table") for number in numbers[:25])
    assert numbers[25] not in section(first, "renewals-table")
    assert all(number in section(second, "renewals-table") for number in numbers[25:])
    assert "第 2 / 2 页" in second


def test_the_dashboard_counts_undated_statuses_and_links_to_them(client, users, auth, province, session):
    from tests import factories

    factories.standard(users.own, name="封存无日期", status="sealed", status_since=None)
    session.commit()
    auth.login_session(users.regulator)
    page = client.get("/dashboard", query_string={"as_of": "2025-06-30", "region": "360100"}).get_data(as_text=True)
    line = page[page.index('data-testid="undated-statuses"'):].split("</p>")[0]
    assert 'data-count="1"' in line and "1 项社会公用计量标准" in line
    link = re.search(r'href="([^"]+)"', line).group(1).replace("&amp;", "&")
    assert "status_undated=true" in link and "region=360100" in link and "category=social_public" in link
    listed = client.get(link).get_data(as_text=True)
    assert "封存无日期" in listed
    english = client.get("/dashboard", query_string={"as_of": "2025-06-30", "region": "360400", "lang": "en"})
    line = english.get_data(as_text=True)
    line = line[line.index('data-testid="undated-statuses"'):].split("</p>")[0]
    assert 'data-count="0"' in line


@pytest.mark.parametrize("page", ["3", "99999999999999999999", str(2**63)])
def test_a_page_past_the_end_of_the_expiring_list_shows_the_last_page(client, users, auth, session, page):
    from tests import factories

    for day in range(1, 31):
        factories.standard(users.own, issued_on=date(2024, 1, 1), valid_until=date(2025, 7, day))
    session.commit()
    auth.login_session(users.regulator)
    response = client.get(f"/dashboard/expiring?as_of={AS_OF}&region=360100&page={page}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    listing = renewals(AS_OF, "360100", limit=100)
    assert "第 2 / 2 页" in html
    assert all(item.standard.certificate_no in section(html, "renewals-table") for item in listing.items[25:])


@pytest.mark.parametrize("value", ["99999999999999999999", "0", "-1", "abc", "²"])
def test_the_expiring_list_says_when_the_institution_is_not_an_id(client, users, auth, value):
    auth.login_session(users.regulator)
    response = client.get(f"/dashboard/expiring?as_of={AS_OF}&institution_id={value}")
    assert response.status_code == 400
    assert f"机构编号“{value}”无效" in response.get_data(as_text=True)


def test_the_expiring_list_takes_one_institution(client, users, auth, province):
    auth.login_session(users.regulator)
    html = client.get(f"/dashboard/expiring?as_of={AS_OF}&institution_id={users.other_institution.id}")
    table = section(html.get_data(as_text=True), "renewals-table")
    assert province.other_soon.certificate_no in table and province.own_soon.certificate_no not in table


@pytest.mark.parametrize("lang, province_text, city_text", [
    ("zh", "计入：各层级应建标的条目（4 / 4 条）", "计入：市级应建标的条目（3 / 4 条）"),
    ("en", "Counted: lines expected at any level (4 of 4)", "Counted: lines expected at city level (3 of 4)"),
])
def test_the_dashboard_says_which_lines_it_counted(client, users, auth, province, session, lang, province_text,
                                                   city_text):
    from registry.catalog.models import CatalogLine

    session.query(CatalogLine).filter(CatalogLine.code == "LD").update({"levels": "province"})
    session.commit()
    auth.login_session(users.regulator)
    if lang == "en":
        client.get("/lang/en")
    assert province_text in client.get(f"/dashboard?as_of={AS_OF}").get_data(as_text=True)
    assert city_text in client.get(f"/dashboard?as_of={AS_OF}&region=360400").get_data(as_text=True)


def test_a_citys_gaps_are_out_of_the_lines_counted_for_it(client, users, auth, province, session):
    """LD expected at province level only: 南昌 counts 3 lines (LA, LB, LC), one of them (LB) uncovered."""
    from registry.catalog.models import CatalogLine

    session.query(CatalogLine).filter(CatalogLine.code == "LD").update({"levels": "province"})
    session.commit()
    auth.login_session(users.regulator)
    page = client.get(f"/dashboard?as_of={AS_OF}&region=360100").get_data(as_text=True)
    gaps = services.coverage_gaps(AS_OF)
    nanchang = next(entry for entry in gaps.by_region if entry.region == "360100")
    assert ([line.code for line in nanchang.lines], nanchang.line_count, gaps.mandatory_line_count) == (["LB"], 3, 4)
    assert "1 / 3" in section(page, "gaps-by-city")
    assert "南昌市：1 / 3 条未覆盖" in page
    assert "南昌市：1 / 4" not in page
    whole = client.get(f"/dashboard?as_of={AS_OF}").get_data(as_text=True)
    assert f"：{gaps.uncovered_count} / 4 条未覆盖" in section(whole, "gap-count")
