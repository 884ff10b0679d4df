"""Reminders in a real browser: the header's unread count, the inbox in both languages, opening a message."""
from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

from registry.records.dates import add_months
from registry.extensions import db

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def reminded(live_server, tmp_path_factory):
    """A standard of the signed-in institution to apply for within 2 months, and the reminders run."""
    from registry.reminders.services import run
    from registry.standards.services import register_standard

    live_server.app.config.update(SMTP_HOST=None, MAIL_OUTBOX_DIR=str(tmp_path_factory.mktemp("browser-outbox")))
    today = date.today()
    with live_server.app.app_context():
        standard = register_standard({
            "certificate_no": "[2024]赣量标证字第09901号", "name": "浏览器提醒装置", "category": "social_public",
            "institution_id": live_server.accounts.own, "issued_on": date(2024, 1, 1),
            "valid_until": add_months(today, 8)}, actor=None)
        db.session.commit()
        standard_id = standard.id
        run(today)
        db.session.remove()
    return standard_id


@pytest.mark.parametrize(("lang", "width"), [("zh", 1366), ("en", 390), ("zh", 390), ("en", 1366)])
def test_an_institution_user_sees_and_opens_a_reminder(pages, live_server, reminded, lang, width):
    page = pages.page
    page.set_viewport_size({"width": width, "height": 900})
    pages.login("institution")
    if lang == "en":
        page.goto("/lang/en")
    link = page.get_by_test_id("inbox-link")
    expect(link.locator(".badge")).to_be_visible()
    link.click()
    item = page.locator(".inbox-item").filter(has_text="[2024]赣量标证字第09901号")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("Apply for re-examination by" if lang == "en" else "前申请复查")
    expect(item).to_contain_text("3 months before" if lang == "en" else "距申请期限 3 个月")
    pages.screenshot(f"reminders-inbox-{lang}-{width}")
    if (lang, width) == ("zh", 1366):
        item.get_by_role("button").click()
        page.wait_for_url(f"**/standards/{reminded}")
        page.goto("/inbox")
        expect(page.locator(".inbox-item").filter(has_text="[2024]赣量标证字第09901号")).not_to_contain_text("未读")


def test_the_admin_sees_the_sent_log(pages, reminded):
    pages.login("admin")
    pages.page.goto("/admin/reminders?channel=email")
    expect(pages.page.locator("table.data tbody tr").first).to_be_visible()
    pages.screenshot("reminders-log-admin-zh-1366")
