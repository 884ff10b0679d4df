"""Every list, in the API and in the pages, runs the same number of SQL statements for one row or two hundred.

The API lists are found in the OpenAPI document (every GET taking ``page_size``),
so a new list is checked without touching this file; a new page route fails
:func:`test_every_page_route_is_classified` until it is put in :data:`PAGES`
(as a list, with its URL, or in :data:`NOT_LISTS`).
"""
from __future__ import annotations

import re
from datetime import date
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from registry.extensions import db
from registry.imports.models import ImportRun
from tests import factories
from tests.statements import counted

ROWS = 30  # more than the smallest page of every list, fewer than the largest
CITIES = ("360100", "360200", "360300", "360400", "360500", "360600", "360700", "360800", "360900", "361000",
          "361100")
ROLES = ("admin", "institution")


@pytest.fixture
def data(session, users):
    """``ROWS`` records of every kind, each row with related records of its own (so lazy loads would show).

    The institution user's institution (``users.own``) holds ``ROWS`` standards and staff and started
    ``ROWS`` import runs; each history has ``ROWS`` events by different actors.  Built in a few flushes.
    """
    from datetime import datetime, timedelta, timezone

    from registry.audit.models import AuditEvent
    from registry.audit.services import event_values, snapshot
    from registry.auth.models import ApiToken, User
    from registry.catalog.models import CatalogLine, CatalogVersion
    from registry.indicators.models import Indicator, Plan, PlanTarget, RecordedValue
    from registry.institutions.models import Institution
    from registry.personnel.models import Person
    from registry.regulations.models import Regulation
    from registry.standards.models import MeasurementStandard

    n = next(factories._serial)
    disciplines = session.scalars(sa.text("SELECT code FROM disciplines ORDER BY code")).all()
    indicator_keys = session.scalars(sa.text("SELECT key FROM indicators ORDER BY key")).all()
    versions = [CatalogVersion(name=f"目录{n}-{i}", source_document="test", effective_from=date(2021, 1, 1),
                               declared_line_count=ROWS) for i in range(ROWS)]
    catalog = versions[0]
    lines = [CatalogLine(catalog_version=catalog, code=f"L{n}-{i}", name=f"器具{n}-{i}", mode="V")
             for i in range(ROWS)]
    lines += [CatalogLine(catalog_version=version, code=f"M{n}", name=f"器具{n}", mode="V") for version in versions[1:]]
    regulations = [Regulation(code=f"JJG(赣) {n}{i:02d}-2024", series="JJG", province="赣", number=f"{n}{i:02d}",
                              year=2024, title=f"规程{n}-{i}", kind="verification_regulation", level="local",
                              status="published", published_on=date(2024, 1, 1)) for i in range(ROWS)]
    holders = [Institution(credit_code=factories.credit_code(CITIES[i % 11]), name=f"机构{n}-{i}",
                           region_code=CITIES[i % 11], kind="legal_metrology") for i in range(ROWS)]
    session.add_all([*versions, *lines, *regulations, *holders])
    session.flush()
    accounts = [User(email=f"holder{n}-{i}@example.org", role="institution", institution_id=holder.id,
                     password_hash="x", active=True, session_epoch=0) for i, holder in enumerate(holders)]
    standards = []
    for i in range(ROWS):
        for holder in (users.own, holders[i]):
            standards.append(MeasurementStandard(
                certificate_no=f"[2021]赣量标测证字第{n}{i:02d}{holder.id}号", name=f"标准{n}-{i}",
                category="social_public", institution_id=holder.id, issued_on=date(2021, 1, 1),
                valid_until=date(2025, 7, 1 + i % 28), status="in_use", discipline_code=disciplines[i % len(disciplines)],
                catalog_lines=[lines[i]], regulations=[regulations[i]]))
    people = [Person(name=f"人员{n}-{i}", institution_id=holder.id, employed_from=date(2020, 1, 1),
                     registration_no=f"R{n}-{i}-{holder.id}", registered_on=date(2023, 1, 1))
              for i in range(ROWS) for holder in (users.own, holders[i])]
    session.add_all([*accounts, *standards, *people])
    session.flush()
    # Each standard was sealed for a while: its validity reads its ended status periods (one statement a list).
    from registry.standards.models import StandardStatusPeriod
    for standard in standards:
        standard.has_status_periods = True
    session.add_all([StandardStatusPeriod(standard_id=standard.id, status="sealed", started_on=date(2021, 3, 1),
                                          ended_on=date(2021, 6, 1)) for standard in standards])
    session.flush()
    values = [RecordedValue(indicator_key=indicator_keys[i % len(indicator_keys)], region_code=CITIES[i % 11],
                            as_of=date(2024, 1, 1 + i % 28), value=i, source=f"来源{i}", recorded_by_id=accounts[i].id)
              for i in range(ROWS)]
    now = datetime.now(timezone.utc)
    tokens = [ApiToken(user_id=account.id, name=f"script {i}", token_hash=f"{n:08d}{account.id:08d}{i:048d}",
                       session_epoch=0, created_at=now, expires_at=now + timedelta(hours=1))
              for account in (users.admin, users.institution) for i in range(ROWS)]
    runs = [ImportRun(actor_id=actor.id, actor_label=actor.email, filename=f"book{i}.xlsx", status="applied",
                      rows_total=1, rows_done=1) for i in range(ROWS) for actor in (users.institution, accounts[i])]
    plans = [Plan(name=f"规划{n}-{i}", starts_on=date(2100 + 2 * i, 1, 1), deadline=date(2101 + 2 * i, 12, 31))
             for i in range(ROWS)]
    session.add_all([*values, *tokens, *runs, *plans])
    session.flush()
    plan_targets = [PlanTarget(plan_id=plan.id, indicator_key=indicator_keys[0], region_code="360000", comparator=">=",
                               target=i) for i, plan in enumerate(plans)]
    session.add_all(plan_targets)
    session.flush()
    # Applications: ROWS of users.own's and one of each other institution, each with examiners, events
    # and documents of its own (application_examiners, the timeline, the document list).
    from registry.applications.models import Application, ApplicationDocument, ApplicationEvent, Examiner

    examiners = [Examiner(name=f"考评员{n}-{i}", certificate_no=f"E{n}-{i}", disciplines=["04"], active=True)
                 for i in range(ROWS)]
    applications = [Application(kind="reexamination", state="submitted", institution_id=holder.id,
                                standard_id=standard.id, filed_by="institution", proposal={}, applicant_id=None,
                                submitted_at=now - timedelta(days=i), examiners=[examiners[i % ROWS]])
                    for i, (holder, standard) in enumerate(
                        [(users.own, standards[2 * i]) for i in range(ROWS)]
                        + [(holders[i], standards[2 * i + 1]) for i in range(ROWS)])]
    session.add_all([*examiners, *applications])
    session.flush()
    first = applications[0]
    session.add_all([ApplicationEvent(application_id=first.id, action="submit", from_state="draft",
                                      to_state="submitted", actor_id=accounts[i].id, actor_label=accounts[i].email,
                                      comment=f"第{i}次", at=now) for i in range(ROWS)])
    session.add_all([ApplicationDocument(application_id=first.id, kind="other", version_no=i + 1,
                                         original_name=f"材料{i}.pdf", content_type="application/pdf", size=10,
                                         sha256="0" * 64, storage_key=f"applications/{first.id}/{n}-{i}",
                                         uploaded_by_id=accounts[i].id, uploaded_at=now) for i in range(ROWS)])
    session.flush()
    targets = {"standard": standards[0], "institution": users.own, "application": first, "person": people[0], "regulation": regulations[0],
               "version": catalog, "line": lines[0], "indicator": session.get(Indicator, indicator_keys[0]),
               "value": values[0], "user": users.institution, "plan": plans[0], "target": plan_targets[0]}
    session.add_all([AuditEvent(**event_values("update", obj.__tablename__, sa.inspect(obj).identity[0],
                                               actor=accounts[i], after=snapshot(obj), note=f"change {i}"))
                     for obj in targets.values() for i in range(ROWS)])
    session.commit()
    return SimpleNamespace(catalog=catalog, ids={name: sa.inspect(obj).identity[0] for name, obj in targets.items()})


