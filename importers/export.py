"""Templates and exports in the import format, so an export imports back unchanged.

Exports stream (openpyxl write-only mode, rows fetched in batches); no cell
can become a formula (:mod:`importers.writing`).  Demo records carry 是 in
the 演示 column and the instructions sheet says what that means.
"""
from __future__ import annotations

import os
from datetime import date
from functools import partial
from typing import IO, Any, Iterable, Iterator, Mapping

import sqlalchemy as sa
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from registry.auth.policy import scope
from registry.catalog.models import CatalogLine, CatalogVersion
from registry.database.base import utcnow
from registry.extensions import db
from registry.indicators.models import Plan, PlanTarget
from registry.institutions.models import Institution
from registry.personnel.models import Person
from registry.reference.models import Discipline, Region
from registry.regulations.models import Regulation
from registry.standards.models import (
    MeasurementStandard, StandardStatusPeriod, standard_catalog_lines, standard_regulations,
)
from registry.standards.validity import VALIDITY_LABELS, certificate_validity

from importers.references import catalog_in_force
from importers.spec import (
    BY_KIND, DEMO, ENUMS, EXAMPLES, NO, SUPERVISION_MODES, WORKBOOK_ORDER, YES, Column, Sheet, find_sheet,
)
from importers.writing import EXAMPLE_FONT, HEADER_FILL, HEADER_FONT, REQUIRED_FONT, WRAP, header_cell, safe_row

Target = str | os.PathLike | IO[bytes]
INSTRUCTIONS_TITLE = "填表说明"
LISTS_TITLE = "下拉列表"
SEPARATOR = "；"
_BATCH = 5_000


def kinds_from(names: Iterable[str] | None) -> list[Sheet]:
    """Sheets by kind or sheet name (``standards``, ``计量标准``); all of them by default."""
    if not names:
        return list(WORKBOOK_ORDER)
    chosen = []
    for name in names:
        sheet = BY_KIND.get(name) or find_sheet(name)
        if sheet is None:
            raise ValueError(f"未知的表：{name} / unknown sheet {name!r} "
                             f"(one of {', '.join(s.kind for s in WORKBOOK_ORDER)})")
        if sheet not in chosen:
            chosen.append(sheet)
    return [s for s in WORKBOOK_ORDER if s in chosen]


# --- instructions ------------------------------------------------------------------


def instructions(extra: Iterable[str] = ()) -> list[str]:
    """The instructions sheet's lines, Chinese then English."""
    lines = [
        "计量标准注册管理系统 · Excel 导入模板 / Metrology standards registry · Excel import workbook",
        "",
        "工作表 / Sheets: " + "、".join(f"{s.title} ({s.title_en})" for s in WORKBOOK_ORDER)
        + "。可只保留需要的表；表名与列名可用中文或英文 / keep only the sheets you need; Chinese or English names.",
        "表头须在前10行内；列顺序不限；带 * 的列必填，缺少必填列时整个文件不导入 / "
        "the header must be within the first 10 rows; columns in any order; * marks a required column.",
        "每行按关键字新增或更新：机构按统一社会信用代码，计量标准按证书编号，检定规程按编号，人员按注册证号（无证号时按姓名+所在机构），"
        "强检目录按目录版本内的序号 / rows are matched by natural key: credit code, certificate number, regulation "
        "code, registration number (or name + institution), catalog line code within its catalog version.",
        "空白单元格不修改已有值（新记录取默认值）/ a blank cell leaves the stored value as it is (defaults for new records).",
        "日期可写 2023-05-20、2023/5/20、2023.5.20、2023年5月20日或 Excel 日期 / dates: 2023-05-20, 2023/5/20, "
        "2023.5.20, 2023年5月20日 or an Excel date.",
        "多个值用 ；; 、 , ， 或换行分隔（覆盖强检项目写目录序号或一级/二级名称；依据规程写规程编号）/ several values: "
        "separate with ；; 、 , ， or new lines (catalog lines by code or name; regulations by code).",
        "是否列可填 是/否、Y/N、true/false / yes-no columns: 是/否, Y/N, true/false.",
        "强检目录的行写入“目录版本”列指定的版本，留空为现行目录 / catalog rows go to the version named in "
        "目录版本, or the catalog in force when blank.",
        f"{DEMO.header}列为“{YES}”的是虚构的演示数据，不是正式记录 / '{YES}' in the {DEMO.header} column marks invented "
        "demo records, not official ones.",
        "任何一行有错则整个文件不导入，错误报告列出工作表、行号、列和原因 / if any row is invalid nothing is "
        "written; the report lists sheet, row, column and reason.",
        "第2行为示例，导入前请删除 / row 2 of each sheet is an example: delete it before importing.",
        "可导入的文件：本模板（.xlsx）、旧版 Excel（.xls）、OpenDocument 表格（.ods），或一张表的 CSV 文件（UTF-8 或 "
        "GB18030 编码，按表头判断是哪张表，或导入时指定）；导出和模板都是 .xlsx / files imported: this workbook "
        "(.xlsx), old Excel (.xls), OpenDocument (.ods), or one sheet as CSV (UTF-8 or GB18030, the sheet told by its "
        "header or named when importing); exports and templates are .xlsx.",
        "",
        "命令 / Commands: registry import FILE.xlsx|.xls|.ods|.csv [--sheet NAME] [--lang zh|en] [--dry-run] "
        "[--as EMAIL] [--errors OUT.xlsx] [--json]；"
        "registry export OUT.xlsx [--kind K] [--region CODE]；registry template OUT.xlsx",
    ]
    for sheet in WORKBOOK_ORDER:
        lines.append("")
        lines.append(f"【{sheet.title} / {sheet.title_en}】")
        for column in sheet.columns:
            note = f" — {column.note}" if column.note else ""
            lines.append(f"  {column.label} ({column.alias}){note}")
    lines.extend(extra)
    return lines


