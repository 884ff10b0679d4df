"""A renewal typed by hand keeps the unbroken run of certificates, as an approved re-examination does.

The rule (``registry.standards.services.certified_since_after``, used by ``update_standard`` for the
form and the API, and by the import's bulk update, tests/importers/test_certificate_updates.py): an issue
date moved later, no later than the day after the old ``valid_until``, keeps ``certified_since`` (the old
one, else the old issue date); after a gap it empties it; a correction keeps it unless the new issue
date is on or before it.  Known answers: certificate 2019-06-01 .. 2023-05-31 renewed as
2023-06-01 .. 2027-05-31 still counts on 2021-01-01, in the city's and the province's coverage.
"""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from registry.coverage.services import coverage_report
from registry.extensions import db
from registry.standards.models import MeasurementStandard
from registry.standards.services import certified_since_after, update_standard
from registry.standards.validity import validity, validity_case
from tests import factories
from tests.coverage.support import indicator
from tests.test_pages import csrf_from

OLD_ISSUED, OLD_VALID = date(2019, 6, 1), date(2023, 5, 31)
NEW_ISSUED, NEW_VALID = date(2023, 6, 1), date(2027, 5, 31)
LATE_ISSUED, LATE_VALID = date(2023, 9, 1), date(2027, 8, 31)  # after a gap of three months
PAST, IN_GAP = date(2021, 1, 1), date(2023, 7, 1)


def counted(day: date) -> tuple[int, int]:
    """The standard counted on ``day``: (南昌, 江西)."""
    return tuple(indicator(coverage_report(day, region), "social_public_standards")["value"]
                 for region in ("360100", "360000"))


def state(standard: MeasurementStandard, day: date) -> str:
    """The validity on ``day``, after checking Python and SQL agree."""
    in_sql = db.session.scalar(sa.select(validity_case(day)).where(
        sa.literal_column("measurement_standards.id") == standard.id))
    assert validity(standard, day) == in_sql
    return in_sql


@pytest.fixture
def held(catalog, users):
    """One social public standard of users.own (南昌), certificate 2019-06-01 .. 2023-05-31."""
    return factories.standard(users.own, issued_on=OLD_ISSUED, valid_until=OLD_VALID,
                              certificate_no="[2019]赣量标测证字第601号")


# --- the rule ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("since, values, expected", [
    (None, {"issued_on": NEW_ISSUED}, OLD_ISSUED),                       # renewed the day after expiry
    (None, {"issued_on": date(2023, 3, 1)}, OLD_ISSUED),                 # renewed before expiry
    (date(2015, 6, 1), {"issued_on": NEW_ISSUED}, date(2015, 6, 1)),     # the run goes on
    (None, {"issued_on": date(2023, 6, 2)}, None),                       # a day's gap: the run starts again
    (date(2015, 6, 1), {"issued_on": LATE_ISSUED}, None),
    (date(2015, 6, 1), {"issued_on": date(2019, 1, 1)}, date(2015, 6, 1)),  # a correction keeps it
    (date(2015, 6, 1), {"issued_on": date(2015, 6, 1)}, None),           # ... unless on or before it
    (date(2015, 6, 1), {"issued_on": date(2014, 1, 1)}, None),
])
def test_certified_since_after_a_change_of_the_issue_date(since, values, expected):
    stored = MeasurementStandard(issued_on=OLD_ISSUED, valid_until=OLD_VALID, certified_since=since)
    result = certified_since_after(values, stored)
    assert (since if result is certified_since_after({}, stored) else result) == expected


def test_other_changes_leave_certified_since():
    stored = MeasurementStandard(issued_on=OLD_ISSUED, valid_until=OLD_VALID, certified_since=date(2015, 6, 1))
    unchanged = certified_since_after({}, None)
    assert certified_since_after({"valid_until": date(2030, 1, 1)}, stored) is unchanged
    assert certified_since_after({"issued_on": OLD_ISSUED}, stored) is unchanged
    assert certified_since_after({"issued_on": NEW_ISSUED}, None) is unchanged


# --- through the service -------------------------------------------------------------------------------


