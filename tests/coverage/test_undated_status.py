"""A status is dated by what is known: sealed on a known date, on an unknown date, after the as-of date.

Known answers for the province and a city, on past dates, through the
service, the by-city table, the forecast, the CLI, the API and the import.
"""
from __future__ import annotations

import json
from datetime import date

import pytest

from importers.run import run_import
from registry.coverage.services import coverage_by_region, coverage_forecast, coverage_report
from registry.extensions import db
from registry.standards.models import MeasurementStandard
from registry.standards.services import update_standard
from tests import factories
from tests.coverage.support import indicator
from tests.importers.books import xlsx

BEFORE = date(2023, 12, 31)   # before every sealing
BETWEEN = date(2024, 6, 30)   # after the known sealing, before the later one
SEALED_ON = date(2024, 3, 1)
SEALED_LATER = date(2025, 1, 1)
HEADER = ["证书编号", "计量标准名称", "类别", "建标单位统一社会信用代码", "发证日期", "有效期至", "状态", "状态日期"]


def _row(standard, holder, status: str, since=None) -> list:
    return [standard.certificate_no, standard.name, "社会公用", holder.credit_code, standard.issued_on,
            standard.valid_until, status, since]


@pytest.fixture
def three(catalog):
    """One line each, held in 南昌 (360100): the same standard sealed three ways, and one plainly in use."""
    holder = factories.institution(region_code="360100")
    other = factories.institution(region_code="360400")
    lines = [factories.catalog_line(catalog, code=f"U{i}") for i in range(1, 5)]
    std = factories.standard
    known = std(holder, lines=[lines[0]], issued_on=date(2022, 1, 1), valid_until=date(2026, 12, 31),
                status="sealed", status_since=SEALED_ON)
    unknown = std(holder, lines=[lines[1]], issued_on=date(2022, 1, 1), valid_until=date(2026, 12, 31),
                  status="sealed", status_since=None)
    later = std(holder, lines=[lines[2]], issued_on=date(2022, 1, 1), valid_until=date(2026, 12, 31),
                status="sealed", status_since=SEALED_LATER)
    std(other, lines=[lines[3]], issued_on=date(2022, 1, 1), valid_until=date(2026, 12, 31))
    return known, unknown, later


@pytest.mark.parametrize("region", ["360000", "360100"])
def test_known_unknown_and_later_dates(three, region):
    in_use_elsewhere = 1 if region == "360000" else 0
    # Before any sealing: the known and the later one count; the undated one never does.
    before = coverage_report(BEFORE, region)
    assert indicator(before, "social_public_standards")["value"] == 2 + in_use_elsewhere
    assert indicator(before, "mandatory_item_coverage")["numerator"] == 2 + in_use_elsewhere
    # After the known sealing, before the later one: only the later one still counts.
    between = coverage_report(BETWEEN, region)
    assert indicator(between, "social_public_standards")["value"] == 1 + in_use_elsewhere
    assert indicator(between, "mandatory_item_coverage")["numerator"] == 1 + in_use_elsewhere
    # After all of them.
    after = coverage_report(date(2025, 6, 30), region)
    assert indicator(after, "social_public_standards")["value"] == in_use_elsewhere
    # Each report says how many have a status without a date.
    assert before.undated_status_count == between.undated_status_count == 1
    assert before.to_dict()["undated_status_count"] == 1


def test_the_by_city_table_and_the_forecast_agree(three):
    table = coverage_by_region(BETWEEN, "360000")
    nanchang = next(column for column in table.regions if column.region == "360100")
    assert indicator(nanchang.to_dict(), "social_public_standards")["value"] == 1
    forecast = coverage_forecast(date(2023, 11, 30), "360100", 8)
    series = next(s for s in forecast.indicators if s.key == "social_public_standards")
    values = {point.date: point.value for point in series.points}
    assert values[date(2023, 12, 31)] == 2 and values[date(2024, 2, 29)] == 2
    assert values[date(2024, 3, 31)] == 1 and values[date(2024, 6, 30)] == 1


def test_other_regions_count_no_undated_status(three):
    assert coverage_report(BETWEEN, "360400").undated_status_count == 0


