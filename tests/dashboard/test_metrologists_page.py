"""The metrologist follow-up page: the service's rows, sortable, by city, linked from the dashboard's indicator."""
from __future__ import annotations

from datetime import date

import pytest

from registry.coverage.metrologists import metrologist_follow_up
from tests import factories
from tests.dashboard.conftest import AS_OF, section
from tests.statements import counted


@pytest.fixture
def roster(session):
    below = factories.institution(region_code="360100", name="低于目标所")
    above = factories.institution(region_code="360400", name="达标所")
    for i in range(4):
        factories.person(below, registration_no=f"MP-B{i}" if i == 0 else None,
                         registered_on=date(2023, 1, 1) if i == 0 else None)
        factories.person(above, registration_no=f"MP-A{i}", registered_on=date(2023, 1, 1))
    session.commit()
    return below, above


def rows(html: str) -> list[str]:
    table = section(html, "metrologists-table")
    return [part.split('"')[0] for part in table.split('data-institution="')[1:]]


def test_the_page_shows_the_service_below_target_first(client, users, auth, roster):
    below, above = roster
    auth.login_session(users.regulator)
    html = client.get(f"/dashboard/metrologists?as_of={AS_OF}").get_data(as_text=True)
    follow = metrologist_follow_up(AS_OF)
    assert rows(html) == [str(item.institution_id) for item in follow.institutions]
    assert rows(html).index(str(below.id)) < rows(html).index(str(above.id))
    summary = section(html, "metrologists-summary")
    assert f'data-registered="{follow.registered}" data-staff="{follow.staff}"' in summary
    total = html[html.index('data-testid="metrologists-total"'):].split("</tr>")[0]
    assert f">{follow.staff}<" in total and f">{follow.registered}<" in total
    # 1 of 4 registered: 0.6 * 4 = 2.4 -> 3, two more
    row = html[html.index(f'data-institution="{below.id}"'):].split("</tr>")[0]
    assert 'data-needed="2"' in row and "employed_on=2025-06-30" in row


def test_sorted_and_filtered_by_city(client, users, auth, roster):
    below, above = roster
    auth.login_session(users.regulator)
    html = client.get(f"/dashboard/metrologists?as_of={AS_OF}&sort=-share").get_data(as_text=True)
    assert rows(html)[0] == str(above.id)
    city = client.get(f"/dashboard/metrologists?as_of={AS_OF}&region=360400").get_data(as_text=True)
    assert str(above.id) in rows(city) and str(below.id) not in rows(city)
    assert client.get("/dashboard/metrologists?sort=salary").status_code == 400


def test_linked_from_the_dashboards_indicator(client, users, auth, roster):
    auth.login_session(users.regulator)
    html = client.get(f"/dashboard?as_of={AS_OF}&region=360100").get_data(as_text=True)
    assert f'href="/dashboard/metrologists?as_of={AS_OF}&amp;region=360100"' in section(html, "metrologists-link")


def test_staff_only_and_a_fixed_number_of_queries(client, users, auth, roster, session):
    auth.login_session(users.institution)
    assert client.get("/dashboard/metrologists").status_code == 404
    for _ in range(5):
        factories.person(factories.institution(region_code="360500"))
    session.commit()
    auth.login_session(users.regulator)
    client.get(f"/dashboard/metrologists?as_of={AS_OF}&region=360400")
    with counted() as few:
        client.get(f"/dashboard/metrologists?as_of={AS_OF}&region=360400")
    client.get(f"/dashboard/metrologists?as_of={AS_OF}&region=360500")
    with counted() as many:
        response = client.get(f"/dashboard/metrologists?as_of={AS_OF}&region=360500")
    assert len(rows(response.get_data(as_text=True))) >= 5
    assert len(few) == len(many)


def test_the_page_reads_in_english(client, users, auth, roster):
    auth.login_session(users.regulator)
    client.get("/lang/en")
    html = client.get(f"/dashboard/metrologists?as_of={AS_OF}").get_data(as_text=True)
    assert "Metrologist follow-up" in html and "Registrations needed" in html
