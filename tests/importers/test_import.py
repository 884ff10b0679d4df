"""Importing workbooks: messy input, references across sheets, all-or-nothing, re-import, dry run, access."""
from __future__ import annotations

from datetime import date, datetime

import pytest
import sqlalchemy as sa

from importers import run_import
from registry.audit.models import AuditEvent
from registry.auth.models import User
from registry.catalog.models import CatalogLine, CatalogVersion
from registry.extensions import db
from registry.imports.models import ImportRun
from registry.institutions.models import Institution
from registry.personnel.models import Person
from registry.regulations.models import Regulation
from registry.standards.models import MeasurementStandard
from tests import factories
from tests.importers.books import (
    CATALOG_HEADER, INSTITUTION_HEADER, PERSON_HEADER, REGULATION_HEADER, STANDARD_HEADER, xlsx,
)

TABLES = (Institution, MeasurementStandard, Regulation, Person, CatalogLine, AuditEvent, ImportRun)


def counts() -> dict[str, int]:
    return {model.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(model)) for model in TABLES}


def user(role: str, institution: Institution | None = None) -> User:
    account = User(email=f"{role}{factories.credit_code()}@example.org".lower(), role=role, password_hash="x",
                   institution_id=institution.id if institution else None)
    db.session.add(account)
    db.session.flush()
    return account


def standard_row(certificate: str, holder: str, **overrides) -> list:
    values = {
        "证书编号*": certificate, "计量标准名称*": "水表检定装置", "计量标准代码": "12023901", "类别*": "社会公用",
        "建标单位统一社会信用代码*": holder, "专业": None, "测量范围": "(0.01~80) m³/h",
        "不确定度/准确度等级/最大允许误差": "U=0.2%, k=2", "发证机关": "南昌市市场监督管理局", "发证日期*": date(2024, 3, 1),
        "有效期至*": date(2028, 2, 29), "状态": "在用", "覆盖强检项目": "S14", "依据规程": None, "双碳相关": "否",
    }
    values.update(overrides)
    return [values[h] for h in STANDARD_HEADER]


def by_certificate(number: str) -> MeasurementStandard:
    return db.session.scalar(sa.select(MeasurementStandard).where(MeasurementStandard.certificate_no == number))


def in_force_line(code: str) -> CatalogLine:
    return db.session.scalar(sa.select(CatalogLine).where(CatalogLine.code == code))


# --- messy input ---------------------------------------------------------------------


