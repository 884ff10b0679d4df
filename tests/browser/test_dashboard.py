"""The regulator's dashboard and the institution home in a real browser, checked against the coverage service."""
from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

from registry.coverage import services
from registry.coverage.renewals import renewals

pytestmark = pytest.mark.browser

PAST = date(2025, 12, 31)  # the demo has certificates expiring within six months of this


def _rows(page) -> dict[str, dict]:
    """Each indicator row of the page: its value and fraction as the page shows them (data attributes)."""
    rows = {}
    for row in page.locator('[data-testid="indicators"] tbody tr').all():
        value = row.locator("td.value").get_attribute("data-value")
        fraction = row.locator("td.fraction")
        numerator, denominator = fraction.get_attribute("data-numerator"), fraction.get_attribute("data-denominator")
        rows[row.get_attribute("data-indicator")] = {
            "value": float(value) if value else None,
            "numerator": int(numerator) if numerator else None,
            "denominator": int(denominator) if denominator else None,
            "met": row.locator("[data-met]").get_attribute("data-met"),
        }
    return rows


def _expected(live_server, as_of: date, region: str | None = None) -> dict[str, dict]:
    with live_server.app.app_context():
        report = services.coverage_report(as_of, region)
    return {item.key: {"value": item.value, "numerator": item.numerator, "denominator": item.denominator,
                       "met": {True: "true", False: "false", None: "none"}[item.met]} for item in report.indicators}


def _charts_drawn(page) -> bool:
    return page.evaluate("""() => ['chart-regions', 'chart-forecast'].every(id => {
        const canvas = document.getElementById(id);
        return canvas && window.Chart && Chart.getChart(canvas) && canvas.width > 0 && canvas.height > 0;
    })""")


def test_the_regulator_reads_the_services_numbers_and_changes_the_date(pages, live_server):
    pages.login("regulator")
    page = pages.page
    assert page.url.endswith("/dashboard")
    assert page.get_by_role("heading", name="覆盖率总览").is_visible()
    today = _rows(page)
    assert today == _expected(live_server, date.today())
    assert page.get_by_text("目录不完整").first.is_visible()
    assert _charts_drawn(page)
    pages.screenshot("dashboard-zh")

    page.get_by_label("截至日期").fill(PAST.isoformat())
    page.get_by_role("button", name="查看").click()
    page.wait_for_load_state()
    assert f"as_of={PAST.isoformat()}" in page.url
    past = _rows(page)
    expected = _expected(live_server, PAST)
    assert past == expected
    assert past != today  # the demo certificates differ between the two dates
    assert _charts_drawn(page)

    with live_server.app.app_context():
        listing = renewals(PAST, None, limit=25)
    page.get_by_role("link", name="查看清单").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="应申请复查的证书").is_visible()
    shown = page.locator('[data-testid="renewals-table"] tbody tr td.cert').all_inner_texts()
    assert listing.items and shown == [item.standard.certificate_no for item in listing.items]
    assert f"{listing.apply_now_total:,}" in page.get_by_test_id("renewals-summary").inner_text()
    pages.screenshot("dashboard-expiring")


def test_switching_city_shows_that_citys_numbers_and_highlights_it(pages, live_server):
    pages.login("regulator")
    page = pages.page
    page.get_by_label("地区").select_option("360400")
    page.get_by_role("button", name="查看").click()
    page.wait_for_load_state()
    assert "region=360400" in page.url
    assert _rows(page) == _expected(live_server, date.today(), "360400")
    assert "九江市" in page.get_by_test_id("dashboard-scope").inner_text()
    assert page.locator('[data-testid="gaps-by-city"] tr.selected-region').get_attribute("data-region") == "360400"
    assert _charts_drawn(page)
    with live_server.app.app_context():
        risks = services.single_points_of_failure(date.today(), "360400")
        gaps = services.coverage_gaps(date.today(), "360400")
    if risks.lines:  # the demo has some in most cities
        table = page.get_by_test_id("risks").inner_text()
        for entry in risks.lines:
            assert entry.line.code in table
            assert all(standard.certificate_no in table for standard in entry.standards)
    else:
        assert page.get_by_text("无单点失效").is_visible()
    assert f"{gaps.uncovered_count} / {gaps.mandatory_line_count}" in page.get_by_test_id("gap-count").inner_text()
    pages.screenshot("dashboard-city")


