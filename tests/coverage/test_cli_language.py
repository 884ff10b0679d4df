"""``registry coverage`` and ``registry report`` speak the command line's language: every line in one language.

``registry --lang en`` (or ``REGISTRY_LANG``) gives English, else Chinese.  The records' own names
(the test factories' "测试目录1", "测试机构3", certificate numbers) are data and stay as recorded.
"""
from __future__ import annotations

import json

import pytest

from registry import cli
from tests.coverage.test_cli import records  # noqa: F401 - the same records as the table tests
from tests.one_language import chinese_lines, mixed_lines

OLD_LINES = """覆盖情况 Coverage — 江西省 (360000), 2025-06-30
目录 Catalog: 测试目录1 (#2, 生效 effective 2021-01-01; 2/5 条 lines loaded, 2 强检 mandatory)
指标 key                       名称 name                   数值 value  目标 target
注 Note: mandatory_item_coverage: 按全省目标评判 judged against the province's target
无 / none
注意 Note: 相邻地区数据未经核实 / the neighbouring-region data used is not confirmed (region_adjacency)
已清除报表缓存 / report cache cleared"""


def test_the_checker_finds_the_old_two_language_lines():
    assert mixed_lines(OLD_LINES) == OLD_LINES.splitlines()
    assert mixed_lines("注：mandatory_item_coverage：按全省目标评判\n"
                       "状态无日期：0 项：GET /api/v1/standards?status_undated=true&category=social_public\n"
                       "Catalog: 测试目录12 (#2, effective 2021-01-01; 2/5 lines loaded)\n"
                       "数据库正忙：SQLITE_BUSY_TIMEOUT_MS") == []
    assert chinese_lines("Catalog: 测试目录12 (#2)\nPlan: — (无规划)") == ["Plan: — (无规划)"]


COMMANDS = [
    ([], "覆盖情况", "Coverage"),
    (["--region", "360100"], "无本市目标", "no city target"),
    (["regions"], "按地区", "By region"),
    (["gaps"], "条未覆盖", "lines uncovered"),
    (["gaps", "--candidates"], "相邻地区已覆盖该条目", "covers the line in a neighbouring region"),
    (["single-points", "--months", "6"], "覆盖至", "covered until"),
    (["forecast", "--months", "4"], "首次未达标", "first unmet"),
    (["expiring", "--months", "6"], "申请截止日不晚于", "apply-by on or before"),
    (["expiring", "--window", "expiring", "--months", "6"], "在用", "In use"),
    (["expiring", "--window", "expired"], "已过期仍在用", "Expired, still in use"),
    (["metrologists"], "注册计量师跟进", "Metrologist follow-up"),
]


def _run(runner, args):
    result = runner.invoke(args=["coverage", *args, "--as-of", "2025-06-30"])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("args, chinese, english", COMMANDS)
def test_coverage_speaks_chinese_by_default(runner, records, monkeypatch, args, chinese, english):  # noqa: F811
    monkeypatch.setattr(cli, "_language", None)  # no --lang, REGISTRY_LANG unset: Chinese
    out = _run(runner, args)
    assert chinese in out and english not in out, out
    assert mixed_lines(out) == [], out
    assert "⚠" in out or args[:1] in (["expiring"], ["metrologists"])  # the test catalog's warning, in Chinese
    assert "The mandatory-verification catalog" not in out


@pytest.mark.parametrize("args, chinese, english", COMMANDS)
def test_coverage_speaks_english_with_lang_en(runner, records, monkeypatch, args, chinese, english):  # noqa: F811
    monkeypatch.setattr(cli, "_language", "en")  # what ``registry --lang en`` sets
    out = _run(runner, args)
    assert english in out and chinese not in out, out
    assert chinese_lines(out) == [], out  # no Chinese beyond the records' own names
    assert mixed_lines(out) == [], out
    if args[:1] not in (["expiring"], ["metrologists"]):
        assert "⚠ The mandatory-verification catalog" in out  # the service's warning, in English
    if args[:1] != ["--region"]:
        assert "江西省" not in out and "Jiangxi Province (360000)" in out  # the region's English name


def test_english_names_regions_and_indicators_in_english(runner, records, monkeypatch):  # noqa: F811
    monkeypatch.setattr(cli, "_language", "en")
    regions = _run(runner, ["regions"])
    assert "Nanchang" in regions and "Shangrao" in regions and "南昌市" not in regions
    report = _run(runner, ["--region", "360100"])
    assert "Coverage — Nanchang (360100), 2025-06-30" in report
    assert "Mandatory-verification item coverage" in report and "强检项目建标覆盖率" not in report
    monkeypatch.setattr(cli, "_language", None)
    report = _run(runner, ["--region", "360100"])
    assert "覆盖情况 — 南昌市 (360100), 2025-06-30" in report and "Nanchang" not in report


def test_registry_lang_environment_is_the_default(runner, app, records, monkeypatch):  # noqa: F811
    monkeypatch.setattr(cli, "_language", None)
    monkeypatch.setitem(app.config, "IMPORT_LANGUAGE", "en")  # REGISTRY_LANG=en
    out = _run(runner, ["gaps"])
    assert "lines uncovered" in out and chinese_lines(out) == []


@pytest.mark.parametrize("language", [None, "en"])
def test_json_stays_as_it_is(runner, records, monkeypatch, language):  # noqa: F811
    monkeypatch.setattr(cli, "_language", None)
    chinese = json.loads(_run(runner, ["gaps", "--json"]))
    monkeypatch.setattr(cli, "_language", language)
    body = json.loads(_run(runner, ["gaps", "--json"]))
    assert body.keys() == chinese.keys() and body["region_name"] == "江西省"
    assert body["uncovered"] == chinese["uncovered"]


@pytest.mark.parametrize("language, said", [(None, "已清除报表缓存"), ("en", "report cache cleared")])
def test_clear_cache_says_one_thing(runner, monkeypatch, language, said):
    monkeypatch.setattr(cli, "_language", language)
    result = runner.invoke(args=["coverage", "clear-cache"])
    assert result.exit_code == 0 and result.output.strip() == said


@pytest.mark.parametrize("language, said", [(None, "不是有效日期"), ("en", "not a date")])
def test_errors_say_one_thing(runner, monkeypatch, language, said):
    monkeypatch.setattr(cli, "_language", language)
    result = runner.invoke(args=["coverage", "--as-of", "2025-13-01"])
    assert result.exit_code == 2 and said in result.output
    assert mixed_lines(result.output) == []


@pytest.mark.parametrize("language, said, sheet", [(None, "已写入：", "指标"), ("en", "written: ", "Indicators")])
def test_report_says_one_thing_and_writes_the_workbook_in_that_language(runner, records, monkeypatch, tmp_path,  # noqa: F811
                                                                        language, said, sheet):
    from openpyxl import load_workbook

    monkeypatch.setattr(cli, "_language", language)
    out = tmp_path / "report.xlsx"
    result = runner.invoke(args=["report", str(out), "--as-of", "2025-06-30", "--region", "360100"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(said) and mixed_lines(result.output) == [], result.output
    assert ("南昌市" if language is None else "Nanchang") in result.output
    assert sheet in load_workbook(out, read_only=True).sheetnames