def test_a_messy_workbook_imports_as_intended():
    code = factories.credit_code()
    book = xlsx({
        "机构": [
            ["江西省计量技术机构名录（2024年）"],
            [],
            ["机构类型 *", " 统一社会信用代码（必填）", "机构名称", "所属 地区", "备注", "联系电话"],
            ["法定计量检定机构", code.lower(), "  南昌市计量测试所 ", 360100, "这一列不导入", 13800138000],
            [None, None, None, None, None, None],
        ],
        "Regulations": [
            ["CODE", "Title", "published_on", "effective_on", "urgent", "carbon"],
            ["JJG（赣）１２３—２０２４", "水表检定规程", "2024/1/5", "2024年4月1日", "Y", "false"],
        ],
        "计量标准": [
            ["建标单位统一社会信用代码", "证书编号", "计量标准名称", "类别", "计量标准代码", "发证日期", "有效期至",
             "覆盖强检项目", "依据规程", "双碳相关", "状态", "说明"],
            [code, "〔2024〕赣量标证字第 7 号", "水表检定装置", "社会公用", 4113803, 45352, "2028.2.29",
             "S14；电能表、水分测定仪", "jjg(赣)123-2024", "是", "在用", "x"],
            [],
            [code, "[2023]赣量标证字第8号", "电能表检定装置", "社会公用标准", "15012301", datetime(2023, 5, 20),
             "2027年5月19日", "S15\nS14", "JJG(赣) 123—2024，", "N", "封存", None],
        ],
    })
    report = run_import(book, actor=None)
    assert report.ok, report.errors
    assert report.sheets == {
        "机构": {"created": 1, "updated": 0, "unchanged": 0},
        "检定规程": {"created": 1, "updated": 0, "unchanged": 0},
        "计量标准": {"created": 2, "updated": 0, "unchanged": 0},
    }
    assert {"sheet": "机构", "column": "备注"} in report.ignored_columns
    assert {"sheet": "计量标准", "column": "说明"} in report.ignored_columns

    holder = db.session.scalar(sa.select(Institution).where(Institution.credit_code == code))
    assert (holder.name, holder.region_code, holder.kind, holder.phone) == (
        "南昌市计量测试所", "360100", "legal_metrology", "13800138000")
    regulation = db.session.scalar(sa.select(Regulation).where(Regulation.code == "JJG(赣) 123-2024"))
    assert (regulation.published_on, regulation.implemented_on, regulation.is_urgent, regulation.is_carbon) == (
        date(2024, 1, 5), date(2024, 4, 1), True, False)

    water = by_certificate("[2024]赣量标证字第7号")
    assert water.code == "04113803" and water.discipline_code == "04"
    assert (water.issued_on, water.valid_until, water.is_carbon) == (date(2024, 3, 1), date(2028, 2, 29), True)
    assert water.institution_id == holder.id
    assert sorted(line.code for line in water.catalog_lines) == ["S08", "S14", "S15"]
    assert [r.code for r in water.regulations] == ["JJG(赣) 123-2024"]
    assert (water.range_lower, water.uncertainty_kind) == (None, None)  # no range or uncertainty given

    meter = by_certificate("[2023]赣量标证字第8号")
    assert (meter.issued_on, meter.valid_until, meter.status, meter.is_carbon) == (
        date(2023, 5, 20), date(2027, 5, 19), "sealed", False)
    # Registered sealed without a date: stored without one (never today's), and the report says so.
    assert meter.status_since is None
    assert [(w.sheet, w.row, w.column) for w in report.warnings] == [("计量标准", 4, "状态日期")]
    assert "without its date" in report.warnings[0].message
    assert sorted(line.code for line in meter.catalog_lines) == ["S14", "S15"]


def test_title_rows_push_the_row_numbers_of_errors():
    code = factories.credit_code()
    book = xlsx({"机构": [["名录"], ["（内部）"], INSTITUTION_HEADER, [code, "甲", "南昌", "企业"],
                           [code[:-1] + "0", "乙", "不存在的市", "银行"]]})
    report = run_import(book, actor=None)
    found = {(e.row, e.column) for e in report.errors}
    assert found == {(5, "统一社会信用代码"), (5, "所属地区"), (5, "机构类型")}
    kind_error = next(e for e in report.errors if e.column == "机构类型")
    assert "银行" in kind_error.message and "法定计量检定机构" in kind_error.message


def test_a_missing_required_column_is_named_and_nothing_is_read():
    book = xlsx({"计量标准": [["证书编号", "计量标准名称", "建标单位统一社会信用代码", "发证日期", "有效期至"],
                             ["[2024]赣量标证字第1号", "x", factories.credit_code(), date(2024, 1, 1), date(2027, 1, 1)]]})
    before = counts()
    report = run_import(book, actor=None)
    assert [(e.sheet, e.row, e.column) for e in report.errors] == [("计量标准", 1, "类别")]
    assert "类别" in report.errors[0].message and "category" in report.errors[0].message
    assert counts() == before


def test_a_workbook_without_import_sheets_is_an_error():
    report = run_import(xlsx({"Sheet1": [["a", "b"]]}), actor=None)
    assert not report.ok and "no sheet to import" in report.errors[0].message


def test_english_sheet_and_column_names():
    code = factories.credit_code()
    book = xlsx({"Institutions": [["credit_code", "name", "region", "kind", "contact", "phone"],
                                  [code, "英文表头机构", "南昌市", "Enterprise", "Li", "1"]]})
    assert run_import(book, actor=None).ok
    assert db.session.scalar(sa.select(Institution.kind).where(Institution.credit_code == code)) == "enterprise"


# --- references ----------------------------------------------------------------------


