"""The catalog, regulations and staff pages in a real browser."""
from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser


def test_browse_the_catalog_in_force_and_filter_its_mandatory_lines(pages):
    pages.login("regulator")
    page = pages.page
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="强检目录").click()
    card = page.locator(".in-force-card")
    assert "现行目录" in card.inner_text()
    assert page.locator("tr.in-force").count() == 1
    pages.screenshot("catalog-index")
    card.get_by_role("link", name="全部条目").click()
    lines = page.get_by_test_id("catalog-lines")
    all_rows = lines.locator("tbody tr").count()
    page.get_by_label("强制检定").select_option("true")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_load_state()
    assert "mandatory=true" in page.url
    modes = page.get_by_test_id("catalog-lines").locator("tbody tr td:nth-child(4)").all_inner_texts()
    assert modes and all(mode.strip() in ("V", "P+V") for mode in modes)
    assert len(modes) <= all_rows
    pages.screenshot("catalog-version-mandatory")
    page.get_by_test_id("catalog-lines").locator("tbody tr a").first.click()
    assert page.get_by_role("heading", name="历史记录").is_visible()
    pages.screenshot("catalog-line")


def test_search_regulations_for_a_local_code_typed_with_full_width_brackets(pages):
    pages.login("institution")
    page = pages.page
    page.goto("/regulations/")
    page.get_by_label("搜索").fill("JJG（赣）101—2015")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_load_state()
    rows = page.locator("table.data tbody tr")
    assert rows.count() == 1
    assert "JJG(赣) 101-2015" in rows.first.inner_text()
    assert page.get_by_role("link", name="登记规程").count() == 0  # institution users only read regulations
    pages.screenshot("regulations-search")


def test_create_a_regulation_with_a_bad_code_then_fix_it(pages):
    pages.login("regulator")
    page = pages.page
    page.goto("/regulations/")
    page.get_by_role("link", name="登记规程").click()
    page.get_by_label("规程编号").fill("JJG 赣 12")
    page.get_by_label("规程名称").fill("浏览器测试压力变送器检定规程")
    page.get_by_label("发布日期").fill("2026-03-01")
    page.get_by_role("button", name="保存").click()
    error = page.locator("#code-errors")
    assert "规程编号无法识别" in error.inner_text()
    assert page.get_by_label("规程编号").get_attribute("aria-invalid") == "true"
    pages.screenshot("regulation-form-error")
    page.get_by_label("规程编号").fill("jjg（赣） 9123—2026")
    page.get_by_role("button", name="保存").click()
    page.wait_for_load_state()
    assert re.search(r"/regulations/\d+$", page.url)
    assert page.get_by_test_id("regulation-code").inner_text() == "JJG(赣) 9123-2026"
    assert page.get_by_role("heading", name="历史记录").is_visible()
    pages.screenshot("regulation-detail")


def test_an_institution_user_sees_only_their_own_staff(pages, live_server):
    pages.login("institution")
    page = pages.page
    page.goto("/personnel/")
    assert page.get_by_text("仅显示本机构的人员").is_visible()
    institutions = set(t.strip() for t in page.locator("table.data tbody tr td:nth-child(2)").all_inner_texts())
    assert institutions == {live_server.accounts.own_name}
    assert page.get_by_label("所在机构").count() == 0  # no institution filter: there is only one
    pages.screenshot("personnel-institution")
    page.locator("table.data tbody tr a").first.click()
    assert live_server.accounts.own_name in page.locator("main").inner_text()
    pages.screenshot("person-detail")


def test_staff_lists_in_english_and_at_tablet_width(pages):
    pages.login("admin")
    page = pages.page
    page.goto("/personnel/?registration_status=valid")
    page.get_by_role("link", name="English").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Technical staff and registered metrologists").is_visible()
    pages.screenshot("personnel-en")
    page.goto("/regulations/?level=local&is_urgent=true")
    assert page.get_by_role("heading", name="Verification regulations and specifications").is_visible()
    pages.screenshot("regulations-en")
    page.goto("/catalog/")
    pages.screenshot("catalog-en")
    page.get_by_role("link", name="中文").click()
    page.set_viewport_size({"width": 820, "height": 1180})
    page.goto("/regulations/")
    pages.screenshot("regulations-tablet")
    page.goto("/personnel/new")
    pages.screenshot("person-form-tablet")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 820, f"the form overflows the tablet width: {width}px"
