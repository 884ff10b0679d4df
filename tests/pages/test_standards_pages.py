"""The standards pages: lists, detail, register, edit, withdraw, through the test client."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from registry.audit.models import AuditEvent
from registry.standards.models import MeasurementStandard
from tests import factories
from tests.pages.support import form_values
from tests.test_pages import csrf_from


def text(response) -> str:
    return response.get_data(as_text=True)


def listed_names(response) -> list[str]:
    """The standard names in the list's table, in order."""
    return re.findall(r'<td class="col-name"><a href="/standards/\d+">([^<]+)</a>', text(response))


@pytest.fixture
def held(users, session):
    """One standard of the signed-in institution's own, one of another institution."""
    own = factories.standard(users.own, name="本机构标准装置")
    other = factories.standard(users.other_institution, name="他机构标准装置")
    session.commit()
    return type("Held", (), {"own": own, "other": other})


def form_of(standard, **changes) -> dict:
    data = {"certificate_no": standard.certificate_no, "name": standard.name, "code": standard.code or "",
            "category": standard.category, "discipline_code": standard.discipline_code or "",
            "institution_id": standard.institution_id, "range_text": standard.range_text or "",
            "uncertainty_text": standard.uncertainty_text or "", "issuer": standard.issuer or "",
            "issued_on": standard.issued_on.isoformat(), "valid_until": standard.valid_until.isoformat(),
            "responsible_person": standard.responsible_person or "", "status": standard.status,
            "status_since": standard.status_since.isoformat() if standard.status_since else "",
            "build_kind": standard.build_kind or "", "built_on": "", "catalog_lines": "", "regulations": "",
            "version": standard.version}
    data.update(changes)
    return data


# --- lists ----------------------------------------------------------------------------


def test_list_shows_each_standard_with_holder_city_status_and_validity(client, auth, users, session):
    today = date.today()
    factories.standard(users.own, name="有效装置", valid_until=today + timedelta(days=800))
    factories.standard(users.own, name="将到期装置", valid_until=today + timedelta(days=30))
    factories.standard(users.own, name="过期装置", valid_until=today - timedelta(days=1), issued_on=date(2020, 1, 1))
    auth.login_session(users.regulator)
    page = text(client.get("/standards/", query_string={"institution_id": users.own.id, "sort": "name"}))
    for name in ("有效装置", "将到期装置", "过期装置"):
        assert name in page
    assert users.own.name in page and "南昌市" in page and "社会公用计量标准" in page and "在用" in page
    row = lambda name: page[page.index(name):].split("</tr>")[0]  # noqa: E731
    assert "有效</span>" in row("有效装置") and "即将到期" in row("将到期装置") and "已过期" in row("过期装置")


def test_list_filters_by_text_category_status_region_holder_expiry_and_catalog_line(client, auth, users, session):
    version = factories.catalog_version()
    line = factories.catalog_line(version)
    elsewhere = factories.institution(region_code="360200")
    factories.standard(users.own, name="甲电能表标准装置", certificate_no="[2024]赣量标证字第9001号", lines=[line])
    factories.standard(users.own, name="乙压力标准装置", category="enterprise_highest", status="sealed",
                       valid_until=date(2025, 3, 1))
    factories.standard(elsewhere, name="丙温度标准装置")
    auth.login_session(users.regulator)

    def names(**args):
        return set(listed_names(client.get("/standards/", query_string={"page_size": 100, **args})))

    assert names(q="9001") == {"甲电能表标准装置"}
    assert names(q="压力") == {"乙压力标准装置"}
    assert "乙压力标准装置" in names(category="enterprise_highest") and "甲电能表标准装置" not in names(
        category="enterprise_highest")
    assert "乙压力标准装置" in names(status="sealed") and "甲电能表标准装置" not in names(status="sealed")
    assert "丙温度标准装置" in names(region="360200") and "甲电能表标准装置" not in names(region="360200")
    assert names(institution_id=users.own.id) == {"甲电能表标准装置", "乙压力标准装置"}
    assert "乙压力标准装置" in names(expiring_before="2025-06-01")
    assert "甲电能表标准装置" not in names(expiring_before="2025-06-01")
    assert names(covers_line=line.id) == {"甲电能表标准装置"}