# --- template ------------------------------------------------------------------------

def _lists() -> dict[str, list[str]]:
    regions = [name for (name,) in db.session.execute(sa.select(Region.name).order_by(Region.code))]
    disciplines = [name for (name,) in db.session.execute(sa.select(Discipline.name).order_by(Discipline.code))]
    lists = {f"enum:{key}": [label for label, _ in values.values()] for key, values in ENUMS.items()}
    lists.update({"region": regions, "discipline": disciplines, "bool": [YES, NO], "mode": list(SUPERVISION_MODES)})
    return lists


def _list_key(column: Column) -> str | None:
    if column.kind == "enum":
        return f"enum:{column.enum}"
    if column.kind == "bool":
        return "bool"
    if column.kind == "mode":
        return "mode"
    return {"region_code": "region", "discipline_code": "discipline"}.get(column.field)


def write_template(out: Target, *, max_rows: int = 200_000) -> None:
    """An empty workbook to fill in: instructions, every sheet with headers, an example row and dropdowns."""
    wb = Workbook()
    guide = wb.active
    guide.title = INSTRUCTIONS_TITLE
    guide.column_dimensions["A"].width = 120
    for line in instructions():
        guide.append([line])
    for cell in guide["A"]:
        cell.alignment = WRAP

    lists = _lists()
    keys = list(lists)
    list_sheet = wb.create_sheet(LISTS_TITLE)
    for index, key in enumerate(keys, start=1):
        letter = get_column_letter(index)
        list_sheet[f"{letter}1"] = key
        for row, value in enumerate(lists[key], start=2):
            list_sheet[f"{letter}{row}"] = value
    list_sheet.sheet_state = "hidden"

    for sheet in WORKBOOK_ORDER:
        ws = wb.create_sheet(sheet.title)
        columns = [c for c in sheet.columns if c is not DEMO and c.kind != "derived"]
        for index, column in enumerate(columns, start=1):
            cell = ws.cell(row=1, column=index, value=column.label)
            cell.font = REQUIRED_FONT if column.required else HEADER_FONT
            cell.fill = HEADER_FILL
            if column.note:
                cell.comment = Comment(column.note, "registry")
            ws.column_dimensions[get_column_letter(index)].width = column.width
        example = EXAMPLES[sheet.kind][:len(columns)]
        for index, value in enumerate(example, start=1):
            cell = ws.cell(row=2, column=index, value=value)
            cell.font = EXAMPLE_FONT
            if isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"
        ws.freeze_panes = "A2"
        for index, column in enumerate(columns, start=1):
            key = _list_key(column)
            if key is None:
                continue
            letter, source = get_column_letter(index), get_column_letter(keys.index(key) + 1)
            validation = DataValidation(
                type="list", formula1=f"'{LISTS_TITLE}'!${source}$2:${source}${len(lists[key]) + 1}",
                allow_blank=True, showErrorMessage=column.kind in ("enum", "bool", "mode"),
                errorTitle="取值无效 / invalid value",
                error=f"请从下拉列表选择 / choose from the list: {'、'.join(lists[key][:12])}",
            )
            validation.add(f"{letter}2:{letter}{max_rows + 1}")
            ws.add_data_validation(validation)
    wb.save(out)


# --- export --------------------------------------------------------------------------


