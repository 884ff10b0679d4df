"""The import wizard and the exports, through the test client."""
from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa

from registry.audit.models import AuditEvent
from registry.extensions import db
from registry.imports.models import ImportRun
from registry.standards.models import MeasurementStandard
from tests import factories
from tests.importers.books import STANDARD_HEADER, read, xlsx
from tests.importers.test_import import standard_row
from tests.test_pages import csrf_from

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _upload(client, data: bytes, *, name="book.xlsx", token=None):
    token = token if token is not None else csrf_from(client.get("/imports"))
    return client.post("/imports", content_type="multipart/form-data",
                       data={"file": (io.BytesIO(data), name), "csrf_token": token})


def _run_id(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    match = re.fullmatch(r"/imports/(\d+)", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def _confirm(client, run_id: int):
    token = csrf_from(client.get(f"/imports/{run_id}"))
    return client.post(f"/imports/{run_id}/confirm", data={"csrf_token": token})


def _standard(number: str) -> MeasurementStandard | None:
    return db.session.scalar(sa.select(MeasurementStandard).where(MeasurementStandard.certificate_no == number))


def _runs() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(ImportRun))


def _text(response) -> str:
    return response.get_data(as_text=True)


# --- the wizard ----------------------------------------------------------------------


def test_the_wizard_needs_a_login(client):
    response = client.get("/imports")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_wizard_offers_the_template_the_required_columns_and_a_labelled_file_input(client, auth, users):
    auth.login_session(users.institution)
    page = _text(client.get("/imports"))
    assert "/api/v1/templates/registry.xlsx" in page
    assert "证书编号" in page and "统一社会信用代码" in page  # required columns explained
    assert re.search(r'<label for="file">[^<]*工作簿文件', page) and 'id="file"' in page
    assert 'enctype="multipart/form-data"' in page
    assert all(f"/exports/{kind}.xlsx" in page for kind in ("institutions", "standards", "regulations", "personnel",
                                                           "catalog"))
    template = client.get("/api/v1/templates/registry.xlsx")  # the session cookie is enough for a GET
    assert template.status_code == 200 and "计量标准" in read(template.data).sheetnames


def test_a_workbook_with_errors_is_previewed_with_every_error_and_nothing_is_written(client, auth, users, session):
    auth.login_session(users.regulator)
    rows = [STANDARD_HEADER,
            standard_row("[2099]赣量标页测证字第001号", users.own.credit_code, **{"类别*": "公用"}),
            standard_row("[2099]赣量标页测证字第002号", users.own.credit_code, **{"有效期至*": "明年"})]
    run_id = _run_id(_upload(client, xlsx({"计量标准": rows})))
    page = _text(client.get(f"/imports/{run_id}"))
    errors = re.findall(r"<tr><td>计量标准</td><td class=\"num\">(\d+)</td><td>([^<]+)</td>", page)
    assert ("2", "类别") in errors and ("3", "有效期至") in errors
    assert "确认导入</button>" not in page
    assert _standard("[2099]赣量标页测证字第001号") is None and _standard("[2099]赣量标页测证字第002号") is None
    assert db.session.get(ImportRun, run_id).status == "invalid"
    download = client.get(f"/imports/{run_id}/errors.xlsx")
    assert download.status_code == 200 and download.mimetype == XLSX
    assert len(read(download.data).sheetnames) >= 2


def test_a_clean_workbook_is_previewed_then_confirmed_and_audited(client, auth, users, session):
    auth.login_session(users.institution)
    number = "[2099]赣量标页测证字第010号"
    run_id = _run_id(_upload(client, xlsx({"计量标准": [STANDARD_HEADER, standard_row(number, users.own.credit_code)]})))
    page = _text(client.get(f"/imports/{run_id}"))
    assert re.search(r'<tr data-sheet="计量标准">.*?<td class="num created">1</td>', page)
    assert "确认导入</button>" in page
    assert _standard(number) is None

    confirmed = _confirm(client, run_id)
    applied_id = _run_id(confirmed)
    assert applied_id != run_id
    applied = db.session.get(ImportRun, applied_id)
    assert (applied.status, applied.dry_run, applied.source_run_id, applied.actor_id) == \
        ("applied", False, run_id, users.institution.id)
    standard = _standard(number)
    assert standard is not None and standard.institution_id == users.own.id
    actions = set(db.session.execute(sa.select(AuditEvent.action, AuditEvent.entity_type).where(
        AuditEvent.actor_id == users.institution.id)).all())
    assert {("create", "measurement_standards"), ("import", "import_runs")} <= actions
    result = _text(client.get(f"/imports/{applied_id}"))
    assert "导入完成" in result and re.search(r'<td class="num created">1</td>', result)

    # The preview now points at its import; a second confirmation is refused.
    assert f"/imports/{applied_id}" in _text(client.get(f"/imports/{run_id}"))
    before = _runs()
    again = _confirm(client, run_id)
    assert again.status_code == 302 and again.headers["Location"] == f"/imports/{run_id}"
    assert _runs() == before
    assert "已确认导入" in _text(client.get(f"/imports/{run_id}"))


def test_the_preview_shows_old_and_new_values_of_updated_rows(client, auth, users, session):
    auth.login_session(users.regulator)
    standard = factories.standard(users.own, certificate_no="[2099]赣量标页测证字第020号", name="旧装置名称")
    session.commit()
    row = standard_row(standard.certificate_no, users.own.credit_code, **{"计量标准名称*": "新装置名称"})
    page = _text(client.get(f"/imports/{_run_id(_upload(client, xlsx({'计量标准': [STANDARD_HEADER, row]})))}"))
    assert re.search(r"<dt[^>]*>计量标准名称</dt><dd><del>旧装置名称</del> → <ins>新装置名称</ins></dd>", page)
    db.session.expire_all()
    assert db.session.get(MeasurementStandard, standard.id).name == "旧装置名称"


def test_the_preview_lists_ignored_columns(client, auth, users, session):
    auth.login_session(users.regulator)
    header = STANDARD_HEADER + ["内部备注"]
    row = standard_row("[2099]赣量标页测证字第025号", users.own.credit_code) + ["不导入的内容"]
    page = _text(client.get(f"/imports/{_run_id(_upload(client, xlsx({'计量标准': [header, row]})))}"))
    assert "未识别的列（已忽略）" in page and "<code>内部备注</code>" in page


def test_a_long_error_list_is_cut_on_the_page_not_in_the_workbook(client, auth, users, session, monkeypatch):
    from registry.imports import views

    monkeypatch.setattr(views, "SHOWN", 2)
    auth.login_session(users.regulator)
    rows = [STANDARD_HEADER] + [standard_row(f"[2099]赣量标页测证字第{n:03d}号", users.own.credit_code,
                                             **{"类别*": "公用"}) for n in range(200, 205)]
    run_id = _run_id(_upload(client, xlsx({"计量标准": rows})))
    page = _text(client.get(f"/imports/{run_id}"))
    assert page.count("无法识别：公用") == 2 and "只列出前 2 个错误；全部 5 个错误见标注错误的工作簿" in page


def test_a_preview_with_errors_cannot_be_confirmed(client, auth, users, session):
    auth.login_session(users.regulator)
    bad = standard_row("[2099]赣量标页测证字第030号", users.own.credit_code, **{"类别*": "公用"})
    run_id = _run_id(_upload(client, xlsx({"计量标准": [STANDARD_HEADER, bad]})))
    before = _runs()
    response = _confirm(client, run_id)
    assert response.status_code == 302 and response.headers["Location"] == f"/imports/{run_id}"
    assert "只能确认没有错误的预览" in _text(client.get(f"/imports/{run_id}"))
    assert _runs() == before


def test_another_users_run_is_not_found_and_staff_cannot_confirm_it(client, auth, users, session):
    auth.login_session(users.institution)
    book = xlsx({"计量标准": [STANDARD_HEADER, standard_row("[2099]赣量标页测证字第040号", users.own.credit_code)]})
    run_id = _run_id(_upload(client, book))

    auth.login_session(users.other)
    assert client.get(f"/imports/{run_id}").status_code == 404
    assert client.get(f"/imports/{run_id}/errors.xlsx").status_code == 404
    assert client.post(f"/imports/{run_id}/confirm", data={"csrf_token": csrf_from(client.get("/imports"))}
                       ).status_code == 404

    auth.login_session(users.regulator)
    page = _text(client.get(f"/imports/{run_id}"))
    assert "确认导入</button>" not in page  # staff read every run but confirm only their own
    assert client.post(f"/imports/{run_id}/confirm", data={"csrf_token": csrf_from(client.get("/imports"))}
                       ).status_code == 403
    assert _standard("[2099]赣量标页测证字第040号") is None


def test_recent_runs_are_ones_own_and_staff_see_all(client, auth, users, session):
    auth.login_session(users.institution)
    _upload(client, xlsx({"计量标准": [STANDARD_HEADER]}), name="本机构的文件.xlsx")
    auth.login_session(users.other)
    _upload(client, xlsx({"计量标准": [STANDARD_HEADER]}), name="他机构的文件.xlsx")
    page = _text(client.get("/imports"))
    assert "他机构的文件.xlsx" in page and "本机构的文件.xlsx" not in page
    auth.login_session(users.regulator)
    page = _text(client.get("/imports"))
    assert "他机构的文件.xlsx" in page and "本机构的文件.xlsx" in page


def test_recent_runs_are_paged(client, auth, users, session):
    auth.login_session(users.institution)
    for n in range(27):
        db.session.add(ImportRun(actor_id=users.institution.id, actor_label=users.institution.email,
                                 filename=f"第{n:02d}号.xlsx", status="previewed", dry_run=True))
    session.commit()
    first = _text(client.get("/imports"))
    assert "第26号.xlsx" in first and "第01号.xlsx" not in first and 'rel="next"' in first
    second = _text(client.get("/imports?page=2"))
    assert "第01号.xlsx" in second and "第26号.xlsx" not in second


def test_a_file_that_is_not_a_workbook_is_answered_on_the_form(client, auth, users):
    auth.login_session(users.regulator)
    response = _upload(client, b"%PDF-1.4\n" + bytes(100), name="standards.pdf")
    assert response.status_code == 422
    page = _text(response)
    assert "无法读取此文件：不是可导入的文件：可导入 .xlsx, .xls, .ods, .csv" in page and 'class="field-errors"' in page
    run = db.session.scalar(sa.select(ImportRun).order_by(ImportRun.id.desc()))
    assert run.status == "rejected"
    assert client.get(f"/imports/{run.id}/errors.xlsx").status_code == 404
    assert "不是可导入的文件" in _text(client.get(f"/imports/{run.id}"))


def test_a_sheet_reaching_far_beyond_the_limits_is_answered_on_the_form(client, auth, users, app, monkeypatch):
    """The issue's 2 KB workbook, scaled down: the wizard says which sheet and cell, nothing is parsed."""
    import python_calamine

    from tests.importers.test_files import a1_and

    monkeypatch.setitem(app.config, "IMPORT_MAX_ROWS", 1_000)
    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_object",
                        lambda *a, **k: pytest.fail("the workbook reached the parser"))
    auth.login_session(users.institution)
    response = _upload(client, a1_and("B5000"))
    assert response.status_code == 422
    page = _text(response)
    assert 'class="field-errors"' in page
    assert "工作表“机构”用到第 5,000 行（单元格 B5000），超过 1,000 行的上限" in page
    run = db.session.scalar(sa.select(ImportRun).order_by(ImportRun.id.desc()))
    assert run.status == "rejected" and "B5000" in run.message


