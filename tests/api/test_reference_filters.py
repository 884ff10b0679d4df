"""List filters the pages added to the API's own query arguments: both doors answer the same."""
from __future__ import annotations

from datetime import date, timedelta

from tests import factories


def test_personnel_filter_by_registration_level_and_status(client, users, auth, session):
    today = date.today()
    recent = today - timedelta(days=10)
    valid = factories.person(users.own, registration_no="API-V", registration_level="1", registered_on=recent,
                             registration_valid_until=today + timedelta(days=999))
    expiring = factories.person(users.own, registration_no="API-E", registration_level="2", registered_on=recent,
                                registration_valid_until=today + timedelta(days=9))
    expired = factories.person(users.own, registration_no="API-X", registration_level="2",
                               registered_on=date(2010, 1, 1), registration_valid_until=date(2015, 1, 1))
    session.commit()
    headers = auth.headers(users.regulator)

    def ids(**args):
        response = client.get("/api/v1/personnel", query_string={"institution_id": users.own.id, **args},
                              headers=headers)
        assert response.status_code == 200, response.get_json()
        return {p["id"] for p in response.get_json()}

    assert ids(registration_level="2") == {expiring.id, expired.id}
    assert ids(registration_status="valid") == {valid.id, expiring.id}
    assert ids(registration_status="expiring") == {expiring.id}
    assert ids(registration_status="expired") == {expired.id}
    bad = client.get("/api/v1/personnel", query_string={"registration_status": "soon"}, headers=headers)
    assert bad.status_code == 422


def test_catalog_lines_filter_by_mandatory(client, users, auth, session):
    version = factories.catalog_version()
    p, v, pv = (factories.catalog_line(version, mode=mode) for mode in ("P", "V", "P+V"))
    session.commit()
    headers = auth.headers(users.institution)

    def ids(**args):
        response = client.get("/api/v1/catalog/lines", query_string={"catalog_version_id": version.id, **args},
                              headers=headers)
        assert response.status_code == 200, response.get_json()
        return {line["id"] for line in response.get_json()}

    assert ids(mandatory="true") == {v.id, pv.id}
    assert ids(mandatory="false") == {p.id}


def test_regulation_search_folds_full_width_brackets_and_dashes(client, users, auth, session):
    reg = factories.regulation(code="JJG(赣) 7788-2019", number="7788", year=2019)
    session.commit()
    response = client.get("/api/v1/regulations", query_string={"q": "JJG（赣）7788—2019"},
                          headers=auth.headers(users.institution))
    assert [r["id"] for r in response.get_json()] == [reg.id]
