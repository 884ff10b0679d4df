"""The report to send: ``/dashboard/report.xlsx`` and ``registry report`` write one workbook of the same figures."""
from __future__ import annotations

import io
from datetime import date

import openpyxl
import pytest

from registry.coverage import metrologists, renewals, services, workbook
from registry.extensions import db
from tests import factories
from tests.dashboard.conftest import AS_OF

SHEETS_ZH = ["指标", "各设区市", "建标空白", "应申请复查", "已过期仍在用", "注册计量师跟进"]
SHEETS_EN = ["Indicators", "By city", "Gaps", "Apply now", "Expired", "Metrologists"]


def rows(ws) -> list[tuple]:
    return [tuple(cell.value for cell in row) for row in ws.iter_rows()]


def table(ws, *header: str) -> list[tuple]:
    """The rows under the header row starting with ``header`` up to the next blank row."""
    values = rows(ws)
    start = next(i for i, row in enumerate(values) if row[:len(header)] == header)
    out = []
    for row in values[start + 1:]:
        if not any(v is not None for v in row):
            break
        out.append(row)
    return out


def no_formulas(book) -> None:
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)


@pytest.fixture
def download(client, users, auth, province):
    factories.person(users.own, registration_no="WB-1", registered_on=date(2023, 1, 1))
    factories.person(users.own)
    factories.institution(region_code="360100", name="=HYPERLINK(\"http://x\",\"y\")")
    db.session.commit()
    auth.login_session(users.regulator)

    def get(query: str):
        response = client.get(f"/dashboard/report.xlsx?{query}")
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        return response, openpyxl.load_workbook(io.BytesIO(response.data))
    return get


def test_the_download_holds_every_part_with_the_services_figures(download, province, users):
    response, book = download(f"as_of={AS_OF}")
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert f"coverage-report-360000-{AS_OF}.xlsx" in response.headers["Content-Disposition"]
    assert book.sheetnames == SHEETS_ZH
    no_formulas(book)
    report = services.coverage_report(AS_OF)
    indicators = {row[0]: row for row in table(book["指标"], "指标代码")}
    assert set(indicators) == {item.key for item in report.indicators}
    coverage = next(item for item in report.indicators if item.key == "mandatory_item_coverage")
    assert indicators["mandatory_item_coverage"][2] == coverage.value
    assert indicators["mandatory_item_coverage"][3:5] == (coverage.numerator, coverage.denominator)
    # Gaps: line D nowhere; per city as the service says.
    gaps = services.coverage_gaps(AS_OF)
    gap_table = table(book["建标空白"], "地区", "设区市")
    expected = len(gaps.uncovered) + sum(len(entry.lines) for entry in gaps.by_region)
    assert len(gap_table) == expected and ("360000", "江西省", "LD") == gap_table[0][:3]
    # Apply now, by apply-by date, with the lines at risk.
    listing = renewals.renewals(AS_OF)
    apply_now = table(book["应申请复查"], "申请复查截止")
    assert [row[3] for row in apply_now] == [item.standard.certificate_no for item in listing.items]
    assert apply_now[0][0].date() == listing.items[0].apply_by
    expired = table(book["已过期仍在用"], "申请复查截止")
    assert [row[3] for row in expired] == [item.standard.certificate_no
                                           for item in renewals.renewals(AS_OF, window="expired").items]
    follow = metrologists.metrologist_follow_up(AS_OF)
    people = table(book["注册计量师跟进"], "机构")
    assert people[-1][0] == "合计" and people[-1][3:5] == (follow.staff, follow.registered)
    # A name that looks like a formula is text.
    names = [row[0] for row in people]
    assert "=HYPERLINK(\"http://x\",\"y\")" in names


def test_a_city_report_in_english(download, client):
    client.get("/lang/en")
    _, book = download(f"as_of={AS_OF}&region=360400")
    assert book.sheetnames == SHEETS_EN
    heading = rows(book["Indicators"])[1]
    assert heading[:2] == ("Region", "九江市 (360400)")
    gap_table = table(book["Gaps"], "Region", "City")
    assert {row[0] for row in gap_table} == {"360400"}
    assert [row[3] for row in table(book["Apply now"], "Apply by")] == [
        item.standard.certificate_no for item in renewals.renewals(AS_OF, "360400").items]


def test_bad_arguments_answer_the_page_with_a_message(client, users, auth):
    auth.login_session(users.regulator)
    assert client.get("/dashboard/report.xlsx?as_of=2025-13-01").status_code == 400
    assert client.get("/dashboard/report.xlsx?region=999999").status_code == 400


def test_institution_users_cannot_download_it(client, users, auth):
    auth.login_session(users.institution)
    assert client.get("/dashboard/report.xlsx").status_code == 404


def test_the_cli_writes_the_same_workbook(runner, province, tmp_path, download, monkeypatch):
    from registry import cli

    monkeypatch.setattr(cli, "_language", None)  # no --lang, REGISTRY_LANG unset: Chinese
    out = tmp_path / "report.xlsx"
    result = runner.invoke(args=["report", "--as-of", str(AS_OF), "--region", "360100", str(out)])
    assert result.exit_code == 0, result.output
    from_cli = openpyxl.load_workbook(out)
    _, from_page = download(f"as_of={AS_OF}&region=360100")
    for name in SHEETS_ZH:
        assert rows(from_cli[name]) == rows(from_page[name]), name
    bad = runner.invoke(args=["report", "--region", "999999", str(tmp_path / "x.xlsx")])
    assert bad.exit_code == 1 and "未知的行政区划代码" in bad.output  # the command line's language: Chinese
    monkeypatch.setattr(cli, "_language", "en")  # what ``registry --lang en`` sets
    bad = runner.invoke(args=["report", "--region", "999999", str(tmp_path / "x.xlsx")])
    assert bad.exit_code == 1 and "unknown region" in bad.output and "未知" not in bad.output
    assert not (tmp_path / "x.xlsx").exists()


def test_the_gaps_sheet_takes_a_candidates_column(app, province):
    data = workbook.collect(AS_OF)
    out = io.BytesIO()
    workbook.write_workbook(data, out, candidates=lambda row: f"候选 {row.line_code}")
    gap_table = table(openpyxl.load_workbook(out)["建标空白"], "地区", "设区市")
    assert gap_table[0][-1] == "候选 LD"


def _labelled(ws, label: str) -> str | None:
    return next((row[1] for row in rows(ws) if row[0] == label), None)


def test_every_sheet_of_figures_says_which_lines_it_counted(download, client):
    _, book = download(f"as_of={AS_OF}")
    catalog = services.coverage_report(AS_OF).catalog
    assert catalog.counted_level == "any"
    expected = f"各层级应建标的条目（{catalog.counted_line_count} / {catalog.mandatory_line_count} 条）"
    assert _labelled(book["指标"], "计入条目") == expected
    table_catalog = services.coverage_by_region(AS_OF).catalog
    assert _labelled(book["各设区市"], "计入条目") == (
        f"市级应建标的条目（{table_catalog.counted_line_count} / {table_catalog.mandatory_line_count} 条）")
    client.get("/lang/en")
    _, book = download(f"as_of={AS_OF}&region=360400")
    city = services.coverage_report(AS_OF, "360400").catalog
    assert _labelled(book["Indicators"], "Lines counted") == (
        f"lines expected at city level ({city.counted_line_count} of {city.mandatory_line_count})")
