"""``registry coverage``: the indicator report and what a regulator acts on.

Each command reads only, calls one service and prints its ``to_dict()`` as
one JSON object (``--json``) or a bilingual table.
"""
from __future__ import annotations

import json
import unicodedata
from datetime import date
from typing import Any, Callable

import click
from flask import current_app
from flask.cli import with_appcontext

from registry.records.dates import RANGE_MESSAGE, DateOutOfRange, within_range
from registry.errors import DomainError


def _services():
    """The coverage service, imported when a command runs (not when ``registry --help`` lists it)."""
    from registry.coverage import services

    return services


def _cache():
    """The report cache (registry.coverage.cache), imported when a command runs."""
    from registry.coverage import cache

    return cache


MET_MARKS = {True: "✓", False: "✗", None: "–"}
COMPARATOR_MARKS = {">=": "≥", "<=": "≤", "=": "="}


class IsoDate(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            day = date.fromisoformat(str(value).strip())
        except ValueError:
            self.fail(f"不是有效日期 / not a date (YYYY-MM-DD): {value!r}", param, ctx)
        if not within_range(day):
            self.fail(f"{RANGE_MESSAGE}: {day.isoformat()}", param, ctx)
        return day


def _common(command: Callable) -> Callable:
    command = click.option("--json", "as_json", is_flag=True, default=None, help="Print one JSON object.")(command)
    command = click.option("--as-of", type=IsoDate(), help="Date of the figures (default: today).")(command)
    command = click.option("--region", help="Region code: 360000 (province, default) or a city, e.g. 360100.")(command)
    return command


def _options(region: str | None, as_of: date | None, as_json: bool | None) -> tuple[str | None, date, bool]:
    """Take each option from the subcommand, else from the group, else the default."""
    group = click.get_current_context().meta.get("coverage.options", {})
    region = region if region is not None else group.get("region")
    as_of = as_of or group.get("as_of") or date.today()
    as_json = as_json if as_json is not None else bool(group.get("as_json"))
    return region, as_of, as_json


def _run(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except DateOutOfRange as exc:  # the options are bounded so this should not happen; if it does, usage (2)
        raise click.UsageError(exc.message) from None
    except DomainError as exc:
        raise click.ClickException(exc.message) from None


def _echo_json(result: Any) -> None:
    click.echo(json.dumps(result.to_dict(), ensure_ascii=False))


# --------------------------------------------------------------------------- table helpers

def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool = False) -> str:
    fill = " " * max(0, width - _width(text))
    return fill + text if right else text + fill


def _table(header: list[str], rows: list[list[str]], right: set[int] = frozenset()) -> str:
    widths = [max(_width(cell) for cell in column) for column in zip(header, *rows)]
    lines = ["  ".join(_pad(cell, widths[i], i in right) for i, cell in enumerate(header)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(_pad(cell, widths[i], i in right) for i, cell in enumerate(row)).rstrip() for row in rows]
    return "\n".join(lines)


def _value(item: dict) -> str:
    value = item["value"]
    if value is None:
        return "—"
    if item["denominator"] is not None:
        return f"{value * 100:.2f}%"
    return f"{value:g}" if isinstance(value, float) else str(value)


# Keys: the report's basis values (registry.coverage.services.BASIS_*; not imported here, see _services).
BASIS_LABELS = {
    "province_target": "按全省目标 judged against the province's target",
    "no_city_target": "无本市目标，不评判 no city target: no verdict",
    "province_wide": "全省指标，见全省 counted for the province only",
    "no_target": "无目标 no target",
}


def _target(item: dict) -> str:
    if item["target"] is None:
        return BASIS_LABELS.get(item.get("basis"), "—")
    ratio = item["kind"] == "ratio"

    def show(number: float | int) -> str:
        return f"{number * 100:g}%" if ratio else f"{number:g}"

    if item["comparator"] == "between":
        return f"{show(item['target'])}–{show(item['target_max'])}" if item["target_max"] is not None \
            else f"≥ {show(item['target'])}"
    return f"{COMPARATOR_MARKS[item['comparator']]} {show(item['target'])}"


def _fraction(item: dict) -> str:
    if item["denominator"] is not None:
        return f"{item['numerator']}/{item['denominator']}"
    if item["value_as_of"]:
        return f"录入 recorded {item['value_as_of']}"
    return ""


def _indicator_rows(indicators: list[dict]) -> list[list[str]]:
    return [[item["key"], f"{item['name']} {item['name_en']}", _value(item), _target(item), MET_MARKS[item["met"]],
             _fraction(item)] for item in indicators]


# The lines a report counted, by level: the province counts every line, a city its own level's.
COUNTED_LEVELS = {"any": ("各层级", "any"), "province": ("省级", "province"), "city": ("市级", "city"),
                  "county": ("县级", "county")}


def _catalog_line(catalog: dict | None) -> str:
    if catalog is None:
        return "目录 Catalog: —"
    mandatory = "" if catalog["mandatory_line_count"] is None else f", {catalog['mandatory_line_count']} 强检 mandatory"
    line = (f"目录 Catalog: {catalog['name']} (#{catalog['id']}, 生效 effective {catalog['effective_from']}; "
            f"{catalog['loaded_line_count']}/{catalog['declared_line_count']} 条 lines loaded{mandatory})")
    if catalog.get("counted_line_count") is None:
        return line
    level = catalog.get("counted_level", "any")
    zh, en = COUNTED_LEVELS.get(level, (level, level))
    return (f"{line}\n计入 Counted: {zh}应建标的条目 lines expected at {en} level "
            f"({catalog['counted_line_count']} of {catalog['mandatory_line_count']})")


def _plan_line(plan: dict | None) -> str:
    if plan is None:
        return "规划 Plan: — (无规划覆盖此日期 no plan holds this date)"
    line = f"规划 Plan: {plan['name']} ({plan['starts_on']} — {plan['deadline']})"
    if plan["status"] == "deadline_passed":
        line += f"; 期限已过，按 {plan['deadline']} 的数值评判 deadline passed: judged on {plan['deadline']}"
    return line


def _echo_warnings(warnings: list[str]) -> None:
    for warning in warnings:
        click.echo(f"⚠ {warning}")


def _echo_notes(indicators: list[dict]) -> None:
    for item in indicators:
        if item["basis"] == "province_target":
            click.echo(f"注 Note: {item['key']}: 按全省目标评判 judged against the province's target")
        elif item["basis"] == "province_wide":
            click.echo(f"注 Note: {item['key']}: 全省指标，不按市重复 counted for the province only")
        elif item["basis"] == "no_city_target" and item["share_of_province"] is not None:
            click.echo(f"注 Note: {item['key']}: 无本市目标，占全省 {item['share_of_province'] * 100:.1f}% "
                       f"no city target, {item['share_of_province'] * 100:.1f}% of the province")
        if item["judged_value"] is not None and item["judged_on"]:
            click.echo(f"  {item['key']}: {item['judged_on']} 数值 value {_value({**item, 'value': item['judged_value']})}")
    for item in indicators:
        if item["value_source"]:
            click.echo(f"  {item['key']}: {item['value_as_of']} {item['value_source']}")


def _line_label(line: dict) -> str:
    name = f"{line['name']}·{line['sub_name']}" if line["sub_name"] else line["name"]
    return f"{line['code']} {name} ({line['mode']})"


# --------------------------------------------------------------------------- commands

@click.group("coverage", invoke_without_command=True)
@_common
@click.pass_context
@with_appcontext
def coverage_group(ctx: click.Context, region: str | None, as_of: date | None, as_json: bool | None) -> None:
    """指标覆盖情况 — every indicator against its target, for a date and region."""
    ctx.meta["coverage.options"] = {"region": region, "as_of": as_of, "as_json": as_json}
    if ctx.invoked_subcommand is not None:
        return
    region, as_of, as_json = _options(region, as_of, as_json)
    report = _run(lambda: _cache().result("report", as_of, region))
    if as_json:
        _echo_json(report)
        return
    data = report.to_dict()
    click.echo(f"覆盖情况 Coverage — {data['region_name']} ({data['region']}), {data['as_of']}")
    click.echo(_catalog_line(data["catalog"]))
    click.echo(_plan_line(data["plan"]))
    click.echo()
    click.echo(_table(["指标 key", "名称 name", "数值 value", "目标 target", "达标 met", "分子/分母 n/d"],
                      _indicator_rows(data["indicators"]), right={2}))
    click.echo()
    _echo_notes(data["indicators"])
    _echo_warnings(data["warnings"])
    _echo_undated(data["undated_status_count"], report.region)


def _echo_undated(count: int, region: str) -> None:
    region_arg = "" if region == current_app.config["PROVINCE_CODE"] else f"&region={region}"
    click.echo(f"状态无日期 Undated status: {count} 项社会公用计量标准的状态（封存、撤销或变更中）没有日期，"
               f"在任何日期都不计为在用 / social public standards whose status (sealed, revoked or under change) has "
               f"no date, counted as in use on no date: GET /api/v1/standards?status_undated=true"
               f"&category=social_public{region_arg}")


@coverage_group.command("regions")
@_common
@with_appcontext
def regions_command(region: str | None, as_of: date | None, as_json: bool | None) -> None:
    """按设区市 — every indicator for each city (each child region), side by side."""
    region, as_of, as_json = _options(region, as_of, as_json)
    table = _run(lambda: _cache().result("regions", as_of, region))
    if as_json:
        _echo_json(table)
        return
    data = table.to_dict()
    click.echo(f"按地区 By region — {data['region_name']} ({data['region']}), {data['as_of']}")
    click.echo(_catalog_line(data["catalog"]))
    click.echo(_plan_line(data["plan"]))
    click.echo()
    if not data["regions"]:
        click.echo("无下级地区 / no child regions")
    else:
        first = data["regions"][0]["indicators"]
        header = ["指标 key", "目标 target", *(column["region_name"] for column in data["regions"])]
        rows = [[item["key"], _target(item)]
                + [f"{_value(column['indicators'][i])} {MET_MARKS[column['indicators'][i]['met']]}"
                   for column in data["regions"]]
                for i, item in enumerate(first)]
        rows.append(["状态无日期 undated", "", *(str(column["undated_status_count"]) for column in data["regions"])])
        click.echo(_table(header, rows, right=set(range(2, len(header)))))
        click.echo()
    _echo_warnings(data["warnings"])
    _echo_undated(data["undated_status_count"], table.region)


@coverage_group.command("gaps")
@_common
@click.option("--candidates", "with_candidates", is_flag=True,
              help="For each gap, the institutions that could close it, ranked with the reason.")
@with_appcontext
def gaps_command(region: str | None, as_of: date | None, as_json: bool | None, with_candidates: bool) -> None:
    """建标空白 — mandatory lines without a covering standard, in the region and each city."""
    region, as_of, as_json = _options(region, as_of, as_json)
    gaps = _run(lambda: _cache().result("gap_candidates" if with_candidates else "gaps", as_of, region))
    if as_json:
        _echo_json(gaps)
        return
    data = gaps.to_dict()
    found = {(entry["region"], entry["line_id"]): entry for entry in data.get("candidates", [])}
    click.echo(f"建标空白 Gaps — {data['region_name']} ({data['region']}), {data['as_of']}")
    click.echo(_catalog_line(data["catalog"]))
    click.echo(f"\n{data['region_name']}: {data['uncovered_count']}/{data['mandatory_line_count']} "
               "条未覆盖 lines uncovered")
    for line in data["uncovered"]:
        click.echo(f"  {_line_label(line)}")
        _echo_candidates(found.get((data["region"], line["id"])), with_candidates)
    for child in data["by_region"]:
        click.echo(f"\n{child['region_name']} ({child['region']}): {child['uncovered_count']}/"
                   f"{child['line_count']} 条未覆盖 lines uncovered")
        for line in child["lines"]:
            click.echo(f"  {_line_label(line)}")
            _echo_candidates(found.get((child["region"], line["id"])), with_candidates)
    click.echo()
    if with_candidates and not data["neighbours_confirmed"]:
        click.echo("注意 Note: 相邻地区数据未经核实 / the neighbouring-region data used is not confirmed "
                   "(region_adjacency)")
    _echo_warnings(data["warnings"])


def _echo_candidates(entry: dict | None, wanted: bool) -> None:
    if not wanted:
        return
    from registry.coverage.candidates import REASON_LABELS

    if not entry or not entry["candidates"]:
        click.echo("      无候选机构 / no candidate institution")
        return
    for candidate in entry["candidates"]:
        click.echo(f"      {candidate['rank']}. {candidate['institution_name']} ({candidate['credit_code']}, "
                   f"{candidate['region_code']})")
        for item in candidate["evidence"]:
            zh, en = REASON_LABELS[item["reason"]]
            detail = f" [{item['detail']}]" if item["detail"] else ""
            click.echo(f"         {zh} / {en}{detail}: {item['standard_count']}, "
                       f"{item['latest_valid_until']}, {item['example_certificate_no']}")
    if entry["candidate_count"] > len(entry["candidates"]):
        click.echo(f"      … 共 {entry['candidate_count']} 家 / {entry['candidate_count']} in all")


@coverage_group.command("single-points")
@_common
@click.option("--months", type=int, help="Horizon in months (default: REEXAMINATION_LEAD_MONTHS).")
@with_appcontext
def single_points_command(region: str | None, as_of: date | None, as_json: bool | None, months: int | None) -> None:
    """单点失效 — covered lines whose covering certificates all expire within the horizon."""
    region, as_of, as_json = _options(region, as_of, as_json)
    risks = _run(lambda: _cache().result("single_points", as_of, region, months))
    if as_json:
        _echo_json(risks)
        return
    data = risks.to_dict()
    click.echo(f"单点失效 Single points of failure — {data['region_name']} ({data['region']}), "
               f"{data['as_of']} → {data['until']} ({data['months']} 月 months)")
    click.echo(_catalog_line(data["catalog"]))
    click.echo()
    if not data["lines"]:
        click.echo("无 / none")
    for entry in data["lines"]:
        click.echo(f"{_line_label(entry['line'])}: 覆盖至 covered until {entry['covered_until']}")
        for standard in entry["standards"]:
            click.echo(f"  {standard['valid_until']}  {standard['certificate_no']}  {standard['name']}  "
                       f"{standard['institution_name']} ({standard['credit_code']})")
    click.echo()
    _echo_warnings(data["warnings"])


@coverage_group.command("forecast")
@_common
@click.option("--months", type=int, default=24, show_default=True, help="Number of month-ends.")
@with_appcontext
def forecast_command(region: str | None, as_of: date | None, as_json: bool | None, months: int) -> None:
    """预测 — indicator values at each coming month-end if nothing is renewed."""
    region, as_of, as_json = _options(region, as_of, as_json)
    forecast = _run(lambda: _cache().result("forecast", as_of, region, months))
    if as_json:
        _echo_json(forecast)
        return
    data = forecast.to_dict()
    click.echo(f"预测 Forecast — {data['region_name']} ({data['region']}), from {data['as_of']}, "
               f"{data['months']} 月 months, 不续期 nothing renewed")
    click.echo()
    series = [s for s in data["indicators"] if s["source"] == "registry"]
    header = ["日期 date", *(s["key"] for s in series)]
    rows = [[day] + [f"{_value({**s, **s['points'][i]})} {MET_MARKS[s['points'][i]['met']]}" for s in series]
            for i, day in enumerate(data["dates"])]
    click.echo(_table(header, rows, right=set(range(1, len(header)))))
    click.echo()
    for s in data["indicators"]:
        if s["first_unmet"]:
            click.echo(f"{s['name']} {s['name_en']}: 首次未达标 first unmet {s['first_unmet']} ({_target(s)})")
    _echo_warnings(data["warnings"])


@coverage_group.command("expiring")
@_common
@click.option("--window", type=click.Choice(["apply-now", "expired", "expiring"]), default="apply-now",
              show_default=True, help="apply-now: apply-by date within --months (or passed, still valid); expired: "
              "expired and still in use; expiring: expiring within --months (the list before apply-by windows).")
@click.option("--months", type=int, help="Horizon in months (default: REEXAMINATION_LEAD_MONTHS).")
@click.option("--institution", "credit_code", help="Only this institution (unified social credit code).")
@click.option("--limit", type=int, default=100, show_default=True)
@click.option("--offset", type=click.IntRange(0, 10_000_000), default=0, show_default=True)  # as the API's
@with_appcontext
def expiring_command(region: str | None, as_of: date | None, as_json: bool | None, window: str, months: int | None,
                     credit_code: str | None, limit: int, offset: int) -> None:
    """复查申请 — certificates to apply for re-examination now (by apply-by date), expired, or expiring."""
    region, as_of, as_json = _options(region, as_of, as_json)
    institution_id = None
    if credit_code:
        import sqlalchemy as sa

        from registry.extensions import db
        from registry.institutions.models import Institution

        institution_id = db.session.scalar(
            sa.select(Institution.id).where(Institution.credit_code == credit_code.strip().upper()))
        if institution_id is None:
            raise click.ClickException(f"未知的机构 / unknown institution: {credit_code}")
    if window != "expiring":
        _echo_renewals(_run(lambda: _cache().result(
            "renewals", as_of, region, window=window.replace("-", "_"), months=months, institution_id=institution_id,
            limit=limit, offset=offset)), as_json)
        return
    listing = _run(lambda: _cache().result(
        "expiring", as_of, months, region, institution_id=institution_id, limit=limit, offset=offset))
    if as_json:
        _echo_json(listing)
        return
    data = listing.to_dict()
    click.echo(f"到期证书 Expiring certificates — {data['region_name']} ({data['region']}), "
               f"{data['as_of']} → {data['until']}: {data['total']} 项 items"
               f" (显示 showing {data['offset'] + 1 if data['items'] else 0}–{data['offset'] + len(data['items'])})")
    click.echo()
    rows = [[item["valid_until"], item["certificate_no"], item["name"], item["status"], item["institution_name"]]
            for item in data["items"]]
    click.echo(_table(["有效期至 valid until", "证书号 certificate", "名称 name", "状态 status", "建标单位 holder"], rows))


def _echo_renewals(listing: Any, as_json: bool) -> None:
    if as_json:
        _echo_json(listing)
        return
    data = listing.to_dict()
    if data["window"] == "apply_now":
        click.echo(f"应申请复查 Apply now — {data['region_name']} ({data['region']}), {data['as_of']}: "
                   f"{data['apply_now_total']} 项 items, 申请截止日不晚于 apply-by on or before {data['apply_by_until']}"
                   f" (到期前 {data['lead_months']} 个月 / {data['lead_months']} months before expiry); "
                   f"逾期 overdue {data['overdue_total']}; 已过期仍在用 expired, still in use {data['expired_total']}")
    else:
        click.echo(f"已过期仍在用 Expired, still in use — {data['region_name']} ({data['region']}), {data['as_of']}: "
                   f"{data['expired_total']} 项 items")
    click.echo(f"(显示 showing {data['offset'] + 1 if data['items'] else 0}–{data['offset'] + len(data['items'])})")
    click.echo()
    rows = []
    for item in data["items"]:
        standard = item["standard"]
        due = item["apply_by"] + (" 逾期 overdue" if item["overdue"] else "")
        lines = ", ".join(line["code"] for line in item["lines_at_risk"]) or "–"
        rows.append([due, standard["valid_until"], standard["certificate_no"], standard["name"],
                     item["city_name"] or "–", standard["institution_name"], lines])
    click.echo(_table(["申请截止 apply by", "有效期至 valid until", "证书号 certificate", "名称 name", "市 city",
                       "建标单位 holder", "失效即失去覆盖 lines lost"], rows))


@coverage_group.command("metrologists")
@_common
@click.option("--sort", default="needed", show_default=True,
              help="needed (below target first), share, staff, registered, name or city; a leading - reverses.")
@with_appcontext
def metrologists_command(region: str | None, as_of: date | None, as_json: bool | None, sort: str) -> None:
    """注册计量师跟进 — each legal metrology institution's registered metrologists against the target."""
    region, as_of, as_json = _options(region, as_of, as_json)
    follow = _run(lambda: _cache().result("metrologists", as_of, region, sort=sort))
    if as_json:
        _echo_json(follow)
        return
    data = follow.to_dict()
    target = "–" if data["target"] is None else f"{data['comparator']} {data['target'] * 100:g}%"
    share = "–" if data["share"] is None else f"{data['share'] * 100:.1f}%"
    click.echo(f"注册计量师跟进 Metrologist follow-up — {data['region_name']} ({data['region']}), {data['as_of']}: "
               f"{data['registered']} / {data['staff']} = {share}, 目标 target {target}, "
               f"尚需 needed {'–' if data['needed'] is None else data['needed']}, "
               f"未达标机构 below target {data['below_target']}")
    click.echo()
    rows = [[item["institution_name"], item["city_name"] or "–", str(item["staff"]), str(item["registered"]),
             "–" if item["share"] is None else f"{item['share'] * 100:.1f}%", MET_MARKS[item["met"]],
             "–" if item["needed"] is None else str(item["needed"])] for item in data["institutions"]]
    click.echo(_table(["机构 institution", "市 city", "在职 staff", "已注册 registered", "占比 share", "达标 met",
                       "尚需 needed"], rows, right={2, 3, 4, 6}))


@coverage_group.command("clear-cache")
@with_appcontext
def clear_cache_command() -> None:
    """清除报表缓存 — drop every cached report (after a restore or a change made without an audit row)."""
    _cache().clear()
    click.echo("已清除报表缓存 / report cache cleared")


@click.command("report")
@click.argument("out", type=click.Path(dir_okay=False, writable=True))
@click.option("--as-of", type=IsoDate(), help="Date of the figures (default: today).")
@click.option("--region", help="Region code: 360000 (province, default) or a city, e.g. 360100.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="The workbook's language.")
@with_appcontext
def report_command(out: str, as_of: date | None, region: str | None, lang: str) -> None:
    """覆盖情况报告 — the dashboard for a date and region as one .xlsx workbook (what the dashboard downloads)."""
    from registry.coverage import workbook

    as_of = as_of or date.today()
    data = _run(lambda: workbook.collect(as_of, region))
    workbook.write_workbook(data, out, lang=lang)
    click.echo(f"已写入 written: {out} — {data.report.region_name} ({data.region}), {as_of.isoformat()}")
