"""The API's side of issues 12.1 and 12.2: undated statuses stay undated; every standard says its validity."""
from __future__ import annotations

from datetime import date

from tests import factories


def test_a_status_without_its_date_is_stored_without_one(client, auth, users, session):
    headers = auth.token(users.regulator)
    created = client.post("/api/v1/standards", headers=headers, json={
        "certificate_no": "[2024]赣量标证字第77号", "name": "封存登记装置", "category": "social_public",
        "institution_id": users.own.id, "issued_on": "2024-03-01", "status": "sealed"})
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["status"] == "sealed" and body["status_since"] is None and body["validity"] == "sealed"
    url = f"/api/v1/standards/{body['id']}"

    dated = client.patch(url, headers={**headers, "If-Match": '"1"'}, json={"status_since": "2024-09-01"})
    assert dated.get_json()["status_since"] == "2024-09-01"
    # A new status without a date: the sealing's date does not carry over, and today's is not made up.
    revoked = client.patch(url, headers={**headers, "If-Match": '"2"'}, json={"status": "revoked"})
    assert revoked.status_code == 200
    assert revoked.get_json()["status_since"] is None and revoked.get_json()["validity"] == "revoked"
    listed = client.get("/api/v1/standards", headers=headers, query_string={"status_undated": "true"}).get_json()
    assert [item["id"] for item in listed] == [body["id"]]
    assert client.get("/api/v1/standards", headers=headers,
                      query_string={"status_undated": "false", "institution_id": users.own.id}).get_json() == []


def test_validity_field_and_filter(client, auth, users, session):
    today = date.today()
    factories.standard(users.own, name="撤销到二九年", status="revoked", status_since=date(2025, 1, 1),
                       issued_on=date(2024, 1, 1), valid_until=date(2099, 12, 31))
    factories.standard(users.own, name="未来才生效", issued_on=date(today.year + 1, 1, 1),
                       valid_until=date(today.year + 5, 1, 1))
    session.commit()
    headers = auth.token(users.institution)
    items = {item["name"]: item["validity"] for item in client.get("/api/v1/standards", headers=headers).get_json()}
    assert items == {"撤销到二九年": "revoked", "未来才生效": "not_yet_valid"}
    found = client.get("/api/v1/standards", headers=headers,
                       query_string={"validity": "valid", "validity_on": "2024-06-30"}).get_json()
    assert [item["name"] for item in found] == ["撤销到二九年"]
    bad = client.get("/api/v1/standards", headers=headers, query_string={"validity": "good"})
    assert bad.status_code == 422 and "validity" in bad.get_json()["errors"]
