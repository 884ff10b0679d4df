"""Issue 12.1 and 12.2 in a real browser: a revoked standard's tag, the status date on the form."""
from __future__ import annotations

import itertools
from datetime import date

import pytest
from playwright.sync_api import expect

from registry.extensions import db

pytestmark = pytest.mark.browser

_serial = itertools.count(1)


def make_standard(live_server, holder_id: int, name: str, **fields) -> tuple[int, str]:
    from registry.standards.services import register_standard

    certificate_no = f"[2025]赣量标证字第{9300 + next(_serial)}号"
    with live_server.app.app_context():
        standard = register_standard({"certificate_no": certificate_no, "name": name, "category": "social_public",
                                      "institution_id": holder_id, **fields}, actor=None)
        db.session.commit()
        standard_id = standard.id
        db.session.remove()
    return standard_id, certificate_no


@pytest.mark.parametrize(("role", "lang", "width"), [("regulator", "zh", 1366), ("institution", "en", 390),
                                                      ("regulator", "en", 390), ("institution", "zh", 1366)])
def test_a_revoked_standard_is_tagged_revoked_not_valid(pages, live_server, role, lang, width):
    """Revoked, its certificate running to 2029: the lists used to tag it 有效 in green."""
    name = f"浏览器撤销装置{next(_serial)}"
    standard_id, certificate_no = make_standard(
        live_server, live_server.accounts.own, name, issued_on=date(2025, 1, 1), valid_until=date(2029, 12, 31),
        status="revoked", status_since=date(2025, 6, 1))
    page = pages.page
    page.set_viewport_size({"width": width, "height": 900})
    pages.login(role)
    if lang == "en":
        page.goto("/lang/en")
    revoked = "Revoked" if lang == "en" else "撤销"

    page.goto(f"/standards/?q={certificate_no}")
    tag = page.locator("table.records tbody tr").filter(has_text=name).locator("[data-validity]")
    expect(tag).to_have_attribute("data-validity", "revoked")
    expect(tag).to_have_text(revoked)
    expect(tag).not_to_have_class("tag tag-ok")
    pages.screenshot(f"validity-list-{role}-{lang}-{width}")

    page.goto(f"/standards/{standard_id}")
    expect(page.locator("dd [data-validity]")).to_have_text(revoked)
    pages.screenshot(f"validity-detail-{role}-{lang}-{width}")

    page.goto("/home" if role == "institution" else f"/institutions/{live_server.accounts.own}")
    if role == "regulator":
        row = page.locator("table.records tbody tr").filter(has_text=name)
        if row.count():  # the institution page lists its first standards only
            expect(row.locator("[data-validity]")).to_have_attribute("data-validity", "revoked")

    page.goto(f"/public/?q={certificate_no}")
    expect(page.locator("table.public-results [data-validity]")).to_have_attribute("data-validity", "revoked")


def test_changing_the_status_fills_in_todays_date_and_keeps_it_editable(pages, live_server):
    standard_id, _ = make_standard(live_server, live_server.accounts.own, "浏览器状态日期装置",
                                   issued_on=date(2025, 1, 1))
    pages.login("institution")
    page = pages.page
    page.goto(f"/standards/{standard_id}/edit")
    since = page.get_by_label("状态生效日期")
    expect(since).to_be_visible()
    expect(since).to_have_value("")
    page.get_by_label("状态", exact=True).select_option("sealed")
    expect(since).to_have_value(date.today().isoformat())
    pages.screenshot("status-date-form")
    since.fill("2025-11-20")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("已保存。")).to_be_visible()
    expect(page.get_by_text("2025年11月20日").first).to_be_visible()

    # Sealed without a date: the page says the date is not known.
    page.goto(f"/standards/{standard_id}/edit")
    page.get_by_label("状态", exact=True).select_option("revoked")
    since.fill("")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_test_id("status-undated")).to_be_visible()


@pytest.mark.parametrize(("lang", "width"), [("zh", 1366), ("en", 390)])
def test_the_dashboard_counts_undated_statuses_and_links_to_them(pages, live_server, lang, width):
    name = f"浏览器封存无日期装置{next(_serial)}"
    make_standard(live_server, live_server.accounts.own, name, issued_on=date(2025, 1, 1), status="sealed")
    page = pages.page
    page.set_viewport_size({"width": width, "height": 900})
    pages.login("regulator")
    if lang == "en":
        page.goto("/lang/en")
    page.goto("/dashboard")
    line = page.get_by_test_id("undated-statuses")
    expect(line).to_be_visible()
    assert int(line.get_attribute("data-count")) >= 1
    line.scroll_into_view_if_needed()
    pages.screenshot(f"dashboard-undated-{lang}-{width}", full_page=False)
    line.get_by_role("link").click()
    expect(page.get_by_test_id("status-undated-note")).to_be_visible()
    expect(page.locator("table.records tbody tr").filter(has_text=name)).to_have_count(1)
    pages.screenshot(f"standards-undated-{lang}-{width}")


@pytest.mark.parametrize(("lang", "width"), [("zh", 1366), ("en", 390)])
def test_the_import_preview_warns_of_a_status_without_its_date(pages, live_server, lang, width):
    from tests.browser.test_import_wizard import _credit_code, _row, _upload
    from tests.importers.books import STANDARD_HEADER, xlsx

    holder = _credit_code(live_server, live_server.accounts.own)
    certificate = f"[2099]赣量标封证字第{next(_serial) + 500:05d}号"
    book = xlsx({"计量标准": [STANDARD_HEADER, _row(certificate, holder, **{"状态": "封存"})]})
    page = pages.page
    page.set_viewport_size({"width": width, "height": 900})
    pages.login("institution")
    page.goto("/imports")
    _upload(page, book, "undated.xlsx")
    if lang == "en":
        preview = page.url
        page.goto("/lang/en")
        page.goto(preview)
    warnings = page.get_by_test_id("import-warnings")
    expect(warnings).to_be_visible()
    expect(warnings.locator("tbody tr")).to_have_count(1)
    expect(warnings.locator("tbody tr")).to_contain_text("状态日期")
    pages.screenshot(f"import-warning-{lang}-{width}")