def test_an_invalid_filter_is_ignored_and_named_never_a_server_error(client, auth, users, held):
    auth.login_session(users.regulator)
    response = client.get("/standards/", query_string={"status": "bogus", "expiring_before": "not-a-date",
                                                       "covers_line": "x", "sort": "password_hash"})
    assert response.status_code == 200
    page = text(response)
    assert "已忽略无效的筛选条件" in page and "status" in page
    assert held.own.name in page


def test_list_sorts_by_column_both_ways(client, auth, users, session):
    for name in ("B装置", "A装置", "C装置"):
        factories.standard(users.own, name=name)
    auth.login_session(users.regulator)
    ascending = listed_names(client.get("/standards/", query_string={"institution_id": users.own.id, "sort": "name"}))
    descending = listed_names(client.get("/standards/", query_string={"institution_id": users.own.id,
                                                                      "sort": "-name"}))
    assert ascending == ["A装置", "B装置", "C装置"] and descending == ["C装置", "B装置", "A装置"]
    page = text(client.get("/standards/", query_string={"sort": "name"}))
    assert 'aria-sort="ascending"' in page and "sort=-name" in page


def test_list_pages_in_sql_and_keeps_the_filters_on_the_next_page(client, auth, users, session):
    for n in range(30):
        factories.standard(users.own, name=f"分页装置{n:02d}")
    auth.login_session(users.regulator)
    first = client.get("/standards/", query_string={"institution_id": users.own.id, "sort": "name"})
    assert len(listed_names(first)) == 25
    assert f"institution_id={users.own.id}" in re.search(r'<a rel="next" href="([^"]+)"', text(first)).group(1)
    second = client.get("/standards/", query_string={"institution_id": users.own.id, "sort": "name", "page": 2})
    assert listed_names(second) == [f"分页装置{n:02d}" for n in range(25, 30)]
    assert "第 2 / 2 页，共 30 条" in text(second)


def test_an_institution_user_lists_only_its_own_standards(client, auth, users, held):
    auth.login_session(users.institution)
    page = text(client.get("/standards/"))
    assert held.own.name in page and held.other.name not in page
    assert 'name="institution_id"' not in page  # no holder filter: there is only one


def test_export_button_carries_the_list_filters_when_the_export_exists(client, auth, users, held, app):
    auth.login_session(users.regulator)
    page = text(client.get("/standards/", query_string={"status": "in_use", "page": 1}))
    if "imports_pages.export" in app.view_functions:
        link = re.search(r'href="([^"]*/exports/standards\.xlsx[^"]*)"', page).group(1)
        assert "status=in_use" in link and "page=" not in link
    else:
        assert "导出 Excel" not in page


