"""The dashboard as one workbook to send: ``registry report`` and the dashboard's download write the same file.

Sheets: the indicators with their plan and verdict, the by-city table, the
gaps, the certificates to apply for now, the expired ones still in use, and
the metrologist follow-up.  Every figure comes from the report cache's
services (the ones the dashboard, the API and the CLI show); this module only
lays them out.  No cell is a formula: text is written through
:func:`importers.writing.safe_row`, as the exports are.

Long lists are cut at :data:`LIST_ROW_LIMIT` rows, and the sheet says how many
there are in all and where the whole list is (a report to send is read, not
processed; the API and the exports give every row).

Gap candidates (who could close a gap) are built elsewhere; the gaps sheet is
written from :class:`GapRow` values by :func:`write_gaps_sheet`, which takes a
``candidates`` function adding a column when it is given (see
:data:`GAP_CANDIDATES`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import IO, Any, Callable

import sqlalchemy as sa
from flask import current_app
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from importers.writing import HEADER_FILL, HEADER_FONT, safe_row
from registry.coverage import cache
from registry.coverage.renewals import APPLY_NOW, EXPIRED
from registry.extensions import db
from registry.standards.models import MeasurementStandard

LIST_ROW_LIMIT = 500

# One label per language, chosen by ``lang`` ("zh" or "en"): a workbook is in one language, as a page is.
LABELS: dict[str, tuple[str, str]] = {
    "title": ("计量标准覆盖情况报告", "Metrology standards coverage report"),
    "region": ("地区", "Region"),
    "as_of": ("截至日期", "As of"),
    "plan": ("评判规划", "Plan judged against"),
    "plan_none": ("无规划", "No plan"),
    "plan_passed": ("（期限已过，按期限日评判）", "(deadline passed: judged on the deadline)"),
    "catalog": ("所用强检目录", "Catalog used"),
    "catalog_none": ("无生效的强检目录", "No catalog in force"),
    "counted": ("计入条目", "Lines counted"),
    "counted_any": ("各层级应建标的条目（{counted} / {total} 条）", "lines expected at any level ({counted} of {total})"),
    "counted_at": ("{level}应建标的条目（{counted} / {total} 条）", "lines expected at {level} level ({counted} of {total})"),
    "level_province": ("省级", "province"),
    "level_city": ("市级", "city"),
    "level_county": ("县级", "county"),
    "warning": ("警告", "Warning"),
    "generated": ("生成于", "Generated"),
    "demo": ("演示数据：本报告含演示记录，非官方数据", "Demo data: this report includes demo records, not official data"),
    "indicators": ("指标", "Indicators"),
    "by_city": ("各设区市", "By city"),
    "gaps": ("建标空白", "Gaps"),
    "apply_now": ("应申请复查", "Apply now"),
    "expired": ("已过期仍在用", "Expired"),
    "metrologists": ("注册计量师跟进", "Metrologists"),
    "key": ("指标代码", "Key"),
    "name": ("名称", "Name"),
    "value": ("数值", "Value"),
    "numerator": ("分子", "Numerator"),
    "denominator": ("分母", "Denominator"),
    "comparator": ("比较", "Comparator"),
    "target": ("目标", "Target"),
    "target_max": ("目标上限", "Target (upper)"),
    "deadline": ("期限", "Deadline"),
    "met": ("是否达标", "Met"),
    "basis": ("评判依据", "Basis"),
    "judged_on": ("评判日期", "Judged on"),
    "yes": ("达标", "met"),
    "no": ("未达标", "not met"),
    "city": ("设区市", "City"),
    "line_code": ("条目代码", "Line code"),
    "line_name": ("强检条目", "Mandatory line"),
    "sub_name": ("子目", "Sub-item"),
    "mode": ("监管方式", "Mode"),
    "uncovered": ("未覆盖条目数", "Uncovered lines"),
    "apply_by": ("申请复查截止", "Apply by"),
    "overdue": ("已过申请期", "Overdue"),
    "valid_until": ("有效期至", "Valid until"),
    "certificate_no": ("证书编号", "Certificate no."),
    "standard_name": ("计量标准名称", "Standard"),
    "validity": ("证书有效性", "Validity"),
    "holder": ("建标单位", "Holder"),
    "credit_code": ("统一社会信用代码", "Credit code"),
    "lines_at_risk": ("失效即失去覆盖的条目", "Lines lost if it lapses"),
    "institution": ("机构", "Institution"),
    "staff": ("在职技术人员", "Staff employed"),
    "registered": ("注册计量师", "Registered"),
    "share": ("占比", "Share"),
    "needed": ("达标尚需注册", "Registrations needed"),
    "total": ("合计", "Total"),
    "cut": ("共 {total} 行，此处列出前 {shown} 行；完整清单见 {where}",
            "{total} rows in all, the first {shown} shown here; the whole list: {where}"),
    "candidates": ("可填补的机构", "Who could close it"),
}


def label(key: str, lang: str) -> str:
    zh, en = LABELS[key]
    return en if lang == "en" else zh


@dataclass
class GapRow:
    """One gap: a mandatory line no standard covers in a region."""

    region: str
    region_name: str
    line_id: int
    line_code: str
    line_name: str
    sub_name: str | None
    mode: str


# The hook for "who could close a gap": a function from a GapRow to the text of its candidates column,
# or None (no column).  Set where candidates are built; write_gaps_sheet takes it as ``candidates``.
GAP_CANDIDATES: Callable[[GapRow], str] | None = None


@dataclass
class ReportData:
    """Everything the workbook shows, as the services' result objects."""

    as_of: date
    region: str
    report: Any
    by_region: Any
    gaps: Any
    apply_now: Any
    expired: Any
    metrologists: Any
    demo: bool


