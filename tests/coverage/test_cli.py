"""``registry coverage``: the same numbers as the services, as JSON or a table."""
from __future__ import annotations

import json
from datetime import date

import pytest

from registry.coverage import metrologists, renewals, services
from tests import factories
from tests.coverage.support import AS_OF


@pytest.fixture
def records(catalog, nanchang):
    covered, uncovered = factories.catalog_line(catalog, code="A"), factories.catalog_line(catalog, code="B")
    factories.standard(nanchang, lines=[covered], valid_until=date(2025, 9, 30))
    factories.person(nanchang, registration_no="C1", registered_on=date(2024, 1, 1))
    factories.person(nanchang)
    factories.recorded_value("integrity_units", 5100, region_code="360100", as_of=date(2025, 3, 31))
    return dict(covered=covered, uncovered=uncovered, holder=nanchang)


def run_json(runner, *args):
    result = runner.invoke(args=["coverage", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_json_report_is_the_service_result(runner, records):
    body = run_json(runner, "--as-of", "2025-06-30", "--json")
    assert body == services.coverage_report(AS_OF).to_dict()
    coverage = next(item for item in body["indicators"] if item["key"] == "mandatory_item_coverage")
    assert (coverage["numerator"], coverage["denominator"], coverage["value"]) == (1, 2, 0.5)
    city = run_json(runner, "--region", "360100", "--as-of", "2025-06-30", "--json")
    assert city == services.coverage_report(AS_OF, "360100").to_dict()


def test_json_keeps_chinese_readable(runner, records):
    result = runner.invoke(args=["coverage", "--as-of", "2025-06-30", "--json"])
    assert "强检项目建标覆盖率" in result.output and "\\u" not in result.output
    assert result.output.count("\n") == 1  # exactly one JSON object


def test_table_shows_names_values_and_warnings(runner, records):
    result = runner.invoke(args=["coverage", "--region", "360100", "--as-of", "2025-06-30"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "南昌市" in out and "2025-06-30" in out
    assert "强检项目建标覆盖率" in out and "Mandatory-verification item coverage" not in out
    assert "50.00%" in out and "1/2" in out and "≥ 90%" in out and "✗" in out
    assert "5100" in out and "无本市目标" in out  # integrity units, recorded: a count, no city target
    assert "规划：2021–2025" in out
    assert "⚠" in out and "仅载入 2 条，声明 5 条" in out  # the test catalog holds 2 of 5 lines (in Chinese)
    assert "全省指标，不按市重复" in out  # regulations are the province's


def test_default_date_is_today(runner):
    assert run_json(runner, "--json")["as_of"] == date.today().isoformat()


@pytest.mark.parametrize("args, call", [
    (["regions"], lambda: services.coverage_by_region(AS_OF)),
    (["gaps"], lambda: services.coverage_gaps(AS_OF)),
    (["gaps", "--region", "360100"], lambda: services.coverage_gaps(AS_OF, "360100")),
    (["single-points", "--months", "4"], lambda: services.single_points_of_failure(AS_OF, None, 4)),
    (["forecast", "--months", "3"], lambda: services.coverage_forecast(AS_OF, None, 3)),
    (["forecast"], lambda: services.coverage_forecast(AS_OF, None, 24)),
    (["expiring", "--window", "expiring", "--months", "6"], lambda: services.expiring_certificates(AS_OF, 6)),
    (["expiring", "--months", "6"], lambda: renewals.renewals(AS_OF, months=6)),
    (["expiring", "--window", "expired"], lambda: renewals.renewals(AS_OF, window="expired")),
    (["metrologists", "--sort", "-share"], lambda: metrologists.metrologist_follow_up(AS_OF, sort="-share")),
])
def test_subcommand_json_is_the_service_result(runner, records, args, call):
    assert run_json(runner, *args, "--as-of", "2025-06-30", "--json") == call().to_dict()


def test_group_options_apply_to_subcommands(runner, records):
    body = run_json(runner, "--as-of", "2025-06-30", "--region", "360100", "--json", "gaps")
    assert body == services.coverage_gaps(AS_OF, "360100").to_dict()
    assert [line["code"] for line in body["uncovered"]] == ["B"]


def test_expiring_for_one_institution(runner, records):
    other = factories.institution(region_code="360100")
    factories.standard(other, valid_until=date(2025, 8, 1))
    body = run_json(runner, "expiring", "--window", "expiring", "--as-of", "2025-06-30", "--months", "6", "--json",
                    "--institution", records["holder"].credit_code.lower())
    assert body["total"] == 1 and body["items"][0]["institution_id"] == records["holder"].id
    assert body == services.expiring_certificates(AS_OF, 6, institution_id=records["holder"].id).to_dict()


@pytest.mark.parametrize("args", [["gaps"], ["regions"], ["single-points", "--months", "6"],
                                  ["forecast", "--months", "2"], ["expiring", "--months", "6"],
                                  ["expiring", "--window", "expiring"], ["expiring", "--window", "expired"],
                                  ["metrologists"]])
def test_subcommand_tables(runner, records, args):
    result = runner.invoke(args=["coverage", *args, "--as-of", "2025-06-30"])
    assert result.exit_code == 0, result.output
    assert "江西省" in result.output or "南昌市" in result.output


def test_tables_name_what_matters(runner, records):
    gaps = runner.invoke(args=["coverage", "gaps", "--as-of", "2025-06-30"]).output
    assert records["uncovered"].name in gaps and "南昌市 (360100)" in gaps
    risks = runner.invoke(args=["coverage", "single-points", "--months", "6", "--as-of", "2025-06-30"]).output
    assert records["covered"].name in risks and records["holder"].name in risks and "2025-09-30" in risks
    regions = runner.invoke(args=["coverage", "regions", "--as-of", "2025-06-30"]).output
    assert "南昌市" in regions and "上饶市" in regions and "50.00% ✗" in regions
    forecast = runner.invoke(args=["coverage", "forecast", "--months", "4", "--as-of", "2025-06-30"]).output
    assert "2025-10-31" in forecast and "首次未达标" in forecast
    apply_now = runner.invoke(args=["coverage", "expiring", "--as-of", "2025-06-30"]).output
    assert "申请截止日不晚于 2025-12-30" in apply_now and "申请截止" in apply_now


@pytest.mark.parametrize("args, code, message", [
    (["--as-of", "2025-13-01"], 2, "not a date"),
    (["gaps", "--as-of", "yesterday"], 2, "not a date"),
    (["--region", "999999"], 1, "unknown region"),
    (["--region", "abc", "--json"], 1, "6 digits"),
    (["forecast", "--months", "0"], 1, "at least one month"),
    (["expiring", "--institution", "91360100MA00000000"], 1, "unknown institution"),
    (["expiring", "--limit", "0"], 1, "limit"),
    (["expiring", "--window", "soon"], 2, "soon"),
    (["metrologists", "--sort", "salary"], 1, "sort"),
    # near-valid input: month arithmetic past year 9999, an OFFSET past 64 bits
    (["forecast", "--as-of", "9999-12-31"], 2, "2999-12-31"),
    (["single-points", "--as-of", "9999-12-31"], 2, "2999-12-31"),
    (["expiring", "--as-of", "9999-12-31"], 2, "2999-12-31"),
    (["--as-of", "9999-12-31", "forecast"], 2, "2999-12-31"),
    (["gaps", "--as-of", "0001-01-01"], 2, "1900-01-01"),
    (["expiring", "--offset", "99999999999999999999"], 2, "--offset"),
    (["forecast", "--months", "99999999999999999999"], 1, "months"),
])
def test_bad_input_is_a_plain_error(runner, monkeypatch, args, code, message):
    from registry import cli

    monkeypatch.setattr(cli, "_language", "en")  # ``registry --lang en``: the messages below are the English side
    result = runner.invoke(args=["coverage", *args])
    assert result.exit_code == code
    assert message in result.output
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)


def test_table_says_which_lines_it_counted(runner, records):
    records["uncovered"].levels = "province"
    factories.db.session.flush()
    city = runner.invoke(args=["coverage", "--region", "360100", "--as-of", "2025-06-30"]).output
    assert "计入：市级应建标的条目（1/2）" in city
    assert "1/1" in city  # the province's line is not the city's
    province = runner.invoke(args=["coverage", "--as-of", "2025-06-30"]).output
    assert "计入：各层级应建标的条目（2/2）" in province