def test_references_across_sheets_of_one_workbook_resolve():
    code = factories.credit_code()
    book = xlsx({
        "人员": [PERSON_HEADER, ["李四", code, "2020-01-01", None, "赣注册-001", "一级", "力学；热学", "2021-01-01", None]],
        "计量标准": [STANDARD_HEADER, standard_row("[2024]赣量标证字第11号", code, **{
            "覆盖强检项目": "新器具·子项；S01", "依据规程": "JJF(赣) 9-2024"})],
        "强检目录": [CATALOG_HEADER, ["T100", "新器具", "子项", "P+V", "周期检定", "", "2025-01-01"]],
        "检定规程": [REGULATION_HEADER, ["JJF(赣) 9-2024", "新规范", "校准规范", "地方", "已发布", "2024-02-01", None, None,
                                      "否", "否"]],
        "机构": [INSTITUTION_HEADER, [code, "新机构", "九江", "授权计量技术机构", None, None]],
    })
    report = run_import(book, actor=None)
    assert report.ok, report.errors
    standard = by_certificate("[2024]赣量标证字第11号")
    holder = db.session.scalar(sa.select(Institution).where(Institution.credit_code == code))
    assert standard.institution_id == holder.id
    assert sorted(line.code for line in standard.catalog_lines) == ["S01", "T100"]
    assert [r.code for r in standard.regulations] == ["JJF(赣) 9-2024"]
    person = db.session.scalar(sa.select(Person).where(Person.registration_no == "赣注册-001"))
    assert person.institution_id == holder.id and person.registration_items == ["力学", "热学"]
    assert person.registration_valid_until == date(2025, 12, 31)  # 5 years less a day, from the service
    line = db.session.scalar(sa.select(CatalogLine).where(CatalogLine.code == "T100"))
    assert (line.mode, line.verification_form, line.sub_name) == ("P+V", "periodic", "子项")


@pytest.mark.parametrize("cell, expected", [("水表", ["S14"]), ("ｓ１４", ["S14"]), ("血压计(表)", ["S16"]),
                                            ("有毒有害易燃易爆气体检测(报警)仪", ["S10"])])
def test_catalog_lines_by_code_or_name_after_folding_full_width(cell, expected):
    holder = factories.institution()
    report = run_import(xlsx({"计量标准": [STANDARD_HEADER, standard_row("[2024]赣量标证字第21号", holder.credit_code,
                                                                          **{"覆盖强检项目": cell})]}), actor=None)
    assert report.ok, report.errors
    assert [line.code for line in by_certificate("[2024]赣量标证字第21号").catalog_lines] == expected


def test_a_reference_to_nothing_is_a_row_error_naming_the_value():
    holder = factories.institution()
    missing = factories.credit_code()
    book = xlsx({"计量标准": [STANDARD_HEADER,
                             standard_row("[2024]赣量标证字第31号", holder.credit_code,
                                          **{"覆盖强检项目": "S14；飞船", "依据规程": "JJG 999-1999"}),
                             standard_row("[2024]赣量标证字第32号", missing)]})
    report = run_import(book, actor=None)
    messages = {(e.row, e.column): e.message for e in report.errors}
    assert "飞船" in messages[(2, "覆盖强检项目")] and "S14" not in messages[(2, "覆盖强检项目")]
    assert "JJG 999-1999" in messages[(2, "依据规程")]
    assert missing in messages[(3, "建标单位统一社会信用代码")]


# --- all or nothing, re-import, updates ------------------------------------------------


def test_one_invalid_row_means_nothing_is_written():
    holder = factories.institution()
    rows = [standard_row(f"[2024]赣量标证字第{n}号", holder.credit_code) for n in range(41, 46)]
    rows[3][STANDARD_HEADER.index("有效期至*")] = date(2020, 1, 1)  # before the issue date
    before = counts()
    report = run_import(xlsx({"计量标准": [STANDARD_HEADER, *rows]}), actor=None)
    assert [(e.row, e.column) for e in report.errors] == [(5, "有效期至")]
    assert "valid_until" not in report.errors[0].message or "issued_on" in report.errors[0].message
    assert report.sheets["计量标准"]["created"] == 4  # what would have happened
    assert counts() == before


