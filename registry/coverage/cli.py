"""``registry coverage``: the indicator report and what a regulator acts on.

Each command reads only, calls one service and prints its ``to_dict()`` as
one JSON object (``--json``, keys unchanged) or a table in the command line's
language (``registry --lang``; :func:`registry.cli.say`): every line in one language.
"""
from __future__ import annotations

import json
import unicodedata
from datetime import date
from typing import Any, Callable

import click
from flask import current_app
from flask.cli import with_appcontext

from registry.cli import language, one_language, say
from registry.errors import DomainError
from registry.records.dates import RANGE_MESSAGE, DateOutOfRange, within_range


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


class BadDate(click.BadParameter):
    """A bad date option, framed in the command line's language (click frames it in English)."""

    def format_message(self) -> str:
        if language() == "en":
            return super().format_message()
        hint = self.param_hint or (self.param.get_error_hint(self.ctx) if self.param is not None else "")
        return f"{hint} 的值无效：{self.message}" if hint else self.message


class IsoDate(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            day = date.fromisoformat(str(value).strip())
        except ValueError:
            raise BadDate(say(f"不是有效日期（YYYY-MM-DD）：{value!r}", f"not a date (YYYY-MM-DD): {value!r}"),
                          ctx, param) from None
        if not within_range(day):
            raise BadDate(f"{one_language(RANGE_MESSAGE)}{say('：', ': ')}{day.isoformat()}", ctx, param)
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
    """Call a service with the translations in the command line's language (its warnings, the cache's key)."""
    from flask_babel import force_locale

    try:
        with force_locale("en" if language() == "en" else current_app.config["BABEL_DEFAULT_LOCALE"]):
            return call()
    except DateOutOfRange as exc:  # the options are bounded so this should not happen; if it does, usage (2)
        raise click.UsageError(one_language(exc.message)) from None
    except DomainError as exc:
        raise click.ClickException(one_language(exc.message)) from None


def _region(code: str, name: str) -> str:
    """A region's name in the command line's language (its Chinese name when it has no English one)."""
    if language() != "en":
        return name
    names = click.get_current_context().meta.get("coverage.region_names")
    if names is None:
        import sqlalchemy as sa

        from registry.extensions import db
        from registry.reference.models import Region

        names = dict(db.session.execute(sa.select(Region.code, Region.name_en)).all())
        click.get_current_context().meta["coverage.region_names"] = names
    return names.get(code) or name


def _heading(zh: str, en: str, data: dict, tail: str = "") -> str:
    """The first line of a table: its title, the region and the date."""
    return f"{say(zh, en)} — {_region(data['region'], data['region_name'])} ({data['region']}), {data['as_of']}{tail}"


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
    "province_target": ("按全省目标", "judged against the province's target"),
    "no_city_target": ("无本市目标，不评判", "no city target: no verdict"),
    "province_wide": ("全省指标，见全省", "counted for the province only"),
    "no_target": ("无目标", "no target"),
}


def _target(item: dict) -> str:
    if item["target"] is None:
        labels = BASIS_LABELS.get(item.get("basis"))
        return say(*labels) if labels else "—"
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
        return f"{say('录入', 'recorded')} {item['value_as_of']}"
    return ""


def _indicator_rows(indicators: list[dict]) -> list[list[str]]:
    return [[item["key"], _name(item), _value(item), _target(item), MET_MARKS[item["met"]],
             _fraction(item)] for item in indicators]


def _name(item: dict) -> str:
    """An indicator's name in the command line's language."""
    return say(item["name"], item.get("name_en") or item["name"])


# The lines a report counted, by level: the province counts every line, a city its own level's.
COUNTED_LEVELS = {"any": ("各层级", "any"), "province": ("省级", "province"), "city": ("市级", "city"),
                  "county": ("县级", "county")}


def _catalog_line(catalog: dict | None) -> str:
    if catalog is None:
        return say("目录：—", "Catalog: —")
    mandatory = "" if catalog["mandatory_line_count"] is None else say(
        f"，强检 {catalog['mandatory_line_count']} 条", f", {catalog['mandatory_line_count']} mandatory")
    line = say(f"目录：{catalog['name']}（#{catalog['id']}，{catalog['effective_from']} 生效；已载入 "
               f"{catalog['loaded_line_count']}/{catalog['declared_line_count']} 条{mandatory}）",
               f"Catalog: {catalog['name']} (#{catalog['id']}, effective {catalog['effective_from']}; "
               f"{catalog['loaded_line_count']}/{catalog['declared_line_count']} lines loaded{mandatory})")
    if catalog.get("counted_line_count") is None:
        return line
    level = catalog.get("counted_level", "any")
    zh, en = COUNTED_LEVELS.get(level, (level, level))
    return line + "\n" + say(
        f"计入：{zh}应建标的条目（{catalog['counted_line_count']}/{catalog['mandatory_line_count']}）",
        f"Counted: lines expected at {en} level ({catalog['counted_line_count']} of "
        f"{catalog['mandatory_line_count']})")