def export_workbook(out: Target, *, actor: Any = None, kinds: Iterable[str] | None = None,
                    region: str | None = None, catalog_version: str | None = None,
                    today: date | None = None, selections: Mapping[str, sa.Select] | None = None,
                    scope_note: str | None = None) -> dict[str, int]:
    """Write the registry (what ``actor`` may read) in the import format; return rows per sheet.

    ``kinds`` picks sheets (default all); ``region`` (a GB/T 2260 code)
    keeps the institutions of that region and its subdivisions, with their
    standards and staff.  Withdrawn records are left out.

    ``selections`` narrows a sheet to the rows of a prepared list query
    (``{"standards": standards_query(args, actor=...)}``, a select of the
    sheet's model): the export of what a filtered list shows.  Its sort is
    ignored (rows keep the import order); catalog rows then carry each
    line's own version.  ``scope_note`` describes the selection on the
    instructions sheet.
    """
    sheets = kinds_from(kinds)
    regions = _region_codes(region) if region else None
    selections = dict(selections or {})
    unknown = set(selections) - {sheet.kind for sheet in sheets}
    if unknown:
        raise ValueError(f"selection for a sheet not exported: {', '.join(sorted(unknown))}")
    wb = Workbook(write_only=True)
    guide = wb.create_sheet(INSTRUCTIONS_TITLE)
    guide.column_dimensions["A"].width = 120
    scope_text = scope_note or (f"地区 / region {region}" if region else "全部 / all")
    has_demo = bool(db.session.scalar(sa.select(sa.exists().where(Institution.is_demo.is_(True)))))
    extra = ["", f"导出时间 / exported at: {utcnow().isoformat(timespec='seconds')}", f"范围 / scope: {scope_text}"]
    if has_demo:
        extra.append(f"本文件含虚构的演示数据（{DEMO.header}列为“{YES}”）/ this file holds invented demo records "
                     f"('{YES}' in the {DEMO.header} column).")
    for line in instructions(extra):
        guide.append([line])

    counts = {}
    version = _export_catalog_version(catalog_version, today or date.today())
    # 证书有效性（导出日）: registry.standards.validity on this day.
    export_day = today or date.today()
    writers = {"institutions": _institution_rows, "standards": partial(_standard_rows, today=export_day),
               "regulations": _regulation_rows, "personnel": _person_rows, "catalog": _catalog_rows,
               "plans": _plan_rows, "targets": _target_rows}
    for sheet in sheets:
        ws = wb.create_sheet(sheet.title)
        for index, column in enumerate(sheet.columns, start=1):
            ws.column_dimensions[get_column_letter(index)].width = column.width
        ws.freeze_panes = "A2"
        ws.append([header_cell(ws, c.label, required=c.required, note=c.note) for c in sheet.columns])
        n = 0
        only = _ids(selections[sheet.kind]) if sheet.kind in selections else None
        rows = writers[sheet.kind](actor=actor, regions=regions, version=version, only=only)
        for values in rows:
            ws.append(safe_row(ws, values))
            n += 1
        counts[sheet.title] = n
    wb.save(out)
    return counts


def _ids(selection: sa.Select) -> sa.Select:
    """The ids of the rows a list query selects (its first column is the model's entity)."""
    rows = selection.order_by(None).limit(None).offset(None).subquery()
    return sa.select(rows.c.id)


def _only(statement: sa.Select, column: Any, only: sa.Select | None) -> sa.Select:
    return statement if only is None else statement.where(column.in_(only))


def _region_codes(code: str) -> set[str]:
    children: dict[str | None, list[str]] = {}
    known = set()
    for region_code, parent in db.session.execute(sa.select(Region.code, Region.parent_code)):
        children.setdefault(parent, []).append(region_code)
        known.add(region_code)
    if code not in known:
        raise ValueError(f"未知地区代码：{code} / unknown region code {code!r}")
    found, todo = set(), [code]
    while todo:
        current = todo.pop()
        found.add(current)
        todo.extend(children.get(current, []))
    return found


def _export_catalog_version(name: str | None, today: date) -> CatalogVersion | None:
    if name:
        version = db.session.scalar(sa.select(CatalogVersion).where(CatalogVersion.name == name))
        if version is None:
            raise ValueError(f"目录版本不存在：{name} / no catalog version named {name!r}")
        return version
    return catalog_in_force(today)


def _label(enum: str) -> dict[str | None, str | None]:
    labels: dict[str | None, str | None] = {code: label for code, (label, _) in ENUMS[enum].items()}
    labels[None] = None
    return labels


