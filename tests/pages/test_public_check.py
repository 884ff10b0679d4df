"""The public certificate check: a number or a code in every printed spelling, and a standard's own page."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from registry.records.codes import certificate_search_key, regulation_search_code
from registry.extensions import db
from registry.standards.models import MeasurementStandard
from tests import factories

NUMBER = "[2025]赣量标演示证字第00004号"
# Every spelling below is how the same certificate is printed or typed.
NUMBER_SPELLINGS = [
    "[2025]赣量标演示证字第00004号",
    "〔2025〕赣量标演示证字第4号",
    "〔2025〕赣量标演示证字第00004号",
    "［2025］赣量标演示证字第4号",
    "(2025)赣量标演示证字第0004号",
    "（2025）赣量标演示证字第4号",
    "【2025】赣量标演示证字第04号",
    "2025赣量标演示证字第4号",
    "２０２５赣量标演示证字第４号",
    " [ 2025 ] 赣量标 演示证字 第 00004 号 ",
    "2025 赣量标演示证字第 4 号",
    "〔２０２５〕赣量标演示证字第０００４号",
]
CODE = "JJG(赣) 101-2023"
CODE_SPELLINGS = [
    "JJG(赣) 101-2023",
    "JJG赣101-2023",
    "JJG 赣 101 2023",
    "JJG（赣）101—2023",
    "jjg〔赣〕101－2023",
    "JJG【赣】 101 – 2023",
    "ＪＪＧ（赣）１０１－２０２３",
]


def html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


@pytest.fixture
def certificates(session):
    holder = factories.institution(name="公开核验测试所", region_code="360100")
    target = factories.standard(holder, name="核验目标装置", certificate_no=NUMBER, range_text="(0~10) kN")
    # Neighbours that a careless fold would confuse: another serial, another year, another body.
    factories.standard(holder, name="第四十号装置", certificate_no="[2025]赣量标演示证字第00040号")
    factories.standard(holder, name="往年装置", certificate_no="[2024]赣量标演示证字第00004号")
    factories.standard(holder, name="另一字号装置", certificate_no="[2025]赣量标演示检证字第00004号")
    return holder, target


@pytest.mark.parametrize("spelling", NUMBER_SPELLINGS)
def test_every_spelling_of_a_number_has_one_key(spelling):
    assert certificate_search_key(spelling) == "2025赣量标演示证字第4号"


def test_other_numbers_keep_other_keys():
    keys = {certificate_search_key(n) for n in ("[2025]赣量标演示证字第00040号", "[2024]赣量标演示证字第4号",
                                                 "[2025]赣量标演示证字第10004号", "[2025]赣量标演示证字第4号")}
    assert len(keys) == 4


@pytest.mark.parametrize("spelling", NUMBER_SPELLINGS)
def test_public_query_finds_the_certificate_in_every_spelling(client, certificates, spelling):
    page = html(client.get("/public/", query_string={"q": spelling}))
    assert "核验目标装置" in page
    for other in ("第四十号装置", "往年装置", "另一字号装置"):
        assert other not in page
    assert "共 1 项" in page


def test_a_part_of_a_number_still_matches_in_any_bracket(client, certificates):
    page = html(client.get("/public/", query_string={"q": "〔2025〕赣量标演示证字"}))
    assert "核验目标装置" in page and "第四十号装置" in page and "往年装置" not in page


def test_the_key_follows_a_changed_number(client, certificates, users):
    from registry.standards.services import update_standard

    _, target = certificates
    update_standard(target, {"certificate_no": "[2025]赣量标演示证字第00777号"}, actor=users.admin,
                    expected_version=target.version)
    db.session.flush()
    assert target.certificate_key == "2025赣量标演示证字第777号"
    assert "核验目标装置" in html(client.get("/public/", query_string={"q": "〔2025〕赣量标演示证字第777号"}))
    assert "核验目标装置" not in html(client.get("/public/", query_string={"q": "〔2025〕赣量标演示证字第4号"}))


@pytest.mark.parametrize("spelling", CODE_SPELLINGS)
def test_every_spelling_of_a_code_is_one_code(spelling):
    assert regulation_search_code(spelling) == CODE


def test_a_code_without_a_year_is_not_a_whole_code():
    assert regulation_search_code("JJG赣101") is None
    assert regulation_search_code("水表") is None


@pytest.mark.parametrize("spelling", CODE_SPELLINGS)
def test_public_regulation_query_finds_the_code_in_every_spelling(client, session, spelling):
    factories.regulation(code=CODE, number="101", year=2023, title="核验规程甲", published_on=date(2023, 3, 1))
    factories.regulation(code="JJG(赣) 1012-2023", number="1012", year=2023, title="核验规程乙",
                         published_on=date(2023, 3, 1))
    factories.regulation(code="JJG(赣) 33-2021", number="33", year=2021, title="核验规程丙",
                         published_on=date(2021, 3, 1))
    page = html(client.get("/public/regulations", query_string={"q": spelling}))
    assert "核验规程甲" in page and "核验规程乙" not in page and "核验规程丙" not in page


def test_issue_examples_and_parts_of_codes(client, session):
    factories.regulation(code="JJG(赣) 33-2021", number="33", year=2021, title="核验规程丙",
                         published_on=date(2021, 3, 1))
    assert "核验规程丙" in html(client.get("/public/regulations", query_string={"q": "JJG 赣 33 2021"}))
    # A part of a code, typed without brackets, still matches.
    assert "核验规程丙" in html(client.get("/public/regulations", query_string={"q": "JJG赣33"}))


def test_results_link_to_the_permanent_public_page(client, certificates):
    _, target = certificates
    page = html(client.get("/public/", query_string={"q": "2025赣量标演示证字第4号"}))
    link = f'/public/s/{target.public_id}'
    assert link in page
    # The page's id is random, never the database id.
    assert target.public_id and target.public_id != str(target.id) and len(target.public_id) >= 16


def test_public_page_shows_holder_items_dates_and_validity_today(client, certificates):
    holder, _ = certificates
    version = factories.catalog_version()
    line = factories.catalog_line(version, code="S90", name="核验衡器")
    today = date.today()
    current = factories.standard(holder, name="今日有效装置", lines=[line], issued_on=today - timedelta(days=100),
                                 valid_until=today + timedelta(days=1000))
    lapsed = factories.standard(holder, name="已过期装置", issued_on=today - timedelta(days=2000),
                                valid_until=today - timedelta(days=1))
    page = html(client.get(f"/public/s/{current.public_id}"))
    assert "今日有效装置" in page and "公开核验测试所" in page and "S90 核验衡器" in page
    assert 'data-validity="valid"' in page and current.certificate_no in page
    until = today + timedelta(days=1000)
    assert f"{until.year}年{until.month}月{until.day}日" in page
    assert 'data-validity="expired"' in html(client.get(f"/public/s/{lapsed.public_id}"))
    # Nothing internal shows: not the responsible person, not the database id in any link.
    assert f"/standards/{current.id}" not in page


def test_public_page_only_for_social_public_standards_not_withdrawn(client, certificates):
    holder, _ = certificates
    enterprise = factories.standard(holder, category="enterprise_highest")
    withdrawn = factories.standard(holder, withdrawn_at=factories.withdrawn_at())
    for standard in (enterprise, withdrawn):
        assert client.get(f"/public/s/{standard.public_id}").status_code == 404
        assert client.get(f"/public/s/{standard.public_id}/qr.png").status_code == 404
    assert client.get("/public/s/1").status_code == 404
    assert client.get("/public/s/not-a-real-id-000").status_code == 404


def test_qr_codes_in_png_and_svg_encode_the_page_address(client, certificates):
    _, target = certificates
    png = client.get(f"/public/s/{target.public_id}/qr.png")
    assert png.status_code == 200 and png.mimetype == "image/png"
    assert png.data[:8] == b"\x89PNG\r\n\x1a\n"
    svg = client.get(f"/public/s/{target.public_id}/qr.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert svg.get_data(as_text=True).lstrip().startswith("<svg")
    # Exactly the symbol of the page's own address (segno draws a given text the same way every time).
    import segno

    expected = segno.make(f"http://localhost/public/s/{target.public_id}", error="m")
    assert svg.get_data(as_text=True) == _svg(expected)
    assert svg.get_data(as_text=True) != _svg(segno.make("http://localhost/public/s/other", error="m"))


def _svg(code) -> str:
    import io

    out = io.BytesIO()
    code.save(out, kind="svg", scale=8, border=4, xmldecl=False)
    return out.getvalue().decode()


def test_public_page_in_english(client, certificates):
    _, target = certificates
    client.get("/lang/en")
    page = html(client.get(f"/public/s/{target.public_id}"))
    assert "Certificate no." in page and "Nanchang" in page and "QR code" in page


def test_existing_rows_and_bulk_inserts_get_a_key_and_a_public_id(session, certificates):
    holder, _ = certificates
    db.session.execute(sa.insert(MeasurementStandard), [dict(
        certificate_no="[2019]赣量标演示证字第00123号", name="批量装置", category="social_public",
        institution_id=holder.id, issued_on=date(2019, 1, 1), valid_until=date(2022, 12, 31), status="in_use")])
    row = db.session.execute(sa.select(MeasurementStandard.certificate_key, MeasurementStandard.public_id)
                             .where(MeasurementStandard.name == "批量装置")).one()
    assert row.certificate_key == "2019赣量标演示证字第123号" and row.public_id
