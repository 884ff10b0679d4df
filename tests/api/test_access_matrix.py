"""Every endpoint × every role × own / other institution: the status, and nothing changed when refused.

Roles: admin, regulator, an institution user (whose institution is "own"),
and the anonymous caller.  Another institution's record is 404 for reads and
writes alike; a kind of record a role may not touch is 403; no credentials is 401.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from types import SimpleNamespace
from typing import Any, Callable

import pytest
import sqlalchemy as sa

from registry.auth.models import ApiToken
from registry.extensions import db
from registry.indicators.models import Indicator, Plan, PlanTarget, RecordedValue
from tests import factories
from tests.factories import PASSWORD

ROLES = ("admin", "regulator", "institution", "anonymous")
OK = {"GET": 200, "POST": 201, "PATCH": 200, "DELETE": 204}


def ok(method: str) -> Callable:
    return lambda role, scope: OK[method]


# Rules: role, scope -> expected status.
def public_read(role, scope):
    return 401 if role == "anonymous" else 200


def owned(success: int, refused_other: int = 404):
    def rule(role, scope):
        if role == "anonymous":
            return 401
        if role == "institution" and scope == "other":
            return refused_other
        return success
    return rule


def staff(success: int):
    return lambda role, scope: {"anonymous": 401, "institution": 403}.get(role, success)


def admin_only(success: int):
    return lambda role, scope: {"anonymous": 401, "regulator": 403, "institution": 403}.get(role, success)


def own_institution_staff_only(success: int):
    """Staff only; an institution user is refused on their own institution and told nothing of another."""
    def rule(role, scope):
        if role == "anonymous":
            return 401
        if role == "institution":
            return 403 if scope == "own" else 404
        return success
    return rule


def applicant_only(success: int):
    """The institution's own step: regulators are refused (403), another institution is told nothing (404)."""
    def rule(role, scope):
        if role == "anonymous":
            return 401
        if role == "institution":
            return success if scope == "own" else 404
        return 403
    return rule


def any_user(success: int):
    return lambda role, scope: 401 if role == "anonymous" else success


@dataclass
class Case:
    method: str
    path: str
    rule: Callable
    body: Any = None
    scoped: bool = False
    if_match: bool = False


def _standard_body(w, scope):
    return {"certificate_no": "[2025]赣量标证字第9001号", "name": "矩阵标准", "category": "social_public",
            "institution_id": w.institution[scope], "issued_on": "2025-01-01"}


