"""The ``registry import / export / template`` commands and the error workbook."""
from __future__ import annotations

import json
from datetime import date

import sqlalchemy as sa

from importers import run_import
from importers.error_workbook import ERROR_HEADER, SUMMARY_TITLE, write_error_workbook
from importers.writing import ERROR_FILL
from registry.extensions import db
from registry.institutions.models import Institution
from tests import factories
from tests.importers.books import INSTITUTION_HEADER, STANDARD_HEADER, read, xlsx
from tests.importers.test_import import counts, standard_row, user


def bad_book() -> bytes:
    holder = factories.institution()
    bad = standard_row("[2024]赣量标证字第201号", holder.credit_code, **{"类别*": "公用", "有效期至*": date(2020, 1, 1)})
    return xlsx({"说明": [["本文件由某单位填报"]],
                 "计量标准": [["2024年计量标准"], STANDARD_HEADER,
                              standard_row("[2024]赣量标证字第200号", holder.credit_code), bad]})


def test_the_error_workbook_marks_bad_cells_and_lists_every_error(tmp_path):
    data = bad_book()
    report = run_import(data, actor=None)
    assert {(e.row, e.column) for e in report.errors} == {(4, "类别"), (4, "有效期至")}
    out = tmp_path / "errors.xlsx"
    assert write_error_workbook(data, report.errors, out, lang="zh") == 2

    wb = read(str(out))
    assert wb.sheetnames == [SUMMARY_TITLE, "说明", "计量标准"]
    summary = [[c.value for c in row] for row in wb[SUMMARY_TITLE].iter_rows(min_row=2)]
    assert sorted((r[0], r[1], r[2]) for r in summary) == [("计量标准", 4, "有效期至"), ("计量标准", 4, "类别")]
    sheet = wb["计量标准"]
    assert sheet["A1"].value == "2024年计量标准" and sheet["A3"].value == "[2024]赣量标证字第200号"
    error_column = len(STANDARD_HEADER) + 1
    assert sheet.cell(2, error_column).value == ERROR_HEADER
    category = sheet.cell(4, STANDARD_HEADER.index("类别*") + 1)
    assert category.value == "公用" and category.fill.fgColor.rgb.endswith(ERROR_FILL.fgColor.rgb[-6:])
    assert "公用" in category.comment.text and "社会公用" in category.comment.text
    assert sheet.cell(4, STANDARD_HEADER.index("有效期至*") + 1).comment is not None
    assert sheet.cell(3, STANDARD_HEADER.index("类别*") + 1).comment is None
    assert "类别" in sheet.cell(4, error_column).value and "有效期至" in sheet.cell(4, error_column).value
    assert sheet.cell(3, error_column).value is None
    assert wb["说明"]["A1"].value == "本文件由某单位填报"


def test_the_error_workbook_takes_stored_error_dicts(tmp_path):
    data = bad_book()
    stored = run_import(data, actor=None).to_dict()["errors"]
    out = tmp_path / "errors.xlsx"
    write_error_workbook(data, stored, out)
    assert read(str(out))["计量标准"].cell(4, 4).comment is not None


def test_import_exit_codes_and_json_shape(runner, tmp_path):
    good = tmp_path / "good.xlsx"
    code = factories.credit_code()
    good.write_bytes(xlsx({"机构": [INSTITUTION_HEADER, [code, "命令行所", "南昌", "企业", None, None]]}))
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(bad_book())
    db.session.commit()  # the command's rollbacks must not take the test's records with them

    result = runner.invoke(args=["import", str(good), "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"ok": True, "dry_run": True,
                                         "sheets": {"机构": {"created": 1, "updated": 0, "unchanged": 0}},
                                         "errors": [], "warnings": [], "ignored_columns": []}
    assert not db.session.scalar(sa.select(Institution.id).where(Institution.credit_code == code))

    result = runner.invoke(args=["import", str(good), "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["dry_run"] is False
    assert db.session.scalar(sa.select(Institution.id).where(Institution.credit_code == code))

    before = counts()
    out = tmp_path / "marked.xlsx"
    result = runner.invoke(args=["import", str(bad), "--json", "--errors", str(out)])
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert set(payload) == {"ok", "dry_run", "sheets", "errors", "warnings", "ignored_columns"} and payload["ok"] is False
    assert all(set(e) == {"sheet", "row", "column", "message"} for e in payload["errors"])
    assert {(e["sheet"], e["row"], e["column"]) for e in payload["errors"]} == {("计量标准", 4, "类别"),
                                                                              ("计量标准", 4, "有效期至")}
    assert out.exists() and counts() == before


def test_import_text_output_and_acting_as_a_user(runner, tmp_path):
    holder = factories.institution(name="旧名")
    email = user("regulator").email
    path = tmp_path / "rename.xlsx"
    path.write_bytes(xlsx({"机构": [INSTITUTION_HEADER, [holder.credit_code, "新名", "南昌", "法定计量检定机构", None,
                                                      None]]}))
    db.session.commit()
    result = runner.invoke(args=["import", str(path), "--dry-run"])
    assert result.exit_code == 0 and "旧名" in result.output and "新名" in result.output
    assert "nothing written" in result.output

    result = runner.invoke(args=["import", str(path), "--as", email])
    assert result.exit_code == 0 and "applied" in result.output
    from registry.audit.models import AuditEvent

    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "update")
                               .order_by(AuditEvent.id.desc())).first()
    assert event.actor_label == email

    result = runner.invoke(args=["import", str(path), "--as", "nobody@example.org"])
    assert result.exit_code == 2 and "no active user" in result.output


def test_template_and_export_commands(runner, tmp_path):
    factories.institution()
    db.session.commit()
    result = runner.invoke(args=["template", str(tmp_path / "t.xlsx")])
    assert result.exit_code == 0 and "填表说明" in read(str(tmp_path / "t.xlsx")).sheetnames
    result = runner.invoke(args=["export", str(tmp_path / "e.xlsx"), "--kind", "institutions", "--region", "360100"])
    assert result.exit_code == 0 and "机构" in result.output
    assert read(str(tmp_path / "e.xlsx")).sheetnames == ["填表说明", "机构"]
    result = runner.invoke(args=["export", str(tmp_path / "e.xlsx"), "--kind", "banks"])
    assert result.exit_code == 2
    result = runner.invoke(args=["import", str(tmp_path / "e.xlsx"), "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["sheets"]["机构"]["created"] == 0
