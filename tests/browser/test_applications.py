"""Applications in a real browser: an institution applies for a re-examination with its documents, a regulator
accepts it, assigns an examiner and approves, and the institution sees the new certificate dates and the
reminder that was sent.  Screenshots of each page at 1366 and 390 wide, in both languages."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from babel.dates import format_date
from playwright.sync_api import expect

from registry.records.dates import add_months
from registry.extensions import db

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n% browser test\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
NAME = "浏览器复查申请装置"
CERTIFICATE = "[2023]赣量标证字第07707号"
NEW_CERTIFICATE = "[2026]赣量标证字第07707号"
CHECKLIST = ("计量标准考核（复查）申请书", "原计量标准考核证书", "标准器及主要配套设备检定或校准证书", "重复性试验记录",
             "稳定性考核记录")


@pytest.fixture(scope="module")
def prepared(live_server, tmp_path_factory):
    """A standard of the signed-in institution that expires in 8 months, an examiner, documents in a folder."""
    from registry.applications.services import create_examiner
    from registry.documents.storage import LocalStorage
    from registry.standards.services import register_standard

    app = live_server.app
    app.config.update(SMTP_HOST=None, MAIL_OUTBOX_DIR=str(tmp_path_factory.mktemp("applications-outbox")))
    app.extensions["registry.documents"] = LocalStorage(str(tmp_path_factory.mktemp("applications-documents")))
    today = date.today()
    with app.app_context():
        standard = register_standard({
            "certificate_no": CERTIFICATE, "name": NAME, "category": "social_public",
            "institution_id": live_server.accounts.own, "issued_on": add_months(today, -43),
            "valid_until": add_months(today, 8)}, actor=None)
        create_examiner({"name": "浏览器考评员", "certificate_no": "KPY-BROWSER-1"},
                        actor=None)
        db.session.commit()
        standard_id = standard.id
        db.session.remove()
    return {"standard_id": standard_id, "today": today}


def shoot(pages, name: str) -> None:
    """The page at 1366 and 390 wide (the width it was at is restored)."""
    page = pages.page
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        pages.screenshot(f"{name}-{width}")
    page.set_viewport_size({"width": 1366, "height": 900})


def logout(page) -> None:
    page.context.clear_cookies()


def test_a_re_examination_from_application_to_new_certificate(pages, live_server, prepared):
    page = pages.page
    today = prepared["today"]
    # --- the institution applies ------------------------------------------------------------------
    pages.login("institution")
    page.get_by_role("link", name="考核申请").click()
    expect(page.get_by_role("heading", name="我的申请")).to_be_visible()
    page.get_by_role("link", name="新建申请").click()
    page.get_by_label("复查考核").check()
    shoot(pages, "applications-new-kind-zh")
    page.get_by_role("button", name="下一步").click()
    page.get_by_label("计量标准").select_option(label=f"{NAME}（{CERTIFICATE}）")
    page.get_by_role("button", name="创建草稿并继续").click()
    expect(page.get_by_text("已创建申请草稿")).to_be_visible()
    page.get_by_label("申请标题").fill("2026 年复查")
    shoot(pages, "applications-details-zh")
    page.get_by_role("button", name="保存并继续").click()
    expect(page.get_by_role("heading", name=re.compile("申请材料"))).to_be_visible()
    expect(page.get_by_test_id("missing")).to_be_visible()
    for kind in CHECKLIST:
        page.get_by_label("材料类别").select_option(label=kind)
        page.get_by_label("文件", exact=True).set_input_files(
            files=[{"name": f"{kind}.pdf", "mimeType": "application/pdf", "buffer": PDF}])
        page.get_by_role("button", name="上传", exact=True).click()
        expect(page.get_by_text(f"已上传 {kind}.pdf")).to_be_visible()
    expect(page.get_by_test_id("missing")).to_have_count(0)
    shoot(pages, "applications-documents-zh")
    page.get_by_label("办理意见").fill("请予复查")
    page.get_by_role("button", name="提交申请").click()
    expect(page.get_by_text("已提交申请。")).to_be_visible()
    expect(page.get_by_test_id("state")).to_contain_text("已提交")
    application_url = page.url
    shoot(pages, "applications-timeline-institution-zh")
    logout(page)

    # --- the regulator accepts, assigns an examiner, approves --------------------------------------
    pages.login("regulator")
    page.get_by_role("link", name="申请受理").click()
    row = page.locator("table.applications tbody tr").filter(has_text=NAME)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("已等待 0 天")
    shoot(pages, "applications-queue-zh")
    page.goto("/lang/en")
    page.goto("/applications/queue")
    expect(page.locator("table.applications tbody tr").filter(has_text=NAME)).to_contain_text("Days waiting: 0")
    shoot(pages, "applications-queue-en")
    page.goto(application_url)
    expect(page.get_by_test_id("form-accept")).to_be_visible()
    shoot(pages, "applications-review-submitted-en")
    page.goto("/applications/examiners")
    expect(page.locator("table.data tbody tr").filter(has_text="浏览器考评员")).to_have_count(1)
    shoot(pages, "applications-examiners-en")
    page.goto("/lang/zh_Hans_CN")
    page.goto("/applications/examiners")
    shoot(pages, "applications-examiners-zh")
    page.goto("/applications/queue")
    row.get_by_role("link", name=re.compile(r"#\d+")).click()
    expect(page.get_by_test_id("diff")).to_be_visible()
    page.get_by_test_id("form-accept").get_by_role("button", name="受理").click()
    expect(page.get_by_text("已受理。")).to_be_visible()
    page.get_by_test_id("form-assign_examiners").get_by_label(re.compile("浏览器考评员")).check()
    page.get_by_test_id("form-assign_examiners").get_by_role("button", name="指派考评员").click()
    expect(page.get_by_text("已指派考评员。")).to_be_visible()
    decide = page.get_by_test_id("form-decide")
    decide.get_by_label("准予", exact=True).check()
    decide.get_by_label("证书编号").fill(NEW_CERTIFICATE)
    decide.get_by_label("发证日期").fill(today.isoformat())
    decide.get_by_label("决定理由").fill("复查合格")
    shoot(pages, "applications-review-regulator-zh")
    decide.get_by_role("button", name="作出决定").click()
    expect(page.get_by_text("已作出决定。")).to_be_visible()
    expect(page.get_by_test_id("state")).to_contain_text("准予")
    page.goto("/lang/en")
    page.goto(application_url)
    expect(page.get_by_test_id("state")).to_contain_text("Approved")
    shoot(pages, "applications-review-regulator-en")
    page.goto("/lang/zh_Hans_CN")
    logout(page)

    # --- the reminders run; the institution sees the new dates and the message ---------------------
    from registry.reminders.services import run

    with live_server.app.app_context():
        run(today)
        db.session.commit()
        db.session.remove()
    pages.login("institution")
    page.goto(f"/standards/{prepared['standard_id']}")
    valid_until = add_months(today, 48) - timedelta(days=1)
    expect(page.get_by_text(NEW_CERTIFICATE).first).to_be_visible()
    card = page.locator("section.card").filter(has_text="证书与状态")
    expect(card).to_contain_text(format_date(today, "medium", locale="zh_Hans_CN"))
    expect(card).to_contain_text(format_date(valid_until, "medium", locale="zh_Hans_CN"))
    expect(page.get_by_test_id("standard-applications")).to_contain_text("准予")
    shoot(pages, "applications-standard-institution-zh")
    link = page.get_by_test_id("inbox-link")
    expect(link.locator(".badge")).to_be_visible()
    link.click()
    number = application_url.rstrip("/").rsplit("/", 1)[1]
    item = page.locator(".inbox-item").filter(has_text=f"申请第 {number} 号（复查考核）已作出决定：准予")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("未读")
    shoot(pages, "applications-inbox-institution-zh")
    item.get_by_role("button").click()  # opening the message goes to the application
    page.wait_for_url(re.compile(rf"/applications/{number}$"))
    page.goto("/lang/en")
    page.goto(application_url)
    expect(page.get_by_test_id("timeline")).to_contain_text("Decided")
    shoot(pages, "applications-timeline-institution-en")
    page.goto(f"/standards/{prepared['standard_id']}")
    shoot(pages, "applications-standard-institution-en")
    with live_server.app.app_context():
        from registry.standards.models import MeasurementStandard

        standard = db.session.get(MeasurementStandard, prepared["standard_id"])
        assert (standard.certificate_no, standard.issued_on, standard.valid_until) == (
            NEW_CERTIFICATE, today, valid_until)
        db.session.remove()