def test_a_date_outside_the_registrys_range_is_a_row_error_not_a_crash():
    """An issue date in year 9999 once crashed computing the validity (year 10003)."""
    holder = factories.institution()
    far = standard_row("[2024]赣量标证字第47号", holder.credit_code, **{"发证日期*": date(9999, 6, 1)})
    old = standard_row("[2024]赣量标证字第48号", holder.credit_code, **{"发证日期*": "1899-12-30"})
    before = counts()
    report = run_import(xlsx({"计量标准": [STANDARD_HEADER, far, old]}), actor=None)
    messages = {(e.row, e.column): e.message for e in report.errors}
    assert set(messages) == {(2, "发证日期"), (3, "发证日期")}
    assert all("1900-01-01" in message and "2999-12-31" in message for message in messages.values())
    assert counts() == before


def test_importing_the_same_file_twice_changes_nothing_the_second_time():
    code = factories.credit_code()
    book = xlsx({
        "机构": [INSTITUTION_HEADER, [code, "二次导入所", "南昌", "法定计量检定机构", "王五", "0791-1"]],
        "计量标准": [STANDARD_HEADER, standard_row("[2024]赣量标证字第51号", code, **{"状态": "封存"}),
                     standard_row("[2024]赣量标证字第52号", code, **{"覆盖强检项目": "S14；S15"})],
        "人员": [PERSON_HEADER, ["赵六", code, "2020-01-01", None, None, None, None, None, None],
                 ["赵六", code, "2021-01-01", None, None, None, None, None, None]],
    })
    first = run_import(book, actor=None)
    assert first.ok and first.applied
    versions = dict(db.session.execute(sa.select(MeasurementStandard.certificate_no, MeasurementStandard.version)).all())
    before = counts()
    second = run_import(book, actor=None)
    assert second.ok
    assert all(c["created"] == c["updated"] == 0 for c in second.sheets.values())
    assert second.sheets["人员"]["unchanged"] == 2
    assert counts() == before  # no audit rows, no import run
    assert dict(db.session.execute(sa.select(MeasurementStandard.certificate_no, MeasurementStandard.version)).all()) \
        == versions


def test_a_changed_row_updates_bumps_the_version_and_is_audited():
    holder = factories.institution()
    standard = factories.standard(holder, certificate_no="[2024]赣量标证字第61号", name="旧名称",
                                  lines=[in_force_line("S14")])
    version = standard.version
    row = standard_row("[2024]赣量标证字第61号", holder.credit_code, **{"计量标准名称*": "新名称", "状态": "封存",
                                                                      "覆盖强检项目": "S15"})
    report = run_import(xlsx({"计量标准": [STANDARD_HEADER, row]}), actor=None)
    assert report.sheets["计量标准"] == {"created": 0, "updated": 1, "unchanged": 0}
    db.session.expire_all()
    standard = db.session.get(MeasurementStandard, standard.id)
    assert (standard.name, standard.status, standard.version) == ("新名称", "sealed", version + 1)
    assert [line.code for line in standard.catalog_lines] == ["S15"]
    event = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.entity_type == "measurement_standards", AuditEvent.entity_id == str(standard.id))).one()
    assert event.action == "update" and event.actor_label == "system"
    assert event.before["name"] == "旧名称" and event.after["name"] == "新名称"
    assert event.after["catalog_line_ids"] == [in_force_line("S15").id]
    # Sealed without a date: the status date stays unknown (never the day of the import), with a warning.
    assert standard.status_since is None and event.after.get("status_since") is None
    assert [(w.row, w.column) for w in report.warnings] == [(2, "状态日期")]


def test_created_records_and_the_run_are_audited():
    code = factories.credit_code()
    book = xlsx({"机构": [INSTITUTION_HEADER, [code, "审计所", "南昌", "企业", None, None]],
                 "计量标准": [STANDARD_HEADER, standard_row("[2024]赣量标证字第71号", code)]})
    before = db.session.scalar(sa.select(sa.func.max(AuditEvent.id))) or 0
    report = run_import(book, actor=None, filename="审计.xlsx")
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.id > before).order_by(AuditEvent.id)).all()
    assert [(e.action, e.entity_type) for e in events] == [
        ("create", "institutions"), ("create", "measurement_standards"), ("import", "import_runs")]
    standard = by_certificate("[2024]赣量标证字第71号")
    assert events[1].after["certificate_no"] == standard.certificate_no
    assert events[1].after["catalog_line_ids"] == [in_force_line("S14").id]
    assert events[1].after["issued_on"] == "2024-03-01" and "version" not in events[1].after
    assert events[2].entity_id == str(report.run_id)
    assert events[2].after["sheets"]["计量标准"]["created"] == 1
    run = db.session.get(ImportRun, report.run_id)
    assert (run.status, run.filename, run.actor_label) == ("applied", "审计.xlsx", "system")


