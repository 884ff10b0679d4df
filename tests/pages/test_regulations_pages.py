"""The regulation pages through the test client: list, detail, forms, withdrawal, access."""
from __future__ import annotations

from datetime import date

import pytest

from registry.audit.models import AuditEvent
from registry.regulations.models import Regulation
from tests import factories
from tests.pages.support import csrf_from, field_errors, post_form, rows


@pytest.fixture
def staff_client(client, users, auth):
    auth.login_session(users.regulator)
    return client


def test_the_list_asks_anonymous_visitors_to_log_in(client):
    response = client.get("/regulations/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_list_filters_by_series_level_status_and_flags(staff_client, session):
    national = factories.regulation(code="JJF 9901-2020", series="JJF", province=None, number="9901", year=2020,
                                    level="national", kind="calibration_specification", title="全国测试规范")
    urgent = factories.regulation(is_urgent=True, is_carbon=True, title="急需双碳规程")
    drafting = factories.regulation(status="drafting", published_on=None, title="起草中规程")
    session.commit()

    def listed(**args):
        return staff_client.get("/regulations/", query_string={"page_size": 100, **args}).get_data(as_text=True)

    page = listed(series="JJF", level="national")
    assert national.code in page and urgent.code not in page
    page = listed(is_urgent="true", is_carbon="true")
    assert urgent.code in page and national.code not in page and drafting.code not in page
    page = listed(status="drafting")
    assert drafting.code in page and urgent.code not in page
    page = listed(kind="calibration_specification", q="全国测试")
    assert national.code in page and drafting.code not in page


def test_a_code_typed_with_full_width_brackets_and_dashes_finds_the_regulation(staff_client, session):
    reg = factories.regulation(code="JJG(赣) 8123-2020", number="8123", year=2020)
    session.commit()
    for typed in ("JJG（赣）8123—2020", "jjg（赣） 8123", "JJG(赣)8123"):
        page = staff_client.get("/regulations/", query_string={"q": typed}).get_data(as_text=True)
        assert reg.code in page, typed


def test_an_invalid_filter_is_ignored_and_named_never_a_500(staff_client, session):
    factories.regulation()
    session.commit()
    response = staff_client.get("/regulations/", query_string={"series": "XYZ", "is_urgent": "perhaps",
                                                               "sort": "nonsense", "page": "abc"})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "已忽略" in body and "series" in body and "is_urgent" in body


def test_the_list_sorts_and_pages_in_sql(staff_client, session):
    made = [factories.regulation(title=f"分页规程{n:02d}", code=f"JJG(赣) 97{n:02d}-2021", number=f"97{n:02d}",
                                 year=2021) for n in range(30)]
    session.commit()
    first = staff_client.get("/regulations/", query_string={"q": "分页规程", "sort": "-code"})
    assert rows(first) == 25
    body = first.get_data(as_text=True)
    assert body.index(made[29].code) < body.index(made[28].code)
    assert "第 1 / 2 页" in body and 'rel="next"' in body
    second = staff_client.get("/regulations/", query_string={"q": "分页规程", "sort": "-code", "page": 2})
    assert rows(second) == 5 and made[0].code in second.get_data(as_text=True)


def test_withdrawn_regulations_leave_the_list_unless_asked_for(staff_client, session):
    gone = factories.regulation(withdrawn_at=factories.withdrawn_at(), withdrawn_reason="重复登记")
    session.commit()
    assert gone.code not in staff_client.get("/regulations/").get_data(as_text=True)
    assert gone.code in staff_client.get("/regulations/?include_withdrawn=true&page_size=100").get_data(as_text=True)


def test_demo_records_carry_the_demo_tag(staff_client, session):
    factories.regulation(is_demo=True, title="演示规程甲")
    session.commit()
    page = staff_client.get("/regulations/?q=演示规程甲").get_data(as_text=True)
    assert "tag-demo" in page


def test_the_detail_page_shows_every_field_and_the_history(staff_client, users, session):
    from registry.regulations.services import create_regulation

    reg = create_regulation({"code": "JJG(赣) 8801-2023", "title": "细节规程", "published_on": date(2023, 5, 1),
                             "is_carbon": True}, actor=users.regulator)
    holder = factories.institution()
    standard = factories.standard(holder)
    standard.regulations = [reg]
    session.commit()
    body = staff_client.get(f"/regulations/{reg.id}").get_data(as_text=True)
    for text in ("JJG(赣) 8801-2023", "细节规程", "地方", "检定规程", "已发布", "双碳相关", "历史记录", "创建",
                 standard.name):
        assert text in body, text


def test_an_unknown_regulation_is_404(staff_client):
    assert staff_client.get("/regulations/999999").status_code == 404
    assert staff_client.get("/regulations/99999999999999").status_code == 404


def test_creating_accepts_any_spelling_and_shows_the_normal_form(staff_client, session):
    response = post_form(staff_client, "/regulations/new", {"code": "JJG（赣）8123—2020", "title": "全角规程",
                                                            "published_on": "2020-06-01"})
    assert response.status_code == 302
    reg = session.query(Regulation).filter_by(title="全角规程").one()
    assert reg.code == "JJG(赣) 8123-2020" and reg.level == "local" and reg.status == "published"
    detail = staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "JJG(赣) 8123-2020" in detail and "已登记规程" in detail


def test_a_bad_code_is_shown_next_to_the_field_and_nothing_is_written(staff_client, session):
    before = session.query(Regulation).count()
    response = post_form(staff_client, "/regulations/new", {"code": "GB 123", "title": "坏编号"})
    assert response.status_code == 422
    assert "规程编号无法识别" in field_errors(response, "code")
    assert session.query(Regulation).count() == before


def test_missing_fields_and_a_duplicate_code_are_shown_next_to_the_fields(staff_client, session):
    existing = factories.regulation()
    session.commit()
    response = post_form(staff_client, "/regulations/new", {"code": "", "title": ""})
    assert response.status_code == 422
    assert field_errors(response, "code") and field_errors(response, "title")
    response = post_form(staff_client, "/regulations/new", {"code": existing.code, "title": "重复"})
    assert response.status_code == 422 and "已存在" in field_errors(response, "code")


def test_editing_saves_and_records_history(staff_client, session):
    reg = factories.regulation(title="旧名称")
    session.commit()
    response = post_form(staff_client, f"/regulations/{reg.id}/edit",
                         {"code": reg.code, "title": "新名称", "kind": reg.kind, "status": "implemented",
                          "published_on": "2024-01-01", "implemented_on": "2024-03-01"})
    assert response.status_code == 302
    session.refresh(reg)
    assert reg.title == "新名称" and reg.status == "implemented" and reg.version == 2
    assert session.query(AuditEvent).filter_by(entity_type="regulations", entity_id=str(reg.id),
                                               action="update").count() == 1


def test_a_stale_edit_is_refused_and_changes_nothing(staff_client, session):
    reg = factories.regulation(title="原名")
    session.commit()
    form = staff_client.get(f"/regulations/{reg.id}/edit")
    reg.title = "他人改过"
    session.commit()
    response = staff_client.post(f"/regulations/{reg.id}/edit", data={
        "csrf_token": csrf_from(form), "version": "1", "code": reg.code, "title": "我的修改", "kind": reg.kind,
        "status": reg.status, "published_on": "2024-01-01"})
    assert response.status_code == 422
    assert "此记录已被他人修改" in response.get_data(as_text=True)
    session.refresh(reg)
    assert reg.title == "他人改过" and reg.version == 2


def test_withdrawing_needs_a_reason_then_keeps_the_record_readable(staff_client, session):
    reg = factories.regulation()
    session.commit()
    response = post_form(staff_client, f"/regulations/{reg.id}/withdraw", {"reason": "  "})
    assert response.status_code == 422 and field_errors(response, "reason")
    session.refresh(reg)
    assert reg.withdrawn_at is None
    response = post_form(staff_client, f"/regulations/{reg.id}/withdraw", {"reason": "登记有误"})
    assert response.status_code == 302
    session.refresh(reg)
    assert reg.withdrawn_reason == "登记有误"
    assert "已撤回规程" in staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert reg.code not in staff_client.get("/regulations/?page_size=100").get_data(as_text=True)
    detail = staff_client.get(f"/regulations/{reg.id}").get_data(as_text=True)
    assert "已撤回" in detail and "登记有误" in detail and "撤回原因" in detail


@pytest.mark.parametrize("method,path", [("get", "/new"), ("post", "/new"), ("get", "/{id}/edit"),
                                         ("post", "/{id}/edit"), ("get", "/{id}/withdraw"),
                                         ("post", "/{id}/withdraw")])
def test_institution_users_read_regulations_but_cannot_change_them(client, users, auth, session, method, path):
    reg = factories.regulation(title="只读规程")
    session.commit()
    auth.login_session(users.institution)
    assert "只读规程" in client.get(f"/regulations/{reg.id}").get_data(as_text=True)
    assert "只读规程" in client.get("/regulations/?q=只读规程").get_data(as_text=True)
    token = csrf_from(client.get("/regulations/"))
    url = "/regulations" + path.format(id=reg.id)
    data = {"csrf_token": token, "code": "JJG 1-2020", "title": "改", "reason": "x", "version": "1"}
    response = client.get(url) if method == "get" else client.post(url, data=data)
    assert response.status_code == 403  # as the API answers an institution user's write
    session.refresh(reg)
    assert reg.title == "只读规程" and reg.withdrawn_at is None
    assert session.query(Regulation).filter_by(code="JJG 1-2020").count() == 0


def test_the_pages_read_in_english_when_chosen(staff_client, session):
    reg = factories.regulation(title="英文界面规程", is_urgent=True)
    session.commit()
    staff_client.get("/lang/en")
    body = staff_client.get("/regulations/?q=英文界面规程").get_data(as_text=True)
    assert "Verification regulations and specifications" in body and "Verification regulation" in body
    assert "Urgent" in body and "Local (赣)" in body
    detail = staff_client.get(f"/regulations/{reg.id}").get_data(as_text=True)
    assert "Standards applying this regulation" in detail and "History" in detail
