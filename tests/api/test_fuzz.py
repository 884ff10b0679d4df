"""Schema-driven fuzzing: schemathesis sends what the OpenAPI document allows (and what it does not).

No answer may be a server error or break its own documented schema.  The suite
runs a few examples per operation (``FUZZ_MAX_EXAMPLES``, 8 by default);
``make fuzz`` runs many more.
"""
from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "8"))
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]
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
        except Exception as exc:  # noqa: BLE001 (collect every operation's failure, then report)
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert tried > 50
    assert not failures, "\n\n".join(failures)