def test_a_key_twice_in_a_sheet_is_an_error():
    holder = factories.institution()
    row = standard_row("[2024]赣量标证字第81号", holder.credit_code)
    report = run_import(xlsx({"计量标准": [STANDARD_HEADER, row, row]}), actor=None)
    assert [(e.row, e.message) for e in report.errors] == [(3, "same key as row 2")]


def test_a_withdrawn_record_cannot_be_changed_by_an_import():
    from registry.database.base import utcnow

    holder = factories.institution()
    factories.standard(holder, certificate_no="[2024]赣量标证字第91号", withdrawn_at=utcnow(), withdrawn_reason="x")
    report = run_import(xlsx({"计量标准": [STANDARD_HEADER, standard_row("[2024]赣量标证字第91号",
                                                                          holder.credit_code)]}), actor=None)
    assert report.errors and "withdrawn" in report.errors[0].message


def test_a_blank_cell_leaves_the_stored_value():
    holder = factories.institution(contact="原联系人")
    book = xlsx({"机构": [INSTITUTION_HEADER, [holder.credit_code, holder.name, "南昌", "法定计量检定机构", None, None]]})
    report = run_import(book, actor=None)
    assert report.sheets["机构"]["unchanged"] == 1
    assert db.session.get(Institution, holder.id).contact == "原联系人"


# --- dry run -------------------------------------------------------------------------


def test_dry_run_reports_the_changes_field_by_field_and_writes_nothing():
    holder = factories.institution(name="旧所名", contact="甲")
    book = xlsx({"机构": [INSTITUTION_HEADER, [holder.credit_code, "新所名", "南昌", "法定计量检定机构", "乙", None],
                           [factories.credit_code(), "另一个所", "九江", "企业", None, None]]})
    before = counts()
    report = run_import(book, actor=None, dry_run=True)
    assert report.ok and report.dry_run and not report.applied
    assert report.sheets["机构"] == {"created": 1, "updated": 1, "unchanged": 0}
    assert report.changes == [{"sheet": "机构", "row": 2, "key": holder.credit_code,
                               "changes": {"name": ["旧所名", "新所名"], "contact": ["甲", "乙"]}}]
    assert report.to_dict(include_changes=True)["changes"] == report.changes
    db.session.expire_all()
    assert counts() == before and db.session.get(Institution, holder.id).name == "旧所名"


# --- catalog versions ----------------------------------------------------------------


def test_catalog_rows_go_to_the_version_in_force_or_the_one_named():
    draft = factories.catalog_version(name="2026版（征求意见稿）", effective_from=date(2099, 1, 1))
    book = xlsx({"强检目录": [CATALOG_HEADER + ["目录版本"],
                             ["X1", "新器具甲", None, "V", None, None, None, None],
                             ["X2", "新器具乙", None, "P", None, None, None, draft.name]]})
    assert run_import(book, actor=None).ok
    lines = {line.code: line.catalog_version for line in db.session.scalars(
        sa.select(CatalogLine).where(CatalogLine.code.in_(["X1", "X2"])))}
    assert lines["X1"].name.startswith("市场监管总局公告2020年第42号") and lines["X2"] == draft

    report = run_import(xlsx({"强检目录": [CATALOG_HEADER, ["X3", "新器具丙", None, "V", None, None, None]]}),
                        actor=None, catalog_version=draft.name)
    assert report.ok
    assert db.session.scalar(sa.select(CatalogLine).where(CatalogLine.code == "X3")).catalog_version == draft


