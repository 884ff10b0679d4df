"""Schema-driven fuzzing: schemathesis sends what the OpenAPI document allows (and what it does not).

No answer may be a server error or break its own documented schema.  The suite
runs a few examples per operation (``FUZZ_MAX_EXAMPLES``, 8 by default);
``make fuzz`` runs many more.
"""
from __future__ import annotations

import json
import os
from datetime import date

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from registry.audit.models import AuditEvent  # noqa: E402

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "8"))
# The document declares no catch-all ``default`` response, so status_code_conformance holds each answer to the
# codes its operation declares; response_headers_conformance checks ETag, X-Pagination, Location, Retry-After.
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance,
          response_headers_conformance]
# Operations that only end the fuzzing account's own sessions.
SELF_ENDING = {("DELETE", "/api/v1/auth/sessions"), ("POST", "/api/v1/auth/password")}


def test_every_operation_answers_within_its_schema(app, auth, users, session):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    failures, tried = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SELF_ENDING:
            continue
        tried += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def fuzz(case):
            headers = auth.token(users.admin)  # a fresh one: an example may revoke or end the last
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            fuzz()
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 (collect every operation's failure, then report)
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert tried > 50
    assert not failures, "\n\n".join(failures)


# --- Explicit examples: near-valid input that once answered 500 ---------------------------------
#
# The generator keeps mostly to what the document allows, so it seldom tries these.  Each is sent to
# every operation that takes the argument (found in the document, so a new list is covered too) and
# must be refused with the argument named, as a problem, within the documented responses.

DEEP_JSON = "[" * 100_000


@pytest.fixture
def records(users, session):
    """A record of each kind, for the operations whose path names one."""
    from registry.indicators.models import Indicator, Plan, PlanTarget, RecordedValue
    from tests import factories

    version = factories.catalog_version()
    session.add(Indicator(key="fuzz_recorded", name="模糊", name_en="Fuzz", kind="count", source="recorded"))
    plan = Plan(name="模糊规划", starts_on=date(2031, 1, 1), deadline=date(2035, 12, 31))
    session.add(plan)
    session.flush()
    target = PlanTarget(plan_id=plan.id, indicator_key="fuzz_recorded", region_code="360000", comparator=">=",
                        target=1)
    session.add(target)
    session.flush()
    value = RecordedValue(indicator_key="fuzz_recorded", region_code="360000", as_of=date(2024, 12, 31), value=1,
                          source="x")
    session.add(value)
    session.flush()
    path = {"institution_id": users.own.id, "standard_id": factories.standard(users.own).id,
            "person_id": factories.person(users.own).id, "version_id": version.id,
            "line_id": factories.catalog_line(version).id, "regulation_id": factories.regulation().id,
            "key": "fuzz_recorded", "value_id": value.id, "user_id": users.other.id,
            "plan_id": plan.id, "target_id": target.id}
    from registry.applications.models import Application, ApplicationDocument, Examiner

    # Filed by a regulator (a sealing), so the admin these tests call as may take the applicant's steps too.
    application = Application(kind="sealing", state="draft", institution_id=users.own.id, filed_by="regulator",
                              standard_id=path["standard_id"], proposal={"effective_on": "2025-01-01"})
    examiner = Examiner(name="模糊考评员", disciplines=[], active=True)
    session.add_all([application, examiner])
    session.flush()
    document = ApplicationDocument(application_id=application.id, kind="other", original_name="x.pdf",
                                   content_type="application/pdf", size=1, sha256="0" * 64,
                                   storage_key=f"applications/{application.id}/fuzz")
    session.add(document)
    session.flush()
    path.update(application_id=application.id, examiner_id=examiner.id, document_id=document.id)
    session.commit()
    return path


def _operations(app, *, query: str | None = None, json_body: bool = False) -> list[tuple[str, str]]:
    """``(method, path)`` of every documented operation taking the query argument ``query``, or a JSON body."""
    spec = app.test_client().get("/api/openapi.json").get_json()
    found = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict):
                continue
            names = {p.get("name") for p in operation.get("parameters", []) if p.get("in") == "query"}
            body = "application/json" in operation.get("requestBody", {}).get("content", {})
            if (query and query in names) or (json_body and body):
                found.append((method.upper(), path))
    return found


