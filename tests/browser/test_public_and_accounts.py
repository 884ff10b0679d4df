"""The public query and the account pages in a real browser."""
from __future__ import annotations

import pytest

from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD

pytestmark = pytest.mark.browser

NEW_PASSWORD = "Changed-in-the-browser-2026"


def _cells(page, column: int) -> list[str]:
    return page.locator(f"table.public-results tbody tr td:nth-child({column})").all_inner_texts()


def test_anonymous_public_search_by_city_and_by_name(pages):
    page = pages.page
    page.goto("/")
    page.get_by_role("link", name="公开查询").first.click()
    assert page.get_by_role("heading", name="公开查询").is_visible()

    page.get_by_label("城市").select_option(label="赣州市")
    page.get_by_role("button", name="查询").click()
    page.wait_for_load_state()
    cities = _cells(page, 4)
    assert cities and set(cities) == {"赣州市"}
    assert page.locator("table.public-results .tag-demo").count() == len(cities)
    pages.screenshot("public-city-zh")

    name = _cells(page, 2)[0].replace("演示 DEMO", "").strip()
    page.get_by_label("名称、证书编号或建标单位").fill(name)
    page.get_by_role("button", name="查询").click()
    page.wait_for_load_state()
    assert all(name in cell for cell in _cells(page, 2))
    content = page.content()
    assert "0791-" not in content  # no institution phone numbers on a public page

    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Public query")).to_be_visible()
    assert set(_cells(page, 4)) == {"Ganzhou"}
    pages.screenshot("public-name-en")

    page.set_viewport_size({"width": 820, "height": 1180})
    page.get_by_role("link", name="中文").click()
    page.get_by_role("link", name="清除条件").click()
    page.wait_for_load_state()
    pages.screenshot("public-tablet-820")

    page.get_by_role("link", name="地方检定规程/规范").click()
    assert page.get_by_role("heading", name="公开查询").is_visible()
    pages.screenshot("public-regulations-tablet-820")


def test_admin_creates_a_user_who_then_logs_in(pages, live_server):
    page = pages.page
    pages.login("admin")
    page.get_by_role("link", name="用户", exact=True).click()
    page.get_by_label("角色").select_option("institution")
    page.get_by_role("button", name="筛选").click()
    assert page.get_by_role("link", name="own@example.test").is_visible()
    assert page.get_by_role("link", name="regulator@example.test").count() == 0
    pages.screenshot("account-users")
    page.get_by_role("link", name="新建用户").click()
    page.get_by_label("邮箱").fill("created.in.browser@example.test")
    page.get_by_label("角色").select_option("institution")
    page.get_by_label("所属机构统一社会信用代码").fill("91360100MA35OOOO1A")
    page.get_by_label("初始密码").fill(NEW_PASSWORD)
    page.get_by_role("button", name="创建").click()
    assert "统一社会信用代码" in page.locator("#institution-errors").inner_text()
    pages.screenshot("account-create-refused")

    with live_server.app.app_context():
        from registry.extensions import db
        from registry.institutions.models import Institution

        credit_code = db.session.get(Institution, live_server.accounts.own).credit_code
        db.session.remove()
    page.get_by_label("所属机构统一社会信用代码").fill(credit_code)
    page.get_by_label("初始密码").fill(NEW_PASSWORD)
    page.get_by_role("button", name="创建").click()
    assert page.get_by_role("heading", name="created.in.browser@example.test").is_visible()
    assert page.get_by_text(live_server.accounts.own_name).first.is_visible()
    pages.screenshot("account-created")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Edit the account")).to_be_visible()
    pages.screenshot("account-created-en")
    page.get_by_role("link", name="中文").click()

    page.get_by_role("button", name="退出").click()
    page.goto("/login")
    page.get_by_label("邮箱").fill("created.in.browser@example.test")
    page.get_by_label("密码").fill(NEW_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
    assert "/login" not in page.url
    assert page.get_by_text("created.in.browser@example.test").is_visible()

    page.goto("/admin/users")
    assert page.get_by_role("heading", name="404").count() == 1 or "404" in page.title()


def test_a_user_changes_their_password_and_logs_in_with_the_new_one(pages, live_server):
    from registry.auth.services import create_user
    from registry.extensions import db

    email = "changes.password@example.test"
    with live_server.app.app_context():
        create_user(email=email, password=PASSWORD, role="regulator", actor=None)
        db.session.commit()
        db.session.remove()

    page = pages.page
    page.goto("/login")
    page.get_by_label("邮箱").fill(email)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()

    page.get_by_role("link", name="修改密码").click()
    page.get_by_label("当前密码").fill(PASSWORD)
    page.get_by_label("新密码", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("再次输入新密码").fill(NEW_PASSWORD + "?")
    page.get_by_role("button", name="修改密码").click()
    assert "不一致" in page.locator("#new_password_repeat-errors").inner_text()
    pages.screenshot("password-mismatch")

    page.get_by_label("当前密码").fill(PASSWORD)
    page.get_by_label("新密码", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("再次输入新密码").fill(NEW_PASSWORD)
    page.get_by_role("button", name="修改密码").click()
    page.wait_for_load_state()
    assert page.get_by_text("密码已修改").is_visible()
    assert page.get_by_text(email).is_visible()  # this browser stays signed in

    page.get_by_role("button", name="退出").click()
    page.goto("/login")
    page.get_by_label("邮箱").fill(email)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    assert "/login" in page.url  # the old password no longer works
    page.get_by_label("密码").fill(NEW_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
    assert "/login" not in page.url