def test_an_unknown_catalog_version_is_an_error():
    book = xlsx({"强检目录": [CATALOG_HEADER + ["目录版本"], ["X9", "器具", None, "V", None, None, None, "没有这个版本"]]})
    report = run_import(book, actor=None)
    assert [(e.column, "没有这个版本" in e.message) for e in report.errors] == [("目录版本", True)]
    assert not run_import(xlsx({"强检目录": [CATALOG_HEADER]}), actor=None, catalog_version="也没有").ok


# --- staff ---------------------------------------------------------------------------


def test_staff_are_matched_by_registration_number_then_by_name():
    holder = factories.institution()
    registered = factories.person(holder, name="钱七", registration_no="赣注册-900", registration_level="2",
                                  registered_on=date(2020, 1, 1), registration_valid_until=date(2024, 12, 31))
    roster = factories.person(holder, name="孙八")
    book = xlsx({"人员": [PERSON_HEADER,
                           ["钱七", holder.credit_code, "2020-01-01", "2026-06-30", "赣注册-900", "二级", None, None, None],
                           ["孙八", holder.credit_code, "2020-01-01", None, "赣注册-901", "一级", None, "2025-01-01", None]]})
    report = run_import(book, actor=None)
    assert report.sheets["人员"] == {"created": 0, "updated": 2, "unchanged": 0}, report.errors
    db.session.expire_all()
    assert db.session.get(Person, registered.id).employed_until == date(2026, 6, 30)
    assert db.session.get(Person, roster.id).registration_no == "赣注册-901"


# --- access --------------------------------------------------------------------------


def test_an_institution_user_imports_only_rows_of_their_own_institution():
    own, other = factories.institution(), factories.institution()
    staff = user("institution", own)
    before = counts()
    book = xlsx({"计量标准": [STANDARD_HEADER, standard_row("[2024]赣量标证字第101号", own.credit_code),
                             standard_row("[2024]赣量标证字第102号", other.credit_code)]})
    report = run_import(book, actor=staff)
    assert [(e.row, e.column) for e in report.errors] == [(3, "建标单位统一社会信用代码")]
    assert counts() == before

    theirs = factories.standard(other, certificate_no="[2024]赣量标证字第103号")
    report = run_import(xlsx({"计量标准": [STANDARD_HEADER, standard_row(theirs.certificate_no, own.credit_code)]}),
                        actor=staff)
    # another's record: the row is refused as not the user's own (as "not found" before, it leaks nothing more)
    assert [e.message for e in report.errors] == ["Only your institution's records can be imported"]

    report = run_import(xlsx({"计量标准": [STANDARD_HEADER, standard_row("[2024]赣量标证字第104号", own.credit_code)]}),
                        actor=staff)
    assert report.ok and report.applied
    assert by_certificate("[2024]赣量标证字第104号").institution_id == own.id
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "import")
                               .order_by(AuditEvent.id.desc())).first()
    assert event.actor_id == staff.id and event.actor_label == staff.email


def test_an_institution_user_cannot_create_institutions_or_rename_their_own():
    own = factories.institution(name="本所")
    staff = user("institution", own)
    book = xlsx({"机构": [INSTITUTION_HEADER, [own.credit_code, "改名", "南昌", "法定计量检定机构", "新联系人", None],
                           [factories.credit_code(), "新建", "南昌", "企业", None, None]]})
    report = run_import(book, actor=staff)
    assert [e.row for e in report.errors] == [2, 3]
    book = xlsx({"机构": [INSTITUTION_HEADER, [own.credit_code, "本所", "南昌", "法定计量检定机构", "新联系人", None]]})
    assert run_import(book, actor=staff).sheets["机构"]["updated"] == 1


def test_an_institution_user_may_reimport_reference_sheets_unchanged_but_not_change_them():
    own = factories.institution()
    staff = user("institution", own)
    line = in_force_line("S01")
    row = [line.code, line.name, None, line.mode, None, line.scope_note, None]
    assert run_import(xlsx({"强检目录": [CATALOG_HEADER, row]}), actor=staff).ok
    row[1] = "改过的名字"
    report = run_import(xlsx({"强检目录": [CATALOG_HEADER, row]}), actor=staff)
    assert report.errors and "institution users" in report.errors[0].message


