"""The dashboard and the institution home make the same number of SQL statements whatever the data size."""
from __future__ import annotations

from datetime import date

import pytest

from registry.extensions import db
from tests import factories
from tests.dashboard.conftest import AS_OF
from tests.statements import counted

CITIES = ("360100", "360200", "360300", "360400", "360500", "360600", "360700", "360800", "360900", "361000",
          "361100")
# Generous but fixed: the dashboard calls six coverage services, each a handful of aggregate queries
# (about 55 statements in all, counting the login and layout ones; a city about 76 with the undated
# statuses per city and each city's counted lines).  The apply-by counts (renewals) read the catalog in
# force and the lines at risk of the first certificate: two more than the expiring count did.  The gaps' candidates: about 6 more.
BOUND = 92


def _grow(lines, per_city: int) -> None:
    """Add ``per_city`` institutions in every city, each with standards of every shape and staff."""
    for city in CITIES:
        for _ in range(per_city):
            holder = factories.institution(region_code=city)
            factories.standard(holder, lines=[lines[0]], valid_until=date(2029, 12, 31))
            factories.standard(holder, lines=[lines[1]], valid_until=date(2025, 9, 30))  # a single point
            factories.standard(holder, lines=[lines[0], lines[1]], category="enterprise_highest")
            factories.standard(holder, is_carbon=True, build_kind="new", built_on=date(2024, 3, 1))
            factories.person(holder, registration_no=f"R{holder.id}", registered_on=date(2023, 1, 1))
            factories.person(holder)
    db.session.commit()


def _render(client, url: str) -> int:
    client.get(url)  # warm: whatever is cached per process is cached before counting
    with counted() as statements:
        response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return len(statements)


@pytest.mark.parametrize("url", [f"/dashboard?as_of={AS_OF}", f"/dashboard?as_of={AS_OF}&region=360100",
                                 f"/dashboard/expiring?as_of={AS_OF}&region=360100"])
def test_the_dashboard_makes_a_fixed_number_of_queries(client, users, auth, session, url):
    catalog = factories.catalog_version(effective_from=date(2021, 1, 1), declared_line_count=3)
    lines = [factories.catalog_line(catalog) for _ in range(3)]
    _grow(lines, 1)
    auth.login_session(users.regulator)
    small = _render(client, url)
    _grow(lines, 9)  # ten times the institutions, standards and staff
    large = _render(client, url)
    assert small == large, f"{small} statements with 11 institutions, {large} with 110"
    assert large <= BOUND, large


def test_the_institution_home_makes_a_fixed_number_of_queries(client, users, auth, session):
    catalog = factories.catalog_version(effective_from=date(2021, 1, 1), declared_line_count=3)
    lines = [factories.catalog_line(catalog) for _ in range(3)]

    def own_standards(count: int) -> None:
        today = date.today()
        for i in range(count):
            factories.standard(users.own, lines=[lines[i % 3]], issued_on=date(2022, 1, 1),
                               valid_until=date(today.year + 1, 1, 1) if i % 2 else date(today.year + 5, 1, 1))
            factories.standard(users.own, issued_on=date(2018, 1, 1), valid_until=date(2021, 1, 1))
            factories.person(users.own)
        db.session.commit()

    _grow(lines, 1)
    own_standards(3)
    auth.login_session(users.institution)
    small = _render(client, "/home")
    _grow(lines, 9)
    own_standards(27)
    large = _render(client, "/home")
    assert small == large, f"{small} statements before, {large} after ten times the data"
    assert large <= BOUND, large