def test_a_renewal_by_hand_keeps_every_past_day(held, users):
    before = {day: counted(day) for day in (date(2019, 5, 31), PAST, OLD_VALID, NEW_ISSUED, date(2025, 1, 1))}
    assert before == {date(2019, 5, 31): (0, 0), PAST: (1, 1), OLD_VALID: (1, 1), NEW_ISSUED: (0, 0),
                      date(2025, 1, 1): (0, 0)}
    update_standard(held, {"certificate_no": "[2023]赣量标测证字第601号", "issued_on": NEW_ISSUED,
                           "valid_until": NEW_VALID}, actor=users.regulator, expected_version=held.version)
    db.session.flush()
    assert held.certified_since == OLD_ISSUED
    assert {day: counted(day) for day in before} == {
        date(2019, 5, 31): (0, 0), PAST: (1, 1), OLD_VALID: (1, 1), NEW_ISSUED: (1, 1), date(2025, 1, 1): (1, 1)}
    assert (state(held, date(2019, 5, 31)), state(held, PAST), state(held, date(2025, 1, 1))) == (
        "not_yet_valid", "valid", "valid")
    # Renewed again (by hand, before expiry): the run still starts in 2019.
    update_standard(held, {"issued_on": date(2027, 5, 1), "valid_until": date(2031, 4, 30)},
                    actor=users.regulator, expected_version=None)
    db.session.flush()
    assert held.certified_since == OLD_ISSUED and counted(PAST) == (1, 1)


def test_a_renewal_after_a_gap_starts_the_run_again(held, users):
    update_standard(held, {"issued_on": LATE_ISSUED, "valid_until": LATE_VALID}, actor=users.regulator,
                    expected_version=None)
    db.session.flush()
    assert held.certified_since is None
    assert counted(IN_GAP) == (0, 0) and counted(LATE_ISSUED) == (1, 1)
    assert counted(PAST) == (0, 0)  # the registry keeps one run: the one in force
    assert state(held, IN_GAP) == "not_yet_valid"


def test_a_renewal_typed_back_is_a_correction(held, users):
    update_standard(held, {"issued_on": NEW_ISSUED, "valid_until": NEW_VALID}, actor=users.regulator,
                    expected_version=None)
    update_standard(held, {"issued_on": date(2023, 5, 1)}, actor=users.regulator, expected_version=None)
    db.session.flush()
    assert held.certified_since == OLD_ISSUED  # corrected within the run: kept
    update_standard(held, {"issued_on": OLD_ISSUED, "valid_until": OLD_VALID}, actor=users.regulator,
                    expected_version=None)
    db.session.flush()
    assert held.certified_since is None  # back to the first certificate: its issue date is the start
    assert counted(PAST) == (1, 1) and counted(NEW_ISSUED) == (0, 0)


# --- the API and the form ----------------------------------------------------------------------------


def test_the_api_renewal_keeps_the_run_and_certified_since_is_not_writable(client, auth, held, users, session):
    headers = auth.token(users.regulator)
    url = f"/api/v1/standards/{held.id}"
    etag = client.get(url, headers=headers).headers["ETag"]
    written = client.patch(url, headers={**headers, "If-Match": etag}, json={"certified_since": "2010-01-01"})
    assert written.status_code == 422, written.get_json()
    renewed = client.patch(url, headers={**headers, "If-Match": etag},
                           json={"issued_on": NEW_ISSUED.isoformat(), "valid_until": NEW_VALID.isoformat()})
    assert renewed.status_code == 200, renewed.get_json()
    assert renewed.get_json()["certified_since"] == OLD_ISSUED.isoformat()
    session.expire_all()
    assert counted(PAST) == (1, 1)
    assert client.get(url, headers=headers).get_json()["certified_since"] == OLD_ISSUED.isoformat()


def test_the_form_renewal_keeps_the_run(client, auth, held, users, session):
    auth.login_session(users.regulator)
    token = csrf_from(client.get(f"/standards/{held.id}/edit"))
    data = {"certificate_no": held.certificate_no, "name": held.name, "code": "", "category": held.category,
            "discipline_code": "", "institution_id": held.institution_id, "range_text": "", "uncertainty_text": "",
            "issuer": "", "issued_on": NEW_ISSUED.isoformat(), "valid_until": NEW_VALID.isoformat(),
            "responsible_person": "", "status": held.status, "status_since": "", "build_kind": "", "built_on": "",
            "catalog_lines": "", "regulations": "", "version": held.version, "csrf_token": token,
            "certified_since": "2010-01-01"}
    response = client.post(f"/standards/{held.id}/edit", data=data)
    assert response.status_code == 302
    session.expire_all()
    stored = session.get(MeasurementStandard, held.id)
    assert stored.certified_since == OLD_ISSUED  # the rule's, not the one posted
    assert counted(PAST) == (1, 1) and state(stored, PAST) == "valid"