@pytest.mark.parametrize("role", ["admin", "regulator"])
def test_regulators_and_admins_import_anything(role):
    holder = factories.institution()
    book = xlsx({"机构": [INSTITUTION_HEADER, [factories.credit_code(), "任意机构", "南昌", "企业", None, None]],
                 "计量标准": [STANDARD_HEADER, standard_row("[2024]赣量标证字第111号", holder.credit_code)]})
    assert run_import(book, actor=user(role)).ok


def test_the_templates_example_rows_are_refused():
    from importers.export import write_template
    import io

    buffer = io.BytesIO()
    write_template(buffer)
    report = run_import(buffer.getvalue(), actor=None)
    assert {e.sheet for e in report.errors} == {"机构", "计量标准", "检定规程", "人员", "强检目录", "规划", "目标"}
    assert all("example row" in e.message for e in report.errors)


# --- bulk loads ------------------------------------------------------------------------


def _index_definitions() -> dict[str, str]:
    return dict(db.session.connection().exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL").all())


def _bulk_book(first: int) -> bytes:
    code = factories.credit_code()
    return xlsx({"机构": [INSTITUTION_HEADER, [code, "批量导入所", "南昌", "法定计量检定机构", None, None]],
                 "计量标准": [STANDARD_HEADER, *[standard_row(f"[2024]赣量标证字第{n}号", code)
                                                for n in range(first, first + 3)]]})


@pytest.fixture
def rebuild_small_loads(monkeypatch):
    import importers.bulk

    if db.session.connection().dialect.name != "sqlite":
        pytest.skip("indexes are rebuilt after large loads on SQLite only")
    monkeypatch.setattr(importers.bulk, "REBUILD_MIN_ROWS", 1)


def test_a_large_load_rebuilds_the_same_indexes_and_keeps_uniqueness(rebuild_small_loads):
    before = _index_definitions()
    statements = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    engine = db.session.connection().engine
    sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        report = run_import(_bulk_book(9001), actor=None)
    finally:
        sa.event.remove(engine, "before_cursor_execute", seen)
    assert report.ok and report.applied
    assert "DROP INDEX ix_measurement_standards_institution_id" in statements
    assert "DROP INDEX ix_audit_events_entity" in statements
    assert _index_definitions() == before
    assert by_certificate("[2024]赣量标证字第9001号").catalog_lines[0].code == "S14"
    plan = db.session.connection().exec_driver_sql(
        "EXPLAIN QUERY PLAN SELECT id FROM measurement_standards WHERE institution_id = 1").all()
    assert "ix_measurement_standards_institution_id" in str(plan)
    with pytest.raises(sa.exc.IntegrityError):  # the UNIQUE constraint never went away
        with db.session.begin_nested():
            db.session.connection().exec_driver_sql(
                "INSERT INTO measurement_standards (certificate_no, name, category, institution_id, issued_on, "
                "valid_until, status, is_carbon, created_at, updated_at, version, is_demo) SELECT certificate_no, "
                "name, category, institution_id, issued_on, valid_until, status, is_carbon, created_at, updated_at, "
                "version, is_demo FROM measurement_standards LIMIT 1")


def test_a_dry_run_or_a_failed_load_leaves_the_indexes_in_place(rebuild_small_loads, monkeypatch):
    from importers.apply import Applier

    before = _index_definitions()
    report = run_import(_bulk_book(9101), actor=None, dry_run=True)
    assert report.ok and not report.applied
    assert _index_definitions() == before

    def fail(self):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Applier, "_flush_audit", fail)
    with pytest.raises(RuntimeError):
        run_import(_bulk_book(9201), actor=None)
    assert _index_definitions() == before
    assert by_certificate("[2024]赣量标证字第9201号") is None


