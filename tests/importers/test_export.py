"""Templates and exports: the import format, dropdowns, round trips, no formulas."""
from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest
import sqlalchemy as sa

from importers import run_import
from importers.export import INSTRUCTIONS_TITLE, LISTS_TITLE, export_workbook, write_template
from importers.spec import EXAMPLES, WORKBOOK_ORDER
from registry.extensions import db
from registry.institutions.models import Institution
from tests import factories
from tests.importers.books import read
from tests.importers.test_import import counts, in_force_line, user


def template() -> bytes:
    buffer = io.BytesIO()
    write_template(buffer, max_rows=1000)
    return buffer.getvalue()


def export(**kwargs) -> bytes:
    buffer = io.BytesIO()
    export_workbook(buffer, **kwargs)
    return buffer.getvalue()


def test_every_example_row_fills_its_sheet():
    for sheet in WORKBOOK_ORDER:
        assert len(EXAMPLES[sheet.kind]) == len(sheet.columns), sheet.kind


def test_the_template_has_instructions_headers_examples_and_a_hidden_list_sheet():
    wb = read(template())
    assert wb.sheetnames == [INSTRUCTIONS_TITLE, LISTS_TITLE, "机构", "计量标准", "检定规程", "人员", "强检目录", "规划",
                             "目标"]
    assert wb[LISTS_TITLE].sheet_state == "hidden"
    guide = "\n".join(str(c.value) for c in wb[INSTRUCTIONS_TITLE]["A"] if c.value)
    assert "空白单元格不修改已有值" in guide and "a blank cell leaves the stored value" in guide
    standards = wb["计量标准"]
    headers = [c.value for c in standards[1]]
    assert headers[:4] == ["证书编号*", "计量标准名称*", "计量标准代码", "类别*"] and "演示" not in headers
    assert standards["A2"].value == "[2024]赣量标示例证字第001号" and standards["A2"].font.i


def test_the_template_has_a_dropdown_for_every_enumeration():
    wb = read(template())
    lists = wb[LISTS_TITLE]
    columns = {lists.cell(1, c).value: [lists.cell(r, c).value for r in range(2, lists.max_row + 1)
                                        if lists.cell(r, c).value] for c in range(1, lists.max_column + 1)}
    expected = {
        "机构": {"所属地区": "region", "机构类型": "enum:institution_kind"},
        "计量标准": {"类别": "enum:standard_category", "专业": "discipline", "状态": "enum:standard_status",
                   "双碳相关": "bool", "新建/改造": "enum:build_kind"},
        "检定规程": {"类型": "enum:regulation_kind", "级别": "enum:regulation_level", "状态": "enum:regulation_status",
                   "急需": "bool", "双碳相关": "bool"},
        "人员": {"级别": "enum:registration_level"},
        "强检目录": {"监管方式": "mode", "强检方式": "enum:verification_form"},
        "目标": {"地区": "region", "比较": "enum:comparator"},
    }
    for title, wanted in expected.items():
        ws = wb[title]
        headers = {c.value.rstrip("*"): c.column_letter for c in ws[1]}
        validations = {str(dv.sqref).split(":")[0][:-1]: dv for dv in ws.data_validations.dataValidation}
        assert len(validations) == len(wanted), title
        for header, key in wanted.items():
            dv = validations[headers[header]]
            assert dv.type == "list" and dv.formula1.startswith(f"'{LISTS_TITLE}'!")
            source = dv.formula1.split("!")[1].split(":")[0].replace("$", "")[0]
            assert lists[f"{source}1"].value == key
    assert columns["enum:standard_category"] == ["社会公用", "部门最高", "企事业最高"]
    assert "南昌市" in columns["region"] and "热学" in columns["discipline"]
    assert columns["mode"] == ["P", "V", "P+V"]


def _registry() -> dict:
    holder = factories.institution(name="=cmd|' /C calc'!A0", contact="+86 791", phone="-1", is_demo=True)
    other = factories.institution(region_code="360400")
    regulation = factories.regulation(title="@SUM(1+1)")
    line = in_force_line("S14")
    factories.standard(holder, lines=[line, in_force_line("S15")], range_text="-20~80 ℃", code="04113803",
                       discipline_code="04", is_carbon=True, build_kind="new", built_on=date(2024, 1, 1))
    std = factories.standard(holder, issuer='=HYPERLINK("http://example.org","点击")', status="sealed")
    std.regulations = [regulation]
    factories.standard(other)
    factories.person(holder, name="同名")
    factories.person(holder, name="同名", employed_from=date(2021, 1, 1))
    factories.person(holder, name="注册者", registration_no="赣注册-77", registration_level="1",
                     registration_items=["力学"], registered_on=date(2020, 1, 1),
                     registration_valid_until=date(2024, 12, 31))
    db.session.flush()
    return {"holder": holder, "other": other}