def _plan_line(plan: dict | None) -> str:
    if plan is None:
        return say("规划：—（无规划覆盖此日期）", "Plan: — (no plan holds this date)")
    line = f"{say('规划：', 'Plan: ')}{plan['name']} ({plan['starts_on']} — {plan['deadline']})"
    if plan["status"] == "deadline_passed":
        line += say(f"；期限已过，按 {plan['deadline']} 的数值评判", f"; deadline passed: judged on {plan['deadline']}")
    return line


def _echo_warnings(warnings: list[str]) -> None:
    for warning in warnings:
        click.echo(f"⚠ {one_language(warning)}")


def _echo_notes(indicators: list[dict]) -> None:
    note = say("注：", "Note: ")
    for item in indicators:
        if item["basis"] == "province_target":
            click.echo(note + say(f"{item['key']}：按全省目标评判", f"{item['key']}: judged against the province's target"))
        elif item["basis"] == "province_wide":
            click.echo(note + say(f"{item['key']}：全省指标，不按市重复", f"{item['key']}: counted for the province only"))
        elif item["basis"] == "no_city_target" and item["share_of_province"] is not None:
            share = f"{item['share_of_province'] * 100:.1f}%"
            click.echo(note + say(f"{item['key']}：无本市目标，占全省 {share}",
                                  f"{item['key']}: no city target, {share} of the province"))
        if item["judged_value"] is not None and item["judged_on"]:
            value = _value({**item, 'value': item['judged_value']})
            click.echo("  " + say(f"{item['key']}：{item['judged_on']} 数值 {value}",
                                  f"{item['key']}: value on {item['judged_on']} {value}"))
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
    click.echo(_heading("覆盖情况", "Coverage", data))
    click.echo(_catalog_line(data["catalog"]))
    click.echo(_plan_line(data["plan"]))
    click.echo()
    click.echo(_table([say("指标", "key"), say("名称", "name"), say("数值", "value"), say("目标", "target"),
                       say("达标", "met"), say("分子/分母", "n/d")],
                      _indicator_rows(data["indicators"]), right={2}))
    click.echo()
    _echo_notes(data["indicators"])
    _echo_warnings(data["warnings"])
    _echo_undated(data["undated_status_count"], report.region)


def _echo_undated(count: int, region: str) -> None:
    region_arg = "" if region == current_app.config["PROVINCE_CODE"] else f"&region={region}"
    url = f"GET /api/v1/standards?status_undated=true&category=social_public{region_arg}"
    click.echo(say(f"状态无日期：{count} 项社会公用计量标准的状态（封存、撤销或变更中）没有日期，"
                   f"在任何日期都不计为在用：{url}",
                   f"Undated status: {count} social public standards whose status (sealed, revoked or under change) "
                   f"has no date, counted as in use on no date: {url}"))


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
    click.echo(_heading("按地区", "By region", data))
    click.echo(_catalog_line(data["catalog"]))
    click.echo(_plan_line(data["plan"]))
    click.echo()
    if not data["regions"]:
        click.echo(say("无下级地区", "no child regions"))
    else:
        first = data["regions"][0]["indicators"]
        header = [say("指标", "key"), say("目标", "target"),
                  *(_region(column["region"], column["region_name"]) for column in data["regions"])]
        rows = [[item["key"], _target(item)]
                + [f"{_value(column['indicators'][i])} {MET_MARKS[column['indicators'][i]['met']]}"
                   for column in data["regions"]]
                for i, item in enumerate(first)]
        rows.append([say("状态无日期", "undated"), "", *(str(column["undated_status_count"]) for column in data["regions"])])
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
    click.echo(_heading("建标空白", "Gaps", data))
    click.echo(_catalog_line(data["catalog"]))
    name = _region(data["region"], data["region_name"])
    click.echo("\n" + say(f"{name}：{data['uncovered_count']}/{data['mandatory_line_count']} 条未覆盖",
                           f"{name}: {data['uncovered_count']}/{data['mandatory_line_count']} lines uncovered"))
    for line in data["uncovered"]:
        click.echo(f"  {_line_label(line)}")
        _echo_candidates(found.get((data["region"], line["id"])), with_candidates)
    for child in data["by_region"]:
        name = f"{_region(child['region'], child['region_name'])} ({child['region']})"
        click.echo("\n" + say(f"{name}：{child['uncovered_count']}/{child['line_count']} 条未覆盖",
                               f"{name}: {child['uncovered_count']}/{child['line_count']} lines uncovered"))
        for line in child["lines"]:
            click.echo(f"  {_line_label(line)}")
            _echo_candidates(found.get((child["region"], line["id"])), with_candidates)
    click.echo()
    if with_candidates and not data["neighbours_confirmed"]:
        click.echo(say("注意：所用的相邻地区数据未经核实（region_adjacency）",
                       "Note: the neighbouring-region data used is not confirmed (region_adjacency)"))
    _echo_warnings(data["warnings"])


