"""The registries through the API: create, read, list, change, withdraw, history."""
from __future__ import annotations

import json
from datetime import date

from tests import factories


def test_standard_lifecycle_with_etags_and_history(client, auth, users, session):
    headers = auth.token(users.institution)
    line = factories.catalog_line(factories.catalog_version())
    session.commit()
    created = client.post("/api/v1/standards", headers=headers, json={
        "certificate_no": "〔2024〕赣量标证字第 7 号", "name": "水表检定装置", "code": "04113803",
        "category": "social_public", "institution_id": users.own.id, "issued_on": "2024-03-01",
        "range_text": "(0.01~80) m³/h", "catalog_line_ids": [line.id]})
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["certificate_no"] == "[2024]赣量标证字第7号" and body["valid_until"] == "2028-02-29"
    assert body["catalog_line_ids"] == [line.id] and body["range_upper"] == 80.0
    assert created.headers["ETag"] == '"1"'
    url = f"/api/v1/standards/{body['id']}"

    read = client.get(url, headers=headers)
    assert read.get_json() == body and read.headers["ETag"] == '"1"'

    changed = client.patch(url, headers={**headers, "If-Match": '"1"'}, json={"status": "sealed",
                                                                               "status_since": "2025-06-01"})
    assert changed.status_code == 200 and changed.headers["ETag"] == '"2"'
    assert changed.get_json()["status"] == "sealed"

    withdrawn = client.post(url + "/withdraw", headers={**headers, "If-Match": '"2"'}, json={"reason": "重复登记"})
    assert withdrawn.status_code == 200 and withdrawn.get_json()["withdrawn_reason"] == "重复登记"
    assert client.get("/api/v1/standards", headers=headers).get_json() == []
    listed = client.get("/api/v1/standards?include_withdrawn=true", headers=headers).get_json()
    assert [s["id"] for s in listed] == [body["id"]]
    assert client.get(url, headers=headers).status_code == 200  # still readable by id

    history = client.get(url + "/history", headers=headers).get_json()
    assert [e["action"] for e in history] == ["create", "update", "withdraw"]
    assert history[1]["before"] == {"status": "in_use", "status_since": None}
    assert history[0]["actor_label"] == users.institution.email and history[0]["request_id"]


def test_lists_page_in_sql_with_pagination_and_link_headers(client, auth, users, session):
    for n in range(5):
        factories.standard(users.own, name=f"分页标准{n}")
    session.commit()
    headers = auth.token(users.regulator)
    response = client.get(f"/api/v1/standards?institution_id={users.own.id}&page=2&page_size=2&sort=name",
                          headers=headers)
    assert response.status_code == 200
    assert [s["name"] for s in response.get_json()] == ["分页标准2", "分页标准3"]
    meta = json.loads(response.headers["X-Pagination"])
    assert meta == {"total": 5, "total_pages": 3, "first_page": 1, "last_page": 3, "page": 2,
                    "previous_page": 1, "next_page": 3}
    links = response.headers["Link"]
    for rel, page in (("first", 1), ("prev", 1), ("next", 3), ("last", 3)):
        assert f'page={page}&page_size=2>; rel="{rel}"' in links
    assert f"institution_id={users.own.id}" in links and "sort=name" in links


def test_page_size_is_capped_by_configuration(client, auth, users, session, app, monkeypatch):
    for _ in range(3):
        factories.standard(users.own)
    session.commit()
    monkeypatch.setitem(app.config, "API_PAGE_SIZE_MAX", 2)
    response = client.get(f"/api/v1/standards?institution_id={users.own.id}&page_size=50",
                          headers=auth.token(users.regulator))
    assert len(response.get_json()) == 2 and json.loads(response.headers["X-Pagination"])["total_pages"] == 2


def test_standard_filters(client, auth, users, session):
    version = factories.catalog_version()
    line, other_line = factories.catalog_line(version), factories.catalog_line(version)
    jiujiang = factories.institution(region_code="360400")
    a = factories.standard(users.own, lines=[line], valid_until=date(2026, 3, 1), name="甲 温度标准")
    b = factories.standard(jiujiang, lines=[other_line], category="enterprise_highest", status="sealed")
    c = factories.standard(users.own, discipline_code="12", certificate_no="[2019]赣量标证字第424242号")
    session.commit()
    headers = auth.token(users.regulator)

    def ids(query: str) -> list[int]:
        response = client.get("/api/v1/standards?page_size=200&" + query, headers=headers)
        assert response.status_code == 200, response.get_json()
        return sorted(s["id"] for s in response.get_json() if s["id"] in (a.id, b.id, c.id))

    assert ids("region=360400") == [b.id]
    assert ids("region=360000") == sorted([a.id, b.id, c.id])
    assert ids(f"institution_id={users.own.id}") == sorted([a.id, c.id])
    assert ids("category=enterprise_highest") == [b.id]
    assert ids("status=sealed") == [b.id]
    assert ids("discipline=12") == [c.id]
    assert ids("expiring_before=2026-06-01") == [a.id]
    assert ids(f"covers_line={line.id}") == [a.id]
    assert ids("q=温度") == [a.id]
    assert ids("q=424242") == [c.id]
    assert ids("q=100%25") == []  # % is searched for, not a wildcard