CASES = [
    # Institutions
    Case("GET", "/api/v1/institutions", public_read),
    Case("POST", "/api/v1/institutions", staff(201), body=lambda w, s: {
        "credit_code": factories.credit_code(), "name": "矩阵机构", "region_code": "360100", "kind": "other"}),
    Case("GET", "/api/v1/institutions/{institution}", owned(200), scoped=True),
    Case("PATCH", "/api/v1/institutions/{institution}", owned(200), body={"contact": "联系人"}, scoped=True,
         if_match=True),
    Case("PATCH", "/api/v1/institutions/{institution}", own_institution_staff_only(200), body={"name": "改名"},
         scoped=True, if_match=True),
    Case("POST", "/api/v1/institutions/{institution}/withdraw", own_institution_staff_only(200),
         body={"reason": "矩阵"}, scoped=True, if_match=True),
    Case("GET", "/api/v1/institutions/{institution}/history", owned(200), scoped=True),
    # Standards
    Case("GET", "/api/v1/standards", public_read),
    Case("POST", "/api/v1/standards", owned(201, 422), body=_standard_body, scoped=True),
    Case("GET", "/api/v1/standards/{standard}", owned(200), scoped=True),
    Case("PATCH", "/api/v1/standards/{standard}", owned(200), body={"name": "改名"}, scoped=True, if_match=True),
    Case("POST", "/api/v1/standards/{standard}/withdraw", owned(200), body={"reason": "矩阵"}, scoped=True,
         if_match=True),
    Case("GET", "/api/v1/standards/{standard}/history", owned(200), scoped=True),
    # Personnel
    Case("GET", "/api/v1/personnel", public_read),
    Case("POST", "/api/v1/personnel", owned(201, 422), scoped=True,
         body=lambda w, s: {"name": "矩阵人员", "institution_id": w.institution[s]}),
    Case("GET", "/api/v1/personnel/{person}", owned(200), scoped=True),
    Case("PATCH", "/api/v1/personnel/{person}", owned(200), body={"name": "改名"}, scoped=True, if_match=True),
    Case("POST", "/api/v1/personnel/{person}/withdraw", owned(200), body={"reason": "矩阵"}, scoped=True,
         if_match=True),
    Case("GET", "/api/v1/personnel/{person}/history", owned(200), scoped=True),
    # Catalog
    Case("GET", "/api/v1/catalog/versions", public_read),
    Case("POST", "/api/v1/catalog/versions", staff(201), body={
        "name": "矩阵目录", "source_document": "x", "effective_from": "2020-01-01", "declared_line_count": 1}),
    Case("GET", "/api/v1/catalog/versions/{version}", public_read),
    Case("PATCH", "/api/v1/catalog/versions/{version}", staff(200), body={"description": "x"}, if_match=True),
    Case("POST", "/api/v1/catalog/versions/{version}/withdraw", staff(200), body={"reason": "矩阵"},
         if_match=True),
    Case("GET", "/api/v1/catalog/versions/{version}/history", public_read),
    Case("POST", "/api/v1/catalog/versions/{version}/lines", staff(201), body={"code": "M1", "name": "x",
                                                                            "mode": "V"}),
    Case("GET", "/api/v1/catalog/lines", public_read),
    Case("GET", "/api/v1/catalog/lines/{line}", public_read),
    Case("PATCH", "/api/v1/catalog/lines/{line}", staff(200), body={"scope_note": "x"}, if_match=True),
    Case("POST", "/api/v1/catalog/lines/{line}/withdraw", staff(200), body={"reason": "矩阵"}, if_match=True),
    Case("GET", "/api/v1/catalog/lines/{line}/history", public_read),
    # Regulations
    Case("GET", "/api/v1/regulations", public_read),
    Case("POST", "/api/v1/regulations", staff(201), body={"code": "JJG(赣) 9001-2025", "title": "矩阵规程"}),
    Case("GET", "/api/v1/regulations/{regulation}", public_read),
    Case("PATCH", "/api/v1/regulations/{regulation}", staff(200), body={"title": "改名"}, if_match=True),
    Case("POST", "/api/v1/regulations/{regulation}/withdraw", staff(200), body={"reason": "矩阵"}, if_match=True),
    Case("GET", "/api/v1/regulations/{regulation}/history", public_read),
    # Indicators and recorded values
    Case("GET", "/api/v1/indicators", public_read),
    Case("POST", "/api/v1/indicators", staff(201), body={
        "key": "matrix_new", "name": "x", "name_en": "x", "kind": "count", "source": "recorded"}),
    Case("GET", "/api/v1/indicators/{indicator}", public_read),
    Case("PATCH", "/api/v1/indicators/{indicator}", staff(200), body={"description": "x"}, if_match=True),
    Case("POST", "/api/v1/indicators/{indicator}/withdraw", staff(200), body={"reason": "矩阵"}, if_match=True),
    Case("GET", "/api/v1/indicators/{indicator}/history", public_read),
    Case("GET", "/api/v1/plans", public_read),
    Case("POST", "/api/v1/plans", staff(201), body={"name": "矩阵规划", "starts_on": "2041-01-01",
                                                   "deadline": "2045-12-31"}),
    Case("GET", "/api/v1/plans/{plan}", public_read),
    Case("PATCH", "/api/v1/plans/{plan}", staff(200), body={"description": "x"}, if_match=True),
    Case("POST", "/api/v1/plans/{plan}/withdraw", staff(200), body={"reason": "矩阵"}, if_match=True),
    Case("GET", "/api/v1/plans/{plan}/history", public_read),
    Case("GET", "/api/v1/targets", public_read),
    Case("POST", "/api/v1/targets", staff(201), body=lambda w, s: {
        "plan_id": w.plan, "indicator_key": "matrix_recorded", "region_code": "360100", "comparator": ">=",
        "target": "2"}),
    Case("GET", "/api/v1/targets/{target}", public_read),
    Case("PATCH", "/api/v1/targets/{target}", staff(200), body={"target": "3"}, if_match=True),
    Case("POST", "/api/v1/targets/{target}/withdraw", staff(200), body={"reason": "矩阵"}, if_match=True),
    Case("GET", "/api/v1/targets/{target}/history", public_read),
    Case("GET", "/api/v1/recorded-values", public_read),
    Case("POST", "/api/v1/recorded-values", staff(201), body={
        "indicator_key": "matrix_recorded", "region_code": "360000", "as_of": "2025-01-01", "value": 3,
        "source": "x"}),
    Case("GET", "/api/v1/recorded-values/{value}", public_read),
    Case("PATCH", "/api/v1/recorded-values/{value}", staff(200), body={"note": "x"}, if_match=True),
    Case("POST", "/api/v1/recorded-values/{value}/withdraw", staff(200), body={"reason": "矩阵"}, if_match=True),
    Case("GET", "/api/v1/recorded-values/{value}/history", public_read),
    # Reference data and the audit trail
    Case("GET", "/api/v1/regions", public_read),
    Case("GET", "/api/v1/regions/360100", public_read),
    Case("GET", "/api/v1/disciplines", public_read),
    Case("GET", "/api/v1/disciplines/04", public_read),
    Case("GET", "/api/v1/audit", staff(200)),
    # Coverage: province-wide figures for staff; an institution user reads only its own expiring list
    Case("GET", "/api/v1/coverage?as_of=2025-06-30", staff(200)),
    Case("GET", "/api/v1/coverage/regions", staff(200)),
    Case("GET", "/api/v1/coverage/gaps?region=360100", staff(200)),
    Case("GET", "/api/v1/coverage/gaps?region=360100&candidates=1", staff(200)),
    Case("GET", "/api/v1/coverage/single-points?months=6", staff(200)),
    Case("GET", "/api/v1/coverage/forecast?months=3", staff(200)),
    Case("GET", "/api/v1/coverage/expiring?months=12", any_user(200)),
    Case("GET", "/api/v1/coverage/renewals?window=expired", any_user(200)),
    Case("GET", "/api/v1/coverage/metrologists?region=360100", staff(200)),
    # Applications (issue 16): a draft "change" of each institution ({application}) and a submitted one
    # ({submitted}); steps are the applicant's or a regulator's (state rules: tests/applications)
    Case("GET", "/api/v1/applications", any_user(200)),
    Case("POST", "/api/v1/applications", owned(201, 422), scoped=True, body=lambda w, s: {
        "kind": "sealing", "standard_id": w.standard[s], "proposal": {"effective_on": "2025-01-01"}}),
    Case("GET", "/api/v1/applications/{application}", owned(200), scoped=True),
    Case("PATCH", "/api/v1/applications/{application}", applicant_only(200), body={"title": "矩阵"}, scoped=True,
         if_match=True),
    Case("POST", "/api/v1/applications/{application}/submit", applicant_only(200), body={"comment": "矩阵"},
         scoped=True, if_match=True),
    Case("POST", "/api/v1/applications/{application}/withdraw", applicant_only(200), body={"comment": "矩阵"},
         scoped=True, if_match=True),
    Case("POST", "/api/v1/applications/{submitted}/accept", own_institution_staff_only(200),
         body={"comment": "矩阵"}, scoped=True, if_match=True),
    Case("POST", "/api/v1/applications/{submitted}/return", own_institution_staff_only(200),
         body={"comment": "矩阵"}, scoped=True, if_match=True),
    Case("GET", "/api/v1/applications/{application}/events", owned(200), scoped=True),
    Case("GET", "/api/v1/applications/{application}/documents", owned(200), scoped=True),
    Case("GET", "/api/v1/examiners", staff(200)),
    Case("POST", "/api/v1/examiners", staff(201), body={"name": "矩阵考评员"}),
    Case("GET", "/api/v1/examiners/{examiner}", staff(200)),
    Case("PATCH", "/api/v1/examiners/{examiner}", staff(200), body={"active": False}, if_match=True),
    # Accounts
    Case("GET", "/api/v1/users", admin_only(200)),
    Case("POST", "/api/v1/users", admin_only(201), body={"email": "matrix@example.org", "role": "regulator",
                                                        "password": "a long matrix passphrase"}),
    Case("GET", "/api/v1/users/{user}", admin_only(200)),
    Case("PATCH", "/api/v1/users/{user}", admin_only(200), body={"display_name": "x"}, if_match=True),
    Case("POST", "/api/v1/users/{user}/password", admin_only(204),
         body={"new_password": "a long matrix passphrase"}),
    Case("GET", "/api/v1/users/{user}/history", admin_only(200)),
    Case("POST", "/api/v1/auth/tokens", lambda role, scope: 201, body=lambda w, s: {
        "email": w.token_owner, "password": PASSWORD}),
    Case("GET", "/api/v1/auth/tokens", any_user(200)),
    Case("DELETE", "/api/v1/auth/tokens/{token}", any_user(204)),
    Case("GET", "/api/v1/auth/me", any_user(200)),
    Case("POST", "/api/v1/auth/password", any_user(204), body={
        "current_password": PASSWORD, "new_password": "a long matrix passphrase"}),
    Case("DELETE", "/api/v1/auth/sessions", any_user(204)),
]