@pytest.mark.parametrize("name, value, least", [
    ("as_of", "9999-12-31", 6), ("as_of", "3000-01-01", 6), ("as_of", "0001-01-01", 6),
    ("page", "99999999999999999999", 20), ("page", str(2**63), 20), ("page", str(2**31), 20), ("page", "0", 20),
    ("since", "0001-01-01T00:00:00+01:00", 1), ("until", "9999-12-31T23:59:59-10:00", 1),  # UTC is off the calendar
])
def test_every_operation_refuses_an_argument_out_of_range_naming_it(app, auth, users, records, name, value, least):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    operations = _operations(app, query=name)
    assert len(operations) >= least, operations
    failures = []
    for method, path in operations:
        case = schema[path][method].Case(path_parameters={k: v for k, v in records.items() if f"{{{k}}}" in path},
                                         query={name: value})
        response = case.call(headers=auth.token(users.admin))
        try:
            case.validate_response(response, checks=CHECKS)
            assert response.status_code == 422, response.text
            assert response.headers["content-type"] == ["application/problem+json"]
            assert name in response.json()["errors"], response.text
        except Exception as exc:  # noqa: BLE001 (report every operation)
            failures.append(f"{method} {path}?{name}={value}: {exc}")
    assert not failures, "\n\n".join(failures)


def test_every_json_body_nested_too_deeply_is_a_400_problem(app, client, auth, users, records):
    operations = _operations(app, json_body=True)
    assert len(operations) > 25, operations
    failures = []
    for method, path in operations:
        headers = {**auth.token(users.admin), "If-Match": '"1"', "Content-Type": "application/json"}
        response = client.open(path.format(**records), method=method, headers=headers, data=DEEP_JSON)
        body = response.get_json()
        if (response.status_code, response.mimetype) != (400, "application/problem+json") or "body" not in body.get(
                "errors", {}):
            failures.append(f"{method} {path}: {response.status_code} {body}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("depth, status, field", [(32, 422, "colour"), (33, 400, "body"), (1000, 400, "body")])
def test_a_body_may_nest_32_levels(client, auth, users, depth, status, field):
    """The object is one level and each list in it another: 32 reach the schema (which refuses the field), 33 not."""
    lists = "[" * (depth - 1) + "]" * (depth - 1)
    data = '{"code": "JJG(赣) 9100-2026", "title": "嵌套", "colour": ' + lists + "}"
    response = client.post("/api/v1/regulations", data=data,
                           headers={**auth.token(users.admin), "Content-Type": "application/json"})
    assert response.status_code == status, response.get_json()
    assert list(response.get_json()["errors"]) == [field]


# The examples the attack found, each as it was sent.
@pytest.mark.parametrize("method, url, body, status, field", [
    ("GET", "/api/v1/coverage/single-points?as_of=9999-12-31", None, 422, "as_of"),
    ("GET", "/api/v1/coverage/forecast?as_of=9999-12-31", None, 422, "as_of"),
    ("GET", "/api/v1/coverage/expiring?as_of=9999-12-31", None, 422, "as_of"),
    ("GET", "/api/v1/standards?page=99999999999999999999", None, 422, "page"),
    ("GET", "/api/v1/audit?page=99999999999999999999&page_size=200", None, 422, "page"),
    ("POST", "/api/v1/regulations", DEEP_JSON, 400, "body"),
    ("POST", "/api/v1/auth/tokens", DEEP_JSON, 400, "body"),
    ("POST", "/api/v1/standards", {"certificate_no": "[2026]赣量标证字第9101号", "name": "远期", "category": "social_public",
                                   "institution_id": "{institution_id}", "issued_on": "9999-06-01"}, 422, "issued_on"),
    ("POST", "/api/v1/personnel", {"name": "远期", "institution_id": "{institution_id}", "registration_no": "远期-1",
                                   "registered_on": "9999-06-01"}, 422, "registered_on"),
    ("POST", "/api/v1/recorded-values", {"indicator_key": "fuzz_recorded", "region_code": "360000",
                                         "as_of": "0001-01-01", "value": 1, "source": "x"}, 422, "as_of"),
])
def test_near_valid_input_is_refused_with_the_field_named(client, auth, users, records, session, method, url, body,
                                                          status, field):
    headers = auth.token(users.admin)
    if isinstance(body, dict):
        body = json.dumps({k: records["institution_id"] if v == "{institution_id}" else v for k, v in body.items()})
    before = session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    response = client.open(url, method=method, headers={**headers, "Content-Type": "application/json"}, data=body)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert field in response.get_json()["errors"]
    assert "Traceback" not in response.get_data(as_text=True)
    assert session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == before  # nothing written