def test_a_status_change_without_a_date_takes_the_standard_out_of_every_date(three, users):
    known, _, _ = three
    update_standard(known, {"status": "revoked"}, actor=users.regulator, expected_version=known.version)
    assert known.status_since is None
    assert indicator(coverage_report(BEFORE, "360100"), "social_public_standards")["value"] == 1
    assert coverage_report(BEFORE, "360100").undated_status_count == 2


def test_an_import_of_todays_state_does_not_raise_past_coverage(three):
    """The issue's case: a workbook saying 封存 with no date used to date the status today."""
    holder = db.session.get(MeasurementStandard, three[0].id).institution
    running = factories.standard(holder, certificate_no="[2022]赣量标证字第901号", issued_on=date(2022, 1, 1),
                                 valid_until=date(2026, 12, 31))
    before = indicator(coverage_report(BEFORE, "360100"), "social_public_standards")["value"]
    report = run_import(xlsx({"计量标准": [HEADER, _row(running, holder, "封存")]}), actor=None)
    assert report.ok and [w.column for w in report.warnings] == ["状态日期"]
    db.session.expire_all()
    assert db.session.get(MeasurementStandard, running.id).status_since is None
    after = indicator(coverage_report(BEFORE, "360100"), "social_public_standards")["value"]
    assert after == before - 1  # counted on no date now, never on more dates than before

    # With its date the row is dated, and no warning.
    report = run_import(xlsx({"计量标准": [HEADER, _row(running, holder, "封存", "2024-05-01")]}), actor=None)
    assert report.ok and report.warnings == []
    db.session.expire_all()
    assert db.session.get(MeasurementStandard, running.id).status_since == date(2024, 5, 1)
    assert indicator(coverage_report(BEFORE, "360100"), "social_public_standards")["value"] == before


def test_cli_and_api_say_how_many_are_undated(three, runner, client, auth, users):
    db.session.commit()
    result = runner.invoke(args=["coverage", "--region", "360100", "--as-of", BETWEEN.isoformat()])
    assert result.exit_code == 0, result.output
    assert "状态无日期：1 项" in result.output
    assert "status_undated=true&category=social_public&region=360100" in result.output
    result = runner.invoke(args=["coverage", "--region", "360100", "--as-of", BETWEEN.isoformat(), "--json"])
    assert json.loads(result.stdout)["undated_status_count"] == 1

    auth.login_session(users.regulator)
    body = client.get("/api/v1/coverage", query_string={"region": "360100", "as_of": BETWEEN.isoformat()}).get_json()
    assert body["undated_status_count"] == 1
    listed = client.get("/api/v1/standards", query_string={"status_undated": "true", "category": "social_public",
                                                            "region": "360100"}).get_json()
    assert [item["id"] for item in listed] == [three[1].id]
    assert listed[0]["validity"] == "sealed"


def test_the_by_city_table_counts_undated_statuses_per_city_in_cli_and_api(three, runner, client, auth, users):
    """南昌 holds one undated sealing; one more is held by a provincial institute (360000), in no city."""
    provincial = factories.institution(region_code="360000")
    factories.standard(provincial, status="revoked", status_since=None)
    db.session.commit()
    table = coverage_by_region(BETWEEN).to_dict()
    per_city = {column["region"]: column["undated_status_count"] for column in table["regions"]}
    assert (table["undated_status_count"], per_city["360100"], per_city["360400"]) == (2, 1, 0)
    assert sum(per_city.values()) == 1

    result = runner.invoke(args=["coverage", "regions", "--as-of", BETWEEN.isoformat()])
    assert result.exit_code == 0, result.output
    assert "状态无日期：2 项" in result.output
    row = next(line for line in result.output.splitlines() if line.startswith("状态无日期 "))  # the table's row
    assert row.split()[1:4] == ["1", "0", "0"]  # 南昌 (360100), 景德镇 (360200), 萍乡 (360300)
    result = runner.invoke(args=["coverage", "regions", "--as-of", BETWEEN.isoformat(), "--json"])
    assert json.loads(result.stdout)["undated_status_count"] == 2

    auth.login_session(users.regulator)
    body = client.get("/api/v1/coverage/regions", query_string={"as_of": BETWEEN.isoformat()}).get_json()
    assert body["undated_status_count"] == 2
    assert {c["region"]: c["undated_status_count"] for c in body["regions"]}["360100"] == 1