def test_the_charts_switch_indicator_and_their_tables_hold_the_numbers(pages, live_server):
    page = pages.page
    console_errors: list[str] = []
    # The browser asks for /favicon.ico, which no page serves: only other errors count.
    page.on("console", lambda message: console_errors.append(message.text)
            if message.type == "error" and "Failed to load resource" not in message.text else None)
    page.on("response", lambda response: console_errors.append(f"{response.status} {response.url}")
            if response.status >= 400 and not response.url.endswith("/favicon.ico") else None)
    pages.login("regulator")
    regions = page.locator("#chart-regions")
    assert regions.get_attribute("data-indicator") == "mandatory_item_coverage"
    page.get_by_label("按城市比较的指标").select_option("registered_metrologist_share")
    assert regions.get_attribute("data-indicator") == "registered_metrologist_share"
    page.get_by_label("预测的指标").select_option("mandatory_item_coverage")
    assert page.locator("#chart-forecast").get_attribute("data-indicator") == "mandatory_item_coverage"
    assert _charts_drawn(page)

    page.locator("details.chart-table summary").first.click()
    with live_server.app.app_context():
        table = services.coverage_by_region(date.today())
    nanchang = next(column for column in table.regions if column.region == "360100")
    coverage = next(item for item in nanchang.indicators if item.key == "mandatory_item_coverage")
    cell = page.locator('[data-testid="regions-table"] tr[data-indicator="mandatory_item_coverage"] '
                        'td[data-region="360100"]')
    assert cell.is_visible()
    assert float(cell.get_attribute("data-value")) == coverage.value
    assert f"{coverage.value * 100:.2f}%" in cell.inner_text()
    pages.screenshot("dashboard-chart-table")
    from tests.browser.conftest import SCREENSHOTS

    for index, name in enumerate(("dashboard-chart-cities", "dashboard-chart-forecast")):
        page.locator(".chart-card").nth(index).screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    assert not console_errors, console_errors  # e.g. a Content-Security-Policy refusal


def test_the_dashboard_in_english_and_on_a_tablet(pages, live_server):
    pages.login("regulator")
    page = pages.page
    page.get_by_role("link", name="English").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Coverage overview").is_visible()
    assert page.get_by_role("heading", name="Indicators and targets").is_visible()
    assert _charts_drawn(page)
    pages.screenshot("dashboard-en")
    page.get_by_role("link", name="中文").click()
    page.wait_for_load_state()
    page.set_viewport_size({"width": 820, "height": 1180})
    page.reload()
    assert _charts_drawn(page)
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
    pages.screenshot("dashboard-tablet")


def test_the_institution_user_lands_home_and_sees_their_expiring_certificates(pages, live_server):
    pages.login("institution")
    page = pages.page
    assert page.url.endswith("/home")
    assert page.get_by_role("heading", name=live_server.accounts.own_name).is_visible()
    with live_server.app.app_context():
        listing = renewals(date.today(), None, institution_id=live_server.accounts.own)
        share = services.institution_share(date.today(), live_server.accounts.own)
    shown = page.locator('[data-testid="apply-now-table"] tbody tr td.cert').all_inner_texts()
    assert shown == [item.standard.certificate_no for item in listing.items]
    assert page.get_by_test_id("home-expiring-count").inner_text().count(str(listing.apply_now_total)) >= 1
    assert page.locator('[data-testid="share"] dd').first.get_attribute("data-own") == str(share.social_public)
    pages.screenshot("home-institution-dashboard")
    page.get_by_role("link", name="English").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Apply for re-examination now").is_visible()
    pages.screenshot("home-institution-en")
    page.get_by_role("link", name="中文").click()
    response = page.goto("/dashboard")
    assert response.status == 404 and page.locator("h1").first.inner_text() == "页面不存在"


IN_PLAN = date(2025, 6, 30)
COUNT_KEYS_CITY = ("social_public_standards", "carbon_standards", "integrity_units")


def test_a_city_gets_no_count_verdict_without_a_city_target(pages, live_server):
    pages.login("regulator")
    page = pages.page
    page.goto(f"/dashboard?as_of={IN_PLAN.isoformat()}&region=360700")
    rows = _rows(page)
    assert rows == _expected(live_server, IN_PLAN, "360700")
    with live_server.app.app_context():
        report = services.coverage_report(IN_PLAN, "360700")
    for item in report.indicators:
        row = page.locator(f'[data-testid="indicators"] tr[data-indicator="{item.key}"]')
        if item.basis == "no_city_target":
            assert rows[item.key]["met"] == "none"
            assert row.locator('[data-basis="no_city_target"]').inner_text().startswith("本市未设目标，不评判")
        elif item.basis == "province_target":
            assert rows[item.key]["met"] in ("true", "false")
            assert row.locator('[data-basis="province_target"]').is_visible()
        elif item.basis == "province_wide":
            assert rows[item.key]["value"] is None and rows[item.key]["met"] == "none"
            assert "全省" in row.locator('[data-basis="province_wide"]').inner_text()
    assert {i.key for i in report.indicators if i.basis == "no_city_target"} >= {"social_public_standards"}
    assert page.locator('[data-testid="indicators"] [data-met="false"]').count() == \
        sum(1 for i in report.indicators if i.met is False)
    # The headline says how much of the catalog is loaded, in one language, with a way to load the rest.
    lines = page.get_by_test_id("headline-lines")
    assert lines.inner_text().startswith(f"已载入目录 {report.catalog.declared_line_count} 条中的 "
                                         f"{report.catalog.loaded_line_count} 条")
    assert "loaded" not in lines.inner_text()
    # The city's gaps are out of the lines counted for it (its level), as the service says.
    with live_server.app.app_context():
        gaps = services.coverage_gaps(IN_PLAN)
    ganzhou = next(entry for entry in gaps.by_region if entry.region == "360700")
    expect(page.get_by_test_id("gap-count")).to_contain_text(f"{ganzhou.uncovered_count} / {ganzhou.line_count}")
    pages.screenshot("dashboard-city-no-count-verdicts")
    page.get_by_role("link", name="English").click()
    page.wait_for_load_state()
    text = page.get_by_test_id("headline-lines").inner_text()
    assert text.startswith(f"{report.catalog.loaded_line_count} of {report.catalog.declared_line_count} catalog "
                           "lines loaded") and "已载入" not in text
    assert page.locator('[data-basis="no_city_target"]').first.inner_text().startswith("No target set for this city")
    pages.screenshot("dashboard-city-en")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
    pages.screenshot("dashboard-city-en-390")
    page.get_by_role("link", name="中文").click()
    page.wait_for_load_state()
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
    pages.screenshot("dashboard-city-zh-390")


