"""Errors are RFC 9457 problems under /api and pages elsewhere; nothing internal leaks."""
from __future__ import annotations

import logging

import sqlalchemy as sa

from registry.extensions import db
from registry.indicators.models import Plan
from tests import factories


def _is_problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["title"] and body["type"]
    assert body["instance"] == response.request.path
    assert body["request_id"] == response.headers["X-Request-ID"]
    return body


def test_validation_errors_name_each_field(client, auth, users):
    response = client.post("/api/v1/institutions", headers=auth.token(users.regulator),
                           json={"credit_code": "91350100M000100Y44", "name": "", "region_code": "999999",
                                 "kind": "other"})
    body = _is_problem(response, 422)
    assert set(body["errors"]) == {"credit_code", "name", "region_code"}
    assert "第18位应为 3" in body["errors"]["credit_code"][0]  # Chinese unless the client asks for English


def test_unknown_fields_are_rejected_not_ignored(client, auth, users):
    response = client.post("/api/v1/institutions", headers=auth.token(users.regulator),
                           json={"credit_code": factories.credit_code(), "name": "x", "region_code": "360100",
                                 "kind": "other", "owner": "me"})
    body = _is_problem(response, 422)
    assert list(body["errors"]) == ["owner"]


def test_schema_type_errors_are_field_errors(client, auth, users):
    headers = auth.token(users.regulator)
    body = _is_problem(client.get("/api/v1/standards?expiring_before=soon&sort=-secret", headers=headers), 422)
    assert set(body["errors"]) == {"expiring_before", "sort"}
    assert "page_size" in _is_problem(client.get("/api/v1/standards?page_size=0", headers=headers), 422)["errors"]


def test_page_size_above_the_cap_is_refused(client, auth, users, app):
    cap = app.config["API_PAGE_SIZE_MAX"]
    response = client.get(f"/api/v1/regions?page_size={cap + 1}", headers=auth.token(users.regulator))
    assert "page_size" in _is_problem(response, 422)["errors"]


def test_not_found_method_not_allowed_and_unauthenticated(client, auth, users):
    headers = auth.token(users.regulator)
    assert _is_problem(client.get("/api/v1/standards/999999", headers=headers), 404)["detail"]
    assert _is_problem(client.get("/api/v1/no-such-thing", headers=headers), 404)
    response = client.delete("/api/v1/standards", headers=headers)
    _is_problem(response, 405)
    assert "GET" in response.headers["Allow"]
    response = client.get("/api/v1/standards")
    _is_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    _is_problem(client.get("/api/v1/standards", headers={"Authorization": "Bearer nonsense"}), 401)


def test_forbidden_is_a_problem(client, auth, users):
    body = _is_problem(client.get("/api/v1/audit", headers=auth.token(users.institution)), 403)
    assert body["detail"] == "仅监管人员和管理员可查看审计记录"
    english = client.get("/api/v1/audit", headers={**auth.token(users.institution), "Accept-Language": "en"})
    assert _is_problem(english, 403)["detail"] == "the audit trail is for regulators and admins"


def test_request_too_large_is_413(client, auth, users, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1000)
    response = client.post("/api/v1/regulations", headers=auth.token(users.regulator),
                           json={"code": "JJG 1-2020", "title": "x" * 5000})
    _is_problem(response, 413)


def test_unexpected_error_is_500_with_an_id_and_no_internals(client, caplog):
    with caplog.at_level(logging.ERROR):
        response = client.get("/api/_test/boom")
    body = _is_problem(response, 500)
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and "SELECT" not in text and "RuntimeError" not in text
    assert body["error_id"] == body["request_id"] and body["request_id"] in body["detail"]
    logged = [r for r in caplog.records if body["request_id"] in r.getMessage()]
    assert logged and logged[0].exc_info is not None


def test_pages_get_an_html_error_page(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert "404" in response.get_data(as_text=True)
    response = client.get("/_test/boom")
    assert response.status_code == 500 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert response.headers["X-Request-ID"] in page and "SELECT" not in page


def test_stale_and_missing_if_match(client, auth, users, session):
    headers = auth.token(users.regulator)
    regulation = factories.regulation()
    session.commit()
    missing = client.patch(f"/api/v1/regulations/{regulation.id}", headers=headers, json={"title": "新"})
    assert _is_problem(missing, 428)["type"] != "about:blank"
    stale = client.patch(f"/api/v1/regulations/{regulation.id}", headers={**headers, "If-Match": '"99"'},
                         json={"title": "新"})
    _is_problem(stale, 412)
    weak = client.patch(f"/api/v1/regulations/{regulation.id}", headers={**headers, "If-Match": 'W/"1"'},
                        json={"title": "新"})
    _is_problem(weak, 412)


def test_values_the_database_cannot_hold_are_not_server_errors(client, auth, users):
    headers = auth.token(users.regulator)
    assert client.get("/api/v1/indicators/%00", headers=headers).status_code in (404, 422)
    response = client.get("/api/v1/standards/99999999999", headers=headers)
    assert response.status_code == 404  # beyond the id range: no lookup at all
    response = client.get("/api/v1/standards?q=a%00b", headers=headers)
    assert _is_problem(response, 422)["errors"]
    plan = db.session.scalar(sa.select(Plan.id))
    response = client.post("/api/v1/targets", headers=headers, json={
        "plan_id": plan, "indicator_key": "integrity_units", "region_code": "360100",
        "comparator": ">=", "target": "1e30"})
    assert "target" in _is_problem(response, 422)["errors"]
