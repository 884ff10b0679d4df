"""The import wizard in a real browser: errors first, then a fixed workbook, then a big one in the background."""
from __future__ import annotations

import io
import re
import uuid
from datetime import date

import openpyxl
import pytest
from playwright.sync_api import expect

from tests.importers.books import INSTITUTION_HEADER, STANDARD_HEADER, xlsx

pytestmark = pytest.mark.browser


def _credit_code(live_server, institution_id: int) -> str:
    from registry.extensions import db
    from registry.institutions.models import Institution

    with live_server.app.app_context():
        code = db.session.get(Institution, institution_id).credit_code
        db.session.remove()
    return code


def _row(certificate: str, holder: str, **overrides) -> list:
    values = {
        "证书编号*": certificate, "计量标准名称*": "浏览器导入测试水表检定装置", "计量标准代码": "12023901",
        "类别*": "社会公用", "建标单位统一社会信用代码*": holder, "专业": None, "测量范围": "(0.01~80) m³/h",
        "不确定度/准确度等级/最大允许误差": "U=0.2%, k=2", "发证机关": "南昌市市场监督管理局",
        "发证日期*": date(2024, 3, 1), "有效期至*": date(2028, 2, 29), "状态": "在用", "覆盖强检项目": None,
        "依据规程": None, "双碳相关": "否",
    }
    values.update(overrides)
    return [values[h] for h in STANDARD_HEADER]


def _certificate(tag: str, n: int) -> str:
    return f"[2099]赣量标{tag}证字第{n:05d}号"