def test_after_the_last_deadline_the_plan_says_so_and_the_forecast_judges_nothing(pages, live_server):
    late = date(2026, 12, 5)
    pages.login("regulator")
    page = pages.page
    page.goto(f"/dashboard?as_of={late.isoformat()}")
    plan = page.get_by_test_id("plan")
    assert plan.get_attribute("data-plan-status") == "deadline_passed"
    assert "期限已过" in plan.inner_text() and "2021–2025" in plan.inner_text()
    with live_server.app.app_context():
        report = services.coverage_report(late)
    assert _rows(page) == _expected(live_server, late)
    social = next(i for i in report.indicators if i.key == "social_public_standards")
    assert social.judged_on == date(2025, 12, 31)
    note = page.locator('[data-testid="indicators"] tr[data-indicator="social_public_standards"] [data-judged-on]')
    assert note.get_attribute("data-judged-on") == "2025-12-31"
    # Every month forecast lies after the deadline: nothing to lose, no "first unmet" month.
    assert page.locator(".first-unmet").count() == 0
    assert page.locator('[data-testid="forecast-table"] .sr-mark.bad').count() == 0
    # Nor a target line: no plan runs over those months.
    assert page.evaluate("() => Chart.getChart(document.getElementById('chart-forecast')).data.datasets.length") == 1
    pages.screenshot("dashboard-after-deadline")
    # The same in English, and on a phone in both languages: one language per sentence, no sideways scroll.
    page.get_by_role("link", name="English").click()
    page.wait_for_load_state()
    plan = page.get_by_test_id("plan")
    expect(plan).to_contain_text("Deadline passed")
    assert "期限已过" not in plan.inner_text()
    assert note.get_attribute("data-judged-on") == "2025-12-31"
    pages.screenshot("dashboard-after-deadline-en")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
    pages.screenshot("dashboard-after-deadline-en-390")
    page.get_by_role("link", name="中文").click()
    page.wait_for_load_state()
    expect(page.get_by_test_id("plan")).to_contain_text("期限已过")
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
    pages.screenshot("dashboard-after-deadline-zh-390")
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"/dashboard?as_of={IN_PLAN.isoformat()}")
    line = page.evaluate("""() => Chart.getChart(document.getElementById('chart-forecast')).data.datasets[1].data""")
    # 2025-07-31 … 2025-12-31 judged against the 2021–2025 target, the months after it not.
    assert line[:6] == [90] * 6 and all(v is None for v in line[6:])
    page.get_by_role("link", name="规划与目标").click()
    page.wait_for_load_state()
    assert page.locator('[data-plan="2021–2025"]').is_visible()
    pages.screenshot("plans")


def test_the_expiring_list_answers_a_bad_institution_or_page_plainly(pages, live_server):
    pages.login("regulator")
    page = pages.page
    response = page.goto(f"/dashboard/expiring?as_of={PAST}&institution_id=99999999999999999999")
    assert response.status == 400
    assert page.get_by_text("机构编号“99999999999999999999”无效。").is_visible()
    assert page.get_by_label("截至日期").input_value() == PAST.isoformat()  # the form is there to correct it
    pages.screenshot("expiring-bad-institution-zh")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
    pages.screenshot("expiring-bad-institution-zh-390")

    page.set_viewport_size({"width": 1366, "height": 900})
    response = page.goto(f"/dashboard/expiring?as_of={PAST}&page=99999999999999999999")
    assert response.status == 200
    with live_server.app.app_context():
        total = renewals(PAST, None, limit=1).total
    last = max(1, -(-total // 25))
    assert page.get_by_text(f"第 {last} / {last} 页").is_visible()
    pages.screenshot("expiring-past-the-end-zh")

    page.get_by_role("link", name="English").click()
    page.wait_for_load_state()
    page.goto(f"/dashboard/expiring?as_of={PAST}&institution_id=abc")
    assert page.get_by_text("“abc” is not an institution id.").is_visible()
    pages.screenshot("expiring-bad-institution-en")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/dashboard/expiring?as_of={PAST}&page=99999999999999999999")
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
    pages.screenshot("expiring-past-the-end-en-390")
    page.get_by_role("link", name="中文").click()