def _count(client, url: str, headers=None) -> tuple[int, object]:
    db.session.expunge_all()  # nothing the test built may spare a request its queries
    with counted() as statements:
        response = client.get(url, headers=headers or {})
    assert response.status_code == 200, (url, response.status_code, response.get_data(as_text=True)[:300])
    return len(statements), response


# --- The API -------------------------------------------------------------------

# The record a ``{name}`` in a list's path stands for, as its key in ``data.ids``.
PATH_PARAMETERS = {"standard_id": "standard", "institution_id": "institution", "person_id": "person",
                   "regulation_id": "regulation", "version_id": "version", "line_id": "line", "key": "indicator",
                   "value_id": "value", "user_id": "user", "plan_id": "plan", "target_id": "target",
                   "application_id": "application"}
# Lists that hold one row for an institution user (their own institution): nothing to compare there.
ONE_ROW_FOR_INSTITUTIONS = {"/api/v1/institutions"}


def _api_lists() -> list[str]:
    """Every API path whose GET takes ``page_size``, read from the OpenAPI document of a throwaway app."""
    import config
    from registry import create_app

    app = create_app(config.TestingConfig())
    with app.app_context():
        from registry.api.core import api

        paths = api.spec.to_dict()["paths"]
    return sorted(path for path, operations in paths.items()
                  if any(p.get("name") == "page_size" for p in operations.get("get", {}).get("parameters", [])))


