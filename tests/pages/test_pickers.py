"""The standard form's pickers: suggestions by code, name or label; the importer's rule on submit."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from registry.regulations.models import Regulation
from registry.standards.models import MeasurementStandard
from tests import factories
from tests.pages.support import field_errors, post_form


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def catalog(session):
    version = factories.catalog_version(effective_from=date(2021, 1, 1))
    lines = {
        "spring": factories.catalog_line(version, code="P01", name="压力表", sub_name="弹簧管式"),
        "digital": factories.catalog_line(version, code="P02", name="压力表", sub_name="数字式"),
        "scale": factories.catalog_line(version, code="W01", name="衡器", sub_name="电子秤"),
    }
    old = factories.catalog_version(name="旧目录", effective_from=date(2000, 1, 1))
    factories.catalog_line(old, code="Z99", name="压力表旧条目")
    session.commit()
    return lines


def test_line_suggestions_match_code_name_and_label_in_the_catalog_in_force(client, auth, users, catalog):
    auth.login_session(users.institution)
    by_name = client.get("/catalog/suggest", query_string={"q": "压力"}).get_json()
    assert [s["value"] for s in by_name] == ["P01", "P02"]  # not the old catalog's Z99
    assert by_name[0]["label"] == "P01 压力表·弹簧管式"
    assert [s["value"] for s in client.get("/catalog/suggest?q=w0").get_json()] == ["W01"]
    assert [s["value"] for s in client.get("/catalog/suggest", query_string={"q": "压力表·数字"}).get_json()] == ["P02"]
    assert client.get("/catalog/suggest?q=").get_json() == []


def test_regulation_suggestions_match_any_spelling_of_the_code_and_the_title(client, auth, users, session):
    factories.regulation(code="JJG 52-2013", series="JJG", province=None, number="52", year=2013, level="national",
                         title="弹性元件式一般压力表、压力真空表和真空表")
    factories.regulation(code="JJG 49-2013", series="JJG", province=None, number="49", year=2013, level="national",
                         title="弹簧管式精密压力表和真空表")
    session.commit()
    auth.login_session(users.institution)
    assert [s["value"] for s in client.get("/regulations/suggest", query_string={"q": "jjg52"}).get_json()] == [
        "JJG 52-2013"]
    assert [s["value"] for s in client.get("/regulations/suggest", query_string={"q": "JJG 52—2013"}).get_json()] == [
        "JJG 52-2013"]
    assert [s["value"] for s in client.get("/regulations/suggest", query_string={"q": "真空表"}).get_json()] == [
        "JJG 49-2013", "JJG 52-2013"]


def test_suggestions_need_a_signed_in_user(client):
    assert client.get("/catalog/suggest?q=压力").status_code == 302
    assert client.get("/regulations/suggest?q=JJG").status_code == 302


def new_standard(**fields) -> dict:
    return {"certificate_no": "[2024]赣量标证字第0707号", "name": "压力表标准装置", "category": "social_public",
            "issued_on": "2024-03-01", "status": "in_use", **fields}


def test_the_form_accepts_a_line_name_as_the_workbook_does(client, auth, users, catalog, session):
    auth.login_session(users.institution)
    response = post_form(client, "/standards/new", new_standard(catalog_lines="压力表；W01"))
    assert response.status_code == 302, field_errors(response, "catalog_lines")
    standard = session.scalar(sa.select(MeasurementStandard).where(MeasurementStandard.name == "压力表标准装置"))
    assert sorted(line.code for line in standard.catalog_lines) == ["P01", "P02", "W01"]


@pytest.mark.parametrize("lang, message", [("zh_Hans_CN", "中没有：不存在的器具"),
                                           ("en", "No such catalog line: 不存在的器具")])
def test_an_unknown_line_is_named_in_one_language(client, auth, users, catalog, lang, message):
    auth.login_session(users.institution)
    client.get(f"/lang/{lang}")
    response = post_form(client, "/standards/new", new_standard(catalog_lines="不存在的器具"))
    assert response.status_code == 422
    errors = field_errors(response, "catalog_lines")
    assert message in errors and " / " not in errors


def test_a_regulator_registers_a_missing_national_regulation_from_the_form(client, auth, users, session):
    auth.login_session(users.regulator)
    data = new_standard(institution_id=str(users.own.id), regulations="JJG 52—2013")
    refused = post_form(client, "/standards/new", data)
    assert refused.status_code == 422
    assert "JJG 52—2013" in field_errors(refused, "regulations")
    assert 'name="new_regulation:JJG 52-2013"' in text(refused)
    assert session.scalar(sa.select(sa.func.count()).select_from(MeasurementStandard)) == 0
    saved = post_form(client, "/standards/new", {**data, "new_regulation:JJG 52-2013": "弹性元件式一般压力表"})
    assert saved.status_code == 302, field_errors(saved, "regulations")
    regulation = session.scalar(sa.select(Regulation).where(Regulation.code == "JJG 52-2013"))
    assert regulation.title == "弹性元件式一般压力表" and regulation.level == "national"
    standard = session.scalar(sa.select(MeasurementStandard))
    assert [r.code for r in standard.regulations] == ["JJG 52-2013"]


def test_an_institution_user_is_not_offered_to_register_a_regulation(client, auth, users, session):
    auth.login_session(users.institution)
    data = new_standard(regulations="JJG 52-2013")
    refused = post_form(client, "/standards/new", data)
    assert refused.status_code == 422 and "new_regulation:" not in text(refused)
    again = post_form(client, "/standards/new", {**data, "new_regulation:JJG 52-2013": "偷偷登记"})
    assert again.status_code == 422
    assert session.scalar(sa.select(Regulation).where(Regulation.code == "JJG 52-2013")) is None


def test_a_failed_save_does_not_keep_the_regulation_it_would_have_registered(client, auth, users, session):
    auth.login_session(users.regulator)
    data = new_standard(institution_id=str(users.own.id), regulations="JJG 52-2013", issued_on="",
                        **{"new_regulation:JJG 52-2013": "弹性元件式一般压力表"})
    assert post_form(client, "/standards/new", data).status_code == 422
    assert session.scalar(sa.select(Regulation).where(Regulation.code == "JJG 52-2013")) is None


def test_the_admins_new_standard_form_preselects_no_holder_and_requires_one(client, auth, users):
    auth.login_session(users.admin)
    page = text(client.get("/standards/new"))
    select = page[page.index('name="institution_id"'):].split("</select>")[0]
    assert select.count("selected") == 1 and '<option selected value="">' in select
    response = post_form(client, "/standards/new", new_standard())
    assert response.status_code == 422 and field_errors(response, "institution_id")


def test_the_new_user_forms_role_starts_empty_and_is_required(client, auth, users, session):
    auth.login_session(users.admin)
    page = text(client.get("/admin/users/new"))
    select = page[page.index('name="role"'):].split("</select>")[0]
    assert "selected" not in select and select.index('<option value="">') < select.index('value="admin"')
    response = post_form(client, "/admin/users/new", {"email": "new@example.org", "password": "a long pass phrase 9"},
                         form_url="/admin/users/new")
    assert response.status_code in (200, 422) and field_errors(response, "role")


def test_suggestions_take_the_same_statements_for_one_match_or_ten(client, auth, users, session):
    from registry.extensions import db
    from tests.statements import counted

    version = factories.catalog_version(effective_from=date(2021, 1, 1))
    for i in range(15):
        factories.catalog_line(version, code=f"Q{i:02d}", name=f"流量计{i}")
        factories.regulation(title=f"流量计检定规程{i}")
    session.commit()
    auth.login_session(users.institution)
    counts = {}
    for url in ("/catalog/suggest?q=Q03", "/catalog/suggest?q=流量计", "/regulations/suggest?q=流量计检定规程3",
                "/regulations/suggest?q=流量计"):
        db.session.expunge_all()
        with counted() as statements:
            found = client.get(url).get_json()
        counts[url] = (len(statements), len(found))
    assert [n for _, n in counts.values()] == [1, 10, 1, 10]
    assert counts["/catalog/suggest?q=Q03"][0] == counts["/catalog/suggest?q=流量计"][0]
    assert counts["/regulations/suggest?q=流量计检定规程3"][0] == counts["/regulations/suggest?q=流量计"][0]