def _params():
    for case in CASES:
        for scope in (("own", "other") if case.scoped else (None,)):
            for role in ROLES:
                label = f"{case.method} {case.path} {role}" + (f" {scope}" if scope else "")
                if case.body and isinstance(case.body, dict) and case.path.endswith("{institution}"):
                    label += " " + ",".join(case.body)
                yield pytest.param(case, role, scope, id=label)


@pytest.fixture
def world(users, session):
    """One record of each kind, owned by "own" or "other" where records have owners."""
    version = factories.catalog_version()
    db.session.add(Indicator(key="matrix_recorded", name="矩阵", name_en="Matrix", kind="count",
                             source="recorded"))
    plan = Plan(name="矩阵世界规划", starts_on=date(2036, 1, 1), deadline=date(2040, 12, 31))
    db.session.add(plan)
    db.session.flush()
    target = PlanTarget(plan_id=plan.id, indicator_key="matrix_recorded", region_code="360000", comparator=">=",
                        target=1)
    db.session.add(target)
    db.session.flush()
    value = RecordedValue(indicator_key="matrix_recorded", region_code="360000",
                          as_of=date(2024, 12, 31), value=1, source="x")
    db.session.add(value)
    from registry.applications.models import Application, Examiner
    from registry.database.base import utcnow

    # Built as rows at version 1 (the matrix sends If-Match "1"); their steps are tested in tests/applications.
    drafts, submitted = {}, {}
    for scope, holder in (("own", users.own), ("other", users.other_institution)):
        for found, state in ((drafts, "draft"), (submitted, "submitted")):
            found[scope] = Application(kind="change", state=state, institution_id=holder.id,
                                       standard_id=factories.standard(holder).id, filed_by="institution",
                                       proposal={"description": "矩阵变更"},
                                       submitted_at=utcnow() if state == "submitted" else None)
            db.session.add(found[scope])
    db.session.flush()
    examiner = Examiner(name="矩阵考评员甲", disciplines=[], active=True)
    db.session.add(examiner)
    db.session.flush()
    w = SimpleNamespace(
        application={k: v.id for k, v in drafts.items()}, submitted={k: v.id for k, v in submitted.items()},
        examiner=examiner.id,
        institution={"own": users.own.id, "other": users.other_institution.id},
        standard={"own": factories.standard(users.own).id, "other": factories.standard(users.other_institution).id},
        person={"own": factories.person(users.own).id, "other": factories.person(users.other_institution).id},
        version=version.id, line=factories.catalog_line(version).id, regulation=factories.regulation().id,
        indicator="matrix_recorded", plan=plan.id, target=target.id, user=users.other.id, token_owner=users.regulator.email,
    )
    db.session.flush()
    w.value = value.id
    session.commit()
    return w