def test_an_upload_without_a_file_is_answered_on_the_form(client, auth, users):
    auth.login_session(users.regulator)
    token = csrf_from(client.get("/imports"))
    response = client.post("/imports", content_type="multipart/form-data", data={"csrf_token": token})
    assert response.status_code == 422 and "请选择要导入的文件（.xlsx、.xls、.ods 或 .csv）。" in _text(response)


def test_a_file_over_the_upload_limit_gets_a_clear_message(client, auth, users, app, monkeypatch):
    auth.login_session(users.regulator)
    token = csrf_from(client.get("/imports"))
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2 * 1024 * 1024)
    before = _runs()
    response = _upload(client, b"x" * (3 * 1024 * 1024), token=token)
    assert response.status_code == 413
    page = _text(response)
    assert "文件太大" in page and "2 MB" in page and 'name="csrf_token"' in page
    assert _runs() == before


def test_the_upload_and_the_confirmation_need_the_csrf_token(client, auth, users, session):
    auth.login_session(users.regulator)
    book = xlsx({"计量标准": [STANDARD_HEADER, standard_row("[2099]赣量标页测证字第050号", users.own.credit_code)]})
    before = _runs()
    assert _upload(client, book, token="").status_code == 400
    assert _runs() == before
    run_id = _run_id(_upload(client, book))
    assert client.post(f"/imports/{run_id}/confirm").status_code == 400
    assert _standard("[2099]赣量标页测证字第050号") is None