def _upload(page, data: bytes, name: str) -> None:
    page.get_by_label("工作簿文件（.xlsx、.xls、.ods 或 .csv）").set_input_files(
        files=[{"name": name, "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "buffer": data}])
    page.get_by_role("button", name="上传并预览").click()
    page.wait_for_load_state()


def _new_credit_code() -> str:
    from registry.records.codes import credit_code_check_char

    body = f"12360100T{uuid.uuid4().int % 10**8:08d}"
    return body + credit_code_check_char(body)


def test_a_workbook_with_errors_then_the_fixed_one(pages, live_server):
    """A new institution and its standards, so no other test's records change."""
    page = pages.page
    holder = _new_credit_code()
    tag = "浏" + uuid.uuid4().hex[:6].upper()
    good, second = _certificate(tag, 1), _certificate(tag, 2)
    institution = [INSTITUTION_HEADER, [holder, f"浏览器导入测试所{tag}", "南昌市", "法定计量检定机构", "张三", None]]
    pages.login("regulator")
    page.goto("/imports")
    assert page.get_by_role("heading", name="Excel 导入").is_visible()
    assert page.get_by_role("link", name="下载导入模板（.xlsx）").is_visible()
    pages.screenshot("imports-upload")

    broken = xlsx({"机构": institution,
                   "计量标准": [STANDARD_HEADER, _row(good, holder, **{"类别*": "公用"}),
                              _row(second, _new_credit_code()),
                              _row(_certificate(tag, 3), holder, **{"有效期至*": "不知道"})]})
    _upload(page, broken, "有错误的标准.xlsx")
    assert re.search(r"/imports/\d+$", page.url)
    errors_url = page.url
    assert "未写入任何数据" in page.get_by_role("alert").first.inner_text()
    errors = page.locator("table.errors tbody tr")
    assert errors.count() == 3
    located = [tuple(errors.nth(i).locator("td").nth(j).inner_text() for j in range(3)) for i in range(3)]
    assert ("计量标准", "2", "类别") in located and ("计量标准", "3", "建标单位统一社会信用代码") in located
    assert ("计量标准", "4", "有效期至") in located
    assert page.get_by_role("button", name="确认导入").count() == 0
    pages.screenshot("imports-preview-errors")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="下载标注错误的工作簿").click()
    assert download_info.value.suggested_filename.endswith("-errors.xlsx")
    marked = openpyxl.load_workbook(io.BytesIO(download_info.value.path().read_bytes()))
    assert "计量标准" in marked.sheetnames and len(marked.sheetnames) >= 2

    page.get_by_role("link", name="返回导入").click()
    fixed = xlsx({"机构": institution, "计量标准": [STANDARD_HEADER, _row(good, holder), _row(second, holder)]})
    _upload(page, fixed, "改正后的标准.xlsx")
    assert "预览通过" in page.get_by_role("status").first.inner_text()
    assert page.locator('tr[data-sheet="计量标准"] td.created').inner_text() == "2"
    assert page.locator('tr[data-sheet="机构"] td.created').inner_text() == "1"
    pages.screenshot("imports-preview-clean")
    assert page.request.get(f"/api/v1/standards?q={good}").json() == []  # a preview writes nothing

    page.get_by_role("button", name="确认导入").click()
    page.wait_for_load_state()
    assert "导入完成" in page.get_by_role("status").first.inner_text()
    assert page.locator('tr[data-sheet="计量标准"] td.created').inner_text() == "2"
    pages.screenshot("imports-done")

    # The new record is in the registry: its list page when there is one, else the API.
    listing = page.request.get(f"/standards?q={good}")
    if listing.ok:
        page.goto(f"/standards?q={good}")
        assert page.get_by_text(good).first.is_visible()
    found = page.request.get("/api/v1/standards", params={"q": good}).json()
    assert [s["certificate_no"] for s in found] == [good]

    # A re-upload with a changed name previews the change field by field.
    page.goto("/imports")
    changed = xlsx({"计量标准": [STANDARD_HEADER, _row(good, holder, **{"计量标准名称*": "浏览器导入测试改名装置"}),
                               _row(second, holder)]})
    _upload(page, changed, "改名.xlsx")
    diff = page.locator("table.changes tbody tr")
    assert diff.count() == 1 and good in diff.inner_text()
    assert diff.locator("del").inner_text() == "浏览器导入测试水表检定装置"
    assert diff.locator("ins").inner_text() == "浏览器导入测试改名装置"
    pages.screenshot("imports-preview-diff")

    # The import is among the recent runs, in English too.
    page.goto("/imports")
    assert page.get_by_role("cell", name="改正后的标准.xlsx").first.is_visible()
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Excel import")).to_be_visible()
    pages.screenshot("imports-upload-en")
    page.goto(errors_url)
    assert page.get_by_role("heading", name=re.compile("Errors")).is_visible()
    assert page.get_by_role("link", name="Download the workbook with the errors marked").is_visible()
    pages.screenshot("imports-preview-errors-en")
    page.get_by_role("link", name="中文").click()


def test_a_big_workbook_runs_in_the_background_with_a_progress_bar(pages, live_server):
    page = pages.page
    holder = _credit_code(live_server, live_server.accounts.own)
    tag = "大" + uuid.uuid4().hex[:6].upper()
    rows = [STANDARD_HEADER] + [_row(_certificate(tag, n), holder, **{
        "计量标准名称*": f"大文件测试装置 {uuid.uuid4().hex}", "测量范围": f"(0~{n}) m³/h"}) for n in range(1, 3001)]
    data = xlsx({"计量标准": rows})
    assert len(data) > 64 * 1024
    pages.login("regulator")
    page.goto("/imports")
    seen: list[str] = []
    page.on("response", lambda r: seen.append(r.url) if "/api/v1/imports/" in r.url else None)
    _upload(page, data, "大文件.xlsx")
    run_url = page.url
    bar = page.locator("progress#import-progress")
    assert bar.count() == 1, "the run finished before the page showed it; make the workbook bigger"
    assert page.get_by_role("link", name="刷新").is_visible()  # without JavaScript
    pages.screenshot("imports-progress")
    page.set_viewport_size({"width": 390, "height": 844})
    pages.screenshot("imports-progress-390")
    page.set_viewport_size({"width": 1366, "height": 900})
    page.wait_for_function("() => !document.getElementById('import-progress')", timeout=120_000)
    page.wait_for_load_state()
    assert page.url == run_url and seen, "the page polled the run's JSON"
    assert "预览通过" in page.get_by_role("status").first.inner_text()
    assert page.locator('tr[data-sheet="计量标准"] td.created').inner_text() == "3,000"


def test_the_wizard_at_tablet_width(pages, live_server):
    page = pages.page
    page.set_viewport_size({"width": 820, "height": 1180})
    pages.login("regulator")
    page.goto("/imports")
    assert page.get_by_label("工作簿文件（.xlsx、.xls、.ods 或 .csv）").is_visible()
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"
    pages.screenshot("imports-tablet")


def test_a_workbook_reaching_far_beyond_the_limits_is_refused_on_the_form(pages, live_server):
    """The issue's 2 KB workbook (A1 and ALL200000) by an institution user: a clear message, nothing parsed."""
    from tests.importers.test_files import a1_and

    page = pages.page
    pages.login("institution")
    for width, height, suffix in ((1366, 900, ""), (390, 844, "-phone")):
        page.set_viewport_size({"width": width, "height": height})
        page.goto("/imports")
        _upload(page, a1_and("ALL200000"), "角落.xlsx")
        error = page.locator(".field-errors")
        assert "工作表“机构”用到第 1,000 列（单元格 ALL200000），超过 200 列的上限" in error.inner_text()
        overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"the page scrolls sideways by {overflow}px"
        pages.screenshot(f"imports-refused-extent{suffix}")
    page.get_by_role("link", name="English").click()
    page.set_viewport_size({"width": 1366, "height": 900})
    _upload_en = page.get_by_label(re.compile("Workbook .* or CSV file"))
    _upload_en.set_input_files(files=[{"name": "corner.xlsx", "buffer": a1_and("ALL200000"),
                                       "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}])
    page.get_by_role("button", name=re.compile("Upload")).click()
    page.wait_for_load_state()
    assert "reaches column 1,000 (cell ALL200000), more than 200 columns" in page.locator(".field-errors").inner_text()
    pages.screenshot("imports-refused-extent-en")
    page.set_viewport_size({"width": 390, "height": 844})
    pages.screenshot("imports-refused-extent-en-phone")
    page.get_by_role("link", name="中文").click()


def _failed_run(live_server, data: bytes, *, dry_run: bool) -> int:
    """A background run whose worker died (as the lease sweep leaves it), with its upload kept, for the regulator."""
    import sqlalchemy as sa

    from registry.auth.models import User
    from registry.database.base import utcnow
    from registry.extensions import db
    from registry.imports import services
    from registry.imports.models import ImportRun

    with live_server.app.app_context():
        regulator = db.session.scalar(sa.select(User).where(User.email == "regulator@example.test"))
        run = ImportRun(actor_id=regulator.id, actor_label=regulator.email, filename="中断的导入.xlsx", dry_run=dry_run,
                        status="failed", attempts=1, worker_id="browser-test:1:Worker-1", started_at=utcnow(),
                        heartbeat_at=utcnow(), finished_at=utcnow(), rows_total=3000, rows_done=1000,
                        failure_reason="lease_expired", message="worker gone / 后台进程没有响应")
        db.session.add(run)
        db.session.commit()
        path = services.upload_path(run)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        run_id = run.id
        db.session.remove()
    return run_id


def test_a_failed_background_import_says_why_and_is_retried(pages, live_server):
    page = pages.page
    holder = _credit_code(live_server, live_server.accounts.own)
    tag = "重" + uuid.uuid4().hex[:6].upper()
    data = xlsx({"计量标准": [STANDARD_HEADER] + [_row(_certificate(tag, n), holder) for n in range(1, 4)]})
    run_id = _failed_run(live_server, data, dry_run=True)
    pages.login("regulator")
    page.goto(f"/imports/{run_id}")
    alert = page.locator(".failed-run")
    assert "未写入任何数据" in alert.inner_text() and "停止了响应" in alert.inner_text()
    assert page.get_by_role("button", name="重试").is_visible()
    pages.screenshot("imports-failed")
    page.set_viewport_size({"width": 390, "height": 844})
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px at 390px"
    assert page.get_by_role("button", name="重试").is_visible()
    pages.screenshot("imports-failed-390")
    page.get_by_role("link", name="English").click()
    assert "stopped responding" in page.locator(".failed-run").inner_text()
    pages.screenshot("imports-failed-en-390")
    page.set_viewport_size({"width": 1366, "height": 900})
    pages.screenshot("imports-failed-en")

    page.get_by_role("button", name="Retry").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/imports/{run_id}")
    page.wait_for_function("() => !document.getElementById('import-progress')", timeout=120_000)
    page.wait_for_load_state()
    assert page.locator('tr[data-sheet="计量标准"] td.created').inner_text() == "3"
    assert "Attempts" in page.locator("dl.run-facts").inner_text()
    pages.screenshot("imports-retried-en")
    page.get_by_role("link", name="中文").click()


def test_an_upload_past_its_retention_says_so(pages, live_server):
    from registry.extensions import db
    from registry.imports import services
    from registry.imports.models import ImportRun

    page = pages.page
    run_id = _failed_run(live_server, b"gone soon", dry_run=False)
    with live_server.app.app_context():
        services.upload_path(db.session.get(ImportRun, run_id)).unlink()
        db.session.remove()
    pages.login("regulator")
    page.goto(f"/imports/{run_id}")
    assert "已按保留期限删除" in page.locator(".failed-run").inner_text()
    assert page.get_by_role("button", name="重试").count() == 0
    page.set_viewport_size({"width": 390, "height": 844})
    pages.screenshot("imports-upload-gone-390")