def _snapshot() -> dict[str, list]:
    """Every row of every table but the tokens (using a token records its last use)."""
    tables = {}
    with db.session.no_autoflush:
        for table in db.metadata.sorted_tables:
            if table.name == "api_tokens":
                continue
            rows = db.session.execute(sa.select(table)).all()
            tables[table.name] = sorted(repr(tuple(row)) for row in rows)
    return tables


@pytest.fixture(scope="module")
def declared(app):
    """``declared(method, path)``: the status codes the OpenAPI document declares for that request."""
    import re

    spec = app.test_client().get("/api/openapi.json").get_json()
    templates = [(re.compile(re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(path)) + "$"), item)
                 for path, item in spec["paths"].items()]

    def codes(method: str, path: str) -> set[str]:
        path = path.split("?")[0]
        (item,) = [item for pattern, item in templates if pattern.match(path)]
        return set(item[method.lower()]["responses"])

    return codes


@pytest.mark.parametrize("case, role, scope", list(_params()))
def test_access(client, auth, users, world, session, case, role, scope, declared):
    user = None if role == "anonymous" else getattr(users, role)
    headers = auth.headers(user)
    values = {name: (getattr(world, name)[scope or "own"] if isinstance(getattr(world, name), dict) else getattr(world, name))
              for name in ("institution", "standard", "person", "version", "line", "regulation", "indicator",
                           "value", "user", "plan", "target", "application", "submitted", "examiner")}
    values["token"] = 1
    if user is not None:
        values["token"] = session.scalars(sa.select(ApiToken.id).where(ApiToken.user_id == user.id)
                                          .order_by(ApiToken.id.desc())).first()
    path = case.path.format(**values)
    if case.if_match:
        headers["If-Match"] = '"1"'
    body = case.body(world, scope) if callable(case.body) else case.body
    before = _snapshot()

    response = client.open(path, method=case.method, headers=headers, json=body)

    expected = case.rule(role, scope)
    assert response.status_code == expected, response.get_data(as_text=True)
    assert str(expected) in declared(case.method, path), "the OpenAPI document does not declare this answer"
    if expected >= 400:
        assert response.mimetype == "application/problem+json"
        session.expire_all()
        assert _snapshot() == before, "a refused request changed the database"


