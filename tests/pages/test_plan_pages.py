"""Plan pages: list with targets, a new plan and a new target through the services, errors beside the fields."""
from __future__ import annotations

import sqlalchemy as sa

from registry.extensions import db
from registry.indicators.models import Plan, PlanTarget
from tests.pages.support import field_errors, post_form


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_the_plans_page_lists_the_seeded_plan_and_its_targets(client, auth, users):
    auth.login_session(users.institution)
    page = client.get("/plans/").get_data(as_text=True)
    assert "2021–2025" in page and 'data-indicator="social_public_standards"' in page
    assert "/plans/new" not in page  # institution users read only


def test_a_regulator_adds_a_later_plan_and_a_city_target(client, auth, users):
    auth.login_session(users.regulator)
    response = post_form(client, "/plans/new", {"name": "2026–2030", "starts_on": "2026-01-01",
                                                "deadline": "2030-12-31", "source_document": "测试规划"})
    assert response.status_code == 302
    plan = db.session.scalar(sa.select(Plan).where(Plan.name == "2026–2030"))
    response = post_form(client, f"/plans/{plan.id}/targets/new", {
        "indicator_key": "social_public_standards", "region_code": "360100", "comparator": ">=", "target": "300"})
    assert response.status_code == 302
    target = db.session.scalar(sa.select(PlanTarget).where(PlanTarget.plan_id == plan.id))
    assert (target.indicator_key, target.region_code, int(target.target)) == ("social_public_standards", "360100", 300)


def test_bad_plans_and_targets_are_refused_beside_the_field(client, auth, users):
    auth.login_session(users.regulator)
    before = (_count(Plan), _count(PlanTarget))
    response = post_form(client, "/plans/new", {"name": "重叠", "starts_on": "2025-01-01", "deadline": "2027-12-31"})
    assert response.status_code == 422 and "2021–2025" in field_errors(response, "starts_on")
    plan = db.session.scalar(sa.select(Plan))
    response = post_form(client, f"/plans/{plan.id}/targets/new", {
        "indicator_key": "local_regulations", "region_code": "360100", "comparator": ">=", "target": "3"})
    assert response.status_code == 422 and "local_regulations" in field_errors(response, "region_code")
    assert (_count(Plan), _count(PlanTarget)) == before


def test_a_plan_whose_deadline_is_before_its_start_is_refused_beside_the_deadline(client, auth, users):
    auth.login_session(users.regulator)
    before = _count(Plan)
    response = post_form(client, "/plans/new", {"name": "倒置规划", "starts_on": "2040-01-01",
                                                "deadline": "2035-12-31"})
    assert response.status_code == 422 and field_errors(response, "deadline")
    assert _count(Plan) == before