def test_rows_read_in_batches_still_see_the_whole_sheet(monkeypatch):
    import importers.validation

    monkeypatch.setattr(importers.validation, "CHUNK", 2)
    holder = factories.institution()
    rows = [standard_row(f"[2024]赣量标证字第{n}号", holder.credit_code) for n in range(9301, 9306)]
    blank = [None] * len(STANDARD_HEADER)
    report = run_import(xlsx({"计量标准": [STANDARD_HEADER, *rows, blank, blank, blank, rows[0]]}), actor=None)
    assert [(e.row, e.message) for e in report.errors] == [(10, "same key as row 2")]
    assert run_import(xlsx({"计量标准": [STANDARD_HEADER, *rows]}), actor=None).applied
    rows[4][STANDARD_HEADER.index("计量标准名称*")] = "改名后的装置"
    report = run_import(xlsx({"计量标准": [STANDARD_HEADER, *rows]}), actor=None)
    assert report.sheets["计量标准"] == {"created": 0, "updated": 1, "unchanged": 4}
    assert by_certificate("[2024]赣量标证字第9305号").name == "改名后的装置"


# --- audit rows built by the database --------------------------------------------------


def _creation_snapshots(book: bytes) -> list[tuple[str, dict]]:
    """Import ``book`` in a savepoint and return its creation events, ids left out, then roll it back."""
    savepoint = db.session.begin_nested()
    before = db.session.scalar(sa.select(sa.func.max(AuditEvent.id))) or 0
    report = run_import(book, actor=None)
    assert report.ok and report.applied, report.errors
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.id > before, AuditEvent.action == "create")
                                .order_by(AuditEvent.id)).all()
    out = []
    for event in events:
        assert event.before is None and event.after["id"] == int(event.entity_id)
        out.append((event.entity_type, {k: v for k, v in event.after.items() if k != "id"}))
    savepoint.rollback()
    return sorted(out, key=lambda pair: (pair[0], sorted(map(str, pair[1].items()))))


def _repeatable_public_ids(monkeypatch) -> None:
    import itertools

    serial = itertools.count(1)
    monkeypatch.setattr("registry.standards.services.new_public_id", lambda: f"snapshot-{next(serial):06d}")


def test_audit_rows_built_in_sql_equal_the_python_snapshots(monkeypatch):
    from importers.apply import Applier

    regulation = factories.regulation(code="JJG(赣) 77-2023")
    code = factories.institution().credit_code  # stored: its id is the same in both runs (sequences move on)
    tricky = 'He said "水" \\ ok <&> ’'
    book = xlsx({
        "机构": [INSTITUTION_HEADER, [factories.credit_code(), tricky, "九江", "授权计量技术机构", None, "0791-1"]],
        "检定规程": [REGULATION_HEADER, ["JJF(赣) 19-2024", "新规范", "校准规范", "地方", "已发布", "2024-02-01", None,
                                      None, "是", "否"]],
        "强检目录": [CATALOG_HEADER, ["T300", "新器具", "子项", "P+V", "周期检定", tricky, "2025-01-01"]],
        "计量标准": [STANDARD_HEADER,
                 standard_row("[2024]赣量标证字第31号", code, **{"覆盖强检项目": "S01；S14",
                                                             "依据规程": regulation.code,
                                                             "双碳相关": "是"}),
                 standard_row("[2024]赣量标证字第32号", code, **{"覆盖强检项目": None, "测量范围": None,
                                                             "不确定度/准确度等级/最大允许误差": "0.05级",
                                                             "计量标准名称*": tricky})],
        "人员": [PERSON_HEADER, ["李四", code, "2020-01-01", None, "赣注册-031", "一级", "力学；热学", "2021-01-01", None],
               ["王五", code, None, None, None, None, None, None, None]],
    })
    # A new standard's public page id is random: the same sequence in both runs, so the snapshots compare.
    _repeatable_public_ids(monkeypatch)
    in_sql = _creation_snapshots(book)
    monkeypatch.setattr(Applier, "_audit_select", lambda self, *args: None)
    _repeatable_public_ids(monkeypatch)
    in_python = _creation_snapshots(book)
    assert [kind for kind, _ in in_sql] == ["catalog_lines", "institutions", "measurement_standards",
                                            "measurement_standards", "persons", "persons", "regulations"]
    assert in_sql == in_python
    standards = [after for kind, after in in_sql if kind == "measurement_standards"]
    assert {after["name"] for after in standards} >= {tricky}
    assert any(after["is_carbon"] is True and len(after["catalog_line_ids"]) == 2 for after in standards)
    assert any(after["uncertainty_kind"] == "accuracy_class" and after["range_lower"] is None for after in standards)