def test_an_institution_users_rows_of_another_institution_are_row_errors(client, auth, users, session):
    auth.login_session(users.institution)
    rows = [STANDARD_HEADER, standard_row("[2099]赣量标页测证字第060号", users.own.credit_code),
            standard_row("[2099]赣量标页测证字第061号", users.other_institution.credit_code)]
    run_id = _run_id(_upload(client, xlsx({"计量标准": rows})))
    run = db.session.get(ImportRun, run_id)
    assert run.status == "invalid"
    assert [(e["row"], e["column"]) for e in run.errors] == [(3, "建标单位统一社会信用代码")]
    page = _text(client.get(f"/imports/{run_id}"))
    assert '<td class="num">3</td><td>建标单位统一社会信用代码</td>' in page
    assert _standard("[2099]赣量标页测证字第060号") is None


def test_the_wizard_and_a_run_page_in_english(client, auth, users):
    auth.login_session(users.regulator)
    client.get("/lang/en")
    page = _text(client.get("/imports"))
    assert "Download the template" in page and "Upload and preview" in page
    run_id = _run_id(_upload(client, xlsx({"计量标准": [STANDARD_HEADER, standard_row(
        "[2099]赣量标页测证字第070号", users.own.credit_code, **{"类别*": "公用"})]})))
    page = _text(client.get(f"/imports/{run_id}"))
    assert "Nothing was written" in page and "Download the workbook with the errors marked" in page


