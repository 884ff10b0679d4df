"""The standards and institutions registries in a real browser."""
from __future__ import annotations

import itertools
import re
from datetime import date

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from registry.extensions import db

pytestmark = pytest.mark.browser

_serial = itertools.count(1)


def make_standard(live_server, holder_id: int, name: str) -> tuple[int, str]:
    """Register a standard of this test's own, so the shared demo records stay as they are."""
    from registry.standards.services import register_standard

    certificate_no = f"[2025]赣量标证字第{8800 + next(_serial)}号"
    with live_server.app.app_context():
        standard = register_standard({"certificate_no": certificate_no, "name": name, "category": "social_public",
                                      "institution_id": holder_id, "issued_on": date(2025, 2, 1)}, actor=None)
        db.session.commit()
        standard_id = standard.id
        db.session.remove()
    return standard_id, certificate_no


def test_regulator_searches_filters_opens_and_edits_a_standard(pages, live_server):
    standard_id, certificate_no = make_standard(live_server, live_server.accounts.own, "浏览器编辑测试装置")
    pages.login("regulator")
    page = pages.page
    page.goto("/standards/")
    expect(page.get_by_role("heading", name="计量标准", exact=True)).to_be_visible()
    assert page.locator("table.records tbody tr").count() == 25  # the demo province fills more than a page
    pages.screenshot("standards-list-zh")

    page.get_by_label("搜索").fill(certificate_no)
    page.get_by_label("状态").select_option("in_use")
    page.get_by_role("button", name="筛选").click()
    expect(page).to_have_url(re.compile(r"status=in_use"))
    rows = page.locator("table.records tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("浏览器编辑测试装置")

    page.get_by_role("link", name="浏览器编辑测试装置").click()
    expect(page.get_by_role("heading", name="浏览器编辑测试装置")).to_be_visible()
    expect(page.get_by_text(certificate_no).first).to_be_visible()
    pages.screenshot("standard-detail")

    page.get_by_role("link", name="编辑").click()
    expect(page.get_by_role("heading", name="编辑计量标准")).to_be_visible()
    page.get_by_label("负责人").fill("浏览器测试员")
    page.get_by_label("测量范围").fill("(0~200) ℃")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("已保存。")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/standards/{standard_id}$"))
    history = page.locator("section.history")
    expect(history).to_contain_text("已修改")
    expect(history).to_contain_text("浏览器测试员")
    expect(history).to_contain_text("测量范围")  # the form's label, never range_text
    pages.screenshot("standard-detail-after-edit")


def test_the_form_shows_errors_next_to_the_fields(pages, live_server):
    standard_id, _ = make_standard(live_server, live_server.accounts.own, "表单错误测试装置")
    pages.login("regulator")
    page = pages.page
    page.goto(f"/standards/{standard_id}/edit")
    page.get_by_label("计量标准名称").fill("")
    page.get_by_label("证书编号").fill("不是证书编号")
    page.get_by_role("button", name="保存").click()
    expect(page.locator("#name-errors")).to_be_visible()
    page.get_by_label("计量标准名称").fill("表单错误测试装置")
    page.get_by_role("button", name="保存").click()
    expect(page.locator("#certificate_no-errors")).to_contain_text("证书编号格式不符")
    pages.screenshot("standard-form-errors")


def test_the_list_in_english_and_at_tablet_width(pages, live_server):
    pages.login("regulator")
    page = pages.page
    page.goto("/standards/")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Standards", exact=True)).to_be_visible()
    expect(page.get_by_role("columnheader", name="Certificate no.")).to_be_visible()
    pages.screenshot("standards-list-en")
    page.get_by_role("link", name="中文").click()
    expect(page.get_by_role("heading", name="计量标准", exact=True)).to_be_visible()
    page.set_viewport_size({"width": 820, "height": 1180})
    page.goto("/standards/")
    pages.screenshot("standards-list-tablet")
    # the page itself never scrolls sideways; a wide table scrolls inside its frame
    assert page.evaluate("document.documentElement.scrollWidth") <= 820
    page.goto("/institutions/")
    pages.screenshot("institutions-list-tablet")
    page.locator("table.records tbody tr a").first.click()
    expect(page.locator("section.history")).to_be_visible()
    pages.screenshot("institution-detail-tablet")
    assert page.evaluate("document.documentElement.scrollWidth") <= 820


def test_institution_user_sees_its_own_and_gets_404_for_another(pages, live_server):
    from registry.institutions.models import Institution
    from registry.standards.models import MeasurementStandard

    with live_server.app.app_context():
        other_standard = db.session.scalar(sa.select(MeasurementStandard.id).where(
            MeasurementStandard.institution_id == live_server.accounts.other).limit(1))
        other_institution = db.session.get(Institution, live_server.accounts.other).id
        db.session.remove()
    pages.login("institution")
    page = pages.page
    page.goto("/standards/")
    holders = page.locator("table.records tbody tr td:nth-child(3)").all_inner_texts()
    assert holders and set(holders) == {live_server.accounts.own_name}
    assert page.get_by_label("建标单位").count() == 0
    pages.screenshot("standards-list-institution")

    response = page.goto(f"/standards/{other_standard}")
    assert response.status == 404
    expect(page.get_by_role("heading", name="页面不存在")).to_be_visible()
    pages.screenshot("standard-other-404")
    response = page.goto(f"/institutions/{other_institution}")
    assert response.status == 404
    assert live_server.accounts.other_name not in page.content()


def test_institution_user_registers_then_withdraws_a_standard_with_a_reason(pages, live_server):
    pages.login("institution")
    page = pages.page
    page.goto("/standards/new")
    certificate_no = f"[2025]赣量标证字第{9900 + next(_serial)}号"
    page.get_by_label("证书编号").fill(certificate_no)
    page.get_by_label("计量标准名称").fill("待撤回测试装置")
    page.get_by_label("发证日期").fill("2025-03-01")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("已登记计量标准")).to_be_visible()
    expect(page.locator("dl.fields").last).to_contain_text(live_server.accounts.own_name)

    page.get_by_role("link", name="撤回").click()
    page.get_by_role("button", name="确认撤回").click()
    expect(page.locator("#reason-errors")).to_be_visible()
    page.get_by_label("撤回原因").fill("设备已报废")
    page.get_by_role("button", name="确认撤回").click()
    expect(page.get_by_text("此计量标准已撤回")).to_be_visible()
    expect(page.locator(".withdrawn-note")).to_contain_text("设备已报废")
    expect(page.locator("section.history")).to_contain_text("已撤回")
    pages.screenshot("standard-withdrawn")

    page.goto("/standards/?q=" + certificate_no)
    expect(page.get_by_text("没有符合条件的计量标准。")).to_be_visible()
    assert page.locator("table.records tbody tr").count() == 0


def test_regulator_registers_an_institution_after_fixing_the_credit_code(pages, live_server):
    from tests.factories import credit_code

    pages.login("regulator")
    page = pages.page
    page.goto("/institutions/new")
    page.get_by_label("机构名称").fill("浏览器测试计量所")
    page.get_by_label("统一社会信用代码").fill("12360100ABC")
    page.get_by_label("地区").select_option("360100")
    page.get_by_label("机构类型").select_option("authorised")
    page.get_by_role("button", name="保存").click()
    expect(page.locator("#credit_code-errors")).to_be_visible()
    pages.screenshot("institution-form-errors")
    page.get_by_label("统一社会信用代码").fill(credit_code("360100"))
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("已登记机构")).to_be_visible()
    expect(page.get_by_role("heading", name="浏览器测试计量所")).to_be_visible()
    expect(page.locator("section.history")).to_contain_text("已创建")