def _stream(statement: sa.Select) -> Iterator[sa.Row]:
    return iter(db.session.execute(statement.execution_options(yield_per=_BATCH)))


def _yes(value: bool | None) -> str | None:
    return None if value is None else (YES if value else NO)


def _institution_filter(statement: sa.Select, regions: set[str] | None) -> sa.Select:
    return statement if regions is None else statement.where(Institution.region_code.in_(sorted(regions)))


def _institution_rows(*, actor: Any, regions: set[str] | None, version: Any,
                      only: sa.Select | None = None) -> Iterator[list]:
    region_names = dict(db.session.execute(sa.select(Region.code, Region.name)).all())
    kinds = _label("institution_kind")
    statement = _institution_filter(
        scope(sa.select(Institution.credit_code, Institution.name, Institution.region_code, Institution.kind,
                        Institution.contact, Institution.phone, Institution.is_demo, Institution.serves_region_code),
              Institution, actor)
        .where(Institution.withdrawn_at.is_(None)).order_by(Institution.id), regions)
    statement = _only(statement, Institution.id, only)
    for credit_code, name, region_code, kind, contact, phone, is_demo, serves in _stream(statement):
        yield [credit_code, name, region_names.get(region_code, region_code), kinds[kind], contact, phone,
               YES if is_demo else None, region_names.get(serves, serves) if serves else None]


def _links(table: sa.Table, column: str, target: Any, code: Any) -> dict[int, list[str]]:
    links: dict[int, list[str]] = {}
    statement = (sa.select(table.c.standard_id, code).join(target, target.id == table.c[column])
                 .order_by(table.c.standard_id, code))
    for standard_id, value in db.session.execute(statement):
        links.setdefault(standard_id, []).append(value)
    return links


def _standard_rows(*, actor: Any, regions: set[str] | None, version: Any,
                   only: sa.Select | None = None, today: date) -> Iterator[list]:
    S = MeasurementStandard
    states = {state: zh for state, (zh, _) in VALIDITY_LABELS.items()}
    categories, statuses, builds = _label("standard_category"), _label("standard_status"), _label("build_kind")
    disciplines = dict(db.session.execute(sa.select(Discipline.code, Discipline.name)).all())
    disciplines[None] = None
    lines = _links(standard_catalog_lines, "catalog_line_id", CatalogLine, CatalogLine.code)
    regulations = _links(standard_regulations, "regulation_id", Regulation, Regulation.code)
    statement = _institution_filter(
        scope(sa.select(S.id, S.certificate_no, S.name, S.code, S.category, Institution.credit_code,
                        S.discipline_code, S.range_text, S.uncertainty_text, S.issuer, S.issued_on, S.valid_until,
                        S.status, S.status_since, S.is_carbon, S.build_kind, S.built_on, S.is_demo)
              .join(Institution, Institution.id == S.institution_id), S, actor)
        .where(S.withdrawn_at.is_(None)).order_by(S.id), regions)
    statement = _only(statement, S.id, only)
    join = SEPARATOR.join
    # The ended status periods still holding today (a resumption dated later): few, read at once.
    SP = StandardStatusPeriod
    periods: dict[int, list] = {}
    for standard_id, period_status, started_on, ended_on in db.session.execute(
            sa.select(SP.standard_id, SP.status, SP.started_on, SP.ended_on).where(SP.ended_on > today)):
        periods.setdefault(standard_id, []).append((period_status, started_on, ended_on))
    for (id_, certificate_no, name, code, category, credit_code, discipline, range_text, uncertainty, issuer,
         issued_on, valid_until, status, status_since, is_carbon, build_kind, built_on, is_demo) in _stream(statement):
        covered, applied = lines.get(id_), regulations.get(id_)
        yield [certificate_no, name, code, categories[category], credit_code, disciplines[discipline], range_text,
               uncertainty, issuer, issued_on, valid_until, statuses[status], status_since,
               join(covered) if covered else None,
               join(applied) if applied else None, YES if is_carbon else NO, builds[build_kind], built_on,
               YES if is_demo else None,
               states[certificate_validity(status=status, status_since=status_since, issued_on=issued_on,
                                           valid_until=valid_until, withdrawn=False, on=today,
                                           periods=periods.get(id_))]]