def collect(as_of: date, region: str | None = None) -> ReportData:
    """Read every part of the report through the report cache (what the dashboard reads)."""
    province = current_app.config["PROVINCE_CODE"]
    region = region or province
    report = cache.result("report", as_of, region)
    demo = bool(db.session.scalar(sa.select(sa.exists().where(MeasurementStandard.is_demo.is_(True)))))
    return ReportData(
        as_of=as_of, region=report.region, report=report,
        by_region=cache.result("regions", as_of, province),
        gaps=cache.result("gaps", as_of, province),
        apply_now=cache.result("renewals", as_of, report.region, window=APPLY_NOW, limit=LIST_ROW_LIMIT),
        expired=cache.result("renewals", as_of, report.region, window=EXPIRED, limit=LIST_ROW_LIMIT),
        metrologists=cache.result("metrologists", as_of, report.region),
        demo=demo,
    )


def gap_rows(gaps: Any, region: str, province: str) -> list[GapRow]:
    """The gaps the region shows: the province's own and each city's, or one city's."""
    entries = []
    if region == province:
        entries.append((gaps.region, gaps.region_name, gaps.uncovered))
        entries.extend((entry.region, entry.region_name, entry.lines) for entry in gaps.by_region)
    else:
        entries.extend((entry.region, entry.region_name, entry.lines) for entry in gaps.by_region
                       if entry.region == region)
    return [GapRow(region=code, region_name=name, line_id=line.id, line_code=line.code, line_name=line.name,
                   sub_name=line.sub_name, mode=line.mode) for code, name, lines in entries for line in lines]


def _header(ws: Any, texts: list[str]) -> list[WriteOnlyCell]:
    cells = []
    for text in texts:
        cell = WriteOnlyCell(ws, text)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cells.append(cell)
    return cells