# --- exports -------------------------------------------------------------------------


def _rows(data: bytes, sheet: str) -> list[list]:
    return [[c.value for c in row] for row in read(data)[sheet].iter_rows(min_row=2)]


def test_a_filtered_export_holds_exactly_the_filtered_rows_and_imports_back_unchanged(client, auth, users, session):
    kept = [factories.standard(users.own, name=f"出口筛选电能表装置{n}", status="in_use") for n in range(3)]
    factories.standard(users.own, name="出口筛选电能表装置封存", status="sealed")
    factories.standard(users.own, name="别的装置", status="in_use")
    session.commit()
    auth.login_session(users.regulator)
    response = client.get("/exports/standards.xlsx?q=出口筛选电能表&status=in_use&sort=-name&page=2&page_size=25")
    assert response.status_code == 200 and response.mimetype == XLSX
    assert "attachment" in response.headers["Content-Disposition"]
    rows = _rows(response.data, "计量标准")
    assert sorted(r[0] for r in rows) == sorted(s.certificate_no for s in kept)
    assert read(response.data).sheetnames == ["填表说明", "计量标准"]

    before = _runs()
    run_id = _run_id(_upload(client, response.data, name="export.xlsx"))
    run = db.session.get(ImportRun, run_id)
    assert run.status == "previewed" and run.counts == {"计量标准": {"created": 0, "updated": 0, "unchanged": 3}}
    assert _runs() == before + 1
    page = _text(client.get(f"/imports/{run_id}"))
    assert "文件与登记簿一致" in page and "确认导入</button>" not in page


def test_an_export_keeps_formula_like_text_literal(client, auth, users, session):
    factories.institution(name="公式机构甲", contact="=HYPERLINK(\"http://evil.example\")", phone="+86 791 1")
    factories.institution(name="公式机构乙", contact="@SUM(1+1)", phone="-1")
    factories.institution(name="别的机构", contact="=1+1")
    session.commit()
    auth.login_session(users.regulator)
    data = client.get("/exports/institutions.xlsx?q=公式机构").data
    sheet = read(data)["机构"]
    cells = {c.value: c.data_type for row in sheet.iter_rows(min_row=2) for c in row[4:6] if c.value}
    assert cells == {'=HYPERLINK("http://evil.example")': "s", "+86 791 1": "s", "@SUM(1+1)": "s", "-1": "s"}