def test_institution_user_sees_only_their_own(client, auth, users, session):
    mine = factories.standard(users.own)
    theirs = factories.standard(users.other_institution)
    session.commit()
    headers = auth.token(users.institution)
    listed = [s["id"] for s in client.get("/api/v1/standards?page_size=200", headers=headers).get_json()]
    assert mine.id in listed and theirs.id not in listed
    institutions = client.get("/api/v1/institutions", headers=headers).get_json()
    assert [i["id"] for i in institutions] == [users.own.id]
    assert client.get(f"/api/v1/standards/{theirs.id}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/standards/{theirs.id}/history", headers=headers).status_code == 404


def test_person_id_number_is_write_only(client, auth, users):
    headers = auth.token(users.institution)
    response = client.post("/api/v1/personnel", headers=headers, json={
        "name": "张三", "institution_id": users.own.id, "id_number": "11010519491231002X"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["id_number_mask"] == "11**************2X"
    assert "id_number" not in body and "id_number_hash" not in body
    history = client.get(f"/api/v1/personnel/{body['id']}/history", headers=headers).get_json()
    assert "id_number_hash" not in history[0]["after"]


def test_catalog_indicators_and_recorded_values(client, auth, users):
    headers = auth.token(users.regulator)
    version = client.post("/api/v1/catalog/versions", headers=headers, json={
        "name": "测试目录API", "source_document": "公告", "effective_from": "2020-01-01",
        "declared_line_count": 62}).get_json()
    line = client.post(f"/api/v1/catalog/versions/{version['id']}/lines", headers=headers,
                       json={"code": "1", "name": "体温计", "mode": "p + v"})
    assert line.status_code == 201 and line.get_json()["mode"] == "P+V" and line.get_json()["is_mandatory"]
    lines = client.get(f"/api/v1/catalog/lines?catalog_version_id={version['id']}", headers=headers).get_json()
    assert [x["code"] for x in lines] == ["1"]

    indicator = client.post("/api/v1/indicators", headers=headers, json={
        "key": "api_test_units", "name": "测试", "name_en": "Test", "kind": "count", "source": "recorded"})
    assert indicator.status_code == 201 and "target" not in indicator.get_json()
    plan = client.post("/api/v1/plans", headers=headers, json={
        "name": "2026–2030", "source_document": "测试文件", "starts_on": "2026-01-01", "deadline": "2030-12-31"})
    assert plan.status_code == 201, plan.get_json()
    target = client.post("/api/v1/targets", headers=headers, json={
        "plan_id": plan.get_json()["id"], "indicator_key": "api_test_units", "comparator": ">=", "target": "5000"})
    assert target.status_code == 201 and target.get_json()["target"] == "5000.0000"
    assert target.get_json()["region_code"] == "360000"  # the province unless a city is named
    value = client.post("/api/v1/recorded-values", headers=headers, json={
        "indicator_key": "api_test_units", "region_code": "360000", "as_of": "2025-06-30", "value": 1234,
        "source": "年报"})
    assert value.status_code == 201 and value.headers["ETag"] == '"1"'
    corrected = client.patch(f"/api/v1/recorded-values/{value.get_json()['id']}",
                             headers={**headers, "If-Match": '"1"'}, json={"value": "1240.5"})
    assert corrected.status_code == 200 and corrected.get_json()["value"] == "1240.5000"
    assert corrected.headers["ETag"] == '"2"'


def test_reference_data_is_read_only(client, auth, users):
    headers = auth.token(users.institution)
    cities = client.get("/api/v1/regions?parent=360000&page_size=50", headers=headers).get_json()
    assert len(cities) == 11
    assert client.get("/api/v1/regions/360100", headers=headers).get_json()["name"] == "南昌市"
    assert client.get("/api/v1/disciplines/04", headers=headers).get_json()["name_en"] == "Thermal"
    assert client.post("/api/v1/regions", headers=headers, json={}).status_code == 405


def test_audit_trail_filters(client, auth, users):
    headers = auth.token(users.regulator)
    created = client.post("/api/v1/regulations", headers=headers, json={"code": "JJG（赣）901—2024",
                                                                       "title": "审计过滤"}).get_json()
    response = client.get(f"/api/v1/audit?entity_type=regulations&entity_id={created['id']}", headers=headers)
    [event] = response.get_json()
    assert event["action"] == "create" and event["after"]["code"] == "JJG(赣) 901-2024"
    by_actor = client.get(f"/api/v1/audit?actor_id={users.regulator.id}", headers=headers).get_json()
    assert {e["entity_id"] for e in by_actor} == {str(created["id"])}
    assert client.get("/api/v1/audit?since=2999-01-01T00:00:00Z", headers=headers).get_json() == []