# --- Refused whatever the input ------------------------------------------------------------------
#
# Permission comes before validation: a caller refused an operation (403; 404 for another institution's
# record; 401 without credentials) gets the same answer with a body or query no schema would take.  A
# caller who may make the call gets a 400 or 422 for the same input, so each input is truly invalid.

REFUSALS = (401, 403, 404)
# Where the fields a body names decide (an institution user may change only contact and phone of their
# institution), only bodies that name fields can be refused before they are read.
FIELDS_DECIDE = {("PATCH", "/api/v1/institutions/{institution}", ("name",))}


def _invalid_bodies(case: Case, body: dict) -> list[tuple[str, Any]]:
    """Bodies no schema takes: JSON text, or a dict sent as JSON."""
    variants = [("an unknown field", {**body, "colour": "red"}),
                ("every field a list", {name: [] for name in body})]
    if (case.method, case.path, tuple(body)) not in FIELDS_DECIDE:
        variants += [("not JSON", "{not json"), ("nested 100,000 deep", "[" * 100_000)]
    return variants


INVALID_QUERIES = [
    Case("GET", "/api/v1/coverage?as_of=2025-13-01", staff(200)),
    Case("GET", "/api/v1/coverage/regions?as_of=9999-12-31", staff(200)),
    Case("GET", "/api/v1/coverage/gaps?region=abc", staff(200)),
    Case("GET", "/api/v1/coverage/gaps?candidates=maybe", staff(200)),
    Case("GET", "/api/v1/coverage/single-points?months=0", staff(200)),
    Case("GET", "/api/v1/coverage/forecast?as_of=9999-12-31", staff(200)),
    Case("GET", "/api/v1/audit?since=yesterday", staff(200)),
    Case("GET", "/api/v1/users?page=0", admin_only(200)),
    Case("GET", "/api/v1/users/{user}/history?page=99999999999999999999", admin_only(200)),
    Case("GET", "/api/v1/institutions/{institution}/history?page=0", owned(200), scoped=True),
    Case("GET", "/api/v1/standards/{standard}/history?page=0", owned(200), scoped=True),
    Case("GET", "/api/v1/personnel/{person}/history?page_size=0", owned(200), scoped=True),
]


