"""The institutions pages: lists, detail, register, edit, withdraw, through the test client."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from registry.institutions.models import Institution
from tests import factories
from tests.test_pages import csrf_from


def text(response) -> str:
    return response.get_data(as_text=True)


def listed_names(response) -> list[str]:
    return re.findall(r'<td><a href="/institutions/\d+">([^<]+)</a>', text(response))


def form_of(institution, **changes) -> dict:
    data = {"credit_code": institution.credit_code, "name": institution.name, "region_code": institution.region_code,
            "kind": institution.kind, "contact": institution.contact or "", "phone": institution.phone or "",
            "version": institution.version}
    data.update(changes)
    return data


# --- lists ----------------------------------------------------------------------------


def test_list_filters_by_text_region_and_kind(client, auth, users, session):
    factories.institution(name="九江计量测试院", region_code="360400", kind="legal_metrology")
    factories.institution(name="九江某企业", region_code="360400", kind="enterprise")
    factories.institution(name="南昌某企业", region_code="360100", kind="enterprise")
    auth.login_session(users.regulator)

    def names(**args):
        return set(listed_names(client.get("/institutions/", query_string={"page_size": 100, **args})))

    assert names(q="九江") == {"九江计量测试院", "九江某企业"}
    assert {"九江计量测试院", "九江某企业"} <= names(region="360400")
    assert "南昌某企业" not in names(region="360400")
    assert "九江某企业" in names(kind="enterprise") and "九江计量测试院" not in names(kind="enterprise")
    assert names(q="九江", kind="enterprise") == {"九江某企业"}
    assert names(q=users.own.credit_code) == {users.own.name}


def test_an_invalid_filter_is_ignored_never_a_server_error(client, auth, users):
    auth.login_session(users.regulator)
    response = client.get("/institutions/", query_string={"kind": "spaceship", "sort": "nope", "region": "x" * 50})
    assert response.status_code == 200 and "已忽略无效的筛选条件" in text(response)


def test_list_sorts_and_pages(client, auth, users, session):
    for n in range(27):
        factories.institution(name=f"排序机构{n:02d}", region_code="360500")
    auth.login_session(users.regulator)
    args = {"region": "360500", "sort": "-name"}
    first = client.get("/institutions/", query_string=args)
    assert listed_names(first)[:2] == ["排序机构26", "排序机构25"] and len(listed_names(first)) == 25
    second = client.get("/institutions/", query_string={**args, "page": 2})
    assert listed_names(second) == ["排序机构01", "排序机构00"]
    assert "第 2 / 2 页，共 27 条" in text(second)
    assert listed_names(client.get("/institutions/", query_string={**args, "page_size": 50}))[-1] == "排序机构00"


def test_an_institution_user_sees_only_its_own_institution(client, auth, users):
    auth.login_session(users.institution)
    page = client.get("/institutions/")
    assert listed_names(page) == [users.own.name]
    assert "/institutions/new" not in text(page)


# --- access: role x action x own/other ------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "regulator", "institution"])
@pytest.mark.parametrize("whose", ["own", "other"])
@pytest.mark.parametrize("action", ["detail", "edit", "withdraw"])
def test_pages_follow_the_access_rules(client, auth, users, role, whose, action):
    auth.login_session(getattr(users, role))
    institution = users.own if whose == "own" else users.other_institution
    suffix = "" if action == "detail" else f"/{action}"
    response = client.get(f"/institutions/{institution.id}{suffix}")
    if role == "institution" and whose == "other":
        expected = 404
    elif role == "institution" and action == "withdraw":
        expected = 403  # its own institution: only staff withdraw an institution
    else:
        expected = 200
    assert response.status_code == expected
    if expected == 404:
        assert institution.name not in text(response)


@pytest.mark.parametrize("action", ["edit", "withdraw"])
def test_another_institution_cannot_be_changed_by_post(client, auth, users, session, action):
    auth.login_session(users.institution)
    other = users.other_institution
    name, version = other.name, other.version
    token = csrf_from(client.get("/institutions/"))
    response = client.post(f"/institutions/{other.id}/{action}",
                           data=form_of(other, contact="入侵者", csrf_token=token, reason="试图撤回"))
    assert response.status_code == 404
    session.expire_all()
    other = session.get(Institution, other.id)
    assert other.name == name and other.contact is None and other.withdrawn_at is None and other.version == version


def test_an_institution_user_cannot_register_institutions(client, auth, users, session):
    auth.login_session(users.institution)
    before = session.scalar(sa.select(sa.func.count()).select_from(Institution))
    assert client.get("/institutions/new").status_code == 403
    token = csrf_from(client.get("/institutions/"))
    response = client.post("/institutions/new", data={"csrf_token": token, "credit_code": factories.credit_code(),
                                                       "name": "私建机构", "region_code": "360100",
                                                       "kind": "enterprise"})
    assert response.status_code == 403
    assert session.scalar(sa.select(sa.func.count()).select_from(Institution)) == before


# --- detail ----------------------------------------------------------------------------------


def test_detail_shows_fields_standards_staff_counts_and_history(client, auth, users, session):
    factories.standard(users.own, name="院内标准装置")
    factories.person(users.own, registration_no="REG-1")
    factories.person(users.own)
    session.commit()
    auth.login_session(users.regulator)
    page = text(client.get(f"/institutions/{users.own.id}"))
    assert users.own.credit_code in page and "法定计量检定机构" in page and "南昌市" in page
    assert "院内标准装置" in page and f"/standards/?institution_id={users.own.id}" in page
    counts = re.findall(r'<div class="stat"><strong>(\d+)</strong>|<a class="stat"[^>]*><strong>(\d+)</strong>', page)
    assert [a or b for a, b in counts] == ["1", "2", "1"]
    assert "历史记录" in page


# --- register and edit -----------------------------------------------------------------------


def test_register_an_institution(client, auth, users, session):
    auth.login_session(users.regulator)
    code = factories.credit_code("360700")
    token = csrf_from(client.get("/institutions/new"))
    response = client.post("/institutions/new", data={"csrf_token": token, "credit_code": code, "name": "赣州新机构",
                                                      "region_code": "360700", "kind": "authorised",
                                                      "contact": "李工"})
    assert response.status_code == 302
    institution = session.scalar(sa.select(Institution).where(Institution.credit_code == code))
    assert institution.name == "赣州新机构" and institution.contact == "李工"
    page = text(client.get(response.headers["Location"]))
    assert "已登记机构" in page and "已创建" in page


def test_register_errors_stay_next_to_fields_and_write_nothing(client, auth, users, session):
    auth.login_session(users.regulator)
    before = session.scalar(sa.select(sa.func.count()).select_from(Institution))
    token = csrf_from(client.get("/institutions/new"))
    response = client.post("/institutions/new", data={"csrf_token": token, "credit_code": "123", "name": "",
                                                      "region_code": "360100", "kind": "enterprise"})
    assert response.status_code == 422 and 'id="name-errors"' in text(response)
    response = client.post("/institutions/new", data={"csrf_token": token, "credit_code": "123", "name": "坏代码机构",
                                                      "region_code": "360100", "kind": "enterprise"})
    assert response.status_code == 422 and 'id="credit_code-errors"' in text(response)
    response = client.post("/institutions/new", data={"csrf_token": token, "credit_code": users.own.credit_code,
                                                      "name": "重复机构", "region_code": "360100",
                                                      "kind": "enterprise"})
    assert response.status_code == 422 and 'id="credit_code-errors"' in text(response) and "已存在" in text(response)
    assert session.scalar(sa.select(sa.func.count()).select_from(Institution)) == before


def test_an_institution_user_edits_only_its_contact_details(client, auth, users, session):
    auth.login_session(users.institution)
    page = client.get(f"/institutions/{users.own.id}/edit")
    assert 'name="name"' not in text(page) and 'name="contact"' in text(page)
    name = users.own.name
    response = client.post(f"/institutions/{users.own.id}/edit",
                           data=form_of(users.own, name="改名", contact="王主任", phone="0791-1234567",
                                        csrf_token=csrf_from(page)))
    assert response.status_code == 302
    session.expire_all()
    own = session.get(Institution, users.own.id)
    assert own.contact == "王主任" and own.phone == "0791-1234567" and own.name == name
    assert "联系人" in text(client.get(f"/institutions/{own.id}"))


def test_a_stale_edit_is_refused_and_changes_nothing(client, auth, users, session):
    auth.login_session(users.regulator)
    token = csrf_from(client.get(f"/institutions/{users.own.id}/edit"))
    stale = form_of(users.own, contact="我的修改", csrf_token=token)
    assert client.post(f"/institutions/{users.own.id}/edit",
                       data=form_of(users.own, contact="他人的修改", csrf_token=token)).status_code == 302
    response = client.post(f"/institutions/{users.own.id}/edit", data=stale)
    assert response.status_code == 409 and "此记录已被他人修改" in text(response)
    session.expire_all()
    assert session.get(Institution, users.own.id).contact == "他人的修改"


def test_posting_without_a_csrf_token_is_refused(client, auth, users, session):
    auth.login_session(users.regulator)
    assert client.post(f"/institutions/{users.own.id}/edit", data=form_of(users.own, contact="x")).status_code == 400
    assert client.post(f"/institutions/{users.own.id}/withdraw", data={"reason": "r"}).status_code == 400
    session.expire_all()
    own = session.get(Institution, users.own.id)
    assert own.contact is None and own.withdrawn_at is None


# --- withdraw -------------------------------------------------------------------------------


def test_withdraw_needs_a_reason_then_the_institution_leaves_the_list(client, auth, users, session):
    target = factories.institution(name="将撤回机构")
    session.commit()
    auth.login_session(users.regulator)
    page = client.get(f"/institutions/{target.id}/withdraw")
    response = client.post(f"/institutions/{target.id}/withdraw",
                           data={"csrf_token": csrf_from(page), "reason": "", "version": target.version})
    assert response.status_code == 422 and 'id="reason-errors"' in text(response)
    response = client.post(f"/institutions/{target.id}/withdraw",
                           data={"csrf_token": csrf_from(page), "reason": "机构注销", "version": target.version})
    assert response.status_code == 302
    assert "将撤回机构" not in listed_names(client.get("/institutions/", query_string={"q": "将撤回"}))
    detail = text(client.get(f"/institutions/{target.id}"))
    assert "此机构已撤回" in detail and "机构注销" in detail and "已撤回" in detail
