"""The catalog pages through the test client: versions, lines, forms, withdrawal, who may change them."""
from __future__ import annotations

from datetime import date

import pytest

from registry.catalog.models import CatalogLine, CatalogVersion
from registry.coverage.services import catalog_in_force
from tests import factories
from tests.pages.support import csrf_from, field_errors, post_form, rows


@pytest.fixture
def staff_client(client, users, auth):
    auth.login_session(users.admin)
    return client


@pytest.fixture
def version(session):
    v = factories.catalog_version(name="测试目录甲", effective_from=date(2001, 1, 1), declared_line_count=40)
    for n in range(30):
        factories.catalog_line(v, code=f"{n:02d}", name=f"器具{n:02d}", mode=("P", "V", "P+V")[n % 3])
    session.commit()
    return v


def test_the_index_highlights_the_version_in_force_and_counts_its_lines(staff_client, version, session):
    in_force = catalog_in_force(date.today())
    assert in_force is not None  # the reference data's catalog
    body = staff_client.get("/catalog/").get_data(as_text=True)
    assert "现行目录" in body and in_force.name in body and 'class="in-force' in body
    assert version.name in body
    assert f"/catalog/{in_force.id}?mandatory=true" in body


def test_the_versions_list_searches_and_leaves_withdrawn_ones_out(staff_client, version, session):
    gone = factories.catalog_version(name="撤销的目录", withdrawn_at=factories.withdrawn_at())
    session.commit()
    assert version.name in staff_client.get("/catalog/?q=测试目录甲").get_data(as_text=True)
    assert rows(staff_client.get("/catalog/?q=撤销的目录")) == 0
    assert rows(staff_client.get("/catalog/?q=撤销的目录&include_withdrawn=true")) == 1
    assert gone.id


def test_a_versions_lines_filter_by_mode_mandatory_and_text(staff_client, version):
    url = f"/catalog/{version.id}"
    assert rows(staff_client.get(url, query_string={"mode": "P", "page_size": 100})) == 10
    assert rows(staff_client.get(url, query_string={"mandatory": "true", "page_size": 100})) == 20
    assert rows(staff_client.get(url, query_string={"mandatory": "false", "page_size": 100})) == 10
    page = staff_client.get(url, query_string={"q": "器具07"})
    assert rows(page) == 1 and "器具07" in page.get_data(as_text=True)


def test_a_versions_lines_sort_and_page(staff_client, version):
    first = staff_client.get(f"/catalog/{version.id}", query_string={"sort": "-code"})
    body = first.get_data(as_text=True)
    assert rows(first) == 25 and body.index("器具29") < body.index("器具28") and "第 1 / 2 页" in body
    second = staff_client.get(f"/catalog/{version.id}", query_string={"sort": "-code", "page": 2})
    assert rows(second) == 5 and "器具00" in second.get_data(as_text=True)


def test_an_invalid_filter_is_ignored_never_a_500(staff_client, version):
    response = staff_client.get(f"/catalog/{version.id}", query_string={"mode": "Q", "mandatory": "maybe",
                                                                       "catalog_version_id": "abc"})
    assert response.status_code == 200 and "已忽略" in response.get_data(as_text=True)
    assert rows(response) == 25  # the version in the path is kept whatever the query says


def test_the_line_page_shows_every_field_its_standards_and_history(staff_client, users, version, session):
    from registry.catalog.services import add_line

    line = add_line(version, {"code": "99", "name": "电动汽车充电桩", "sub_name": "交流", "mode": "p + v",
                              "verification_form": "periodic", "effective_from": date(2023, 1, 1),
                              "scope_note": "用于贸易结算"}, actor=users.admin)
    standard = factories.standard(users.own, lines=[line])
    session.commit()
    body = staff_client.get(f"/catalog/lines/{line.id}").get_data(as_text=True)
    for text in ("电动汽车充电桩", "交流", "P+V（型式批准和强制检定）", "周期检定", "用于贸易结算", version.name,
                 standard.name, "历史记录", "创建"):
        assert text in body, text


def test_creating_a_version_and_a_line(staff_client, session):
    response = post_form(staff_client, "/catalog/new", {"name": "新目录", "source_document": "公告",
                                                        "effective_from": "2030-01-01", "declared_line_count": "5"})
    assert response.status_code == 302
    version = session.query(CatalogVersion).filter_by(name="新目录").one()
    response = post_form(staff_client, f"/catalog/{version.id}/lines/new",
                         {"code": "1", "name": "水表", "mode": "V", "verification_form": "first_only"})
    assert response.status_code == 302
    line = session.query(CatalogLine).filter_by(catalog_version_id=version.id).one()
    assert line.name == "水表" and line.verification_form == "first_only"
    assert "已添加目录条目" in staff_client.get(response.headers["Location"]).get_data(as_text=True)