def test_an_institution_user_exports_only_their_own_records(client, auth, users, session):
    own = factories.standard(users.own, name="本机构出口装置")
    factories.standard(users.other_institution, name="他机构出口装置")
    session.commit()
    auth.login_session(users.institution)
    rows = _rows(client.get("/exports/standards.xlsx?q=出口装置").data, "计量标准")
    assert [r[0] for r in rows] == [own.certificate_no]
    # Asking for another institution's records by filter gives nothing, not theirs.
    rows = _rows(client.get(f"/exports/standards.xlsx?institution_id={users.other_institution.id}").data, "计量标准")
    assert rows == []


@pytest.mark.parametrize("kind, query, sheet", [
    ("institutions", "kind=legal_metrology", "机构"),
    ("regulations", "status=published", "检定规程"),
    ("personnel", "registered=false", "人员"),
    ("catalog", "mode=V", "强检目录"),
])
def test_every_list_exports_in_its_sheet(client, auth, users, kind, query, sheet):
    auth.login_session(users.regulator)
    response = client.get(f"/exports/{kind}.xlsx?{query}")
    assert response.status_code == 200
    assert sheet in read(response.data).sheetnames


def test_catalog_export_filtered_by_version_imports_back_unchanged(client, auth, users, session):
    version = factories.catalog_version(name="页面测试目录")
    lines = [factories.catalog_line(version, code=f"X{n}") for n in range(3)]
    session.commit()
    auth.login_session(users.admin)
    data = client.get(f"/exports/catalog.xlsx?catalog_version_id={version.id}").data
    rows = _rows(data, "强检目录")
    assert sorted(r[0] for r in rows) == sorted(line.code for line in lines)
    assert {r[-1] for r in rows} == {"页面测试目录"}
    run = db.session.get(ImportRun, _run_id(_upload(client, data)))
    assert run.status == "previewed", run.errors
    assert run.counts["强检目录"] == {"created": 0, "updated": 0, "unchanged": 3}


def test_a_bad_filter_value_is_ignored_and_an_unknown_kind_is_404(client, auth, users):
    auth.login_session(users.regulator)
    assert client.get("/exports/standards.xlsx?status=nonsense&expiring_before=soon").status_code == 200
    assert client.get("/exports/users.xlsx").status_code == 404
    assert client.get("/exports/registry.xlsx").status_code == 404
    client.get("/logout")
    anonymous = client.application.test_client().get("/exports/standards.xlsx")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_the_institution_list_export_keeps_its_kind_filter(client, auth, users):
    """A list filter named like the export's own path argument (``kind``) still reaches the export."""
    auth.login_session(users.regulator)
    page = client.get("/institutions/", query_string={"kind": "enterprise"}).get_data(as_text=True)
    link = re.search(r'href="([^"]*/exports/institutions\.xlsx[^"]*)"', page).group(1)
    assert "kind=enterprise" in link


def test_the_preview_warns_of_a_status_without_its_date_and_the_api_reports_it(client, auth, users, session):
    auth.login_session(users.regulator)
    standard = factories.standard(users.own, certificate_no="[2099]赣量标页测证字第030号")
    session.commit()
    row = standard_row(standard.certificate_no, users.own.credit_code, **{"状态": "撤销", "覆盖强检项目": None})
    run_id = _run_id(_upload(client, xlsx({"计量标准": [STANDARD_HEADER, row]})))
    page = _text(client.get(f"/imports/{run_id}"))
    warnings = page[page.index('data-testid="import-warnings"'):].split("</table>")[0]
    assert "状态日期" in warnings and "没有状态日期" in warnings and "<td class=\"num\">2</td>" in warnings
    assert "预览通过" in page  # a warning does not block the import
    body = client.get(f"/api/v1/imports/{run_id}").get_json()
    assert body["ok"] and [(w["row"], w["column"]) for w in body["warnings"]] == [(2, "状态日期")]
    assert _confirm(client, run_id).status_code == 302
    db.session.expire_all()
    stored = db.session.get(MeasurementStandard, standard.id)
    assert stored.status == "revoked" and stored.status_since is None
