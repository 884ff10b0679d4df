"""Apply-by windows, the metrologist follow-up and the report to send, in a real browser (both languages, 1366/390)."""
from __future__ import annotations

import io
from datetime import date

import openpyxl
import pytest

from registry.coverage.metrologists import metrologist_follow_up
from registry.coverage.renewals import renewals

pytestmark = pytest.mark.browser

PAST = date(2025, 12, 31)


def fits(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_the_institution_home_leads_with_what_to_apply_for_now(pages, live_server):
    pages.login("institution")
    page = pages.page
    with live_server.app.app_context():
        listing = renewals(date.today(), None, institution_id=live_server.accounts.own, limit=50)
    section = page.get_by_test_id("home-apply-now")
    assert section.is_visible()
    # The apply-now list is the first thing under the institution's name.
    first = page.evaluate("() => document.querySelector('main h2').textContent")
    assert first.startswith("现在应申请复查")
    rows = page.locator('[data-testid="apply-now-table"] tbody tr')
    assert rows.count() == len(listing.items)
    for row, item in zip(rows.all(), listing.items):
        assert row.get_attribute("data-apply-by") == item.apply_by.isoformat()
    pages.screenshot("home-apply-now-zh")
    page.set_viewport_size({"width": 390, "height": 844})
    assert fits(page)
    pages.screenshot("home-apply-now-zh-390")
    page.get_by_role("link", name="English").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Apply for re-examination now").is_visible()
    assert fits(page)
    pages.screenshot("home-apply-now-en-390")
    page.set_viewport_size({"width": 1366, "height": 900})
    pages.screenshot("home-apply-now-en")
    page.goto("/dashboard/expiring?window=expired")
    assert page.get_by_role("heading", name="Expired certificates still in use").is_visible()
    pages.screenshot("institution-expired-en")
    page.get_by_role("link", name="中文").click()


def test_the_regulator_downloads_the_report_and_opens_it(pages, live_server, tmp_path):
    pages.login("regulator")
    page = pages.page
    page.goto(f"/dashboard?as_of={PAST}&region=360100")
    with page.expect_download() as info:
        page.get_by_test_id("report-download").click()
    download = info.value
    assert download.suggested_filename == f"coverage-report-360100-{PAST}.xlsx"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["指标", "各设区市", "建标空白", "应申请复查", "已过期仍在用", "注册计量师跟进"]
    assert all(cell.data_type != "f" for ws in book.worksheets for row in ws.iter_rows() for cell in row)
    with live_server.app.app_context():
        listing = renewals(PAST, "360100", limit=500)
        follow = metrologist_follow_up(PAST, "360100")
    values = [tuple(c.value for c in row) for row in book["应申请复查"].iter_rows()]
    shown = [row[3] for row in values[values.index(next(r for r in values if r[0] == "申请复查截止")) + 1:] if row[3]]
    assert shown == [item.standard.certificate_no for item in listing.items]
    totals = [tuple(c.value for c in row) for row in book["注册计量师跟进"].iter_rows() if row[0].value == "合计"]
    assert totals[0][3:5] == (follow.staff, follow.registered)
    # Print: no navigation, the date and region in the header.
    page.emulate_media(media="print")
    assert not page.locator("header.site-header").is_visible()
    assert not page.locator("form.dashboard-filters").is_visible()
    header = page.get_by_test_id("print-header")
    assert header.is_visible() and "2025年12月31日" in header.inner_text() and "360100" in header.inner_text()
    # Just before printing each chart becomes an image of itself, shown instead of the canvas.
    page.evaluate("() => window.dispatchEvent(new Event('beforeprint'))")
    images = page.locator("img.chart-print")
    assert images.count() == 2
    assert all(src.startswith("data:image/png") for src in images.evaluate_all("els => els.map(e => e.src)"))
    assert images.first.is_visible()
    pages.screenshot("dashboard-print-zh")
    pdf = page.pdf(format="A4")
    assert pdf[:4] == b"%PDF"
    page.emulate_media(media="screen")


def test_the_metrologist_follow_up_from_the_dashboard(pages, live_server):
    pages.login("regulator")
    page = pages.page
    page.goto(f"/dashboard?as_of={PAST}")
    page.get_by_test_id("metrologists-link").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="注册计量师跟进").is_visible()
    with live_server.app.app_context():
        follow = metrologist_follow_up(PAST)
    rows = page.locator('[data-testid="metrologists-table"] tbody tr')
    assert rows.count() == len(follow.institutions)
    assert rows.first.get_attribute("data-institution") == str(follow.institutions[0].institution_id)
    pages.screenshot("metrologists-zh")
    page.set_viewport_size({"width": 390, "height": 844})
    pages.screenshot("metrologists-zh-390")
    page.set_viewport_size({"width": 1366, "height": 900})
    page.get_by_role("link", name="English").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Metrologist follow-up").is_visible()
    pages.screenshot("metrologists-en")
    page.goto(f"/dashboard/expiring?as_of={PAST}&region=360100")
    assert page.get_by_role("heading", name="Certificates to apply for re-examination").is_visible()
    pages.screenshot("expiring-apply-now-en")
    page.set_viewport_size({"width": 390, "height": 844})
    pages.screenshot("expiring-apply-now-en-390")
    page.get_by_role("link", name="中文").click()
    page.wait_for_load_state()
    pages.screenshot("expiring-apply-now-zh-390")