def test_form_errors_show_next_to_the_fields_and_nothing_is_written(staff_client, version, session):
    before = session.query(CatalogVersion).count()
    response = post_form(staff_client, "/catalog/new", {"name": version.name, "source_document": "x",
                                                        "effective_from": "2030-01-01",
                                                        "declared_line_count": "-3"})
    assert response.status_code == 422
    assert field_errors(response, "declared_line_count") or field_errors(response, "name")
    response = post_form(staff_client, "/catalog/new", {"name": version.name, "source_document": "x",
                                                        "effective_from": "2030-01-01", "declared_line_count": "3"})
    assert response.status_code == 422 and "已存在" in field_errors(response, "name")
    assert session.query(CatalogVersion).count() == before
    lines = session.query(CatalogLine).count()
    response = post_form(staff_client, f"/catalog/{version.id}/lines/new", {"code": "00", "name": "重复序号",
                                                                            "mode": "V"})
    assert response.status_code == 422 and field_errors(response, "code")
    assert session.query(CatalogLine).count() == lines


def test_a_stale_line_edit_is_refused_and_changes_nothing(staff_client, version, session):
    line = version.lines[0]
    form = staff_client.get(f"/catalog/lines/{line.id}/edit")
    line.name = "他人改过"
    session.commit()
    response = staff_client.post(f"/catalog/lines/{line.id}/edit", data={
        "csrf_token": csrf_from(form), "version": "1", "code": line.code, "name": "我的修改", "mode": "V"})
    assert response.status_code == 422 and "此记录已被他人修改" in response.get_data(as_text=True)
    session.refresh(line)
    assert line.name == "他人改过"


def test_editing_a_version_saves(staff_client, version, session):
    response = post_form(staff_client, f"/catalog/{version.id}/edit", {"declared_line_count": "62",
                                                                      "is_partial": "y"})
    assert response.status_code == 302
    session.refresh(version)
    assert version.declared_line_count == 62 and version.is_partial and version.version == 2


def test_withdrawing_a_line_needs_a_reason_and_keeps_it_readable(staff_client, version, session):
    line = version.lines[0]
    response = post_form(staff_client, f"/catalog/lines/{line.id}/withdraw", {"reason": ""})
    assert response.status_code == 422 and field_errors(response, "reason")
    response = post_form(staff_client, f"/catalog/lines/{line.id}/withdraw", {"reason": "不在目录中"})
    assert response.status_code == 302
    assert rows(staff_client.get(f"/catalog/{version.id}?page_size=100")) == 29
    detail = staff_client.get(f"/catalog/lines/{line.id}").get_data(as_text=True)
    assert "已撤回" in detail and "不在目录中" in detail


def test_withdrawing_a_version(staff_client, version, session):
    assert post_form(staff_client, f"/catalog/{version.id}/withdraw", {"reason": "录入有误"}).status_code == 302
    session.refresh(version)
    assert version.withdrawn_reason == "录入有误"
    assert rows(staff_client.get("/catalog/?q=测试目录甲")) == 0


@pytest.mark.parametrize("role", ["institution", "other"])
@pytest.mark.parametrize("method,path", [
    ("get", "/catalog/new"), ("post", "/catalog/new"), ("get", "/catalog/{v}/edit"), ("post", "/catalog/{v}/edit"),
    ("post", "/catalog/{v}/withdraw"), ("get", "/catalog/{v}/lines/new"), ("post", "/catalog/{v}/lines/new"),
    ("get", "/catalog/lines/{l}/edit"), ("post", "/catalog/lines/{l}/edit"), ("post", "/catalog/lines/{l}/withdraw"),
])
def test_institution_users_read_the_catalog_but_cannot_change_it(client, auth, users, version, session, role,
                                                                 method, path):
    auth.login_session(getattr(users, role))
    line = version.lines[0]
    assert version.name in client.get(f"/catalog/{version.id}").get_data(as_text=True)
    assert client.get(f"/catalog/lines/{line.id}").status_code == 200
    url = path.format(v=version.id, l=line.id)
    token = csrf_from(client.get("/catalog/"))
    data = {"csrf_token": token, "name": "改名", "code": "77", "mode": "V", "source_document": "x",
            "effective_from": "2030-01-01", "declared_line_count": "1", "reason": "x"}
    response = client.get(url) if method == "get" else client.post(url, data=data)
    assert response.status_code == 403  # as the API answers an institution user's write
    session.refresh(version)
    session.refresh(line)
    assert version.name == "测试目录甲" and version.withdrawn_at is None
    assert line.name != "改名" and line.withdrawn_at is None
    assert session.query(CatalogVersion).filter_by(name="改名").count() == 0