def _echo_candidates(entry: dict | None, wanted: bool) -> None:
    if not wanted:
        return
    from registry.coverage.candidates import REASON_LABELS

    if not entry or not entry["candidates"]:
        click.echo("      " + say("无候选机构", "no candidate institution"))
        return
    for candidate in entry["candidates"]:
        click.echo(f"      {candidate['rank']}. {candidate['institution_name']} ({candidate['credit_code']}, "
                   f"{candidate['region_code']})")
        for item in candidate["evidence"]:
            zh, en = REASON_LABELS[item["reason"]]
            detail = f" [{item['detail']}]" if item["detail"] else ""
            click.echo(f"         {say(zh, en)}{detail}: {item['standard_count']}, "
                       f"{item['latest_valid_until']}, {item['example_certificate_no']}")
    if entry["candidate_count"] > len(entry["candidates"]):
        click.echo("      … " + say(f"共 {entry['candidate_count']} 家", f"{entry['candidate_count']} in all"))


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
    click.echo(_heading("单点失效", "Single points of failure", data, f" → {data['until']}"
                        + say(f"（{data['months']} 个月）", f" ({data['months']} months)")))
    click.echo(_catalog_line(data["catalog"]))
    click.echo()
    if not data["lines"]:
        click.echo(say("无", "none"))
    for entry in data["lines"]:
        click.echo(say(f"{_line_label(entry['line'])}：覆盖至 {entry['covered_until']}",
                       f"{_line_label(entry['line'])}: covered until {entry['covered_until']}"))
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
    name = f"{_region(data['region'], data['region_name'])} ({data['region']})"
    click.echo(say(f"预测 — {name}，自 {data['as_of']} 起 {data['months']} 个月，不续期",
                   f"Forecast — {name}, from {data['as_of']}, {data['months']} months, nothing renewed"))
    click.echo()
    series = [s for s in data["indicators"] if s["source"] == "registry"]
    header = [say("日期", "date"), *(s["key"] for s in series)]
    rows = [[day] + [f"{_value({**s, **s['points'][i]})} {MET_MARKS[s['points'][i]['met']]}" for s in series]
            for i, day in enumerate(data["dates"])]
    click.echo(_table(header, rows, right=set(range(1, len(header)))))
    click.echo()
    for s in data["indicators"]:
        if s["first_unmet"]:
            click.echo(say(f"{_name(s)}：首次未达标 {s['first_unmet']}（{_target(s)}）",
                           f"{_name(s)}: first unmet {s['first_unmet']} ({_target(s)})"))
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
            raise click.ClickException(say(f"未知的机构：{credit_code}", f"unknown institution: {credit_code}"))
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
    shown = f"{data['offset'] + 1 if data['items'] else 0}–{data['offset'] + len(data['items'])}"
    click.echo(_heading("到期证书", "Expiring certificates", data, f" → {data['until']}" + say(
        f"：{data['total']} 项（显示 {shown}）", f": {data['total']} items (showing {shown})")))
    click.echo()
    from registry.standards.models import STATUS_LABELS

    rows = [[item["valid_until"], item["certificate_no"], item["name"],
             say(*STATUS_LABELS[item["status"]]) if item["status"] in STATUS_LABELS else item["status"],
             item["institution_name"]] for item in data["items"]]
    click.echo(_table([say("有效期至", "valid until"), say("证书号", "certificate"), say("名称", "name"),
                       say("状态", "status"), say("建标单位", "holder")], rows))