API_LISTS = _api_lists()


def test_the_api_lists_are_found():
    assert "/api/v1/standards" in API_LISTS and "/api/v1/standards/{standard_id}/history" in API_LISTS
    assert len(API_LISTS) >= 20, API_LISTS


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path", API_LISTS)
def test_an_api_list_makes_a_fixed_number_of_queries(client, auth, users, data, path, role):
    names = re.findall(r"\{([a-z_]+)\}", path)
    missing = [name for name in names if name not in PATH_PARAMETERS]
    assert not missing, f"{path}: add {missing} to PATH_PARAMETERS (which record to list)"
    url = path
    for name in names:
        url = url.replace("{" + name + "}", str(data.ids[PATH_PARAMETERS[name]]))
    headers = auth.token(getattr(users, role))
    warm = client.get(f"{url}?page_size=1", headers=headers)  # whatever a process caches, cached
    if role == "institution" and warm.status_code in (403, 404):
        pytest.skip("refused to institution users")  # the access matrix tests check that
    one, _ = _count(client, f"{url}?page_size=1", headers)
    many, response = _count(client, f"{url}?page_size=200", headers)
    if role == "institution" and path in ONE_ROW_FOR_INSTITUTIONS:
        assert len(response.get_json()) == 1, url
    else:
        assert len(response.get_json()) > 10, f"{url}: the test data should fill the list"
    assert one == many, f"{url} as {role}: {one} statements for one row, {many} for {len(response.get_json())}"


# Coverage lists paged by limit/offset (not page_size), so not found above.
LIMIT_LISTS = ["/api/v1/coverage/renewals?as_of=2025-06-30",
               "/api/v1/coverage/renewals?as_of=2025-06-30&window=expired",
               "/api/v1/coverage/expiring?as_of=2025-06-30&months=12"]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url", LIMIT_LISTS)
def test_a_coverage_list_makes_a_fixed_number_of_queries(client, auth, users, data, url, role):
    from datetime import date as day

    from tests import factories as f

    f.standard(users.own, issued_on=day(2020, 1, 1), valid_until=day(2025, 1, 1))  # expired, still in use
    f.standard(users.own, issued_on=day(2020, 1, 1), valid_until=day(2025, 2, 1))
    db.session.commit()
    headers = auth.token(getattr(users, role))
    client.get(f"{url}&limit=1", headers=headers)
    one, _ = _count(client, f"{url}&limit=1", headers)
    many, response = _count(client, f"{url}&limit=200", headers)
    assert len(response.get_json()["items"]) > 1, url
    assert one == many, f"{url} as {role}: {one} statements for one row, {many} for many"


# --- The pages -----------------------------------------------------------------

