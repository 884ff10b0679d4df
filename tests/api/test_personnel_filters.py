"""Roster filters: employed on a date, the employer's kind, registered / unregistered / lapsing on that date."""
from __future__ import annotations

from datetime import date

import pytest

from tests import factories

ON = date(2025, 6, 30)


@pytest.fixture
def roster(session, users):
    legal = users.own
    authorised = factories.institution(region_code="360100", kind="authorised")
    people = {
        "registered": factories.person(legal, registration_no="PF-1", registered_on=date(2023, 1, 1),
                                       registration_valid_until=date(2028, 1, 1)),
        "lapsing": factories.person(legal, registration_no="PF-2", registered_on=date(2021, 1, 1),
                                    registration_valid_until=date(2025, 9, 30)),
        "unregistered": factories.person(legal),
        "left_2010": factories.person(legal, employed_from=date(2001, 1, 1), employed_until=date(2010, 6, 30)),
        "lapsed": factories.person(legal, registration_no="PF-3", registered_on=date(2015, 1, 1),
                                   registration_valid_until=date(2020, 1, 1)),
        "hired_later": factories.person(legal, employed_from=date(2026, 1, 1)),
        "authorised": factories.person(authorised),
    }
    session.commit()
    return people


def names(client, auth, users, query: str) -> set[str]:
    response = client.get(f"/api/v1/personnel?page_size=100&{query}", headers=auth.token(users.admin))
    assert response.status_code == 200, response.get_json()
    return {person["name"] for person in response.get_json()}


def expect(roster, *keys) -> set[str]:
    return {roster[key].name for key in keys}


def test_employed_on_a_date(client, auth, users, roster):
    got = names(client, auth, users, f"employed_on={ON}&institution_id={users.own.id}")
    assert got == expect(roster, "registered", "lapsing", "unregistered", "lapsed")
    got = names(client, auth, users, f"employed_on=2009-01-01&institution_id={users.own.id}")
    assert roster["left_2010"].name in got and roster["hired_later"].name not in got


def test_by_institution_kind(client, auth, users, roster):
    assert roster["authorised"].name in names(client, auth, users, "institution_kind=authorised")
    assert roster["authorised"].name not in names(client, auth, users, "institution_kind=legal_metrology")


def test_registration_on_a_date(client, auth, users, roster):
    own = f"institution_id={users.own.id}&employed_on={ON}"
    assert names(client, auth, users, f"{own}&registration=registered") == expect(roster, "registered", "lapsing")
    # Unregistered: employed on the date without a valid registration; not the one who left in 2010.
    assert names(client, auth, users, f"{own}&registration=unregistered") == expect(roster, "unregistered", "lapsed")
    assert names(client, auth, users, f"{own}&registration=lapsing&lapsing_months=6") == expect(roster, "lapsing")
    assert names(client, auth, users, f"{own}&registration=lapsing&lapsing_months=2") == set()


def test_unregistered_leaves_out_people_who_have_left(client, auth, users, roster):
    got = names(client, auth, users, f"registered=false&institution_id={users.own.id}")
    assert roster["left_2010"].name not in got and roster["unregistered"].name in got


def test_the_page_takes_the_same_filters(client, auth, users, roster):
    auth.login_session(users.regulator)
    html = client.get(f"/personnel/?institution_id={users.own.id}&employed_on={ON}&registration=unregistered"
                      "&institution_kind=legal_metrology").get_data(as_text=True)
    assert roster["unregistered"].name in html and roster["left_2010"].name not in html
    assert roster["registered"].name not in html