def _echo_renewals(listing: Any, as_json: bool) -> None:
    if as_json:
        _echo_json(listing)
        return
    data = listing.to_dict()
    if data["window"] == "apply_now":
        click.echo(_heading("应申请复查", "Apply now", data, say(
            f"：{data['apply_now_total']} 项，申请截止日不晚于 {data['apply_by_until']}（到期前 {data['lead_months']} 个月）；"
            f"逾期 {data['overdue_total']}；已过期仍在用 {data['expired_total']}",
            f": {data['apply_now_total']} items, apply-by on or before {data['apply_by_until']} "
            f"({data['lead_months']} months before expiry); overdue {data['overdue_total']}; "
            f"expired, still in use {data['expired_total']}")))
    else:
        click.echo(_heading("已过期仍在用", "Expired, still in use", data,
                            say(f"：{data['expired_total']} 项", f": {data['expired_total']} items")))
    shown = f"{data['offset'] + 1 if data['items'] else 0}–{data['offset'] + len(data['items'])}"
    click.echo(say(f"（显示 {shown}）", f"(showing {shown})"))
    click.echo()
    rows = []
    for item in data["items"]:
        standard = item["standard"]
        due = item["apply_by"] + (" " + say("逾期", "overdue") if item["overdue"] else "")
        lines = ", ".join(line["code"] for line in item["lines_at_risk"]) or "–"
        rows.append([due, standard["valid_until"], standard["certificate_no"], standard["name"],
                     _city(item), standard["institution_name"], lines])
    click.echo(_table([say("申请截止", "apply by"), say("有效期至", "valid until"), say("证书号", "certificate"),
                       say("名称", "name"), say("市", "city"), say("建标单位", "holder"),
                       say("失效即失去覆盖", "lines lost")], rows))


def _city(item: dict) -> str:
    """A row's city in the command line's language, as the pages choose it."""
    if language() == "en" and item.get("city_name_en"):
        return item["city_name_en"]
    return item.get("city_name") or "–"


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
    needed = "–" if data["needed"] is None else data["needed"]
    click.echo(_heading("注册计量师跟进", "Metrologist follow-up", data, say(
        f"：{data['registered']} / {data['staff']} = {share}，目标 {target}，尚需 {needed}，"
        f"未达标机构 {data['below_target']}",
        f": {data['registered']} / {data['staff']} = {share}, target {target}, needed {needed}, "
        f"below target {data['below_target']}")))
    click.echo()
    rows = [[item["institution_name"], _city(item), str(item["staff"]), str(item["registered"]),
             "–" if item["share"] is None else f"{item['share'] * 100:.1f}%", MET_MARKS[item["met"]],
             "–" if item["needed"] is None else str(item["needed"])] for item in data["institutions"]]
    click.echo(_table([say("机构", "institution"), say("市", "city"), say("在职", "staff"), say("已注册", "registered"),
                       say("占比", "share"), say("达标", "met"), say("尚需", "needed")], rows, right={2, 3, 4, 6}))


@coverage_group.command("clear-cache")
@with_appcontext
def clear_cache_command() -> None:
    """清除报表缓存 — drop every cached report (after a restore or a change made without an audit row)."""
    _cache().clear()
    click.echo(say("已清除报表缓存", "report cache cleared"))


@click.command("report")
@click.argument("out", type=click.Path(dir_okay=False, writable=True))
@click.option("--as-of", type=IsoDate(), help="Date of the figures (default: today).")
@click.option("--region", help="Region code: 360000 (province, default) or a city, e.g. 360100.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default=None,
              help="The workbook's language (default: the command line's, registry --lang).")
@with_appcontext
def report_command(out: str, as_of: date | None, region: str | None, lang: str | None) -> None:
    """覆盖情况报告 — the dashboard for a date and region as one .xlsx workbook (what the dashboard downloads)."""
    from registry.coverage import workbook

    as_of = as_of or date.today()
    data = _run(lambda: workbook.collect(as_of, region))
    lang = lang or language()
    workbook.write_workbook(data, out, lang=lang)
    name = data.report.region_name if lang != "en" else _region(data.region, data.report.region_name)
    click.echo(f"written: {out} — {name} ({data.region}), {as_of.isoformat()}" if lang == "en"
               else f"已写入：{out} — {name} ({data.region})，{as_of.isoformat()}")