def test_the_list_needs_a_login(client):
    response = client.get("/standards/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- access: role x action x own/other ------------------------------------------------------

ROLES = ["admin", "regulator", "institution"]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("whose", ["own", "other"])
@pytest.mark.parametrize("action", ["detail", "edit", "withdraw"])
def test_reading_pages_follow_the_access_rules(client, auth, users, held, role, whose, action):
    auth.login_session(getattr(users, role))
    standard = getattr(held, whose)
    suffix = "" if action == "detail" else f"/{action}"
    response = client.get(f"/standards/{standard.id}{suffix}")
    expected = 404 if role == "institution" and whose == "other" else 200
    assert response.status_code == expected
    if expected == 404:
        assert standard.name not in text(response)


@pytest.mark.parametrize("action", ["edit", "withdraw"])
def test_another_institutions_standard_cannot_be_changed_by_post(client, auth, users, held, session, action):
    auth.login_session(users.institution)
    version = held.other.version
    token = csrf_from(client.get("/standards/new"))
    data = form_of(held.other, name="被改了", csrf_token=token, reason="试图撤回")
    response = client.post(f"/standards/{held.other.id}/{action}", data=data)
    assert response.status_code == 404
    session.expire_all()
    other = session.get(MeasurementStandard, held.other.id)
    assert other.name == "他机构标准装置" and other.withdrawn_at is None and other.version == version


@pytest.mark.parametrize("role", ROLES)
def test_the_list_of_each_role(client, auth, users, held, role):
    auth.login_session(getattr(users, role))
    page = text(client.get("/standards/"))
    assert held.own.name in page
    assert (held.other.name in page) == (role != "institution")


# --- register -------------------------------------------------------------------------------


def test_register_a_standard_with_lines_and_regulations_by_code(client, auth, users, session):
    from importers.references import catalog_in_force

    line = session.scalars(sa.select(factories.CatalogLine).where(
        factories.CatalogLine.catalog_version_id == catalog_in_force(date.today()).id)).first()
    regulation = factories.regulation()
    session.commit()
    auth.login_session(users.regulator)
    token = csrf_from(client.get("/standards/new"))
    response = client.post("/standards/new", data={
        "csrf_token": token, "certificate_no": "[2025]赣量标证字第777号", "name": "新登记装置", "category": "social_public",
        "institution_id": users.own.id, "issued_on": "2025-01-10", "status": "in_use",
        "catalog_lines": line.code, "regulations": regulation.code.replace(" ", "")})
    assert response.status_code == 302
    standard = session.scalar(sa.select(MeasurementStandard).where(MeasurementStandard.name == "新登记装置"))
    assert response.headers["Location"] == f"/standards/{standard.id}"
    assert standard.valid_until == date(2029, 1, 9)  # the service's default: four years less a day
    assert [x.id for x in standard.catalog_lines] == [line.id]
    assert [r.id for r in standard.regulations] == [regulation.id]
    page = text(client.get(response.headers["Location"]))
    assert "已登记计量标准" in page and line.code in page and regulation.code in page and "已创建" in page


def test_register_form_shows_errors_next_to_fields_and_writes_nothing(client, auth, users, session):
    auth.login_session(users.regulator)
    before = session.scalar(sa.select(sa.func.count()).select_from(MeasurementStandard))
    token = csrf_from(client.get("/standards/new"))
    response = client.post("/standards/new", data={
        "csrf_token": token, "certificate_no": "not a certificate", "name": "", "category": "social_public",
        "institution_id": users.own.id, "issued_on": "2025-01-10", "status": "in_use"})
    assert response.status_code == 422
    page = text(response)
    assert re.search(r'id="name-errors"', page)
    # the domain rule (certificate format) is the service's and lands next to its field after the form passes
    response = client.post("/standards/new", data={
        "csrf_token": token, "certificate_no": "not a certificate", "name": "装置", "category": "social_public",
        "institution_id": users.own.id, "issued_on": "2025-01-10", "status": "in_use",
        "catalog_lines": "NO-SUCH-LINE"})
    assert response.status_code == 422
    page = text(response)
    assert 'id="certificate_no-errors"' in page and "证书编号格式不符" in page
    assert 'id="catalog_lines-errors"' in page and "NO-SUCH-LINE" in page
    assert session.scalar(sa.select(sa.func.count()).select_from(MeasurementStandard)) == before


def test_a_duplicate_certificate_number_is_refused_next_to_its_field(client, auth, users, held, session):
    auth.login_session(users.regulator)
    token = csrf_from(client.get("/standards/new"))
    response = client.post("/standards/new", data={
        "csrf_token": token, "certificate_no": held.own.certificate_no, "name": "重复", "category": "social_public",
        "institution_id": users.own.id, "issued_on": "2025-01-10", "status": "in_use"})
    assert response.status_code == 422
    assert 'id="certificate_no-errors"' in text(response) and "已存在" in text(response)


def test_an_institution_user_registers_only_under_its_own_institution(client, auth, users, session):
    auth.login_session(users.institution)
    page = client.get("/standards/new")
    assert 'name="institution_id"' not in text(page) and users.own.name in text(page)
    response = client.post("/standards/new", data={
        "csrf_token": csrf_from(page), "certificate_no": "[2025]赣量标证字第778号", "name": "自建装置",
        "category": "social_public", "institution_id": users.other_institution.id, "issued_on": "2025-01-10",
        "status": "in_use"})
    assert response.status_code == 302
    standard = session.scalar(sa.select(MeasurementStandard).where(MeasurementStandard.name == "自建装置"))
    assert standard.institution_id == users.own.id


def test_posting_without_a_csrf_token_is_refused(client, auth, users, held, session):
    auth.login_session(users.regulator)
    assert client.post("/standards/new", data={"name": "x"}).status_code == 400
    assert client.post(f"/standards/{held.own.id}/edit", data=form_of(held.own, name="无令牌")).status_code == 400
    assert client.post(f"/standards/{held.own.id}/withdraw", data={"reason": "r"}).status_code == 400
    session.expire_all()
    own = session.get(MeasurementStandard, held.own.id)
    assert own.name == "本机构标准装置" and own.withdrawn_at is None


# --- edit ------------------------------------------------------------------------------------


def test_edit_changes_only_what_changed_and_shows_it_in_the_history(client, auth, users, held, session):
    auth.login_session(users.institution)
    version = held.own.version
    page = client.get(f"/standards/{held.own.id}/edit")
    assert f'name="version" type="hidden" value="{version}"' in text(page)
    response = client.post(f"/standards/{held.own.id}/edit",
                           data=form_of(held.own, responsible_person="张工", csrf_token=csrf_from(page)))
    assert response.status_code == 302
    session.expire_all()
    own = session.get(MeasurementStandard, held.own.id)
    assert own.responsible_person == "张工" and own.version == version + 1
    event = session.scalars(sa.select(AuditEvent).where(AuditEvent.entity_type == "measurement_standards",
                                                        AuditEvent.entity_id == str(own.id))).all()[-1]
    assert set(event.changes) == {"responsible_person"}
    detail = text(client.get(f"/standards/{own.id}"))
    assert "已保存" in detail and "张工" in detail and "负责人" in detail and "responsible_person" not in detail


def test_a_status_change_stores_the_date_typed_or_none(client, auth, users, held, session):
    auth.login_session(users.regulator)
    page = client.get(f"/standards/{held.own.id}/edit")
    # The date field is there, with today's date ready for the script to fill in on a change of status.
    assert f'data-today="{date.today().isoformat()}"' in text(page) and 'name="status_since"' in text(page)
    client.post(f"/standards/{held.own.id}/edit",
                data=form_of(held.own, status="sealed", status_since="2025-03-01", csrf_token=csrf_from(page)))
    session.expire_all()
    own = session.get(MeasurementStandard, held.own.id)
    assert own.status == "sealed" and own.status_since == date(2025, 3, 1)

    # Revoked with the sealing's date left in the field: the form asks for the new status's date.
    page = client.get(f"/standards/{own.id}/edit")
    response = client.post(f"/standards/{own.id}/edit",
                           data=form_of(own, status="revoked", csrf_token=csrf_from(page)))
    assert response.status_code == 422 and "请填写新状态生效的日期" in text(response)
    session.expire_all()
    assert session.get(MeasurementStandard, own.id).status == "sealed"

    # Left empty: not known, stored without a date (never the day of the edit).
    response = client.post(f"/standards/{own.id}/edit",
                           data=form_of(own, status="revoked", status_since="", csrf_token=csrf_from(page)))
    assert response.status_code == 302
    session.expire_all()
    own = session.get(MeasurementStandard, own.id)
    assert own.status == "revoked" and own.status_since is None


def test_the_new_standard_form_offers_todays_status_date(client, auth, users):
    auth.login_session(users.regulator)
    page = text(client.get("/standards/new"))
    assert f'name="status_since" type="date" value="{date.today().isoformat()}"' in page
    assert "standard-form.js" in page


def test_a_stale_edit_is_refused_and_changes_nothing(client, auth, users, held, session):
    auth.login_session(users.regulator)
    token = csrf_from(client.get(f"/standards/{held.own.id}/edit"))
    stale = form_of(held.own, name="我的修改", csrf_token=token)
    first = client.post(f"/standards/{held.own.id}/edit", data=form_of(held.own, name="他人的修改", csrf_token=token))
    assert first.status_code == 302
    response = client.post(f"/standards/{held.own.id}/edit", data=stale)
    assert response.status_code == 409
    assert "此记录已被他人修改" in text(response)
    session.expire_all()
    assert session.get(MeasurementStandard, held.own.id).name == "他人的修改"


def test_edit_errors_stay_next_to_the_field(client, auth, users, held, session):
    auth.login_session(users.regulator)
    token = csrf_from(client.get(f"/standards/{held.own.id}/edit"))
    response = client.post(f"/standards/{held.own.id}/edit",
                           data=form_of(held.own, valid_until="2020-01-01", issued_on="2024-01-01", csrf_token=token))
    assert response.status_code == 422 and 'id="valid_until-errors"' in text(response)
    response = client.post(f"/standards/{held.own.id}/edit", data=form_of(held.own, valid_until="", csrf_token=token))
    assert response.status_code == 422 and 'id="valid_until-errors"' in text(response)
    session.expire_all()
    assert session.get(MeasurementStandard, held.own.id).valid_until == held.own.valid_until


# --- withdraw -------------------------------------------------------------------------------


def test_withdraw_needs_a_reason(client, auth, users, held, session):
    auth.login_session(users.institution)
    page = client.get(f"/standards/{held.own.id}/withdraw")
    response = client.post(f"/standards/{held.own.id}/withdraw",
                           data={"csrf_token": csrf_from(page), "reason": "  ", "version": held.own.version})
    assert response.status_code == 422 and 'id="reason-errors"' in text(response)
    session.expire_all()
    assert session.get(MeasurementStandard, held.own.id).withdrawn_at is None


def test_a_withdrawn_standard_leaves_the_list_and_keeps_its_page_and_history(client, auth, users, held, session):
    auth.login_session(users.institution)
    page = client.get(f"/standards/{held.own.id}/withdraw")
    response = client.post(f"/standards/{held.own.id}/withdraw",
                           data={"csrf_token": csrf_from(page), "reason": "设备报废", "version": held.own.version})
    assert response.status_code == 302
    assert held.own.name not in listed_names(client.get("/standards/"))
    assert held.own.name in listed_names(client.get("/standards/", query_string={"include_withdrawn": "true"}))
    detail = text(client.get(f"/standards/{held.own.id}"))
    assert "此计量标准已撤回" in detail and "设备报废" in detail and "已撤回" in detail
    assert f"/standards/{held.own.id}/edit" not in detail
    assert client.get(f"/standards/{held.own.id}/edit").status_code == 409


def test_english_pages_translate_the_labels(client, auth, users, held):
    auth.login_session(users.regulator)
    client.get("/lang/en")
    page = text(client.get("/standards/"))
    assert "Certificate no." in page and "Social public standard" in page and "In use" in page
    page = text(client.get(f"/standards/{held.own.id}"))
    assert "Holder" in page and "History" in page
    assert "证书编号" not in page


def test_an_edit_keeps_the_lines_and_regulations_it_does_not_touch(client, auth, users, session):
    line = factories.catalog_line(factories.catalog_version(effective_from=date(1990, 1, 1)))  # not in force
    regulation = factories.regulation()
    standard = factories.standard(users.own, lines=[line])
    standard.regulations = [regulation]
    session.commit()
    auth.login_session(users.regulator)
    page = client.get(f"/standards/{standard.id}/edit")
    assert line.code in text(page) and regulation.code in text(page)
    fields = {name: form_values(page)[name] for name in ("catalog_lines", "regulations")}
    response = client.post(f"/standards/{standard.id}/edit", data=form_of(
        standard, name="只改名称", csrf_token=csrf_from(page), **fields))
    assert response.status_code == 302
    session.expire_all()
    standard = session.get(MeasurementStandard, standard.id)
    assert standard.name == "只改名称"
    assert [x.id for x in standard.catalog_lines] == [line.id] and [r.id for r in standard.regulations] == [
        regulation.id]
    response = client.post(f"/standards/{standard.id}/edit", data=form_of(
        standard, csrf_token=csrf_from(page), catalog_lines="", regulations=""))
    assert response.status_code == 302
    session.expire_all()
    standard = session.get(MeasurementStandard, standard.id)
    assert standard.catalog_lines == [] and standard.regulations == []


def test_a_revoked_standard_is_tagged_revoked_on_every_page_whatever_its_dates(client, auth, users, session):
    """The issue's case: revoked, certificate to 2029; the staff lists used to say 有效 in green."""
    today = date.today()
    revoked = factories.standard(users.own, name="撤销到二九年装置", status="revoked",
                                 status_since=today - timedelta(days=20), issued_on=date(2025, 1, 1),
                                 valid_until=date(2029, 12, 31))
    factories.standard(users.own, name="在用到二九年装置", issued_on=date(2025, 1, 1), valid_until=date(2029, 12, 31))
    session.commit()

    def row(page: str, name: str) -> str:
        return page[page.index(name):].split("</tr>")[0]

    auth.login_session(users.regulator)
    listing = text(client.get("/standards/", query_string={"institution_id": users.own.id}))
    assert 'data-validity="revoked"' in row(listing, "撤销到二九年装置") and "tag-ok" not in row(listing, "撤销到二九年装置")
    assert 'data-validity="valid"' in row(listing, "在用到二九年装置")
    detail = text(client.get(f"/standards/{revoked.id}"))
    assert 'data-validity="revoked"' in detail and 'data-validity="valid"' not in detail
    holder = text(client.get(f"/institutions/{users.own.id}"))
    assert 'data-validity="revoked"' in row(holder, "撤销到二九年装置")
    # The validity filter: revoked today, valid a month ago (the revocation came later).
    assert listed_names(client.get("/standards/", query_string={"institution_id": users.own.id,
                                                                 "validity": "revoked"})) == ["撤销到二九年装置"]
    month_ago = (today - timedelta(days=30)).isoformat()
    assert sorted(listed_names(client.get("/standards/", query_string={
        "institution_id": users.own.id, "validity": "valid", "validity_on": month_ago}))) == sorted(
        ["撤销到二九年装置", "在用到二九年装置"])
    client.get("/lang/en")
    english = text(client.get("/standards/", query_string={"institution_id": users.own.id}))
    assert "Revoked</span>" in row(english, "撤销到二九年装置")


def test_status_undated_filter_lists_the_standards_counted_on_no_date(client, auth, users, session):
    factories.standard(users.own, name="封存无日期装置", status="sealed", status_since=None)
    factories.standard(users.own, name="封存有日期装置", status="sealed", status_since=date(2024, 6, 1))
    factories.standard(users.own, name="在用装置")
    session.commit()
    auth.login_session(users.regulator)
    response = client.get("/standards/", query_string={"institution_id": users.own.id, "status_undated": "true"})
    assert listed_names(response) == ["封存无日期装置"]
    assert 'data-testid="status-undated-note"' in text(response)
    undated = session.scalar(sa.select(MeasurementStandard).where(MeasurementStandard.name == "封存无日期装置"))
    assert 'data-testid="status-undated"' in text(client.get(f"/standards/{undated.id}"))
