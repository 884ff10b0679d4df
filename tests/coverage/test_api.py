"""``/api/v1/coverage``: the same body as the service (and so the CLI), scoped by role."""
from __future__ import annotations

from datetime import date

from registry.coverage import services
from tests import factories
from tests.coverage.support import AS_OF


def _records(session, users):
    catalog = factories.catalog_version(effective_from=date(2021, 1, 1), declared_line_count=5)
    line = factories.catalog_line(catalog, code="A")
    factories.catalog_line(catalog, code="B")
    own = factories.standard(users.own, lines=[line], valid_until=date(2025, 8, 31))
    other = factories.standard(users.other_institution, valid_until=date(2025, 9, 30))
    session.commit()
    return own, other


def test_report_equals_the_service_and_the_cli(client, auth, users, session, runner):
    _records(session, users)
    response = client.get("/api/v1/coverage?as_of=2025-06-30&region=360100", headers=auth.token(users.regulator))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body == services.coverage_report(AS_OF, "360100").to_dict()
    coverage = next(i for i in body["indicators"] if i["key"] == "mandatory_item_coverage")
    assert (coverage["numerator"], coverage["denominator"]) == (1, 2)
    cli = runner.invoke(args=["coverage", "--region", "360100", "--as-of", "2025-06-30", "--json"])
    import json

    assert json.loads(cli.output) == body


def test_forecast_regions_and_gaps_match_the_service(client, auth, users, session):
    _records(session, users)
    headers = auth.token(users.admin)
    forecast = client.get("/api/v1/coverage/forecast?as_of=2025-06-30&months=4", headers=headers).get_json()
    assert forecast == services.coverage_forecast(AS_OF, None, 4).to_dict()
    table = client.get("/api/v1/coverage/regions?as_of=2025-06-30", headers=headers).get_json()
    assert table == services.coverage_by_region(AS_OF).to_dict()
    gaps = client.get("/api/v1/coverage/gaps?as_of=2025-06-30", headers=headers).get_json()
    # Without candidates=1 the gaps carry an empty candidates list (one documented shape for both).
    assert gaps == {**services.coverage_gaps(AS_OF).to_dict(), "candidates": [], "neighbours_confirmed": True}


def test_institution_user_sees_only_its_own_expiring_certificates(client, auth, users, session):
    own, other = _records(session, users)
    headers = auth.token(users.institution)
    body = client.get(f"/api/v1/coverage/expiring?as_of=2025-06-30&months=6&institution_id={users.other_institution.id}",
                      headers=headers).get_json()
    numbers = {item["certificate_no"] for item in body["items"]}
    assert numbers == {own.certificate_no}
    staff_body = client.get("/api/v1/coverage/expiring?as_of=2025-06-30&months=6",
                            headers=auth.token(users.regulator)).get_json()
    assert {own.certificate_no, other.certificate_no} <= {item["certificate_no"] for item in staff_body["items"]}
    assert client.get("/api/v1/coverage?as_of=2025-06-30", headers=headers).status_code == 403


def test_bad_arguments_are_problems(client, auth, users):
    headers = auth.token(users.regulator)
    for query in ("as_of=2025-13-01", "region=36", "region=999999"):
        response = client.get(f"/api/v1/coverage?{query}", headers=headers)
        assert response.mimetype == "application/problem+json", query
        assert response.status_code in (404, 422), (query, response.status_code)


def test_renewals_equal_the_service_and_an_institution_gets_its_own(client, auth, users, session):
    from registry.coverage.renewals import renewals

    own, other = _records(session, users)
    staff_body = client.get("/api/v1/coverage/renewals?as_of=2025-06-30&region=360100",
                            headers=auth.token(users.regulator)).get_json()
    assert staff_body == renewals(AS_OF, "360100").to_dict()
    assert [item["standard"]["certificate_no"] for item in staff_body["items"]] == [own.certificate_no,
                                                                                    other.certificate_no]
    assert staff_body["items"][0]["apply_by"] == "2025-02-28" and staff_body["items"][0]["overdue"] is True
    mine = client.get(f"/api/v1/coverage/renewals?as_of=2025-06-30&institution_id={users.other_institution.id}",
                      headers=auth.token(users.institution)).get_json()
    assert [item["standard"]["certificate_no"] for item in mine["items"]] == [own.certificate_no]
    bad = client.get("/api/v1/coverage/renewals?window=soon", headers=auth.token(users.regulator))
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"


def test_the_metrologist_follow_up_equals_the_service(client, auth, users, session):
    from registry.coverage.metrologists import metrologist_follow_up

    factories.person(users.own, registration_no="API-R1", registered_on=date(2023, 1, 1))
    factories.person(users.own)
    session.commit()
    body = client.get("/api/v1/coverage/metrologists?as_of=2025-06-30&sort=-share",
                      headers=auth.token(users.regulator)).get_json()
    assert body == metrologist_follow_up(AS_OF, sort="-share").to_dict()
    assert body["registered"] >= 1 and body["target"] == 0.6
    assert client.get("/api/v1/coverage/metrologists", headers=auth.token(users.institution)).status_code == 403
