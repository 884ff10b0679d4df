"""Signing in and out in a real browser."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("role", ["admin", "regulator", "institution"])
def test_each_role_logs_in_and_out(pages, role):
    pages.login(role)
    page = pages.page
    assert page.get_by_text(pages.EMAILS[role]).is_visible()
    pages.screenshot(f"home-{role}")
    page.get_by_role("button", name="退出").click()
    page.wait_for_load_state()
    assert page.get_by_role("link", name="登录").is_visible()


def test_wrong_password_is_refused_next_to_the_form(pages):
    page = pages.page
    page.goto("/login")
    page.get_by_label("邮箱").fill("regulator@example.test")
    page.get_by_label("密码").fill("not the password at all")
    page.get_by_role("button", name="登录").click()
    assert page.get_by_role("alert").inner_text().count("邮箱或密码不正确") == 1
    assert "/login" in page.url
    pages.screenshot("login-refused")


def test_the_pages_switch_to_english_and_back(pages):
    page = pages.page
    page.goto("/login")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_role("link", name="中文").click()
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