def _regulation_rows(*, actor: Any, regions: set[str] | None, version: Any,
                     only: sa.Select | None = None) -> Iterator[list]:
    R = Regulation
    kinds, levels, statuses = _label("regulation_kind"), _label("regulation_level"), _label("regulation_status")
    statement = (sa.select(R.code, R.title, R.kind, R.level, R.status, R.published_on, R.implemented_on,
                           R.abolished_on, R.is_urgent, R.is_carbon, R.is_demo)
                 .where(R.withdrawn_at.is_(None)).order_by(R.code))
    statement = _only(statement, R.id, only)
    for code, title, kind, level, status, published, implemented, abolished, urgent, carbon, is_demo in \
            _stream(statement):
        yield [code, title, kinds[kind], levels[level], statuses[status], published, implemented, abolished,
               _yes(urgent), _yes(carbon), YES if is_demo else None]


def _person_rows(*, actor: Any, regions: set[str] | None, version: Any,
                 only: sa.Select | None = None) -> Iterator[list]:
    P = Person
    levels = _label("registration_level")
    statement = _institution_filter(
        scope(sa.select(P.name, Institution.credit_code, P.employed_from, P.employed_until, P.registration_no,
                        P.registration_level, P.registration_items, P.registered_on, P.registration_valid_until,
                        P.is_demo)
              .join(Institution, Institution.id == P.institution_id), P, actor)
        # Staff of one name in one institution import back in this order (see PersonHandler).
        .where(P.withdrawn_at.is_(None)).order_by(P.institution_id, P.id), regions)
    statement = _only(statement, P.id, only)
    for (name, credit_code, employed_from, employed_until, number, level, items, registered_on, valid_until,
         is_demo) in _stream(statement):
        yield [name, credit_code, employed_from, employed_until, number, levels[level],
               SEPARATOR.join(items) if items else None, registered_on, valid_until, YES if is_demo else None]


def _catalog_rows(*, actor: Any, regions: set[str] | None, version: CatalogVersion | None,
                  only: sa.Select | None = None) -> Iterator[list]:
    L = CatalogLine
    forms = _label("verification_form")
    if only is not None:
        # A list's lines may come from several versions: each row names its own.
        statement = (sa.select(L.code, L.name, L.sub_name, L.mode, L.verification_form, L.scope_note,
                               L.effective_from, CatalogVersion.name, L.levels)
                     .join(CatalogVersion, CatalogVersion.id == L.catalog_version_id)
                     .where(L.id.in_(only), L.withdrawn_at.is_(None))
                     .order_by(CatalogVersion.effective_from, CatalogVersion.id, L.code))
        for code, name, sub_name, mode, form, note, effective_from, version_name, levels in _stream(statement):
            yield [code, name, sub_name, mode, forms[form], note, effective_from, _level_cell(levels), version_name]
        return
    if version is None:
        return
    statement = (sa.select(L.code, L.name, L.sub_name, L.mode, L.verification_form, L.scope_note, L.effective_from,
                           L.levels)
                 .where(L.catalog_version_id == version.id, L.withdrawn_at.is_(None)).order_by(L.code))
    for code, name, sub_name, mode, form, note, effective_from, levels in _stream(statement):
        yield [code, name, sub_name, mode, forms[form], note, effective_from, _level_cell(levels), version.name]


LEVEL_CELLS = {"province": "省级", "city": "市级", "county": "县级"}


def _level_cell(levels: str | None) -> str | None:
    """A line's levels as the workbook writes them (市级；县级); empty: every level."""
    return SEPARATOR.join(LEVEL_CELLS[level] for level in levels.split(",")) if levels else None



def _plan_rows(*, actor: Any, regions: set[str] | None, version: Any, only: sa.Select | None = None) -> Iterator[list]:
    statement = (sa.select(Plan.name, Plan.source_document, Plan.starts_on, Plan.deadline, Plan.description)
                 .where(Plan.withdrawn_at.is_(None)).order_by(Plan.starts_on, Plan.id))
    statement = _only(statement, Plan.id, only)
    for row in _stream(statement):
        yield list(row)


def _target_rows(*, actor: Any, regions: set[str] | None, version: Any,
                 only: sa.Select | None = None) -> Iterator[list]:
    T = PlanTarget
    comparators = _label("comparator")
    statement = (sa.select(Plan.name, T.indicator_key, T.region_code, T.comparator, T.target, T.target_max)
                 .join(Plan, Plan.id == T.plan_id)
                 .where(T.withdrawn_at.is_(None), Plan.withdrawn_at.is_(None))
                 .order_by(Plan.starts_on, Plan.id, T.indicator_key, T.region_code))
    statement = _only(statement, T.id, only)
    for name, key, region, comparator, target, target_max in _stream(statement):
        yield [name, key, region, comparators[comparator], _decimal_text(target), _decimal_text(target_max)]


def _decimal_text(value: Any) -> str | None:
    """A Numeric(14, 4) as typed, without trailing zeros (1800, 0.9)."""
    if value is None:
        return None
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
