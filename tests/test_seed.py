"""Reference data and the demo province."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from registry.catalog.models import CatalogLine, CatalogVersion
from registry.records.codes import normalize_certificate_no, normalize_credit_code
from registry.indicators.models import Indicator, Plan
from registry.institutions.models import Institution
from registry.personnel.models import Person
from registry.reference.models import Discipline, ReferenceDataset, Region
from registry.seed.demo import load_demo_data
from registry.seed.reference import load_reference_data
from registry.standards.models import MeasurementStandard


def test_reference_data_is_loaded_once_and_idempotent(app, session):
    assert session.scalar(sa.select(sa.func.count()).select_from(Region).where(Region.level == "city")) == 11
    assert session.get(Region, "360100").parent_code == "360000"
    assert {d.code for d in session.scalars(sa.select(Discipline).where(Discipline.kind == "discipline"))} == {
        "01", "04", "12", "15", "23", "25", "28", "33", "37", "46"}
    assert session.get(ReferenceDataset, "regions").version
    again = load_reference_data(plan_start=app.config["PLAN_START_DATE"])
    assert set(again.values()) == {0}


def test_shipped_catalog_is_marked_partial_and_holds_only_confirmed_lines(session):
    version = session.scalar(sa.select(CatalogVersion).where(CatalogVersion.is_partial.is_(True)))
    lines = list(session.scalars(sa.select(CatalogLine).where(CatalogLine.catalog_version_id == version.id)))
    assert version.declared_line_count == 62 and len(lines) == 18
    assert "部分" in version.description and "Partial" in version.description
    assert "尺" not in {line.name for line in lines}  # nothing from the superseded 1987 catalog
    charging = next(line for line in lines if line.name == "电动汽车充电桩")
    assert str(charging.effective_from) == "2023-01-01"


def test_every_target_from_the_plan_is_seeded(session):
    indicators = {i.key: i for i in session.scalars(sa.select(Indicator))}
    assert len(indicators) == 13
    (plan,) = session.scalars(sa.select(Plan)).all()
    assert (plan.name, plan.starts_on, plan.deadline) == ("2021–2025", date(2021, 1, 1), date(2025, 12, 31))
    targets = {t.indicator_key: t for t in plan.targets}
    assert set(targets) == set(indicators) and {t.region_code for t in plan.targets} == {"360000"}
    assert float(targets["mandatory_item_coverage"].target) == 0.9
    assert float(targets["registered_metrologist_share"].target) == 0.6
    assert int(targets["social_public_standards"].target) == 1800
    pilots = targets["carbon_pilots"]
    assert (pilots.comparator, int(pilots.target), int(pilots.target_max)) == ("between", 3, 5)


def _demo_fingerprint(session) -> tuple:
    return (
        tuple(session.execute(sa.select(Institution.credit_code, Institution.name).order_by(Institution.id)).all()),
        tuple(session.execute(sa.select(MeasurementStandard.certificate_no, MeasurementStandard.valid_until)
                              .order_by(MeasurementStandard.id)).all()),
    )


def test_demo_province_is_deterministic_valid_and_labelled(session):
    nested = session.begin_nested()
    counts = load_demo_data(institutions_per_city=3, standards_per_institution=2)
    first = _demo_fingerprint(session)
    nested.rollback()
    nested = session.begin_nested()
    assert load_demo_data(institutions_per_city=3, standards_per_institution=2) == counts
    assert _demo_fingerprint(session) == first

    institutions = list(session.scalars(sa.select(Institution)))
    assert len(institutions) == 33 and all(i.is_demo and "演示" in i.name for i in institutions)
    assert all(normalize_credit_code(i.credit_code) == i.credit_code for i in institutions)
    standards = list(session.scalars(sa.select(MeasurementStandard)))
    assert all(s.is_demo and "演示" in s.certificate_no for s in standards)
    assert all(normalize_certificate_no(s.certificate_no) == s.certificate_no for s in standards)
    assert all(s.valid_until >= s.issued_on for s in standards)
    assert len({s.valid_until.year for s in standards}) >= 3  # a spread of expiry dates
    people = list(session.scalars(sa.select(Person)))
    assert all("演示" in p.name for p in people)
    nested.rollback()


def test_front_page_shows_the_demo_banner_when_demo_data_is_loaded(client, session):
    nested = session.begin_nested()
    load_demo_data(institutions_per_city=1, standards_per_institution=1)
    body = client.get("/").get_data(as_text=True)
    assert "demo-banner" in body and "演示数据 · DEMO" in body
    nested.rollback()


def test_demo_accounts_get_random_passwords_once_and_can_sign_in(session):
    from registry.auth.services import authenticate
    from registry.seed.demo import create_demo_accounts

    load_demo_data(institutions_per_city=3, standards_per_institution=2)
    first = create_demo_accounts()
    assert set(first) == {"admin@demo.invalid", "regulator@demo.invalid", "institution@demo.invalid"}
    assert len(set(first.values())) == 3 and all(len(p) >= 12 for p in first.values())
    user = authenticate("institution@demo.invalid", first["institution@demo.invalid"], remote_addr=None)
    assert user.role == "institution" and user.institution.is_demo
    assert create_demo_accounts() == {}  # a second seed leaves the accounts (and their passwords) alone


def test_city_adjacency_is_loaded_once_and_marked_unconfirmed(session):
    import sqlalchemy as sa

    from registry.reference.models import RegionAdjacency
    from registry.seed.reference import CITY_ADJACENCY, load_reference_data

    rows = session.execute(sa.select(RegionAdjacency)).scalars().all()
    assert {(r.region_code, r.neighbour_code) for r in rows} == set(CITY_ADJACENCY)
    assert len(rows) == 20 and not any(r.confirmed for r in rows)
    # Every city has a neighbour, and the relation is read both ways by the candidates.
    cities = {code for pair in CITY_ADJACENCY for code in pair}
    assert len(cities) == 11
    assert load_reference_data(plan_start=__import__("datetime").date(2021, 1, 1))["region_adjacency"] == 0