def _invalid_params():
    for case in [c for c in CASES if c.body is not None] + INVALID_QUERIES:
        for scope in (("own", "other") if case.scoped else (None,)):
            for role in ROLES:
                label = f"{case.method} {case.path} {role}" + (f" {scope}" if scope else "")
                if isinstance(case.body, dict) and case.path.endswith("{institution}"):
                    label += " " + ",".join(case.body)
                yield pytest.param(case, role, scope, id=label)


@pytest.mark.parametrize("case, role, scope", list(_invalid_params()))
def test_a_refusal_does_not_depend_on_the_input(client, auth, users, world, session, case, role, scope, declared):
    user = None if role == "anonymous" else getattr(users, role)
    values = {name: value[scope or "own"] if isinstance(value, dict) else value
              for name, value in vars(world).items()}
    path = case.path.format(**values)
    body = case.body(world, scope) if callable(case.body) else case.body
    expected = case.rule(role, scope)
    inputs = _invalid_bodies(case, body) if body is not None else [("an invalid query", None)]
    before = _snapshot()
    for what, data in inputs:
        headers = {**auth.headers(user), "If-Match": '"1"'}
        if isinstance(data, str):
            response = client.open(path, method=case.method, headers=headers, data=data,
                                   content_type="application/json")
        else:
            response = client.open(path, method=case.method, headers=headers, json=data)
        answer = response.get_data(as_text=True)
        if expected in REFUSALS:
            assert response.status_code == expected, f"{what}: {answer}"
        else:
            assert response.status_code in (400, 422), f"{what} was taken: {answer}"
        assert response.mimetype == "application/problem+json", what
        assert str(response.status_code) in declared(case.method, path), f"{what}: undeclared in the document"
    session.expire_all()
    assert _snapshot() == before, "an invalid request changed the database"


def test_every_write_operation_asks_the_policy_before_reading_its_input(app):
    """Each API write (and each read with its own rule) is declared with ``@allowed``, above its arguments."""
    # One's own account, and imports (whose rows the import checks one by one; a retry reads no input and
    # its service checks the run's starter), are open to every user.
    open_to_every_user = {"auth.issue_token", "auth.change_own_password", "auth.revoke_token_view",
                          "auth.end_all_sessions", "imports.create_import", "imports.retry_import"}
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint in open_to_every_user:
            continue
        view = app.view_functions[rule.endpoint]
        for method in rule.methods - {"GET", "HEAD", "OPTIONS"}:
            function = getattr(view.view_class, method.lower()) if hasattr(view, "view_class") else view
            if getattr(function, "permission", None) is None:
                missing.append(f"{method} {rule.rule}")
    assert not missing, missing