def _heading(ws: Any, data: ReportData, lang: str, sheet: str) -> None:
    """The first rows of every sheet: what, where, when (a sheet read alone still says it)."""
    name = data.report.region_name
    ws.append(safe_row(ws, [f"{label('title', lang)} · {label(sheet, lang)}"]))
    ws.append(safe_row(ws, [label("region", lang), f"{name} ({data.report.region})",
                            label("as_of", lang), data.as_of]))
    if data.demo:
        ws.append(safe_row(ws, [label("demo", lang)]))
    ws.append([])


def _met(value: bool | None, lang: str) -> str | None:
    return None if value is None else label("yes" if value else "no", lang)


def _cut_note(ws: Any, listing: Any, lang: str, where: str) -> None:
    if listing.total > len(listing.items):
        ws.append(safe_row(ws, [label("cut", lang).format(total=listing.total, shown=len(listing.items),
                                                          where=where)]))


def write_indicators_sheet(wb: Workbook, data: ReportData, lang: str) -> None:
    ws = wb.create_sheet(label("indicators", lang))
    _heading(ws, data, lang, "indicators")
    report = data.report
    plan = report.plan
    if plan is None:
        ws.append(safe_row(ws, [label("plan", lang), label("plan_none", lang)]))
    else:
        note = label("plan_passed", lang) if plan.status == "deadline_passed" else ""
        ws.append(safe_row(ws, [label("plan", lang), f"{plan.name} ({plan.starts_on} – {plan.deadline}){note}"]))
    catalog = report.catalog
    ws.append(safe_row(ws, [label("catalog", lang), catalog.name if catalog else label("catalog_none", lang)]))
    _counted_row(ws, catalog, lang)
    for warning in report.warnings:
        ws.append(safe_row(ws, [label("warning", lang), warning]))
    ws.append([])
    ws.append(_header(ws, [label(k, lang) for k in ("key", "name", "value", "numerator", "denominator", "comparator",
                                                     "target", "target_max", "deadline", "met", "judged_on",
                                                     "basis")]))
    for item in report.indicators:
        name = item.name_en if lang == "en" else item.name
        ws.append(safe_row(ws, [item.key, name, item.value, item.numerator, item.denominator, item.comparator,
                                item.target, item.target_max, item.deadline, _met(item.met, lang), item.judged_on,
                                item.basis]))


def counted_lines(catalog: Any, lang: str) -> str | None:
    """Which lines a report's coverage counted, e.g. "lines expected at city level (3 of 4)", or None."""
    if catalog is None or catalog.counted_line_count is None:
        return None
    numbers = {"counted": catalog.counted_line_count, "total": catalog.mandatory_line_count}
    if catalog.counted_level == "any":
        return label("counted_any", lang).format(**numbers)
    level_key = f"level_{catalog.counted_level}"
    level = label(level_key, lang) if level_key in LABELS else catalog.counted_level
    return label("counted_at", lang).format(level=level, **numbers)


def _counted_row(ws: Any, catalog: Any, lang: str) -> None:
    text = counted_lines(catalog, lang)
    if text is not None:
        ws.append(safe_row(ws, [label("counted", lang), text]))


def write_by_city_sheet(wb: Workbook, data: ReportData, lang: str) -> None:
    ws = wb.create_sheet(label("by_city", lang))
    _heading(ws, data, lang, "by_city")
    table = data.by_region
    _counted_row(ws, table.catalog, lang)
    ws.append(_header(ws, [label("key", lang), label("name", lang)]
                      + [f"{column.region_name} ({column.region})" for column in table.regions]))
    for index, item in enumerate(data.report.indicators):
        row: list[Any] = [item.key, item.name_en if lang == "en" else item.name]
        for column in table.regions:
            cell = column.indicators[index] if index < len(column.indicators) else None
            row.append(None if cell is None else cell.value)
        ws.append(safe_row(ws, row))
    ws.append([])
    ws.append(_header(ws, [label("key", lang), label("met", lang)]
                      + [f"{column.region_name} ({column.region})" for column in table.regions]))
    for index, item in enumerate(data.report.indicators):
        ws.append(safe_row(ws, [item.key, None] + [
            _met(column.indicators[index].met, lang) if index < len(column.indicators) else None
            for column in table.regions]))


