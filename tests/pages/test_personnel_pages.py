"""The staff pages through the test client: the roster, one person, forms, withdrawal and who sees what."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from registry.personnel.models import Person
from tests import factories
from tests.pages.support import csrf_from, field_errors, post_form, rows


def login(client, auth, users, role):
    auth.login_session(getattr(users, role))
    return client


@pytest.fixture
def staff_client(client, users, auth):
    return login(client, auth, users, "regulator")


def test_the_roster_asks_anonymous_visitors_to_log_in(client):
    response = client.get("/personnel/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_roster_filters_by_institution_registration_level_and_status(staff_client, users, session):
    today = date.today()
    valid = factories.person(users.own, name="有效注册人", registration_no="REG-V-1", registration_level="1",
                             registered_on=today - timedelta(days=400),
                             registration_valid_until=today + timedelta(days=900))
    expiring = factories.person(users.own, name="即将到期人", registration_no="REG-E-1", registration_level="2",
                                registered_on=today - timedelta(days=1700),
                                registration_valid_until=today + timedelta(days=30))
    expired = factories.person(users.other_institution, name="已过期人", registration_no="REG-X-1",
                               registration_level="2", registered_on=date(2015, 1, 1),
                               registration_valid_until=date(2019, 12, 31))
    plain = factories.person(users.other_institution, name="未注册人")
    session.commit()

    def listed(**args):
        return staff_client.get("/personnel/", query_string={"page_size": 100, **args}).get_data(as_text=True)

    page = listed(institution_id=users.own.id)
    assert valid.name in page and expiring.name in page and plain.name not in page
    page = listed(registered="false", institution_id=users.other_institution.id)
    assert plain.name in page and expired.name not in page
    page = listed(registration_level="2")
    assert expiring.name in page and expired.name in page and valid.name not in page
    page = listed(registration_status="valid")
    assert valid.name in page and expiring.name in page and expired.name not in page and plain.name not in page
    page = listed(registration_status="expiring")
    assert expiring.name in page and valid.name not in page
    assert "即将到期" in page
    page = listed(registration_status="expired")
    assert expired.name in page and valid.name not in page
    page = listed(q="REG-E-1")
    assert expiring.name in page and valid.name not in page


def test_an_invalid_filter_is_ignored_never_a_500(staff_client):
    response = staff_client.get("/personnel/", query_string={"institution_id": "x", "registration_level": "9",
                                                             "registration_status": "soon", "sort": "salary"})
    assert response.status_code == 200
    assert "已忽略" in response.get_data(as_text=True)


def test_the_roster_sorts_and_pages_in_sql(staff_client, users, session):
    for n in range(30):
        factories.person(users.own, name=f"分页人员{n:02d}")
    session.commit()
    first = staff_client.get("/personnel/", query_string={"q": "分页人员", "sort": "-name"})
    body = first.get_data(as_text=True)
    assert rows(first) == 25 and body.index("分页人员29") < body.index("分页人员28")
    assert "分页人员04" not in body and 'rel="next"' in body
    second = staff_client.get("/personnel/", query_string={"q": "分页人员", "sort": "-name", "page": 2})
    assert rows(second) == 5 and "分页人员00" in second.get_data(as_text=True)


def test_the_detail_page_shows_the_registration_and_history_but_never_the_id_number(staff_client, users, session):
    response = post_form(staff_client, "/personnel/new", {
        "name": "张检定", "institution_id": str(users.own.id), "employed_from": "2019-03-01",
        "id_number": "360102198001011235", "registration_no": "ZJ-2020-001", "registration_level": "1",
        "registration_items": "压力\n衡器、流量", "registered_on": "2020-05-01"})
    assert response.status_code == 302, field_errors(response, "id_number")
    person = session.query(Person).filter_by(name="张检定").one()
    assert person.registration_items == ["压力", "衡器", "流量"]
    assert person.registration_valid_until == date(2025, 4, 30)
    body = staff_client.get(response.headers["Location"]).get_data(as_text=True)
    for text in ("张检定", users.own.name, "ZJ-2020-001", "一级注册计量师", "压力、衡器、流量", "36**************35",
                 "历史记录", "已创建"):
        assert text in body, text
    assert "360102198001011235" not in body and person.id_number_hash not in body
    assert "id_number_hash" not in body


def test_form_errors_show_next_to_the_fields_and_nothing_is_written(staff_client, users, session):
    before = session.query(Person).count()
    response = post_form(staff_client, "/personnel/new", {
        "name": "", "institution_id": str(users.own.id), "employed_from": "2020-01-01",
        "employed_until": "2019-01-01", "registration_no": "R-1", "id_number": "123"})
    assert response.status_code == 422
    assert field_errors(response, "name")
    response = post_form(staff_client, "/personnel/new", {
        "name": "错日期", "institution_id": str(users.own.id), "employed_from": "2020-01-01",
        "employed_until": "2019-01-01", "registration_no": "R-1", "id_number": "123"})
    assert response.status_code == 422
    assert field_errors(response, "employed_until") or field_errors(response, "employed_from")
    assert field_errors(response, "registration_level") and field_errors(response, "registered_on")
    assert field_errors(response, "id_number")
    assert session.query(Person).count() == before


def test_a_stale_edit_is_refused_and_changes_nothing(staff_client, users, session):
    person = factories.person(users.own, name="原姓名")
    session.commit()
    form = staff_client.get(f"/personnel/{person.id}/edit")
    person.name = "他人改名"
    session.commit()
    response = staff_client.post(f"/personnel/{person.id}/edit", data={
        "csrf_token": csrf_from(form), "version": "1", "name": "我的改名", "institution_id": str(users.own.id),
        "employed_from": "2020-01-01"})
    assert response.status_code == 422 and "此记录已被他人修改" in response.get_data(as_text=True)
    session.refresh(person)
    assert person.name == "他人改名"


def test_withdrawing_needs_a_reason_and_keeps_the_history(staff_client, users, session):
    person = factories.person(users.own, name="待撤销人")
    session.commit()
    response = post_form(staff_client, f"/personnel/{person.id}/withdraw", {"reason": ""})
    assert response.status_code == 422 and field_errors(response, "reason")
    response = post_form(staff_client, f"/personnel/{person.id}/withdraw", {"reason": "重复录入"})
    assert response.status_code == 302
    session.refresh(person)
    assert person.withdrawn_reason == "重复录入"
    assert "已撤回人员" in staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert rows(staff_client.get("/personnel/?q=待撤销人")) == 0
    assert rows(staff_client.get("/personnel/?q=待撤销人&include_withdrawn=true")) == 1
    detail = staff_client.get(f"/personnel/{person.id}").get_data(as_text=True)
    assert "已撤回" in detail and "重复录入" in detail and "撤回原因" in detail


# --- who may do what: role x action x own/other ----------------------------------------------

ROLES = ["admin", "regulator", "institution"]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("whose", ["own", "other"])
def test_reading_the_roster_and_a_person(client, auth, users, session, role, whose):
    holder = users.own if whose == "own" else users.other_institution
    person = factories.person(holder, name=f"读取{whose}人员", registration_no=f"RD-{whose}-{role}")
    session.commit()
    login(client, auth, users, role)
    allowed = role != "institution" or whose == "own"
    listed = client.get("/personnel/", query_string={"q": person.name}).get_data(as_text=True)
    assert (person.registration_no in listed) is allowed
    response = client.get(f"/personnel/{person.id}")
    assert response.status_code == (200 if allowed else 404)
    if not allowed:
        assert person.name not in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("whose", ["own", "other"])
def test_editing_a_person(client, auth, users, session, role, whose):
    holder = users.own if whose == "own" else users.other_institution
    person = factories.person(holder, name="编辑前")
    session.commit()
    login(client, auth, users, role)
    allowed = role != "institution" or whose == "own"
    if allowed:
        response = post_form(client, f"/personnel/{person.id}/edit", {"name": "编辑后"})
        assert response.status_code == 302
    else:
        assert client.get(f"/personnel/{person.id}/edit").status_code == 404
        token = csrf_from(client.get("/personnel/"))
        response = client.post(f"/personnel/{person.id}/edit", data={
            "csrf_token": token, "name": "编辑后", "institution_id": str(holder.id), "version": "1"})
        assert response.status_code == 404
    session.refresh(person)
    assert person.name == ("编辑后" if allowed else "编辑前")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("whose", ["own", "other"])
def test_withdrawing_a_person(client, auth, users, session, role, whose):
    holder = users.own if whose == "own" else users.other_institution
    person = factories.person(holder)
    session.commit()
    login(client, auth, users, role)
    allowed = role != "institution" or whose == "own"
    if allowed:
        assert post_form(client, f"/personnel/{person.id}/withdraw", {"reason": "测试"}).status_code == 302
    else:
        assert client.get(f"/personnel/{person.id}/withdraw").status_code == 404
        token = csrf_from(client.get("/personnel/"))
        response = client.post(f"/personnel/{person.id}/withdraw", data={"csrf_token": token, "reason": "测试"})
        assert response.status_code == 404
    session.refresh(person)
    assert (person.withdrawn_at is not None) is allowed


def test_an_institution_user_adds_staff_only_to_their_own_institution(client, auth, users, session):
    login(client, auth, users, "institution")
    form = client.get("/personnel/new").get_data(as_text=True)
    assert users.own.name in form and users.other_institution.name not in form
    response = post_form(client, "/personnel/new", {"name": "别家新人", "institution_id": str(users.other_institution.id)},
                         form_url="/personnel/new")
    assert response.status_code == 422 and field_errors(response, "institution_id")
    assert session.query(Person).filter_by(name="别家新人").count() == 0
    response = post_form(client, "/personnel/new", {"name": "本家新人", "institution_id": str(users.own.id)})
    assert response.status_code == 302
    assert session.query(Person).filter_by(name="本家新人").one().institution_id == users.own.id


def test_an_institution_user_cannot_move_their_person_to_another_institution(client, auth, users, session):
    person = factories.person(users.own, name="不可转移")
    session.commit()
    login(client, auth, users, "institution")
    response = post_form(client, f"/personnel/{person.id}/edit", {"institution_id": str(users.other_institution.id)})
    assert response.status_code == 422
    session.refresh(person)
    assert person.institution_id == users.own.id