# Every GET page route: a list (the URL showing it, and whether institution users see it) ...
PAGES = {
    "/standards/": ("/standards/", True),
    "/institutions/": ("/institutions/", False),
    "/personnel/": ("/personnel/", True),
    "/catalog/": ("/catalog/", True),
    "/catalog/<id:version_id>": ("/catalog/{version}", True),
    "/regulations/": ("/regulations/", True),
    "/imports": ("/imports", True),
    "/admin/users": ("/admin/users", False),
    "/dashboard/expiring": ("/dashboard/expiring?as_of=2025-06-30", True),
    "/public/": ("/public/?q=测试", True),
    "/public/regulations": ("/public/regulations?q=JJG", True),
    "/plans/": ("/plans/", True),
    "/applications/": ("/applications/?group=waiting", True),
    "/applications/queue": ("/applications/queue", False),
    "/applications/examiners": ("/applications/examiners", False),
}
# ... or not a list (one record, a form, a file, a report with its own query-count test).
NOT_LISTS = {
    "/", "/healthz", "/login", "/account/password", "/lang/<code>", "/dashboard", "/home", "/api/docs",
    "/api/openapi.json", "/static/<path:filename>", "/plans/new", "/plans/<id:plan_id>/targets/new",
    "/standards/<id:standard_id>", "/standards/new", "/standards/<id:standard_id>/edit",
    "/standards/<id:standard_id>/withdraw",
    "/institutions/<id:institution_id>", "/institutions/new", "/institutions/<id:institution_id>/edit",
    "/institutions/<id:institution_id>/withdraw",
    "/personnel/<id:person_id>", "/personnel/new", "/personnel/<id:person_id>/edit",
    "/personnel/<id:person_id>/withdraw",
    "/regulations/<id:regulation_id>", "/regulations/new", "/regulations/<id:regulation_id>/edit",
    "/regulations/<id:regulation_id>/withdraw",
    "/catalog/new", "/catalog/<id:version_id>/edit", "/catalog/<id:version_id>/withdraw",
    "/catalog/lines/<id:line_id>", "/catalog/lines/<id:line_id>/edit", "/catalog/lines/<id:line_id>/withdraw",
    "/catalog/<id:version_id>/lines/new",
    "/imports/<int:run_id>", "/imports/<int:run_id>/errors.xlsx", "/exports/<dataset>.xlsx",
    "/admin/users/new", "/admin/users/<int:user_id>",
    "/inbox", "/admin/reminders",  # their own query-count test (tests/reminders/test_pages.py)
    "/inbox/settings",
    "/dashboard/report.xlsx",  # a file: the report's workbook
    # every legal metrology institution on one page, one grouped query (tests/dashboard/test_metrologists_page.py)
    "/dashboard/metrologists",
    "/public/s/<public_id>", "/public/s/<public_id>/qr.<any(png, svg):kind>",  # one standard's public page
    "/applications/new", "/applications/<id:application_id>", "/applications/<id:application_id>/details",
    "/applications/<id:application_id>/documents", "/applications/<id:application_id>/documents/<id:document_id>",
    "/applications/export.xlsx", "/applications/examiners/new", "/applications/examiners/<id:examiner_id>/edit",
    "/catalog/suggest", "/regulations/suggest",  # a picker's ten suggestions at most (tests/pages/test_pickers.py)
}


def test_every_page_route_is_classified(app):
    routes = {rule.rule for rule in app.url_map.iter_rules()
              if "GET" in rule.methods and not rule.rule.startswith(("/api/v1/", "/_test/", "/api/_test/"))}
    unclassified = routes - set(PAGES) - NOT_LISTS
    assert not unclassified, f"new page routes: add each to PAGES (a list) or NOT_LISTS: {sorted(unclassified)}"
    assert not (set(PAGES) | NOT_LISTS) - routes, "routes that no longer exist"


def _rows(html: str) -> int:
    return len(re.findall(r"<tr\b", html))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", sorted(PAGES))
def test_a_list_page_makes_a_fixed_number_of_queries(client, auth, users, data, route, role):
    url, institution_sees = PAGES[route]
    if role == "institution" and not institution_sees:
        pytest.skip("staff only")
    url = url.format(version=data.catalog.id)
    if not url.startswith("/public"):
        auth.login_session(getattr(users, role))
    join = "&" if "?" in url else "?"
    client.get(f"{url}{join}page_size=25")
    small, response_small = _count(client, f"{url}{join}page_size=25")
    large, response_large = _count(client, f"{url}{join}page_size=100")
    shown_small, shown_large = _rows(response_small.get_data(as_text=True)), _rows(response_large.get_data(as_text=True))
    assert shown_large > shown_small, f"{url}: the test data should fill more than one small page"
    assert small == large, f"{url} as {role}: {small} statements for {shown_small} rows, {large} for {shown_large}"