def test_export_then_import_reports_everything_unchanged():
    _registry()
    data = export()
    before = counts()
    report = run_import(data, actor=None)
    assert report.ok, report.errors[:5]
    assert all(c["created"] == c["updated"] == 0 for c in report.sheets.values()), report.sheets
    assert set(report.sheets) == {"机构", "计量标准", "检定规程", "人员", "强检目录", "规划", "目标"}
    assert report.sheets["目标"]["unchanged"] == 13  # the seeded plan's province targets read back as they are
    assert report.ignored_columns == [] and counts() == before


def test_no_exported_cell_is_a_formula():
    _registry()
    data = export()
    wb = read(data)
    seen = {}
    for ws in wb:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str) and cell.value[:1] in "=+-@\t":
                    seen[cell.value] = cell.data_type
    assert {"=cmd|' /C calc'!A0", "+86 791", "-1", "@SUM(1+1)", "-20~80 ℃", '=HYPERLINK("http://example.org","点击")'} \
        <= set(seen)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert not any(b"<f>" in archive.read(name) for name in archive.namelist() if name.startswith("xl/worksheets"))


@pytest.mark.parametrize("text", ["\tTAB", "\r=1+1", "\n@A1", "=1+1", "控制\x01字符"])
def test_text_with_leading_control_characters_stays_literal(text):
    factories.institution(contact=text)
    wb = read(export(kinds=["institutions"]))
    cells = [row[4] for row in wb["机构"].iter_rows(min_row=2)]
    assert all(cell.data_type == "s" for cell in cells if cell.value is not None)
    assert any(cell.value and cell.value.strip().lstrip("\r\n") in (text.strip(), "控制字符") for cell in cells)


def test_demo_records_are_marked():
    _registry()
    wb = read(export())
    institutions = wb["机构"]
    headers = [c.value for c in institutions[1]]
    demo = headers.index("演示")
    marks = {row[0].value: row[demo].value for row in institutions.iter_rows(min_row=2)}
    assert set(marks.values()) == {"是", None}
    assert any("演示数据" in str(c.value) for c in wb[INSTRUCTIONS_TITLE]["A"])


def test_export_by_kind_and_region():
    records = _registry()
    wb = read(export(kinds=["standards"], region="360400"))
    assert wb.sheetnames == [INSTRUCTIONS_TITLE, "计量标准"]
    holders = {row[4].value for row in wb["计量标准"].iter_rows(min_row=2)}
    assert records["other"].credit_code in holders and records["holder"].credit_code not in holders
    with pytest.raises(ValueError):
        export(kinds=["nonsense"])
    with pytest.raises(ValueError):
        export(region="999999")


def test_an_institution_user_exports_only_their_own_records():
    records = _registry()
    wb = read(export(actor=user("institution", records["holder"])))
    assert [row[0].value for row in wb["机构"].iter_rows(min_row=2)] == [records["holder"].credit_code]
    assert {row[4].value for row in wb["计量标准"].iter_rows(min_row=2)} == {records["holder"].credit_code}
    assert wb["检定规程"].max_row > 1  # reference data stays readable


def test_the_demo_province_round_trips(app):
    from registry.seed.demo import load_demo_data

    if db.session.scalar(sa.select(sa.func.count()).select_from(Institution)):
        pytest.skip("the demo loads only into an empty registry")
    load_demo_data(institutions_per_city=2, standards_per_institution=3)
    report = run_import(export(), actor=None)
    assert report.ok, report.errors[:5]
    assert all(c["created"] == c["updated"] == 0 for c in report.sheets.values()), report.sheets


def test_the_export_says_each_standards_validity_and_status_date_and_imports_back():
    holder = factories.institution()
    factories.standard(holder, name="撤销长证装置", status="revoked", status_since=date(2025, 2, 1),
                       issued_on=date(2024, 1, 1), valid_until=date(2029, 12, 31))
    factories.standard(holder, name="封存无日期装置", status="sealed", status_since=None)
    factories.standard(holder, name="在用长证装置", issued_on=date(2024, 1, 1), valid_until=date(2099, 12, 31))
    db.session.flush()
    out = io.BytesIO()
    export_workbook(out, kinds=["standards"], today=date(2025, 6, 30))
    ws = read(out.getvalue())["计量标准"]
    rows = list(ws.iter_rows(values_only=True))
    header = [h.rstrip("*") if h else h for h in rows[0]]
    by_name = {row[header.index("计量标准名称")]: row for row in rows[1:]}
    validity, since = header.index("证书有效性（导出日）"), header.index("状态日期")
    assert by_name["撤销长证装置"][validity] == "撤销" and by_name["在用长证装置"][validity] == "有效"
    assert by_name["封存无日期装置"][validity] == "封存" and by_name["封存无日期装置"][since] is None
    assert by_name["撤销长证装置"][since].date() == date(2025, 2, 1)
    # The derived column is neither imported nor reported as unknown; the undated sealing is warned about.
    report = run_import(out.getvalue(), actor=None)
    assert report.ok and report.ignored_columns == []
    assert report.sheets["计量标准"] == {"created": 0, "updated": 0, "unchanged": 3}
    assert len(report.warnings) == 1 and report.warnings[0].column == "状态日期"