def write_gaps_sheet(wb: Workbook, data: ReportData, rows: list[GapRow], lang: str, *,
                     candidates: Callable[[GapRow], str] | None = None) -> None:
    """The gaps, one row a line and region; with ``candidates``, a last column naming who could close each."""
    ws = wb.create_sheet(label("gaps", lang))
    _heading(ws, data, lang, "gaps")
    header = [label(k, lang) for k in ("region", "city", "line_code", "line_name", "sub_name", "mode")]
    if candidates is not None:
        header.append(label("candidates", lang))
    ws.append(_header(ws, header))
    for row in rows:
        values = [row.region, row.region_name, row.line_code, row.line_name, row.sub_name, row.mode]
        if candidates is not None:
            values.append(candidates(row))
        ws.append(safe_row(ws, values))


def write_renewals_sheet(wb: Workbook, data: ReportData, listing: Any, lang: str, sheet: str) -> None:
    ws = wb.create_sheet(label(sheet, lang))
    _heading(ws, data, lang, sheet)
    _cut_note(ws, listing, lang, f"GET /api/v1/coverage/renewals?window={listing.window}&as_of={data.as_of}"
                                 f"&region={data.region}")
    ws.append(_header(ws, [label(k, lang) for k in (
        "apply_by", "overdue", "valid_until", "certificate_no", "standard_name", "validity", "city", "holder",
        "credit_code", "lines_at_risk")]))
    for item in listing.items:
        s = item.standard
        city = item.city_name_en if lang == "en" and item.city_name_en else item.city_name
        lines = "; ".join(f"{line.code} {line.name}" + (f"·{line.sub_name}" if line.sub_name else "")
                          for line in item.lines_at_risk)
        ws.append(safe_row(ws, [item.apply_by, label("overdue", lang) if item.overdue else None, s.valid_until,
                                s.certificate_no, s.name, s.validity, city, s.institution_name, s.credit_code,
                                lines or None]))


def write_metrologists_sheet(wb: Workbook, data: ReportData, lang: str) -> None:
    ws = wb.create_sheet(label("metrologists", lang))
    _heading(ws, data, lang, "metrologists")
    follow = data.metrologists
    ws.append(_header(ws, [label(k, lang) for k in (
        "institution", "credit_code", "city", "staff", "registered", "share", "target", "met", "needed")]))
    for item in follow.institutions:
        city = item.city_name_en if lang == "en" and item.city_name_en else item.city_name
        ws.append(safe_row(ws, [item.institution_name, item.credit_code, city, item.staff, item.registered,
                                item.share, follow.target, _met(item.met, lang), item.needed]))
    ws.append(safe_row(ws, [label("total", lang), None, None, follow.staff, follow.registered, follow.share,
                            follow.target, None, follow.needed]))


def write_workbook(data: ReportData, out: IO[bytes] | str, *, lang: str = "zh",
                   candidates: Callable[[GapRow], str] | None = None) -> None:
    """Write the report for ``data`` to ``out`` (a path or a binary file)."""
    wb = Workbook(write_only=True)
    province = current_app.config["PROVINCE_CODE"]
    write_indicators_sheet(wb, data, lang)
    write_by_city_sheet(wb, data, lang)
    write_gaps_sheet(wb, data, gap_rows(data.gaps, data.region, province), lang,
                     candidates=candidates if candidates is not None else GAP_CANDIDATES)
    write_renewals_sheet(wb, data, data.apply_now, lang, "apply_now")
    write_renewals_sheet(wb, data, data.expired, lang, "expired")
    write_metrologists_sheet(wb, data, lang)
    wb.save(out)


def report_filename(data: ReportData) -> str:
    return f"coverage-report-{data.region}-{data.as_of.isoformat()}.xlsx"
