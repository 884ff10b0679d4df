"""The public query pages: anyone may search; only public columns ever show."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests import factories


@pytest.fixture
def holders(session):
    """Two holders in different cities (one in a county of 赣州), with staff data that must never show."""
    nanchang = factories.institution(name="南昌计量公开测试所", region_code="360100", contact="张联系人",
                                     phone="0791-86001234")
    county = factories.region("360799", parent_code="360700", name="测试县")
    ganzhou = factories.institution(name="赣州计量公开测试所", region_code=county.code, contact="王联系人",
                                    phone="0797-81234567")
    return nanchang, ganzhou


def html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_search_by_name_certificate_holder_and_city(client, holders):
    nanchang, ganzhou = holders
    factories.standard(nanchang, name="精密压力表标准装置", certificate_no="[2024]赣量标南证字第101号",
                       range_text="(0~60) MPa")
    factories.standard(ganzhou, name="出租汽车计价器检定装置", certificate_no="[2023]赣量标赣证字第202号")

    page = html(client.get("/public/", query_string={"q": "压力表"}))
    assert "精密压力表标准装置" in page and "出租汽车计价器" not in page
    assert "(0~60) MPa" in page and "南昌市" in page

    # Full-width brackets find the stored ASCII ones.
    page = html(client.get("/public/", query_string={"q": "〔2023〕赣量标赣证字"}))
    assert "出租汽车计价器检定装置" in page and "精密压力表" not in page

    page = html(client.get("/public/", query_string={"q": "南昌计量公开测试所"}))
    assert "精密压力表标准装置" in page and "出租汽车计价器" not in page

    # A county's institution shows and filters under its city.
    page = html(client.get("/public/", query_string={"city": "360700", "q": "计量公开测试所"}))
    assert "出租汽车计价器检定装置" in page and "赣州市" in page and "精密压力表" not in page


def test_valid_today_is_derived_from_the_dates_and_the_status(client, holders):
    nanchang, _ = holders
    today = date.today()
    factories.standard(nanchang, name="今日到期装置", valid_until=today, issued_on=today - timedelta(days=400))
    factories.standard(nanchang, name="昨日到期装置", valid_until=today - timedelta(days=1),
                       issued_on=today - timedelta(days=400))
    factories.standard(nanchang, name="封存中装置", status="sealed", valid_until=today + timedelta(days=300),
                       issued_on=today - timedelta(days=400))

    def state(name):
        page = html(client.get("/public/", query_string={"q": name}))
        return next(row for row in page.split("<tbody>", 1)[1].split("</tr>") if name in row)

    factories.standard(nanchang, name="明年封存装置", status="sealed", status_since=today + timedelta(days=365),
                       valid_until=today + timedelta(days=3000), issued_on=today - timedelta(days=400))
    factories.standard(nanchang, name="撤销长效装置", status="revoked", status_since=today - timedelta(days=10),
                       valid_until=date(2029, 12, 31), issued_on=today - timedelta(days=400))

    # Valid today, in its last day: expiring (still good), never expired.
    assert 'data-validity="expiring"' in state("今日到期装置") and "即将到期" in state("今日到期装置")
    assert "已过期" in state("昨日到期装置") and "tag-ok" not in state("昨日到期装置")
    assert "封存" in state("封存中装置") and "tag-ok" not in state("封存中装置")
    # Sealed only from next year: valid today.
    assert 'data-validity="valid"' in state("明年封存装置") and "tag-ok" in state("明年封存装置")
    assert 'data-validity="revoked"' in state("撤销长效装置") and "tag-ok" not in state("撤销长效装置")

    page = html(client.get("/public/", query_string={"q": "装置", "valid": "1"}))
    assert "今日到期装置" in page and "明年封存装置" in page
    for bad in ("昨日到期装置", "封存中装置", "撤销长效装置"):
        assert bad not in page


def test_only_social_public_standards_that_are_not_withdrawn(client, holders):
    nanchang, _ = holders
    factories.standard(nanchang, name="公开可见装置")
    factories.standard(nanchang, name="企业最高装置", category="enterprise_highest")
    factories.standard(nanchang, name="部门最高装置", category="department_highest")
    factories.standard(nanchang, name="已撤回装置", withdrawn_at=factories.withdrawn_at())

    page = html(client.get("/public/", query_string={"q": "装置"}))
    assert "公开可见装置" in page
    for hidden in ("企业最高装置", "部门最高装置", "已撤回装置"):
        assert hidden not in page


def test_no_personal_or_internal_data_on_the_public_pages(client, holders, users):
    nanchang, ganzhou = holders
    factories.standard(nanchang, name="含负责人装置", responsible_person="李负责人", issuer="某发证机关内部")
    factories.standard(ganzhou, name="另一装置", responsible_person="赵负责人")
    factories.person(nanchang, name="钱技术员")

    for url in ("/public/", "/public/?q=装置", "/public/regulations"):
        page = html(client.get(url))
        for secret in ("李负责人", "赵负责人", "钱技术员", "张联系人", "王联系人", "0791-86001234",
                       "0797-81234567", users.admin.email, users.institution.email, nanchang.credit_code):
            assert secret not in page, (url, secret)
    page = html(client.get("/public/", query_string={"q": "含负责人装置"}))
    assert "含负责人装置" in page


def test_demo_records_carry_the_demo_tag(client, holders):
    nanchang, _ = holders
    factories.standard(nanchang, name="演示用装置", is_demo=True)
    page = html(client.get("/public/", query_string={"q": "演示用装置"}))
    assert "tag-demo" in page


def test_regulation_search_by_code_in_any_spelling_or_by_title(client, session):
    factories.regulation(code="JJG(赣) 123-2024", number="123", title="电子计价秤公开测试规程",
                         published_on=date(2024, 3, 1), implemented_on=date(2024, 6, 1))
    factories.regulation(code="JJF(赣) 45-2023", series="JJF", number="45", year=2023, title="另一规范",
                         kind="calibration_specification")
    factories.regulation(code="JJG 999-2020", province=None, number="999", year=2020, level="national",
                         title="国家规程不在此列")
    factories.regulation(code="JJG(赣) 124-2024", number="124", title="已撤回规程",
                         withdrawn_at=factories.withdrawn_at())
    factories.regulation(code="JJG(赣) 125-2024", number="125", title="起草中的规程", status="drafting",
                         published_on=None, implemented_on=None)

    page = html(client.get("/public/regulations", query_string={"q": "jjg（赣） 123—2024"}))
    assert "电子计价秤公开测试规程" in page and "另一规范" not in page
    assert "JJG(赣) 123-2024" in page and "已发布" in page

    page = html(client.get("/public/regulations", query_string={"q": "JJF（赣）45"}))
    assert "另一规范" in page and "电子计价秤" not in page

    page = html(client.get("/public/regulations", query_string={"q": "计价秤"}))
    assert "电子计价秤公开测试规程" in page

    page = html(client.get("/public/regulations"))
    assert "国家规程不在此列" not in page and "已撤回规程" not in page and "起草中的规程" not in page


def test_public_query_is_rate_limited_with_a_clear_page(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_QUERY_LIMIT", "3 per minute")
    for url in ("/public/", "/public/regulations", "/public/?q=x"):
        assert client.get(url).status_code == 200
    response = client.get("/public/regulations")
    assert response.status_code == 429
    assert "查询过于频繁" in response.get_data(as_text=True)
    assert int(response.headers["Retry-After"]) > 0


def test_english_public_page(client, holders):
    nanchang, _ = holders
    factories.standard(nanchang, name="英文页装置")
    client.get("/lang/en")
    page = html(client.get("/public/", query_string={"q": "英文页装置"}))
    assert "Nanchang" in page and "Certificate no." in page


def test_front_page_links_to_the_public_query(client):
    assert 'href="/public/"' in html(client.get("/"))


def test_too_many_searches_page_in_english(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_QUERY_LIMIT", "1 per minute")
    client.get("/lang/en")
    assert client.get("/public/").status_code == 200
    response = client.get("/public/")
    assert response.status_code == 429
    assert "Too many searches" in response.get_data(as_text=True)
