"""One answer to "is this certificate good on D": the Python rule, its SQL twins and every door that shows it."""
from __future__ import annotations

from datetime import date, timedelta
from itertools import product

import pytest
import sqlalchemy as sa

from registry.coverage.services import coverage_report, expiring_certificates
from registry.records.dates import add_months
from registry.extensions import db
from registry.standards.models import STANDARD_STATUSES, MeasurementStandard
from registry.standards.queries import standards_query
from registry.standards.validity import (
    GOOD_STATES,
    VALIDITY_STATES,
    certificate_validity,
    validity,
    validity_case,
    validity_clause,
)
from tests import factories
from tests.coverage.support import indicator

S = MeasurementStandard
DAY = timedelta(days=1)
ISSUED, UNTIL = date(2022, 3, 1), date(2026, 2, 28)
LEAD = 6  # REEXAMINATION_LEAD_MONTHS in the tests' configuration (the default)

# Where D falls against the certificate's dates.
POSITIONS = {
    "before issue": ISSUED - DAY,
    "on issue": ISSUED,
    "inside": date(2024, 6, 15),
    "lead window opens": add_months(UNTIL, -LEAD),        # valid_until == D + 6 months: expiring
    "day before the window": add_months(UNTIL, -LEAD) - DAY,
    "within the lead window": UNTIL - timedelta(days=40),
    "on expiry": UNTIL,
    "after expiry": UNTIL + DAY,
}
# Where the status date falls against D.
SINCE = ("before D", "on D", "after D", "none")


def _since(kind: str, day: date) -> date | None:
    return {"before D": day - timedelta(days=10), "on D": day, "after D": day + timedelta(days=10),
            "none": None}[kind]


def _expected(status: str, since: str, day: date, withdrawn: bool) -> str:
    """The rule written out by hand, independently of the module."""
    if withdrawn:
        return "withdrawn"
    if status != "in_use" and since in ("before D", "on D", "none"):
        return status
    if day < ISSUED:
        return "not_yet_valid"
    if day > UNTIL:
        return "expired"
    if UNTIL <= add_months(day, LEAD):
        return "expiring"
    return "valid"


CASES = [(status, since, position, withdrawn)
         for status, since, position, withdrawn in product(STANDARD_STATUSES, SINCE, POSITIONS, (False, True))
         if not (withdrawn and since != "none")]


def test_the_grid_covers_every_state():
    states = {_expected(status, since, POSITIONS[position], withdrawn) for status, since, position, withdrawn in CASES}
    assert states == set(VALIDITY_STATES)


@pytest.mark.parametrize(("status", "since", "position", "withdrawn"), CASES)
def test_every_status_and_date_position(app, status, since, position, withdrawn):
    day = POSITIONS[position]
    got = certificate_validity(status=status, status_since=_since(since, day), issued_on=ISSUED, valid_until=UNTIL,
                               withdrawn=withdrawn, on=day)
    assert got == _expected(status, since, day, withdrawn)


def test_the_sql_expression_and_filters_agree_with_the_python_rule(session):
    """Every status × status date × date position, stored, then asked of the database both ways."""
    holder = factories.institution()
    made: dict[tuple, int] = {}
    for status, since, position, withdrawn in CASES:
        day = POSITIONS[position]
        standard = factories.standard(holder, status=status, status_since=_since(since, day), issued_on=ISSUED,
                                      valid_until=UNTIL,
                                      withdrawn_at=factories.withdrawn_at() if withdrawn else None)
        made[(status, since, position, withdrawn)] = standard.id
    for position, day in POSITIONS.items():
        ids = [i for key, i in made.items() if key[2] == position]
        rows = {i: (state, obj) for i, state, obj in db.session.execute(
            sa.select(S.id, validity_case(day), S).where(S.id.in_(ids)))}
        by_state = {state: set(db.session.scalars(sa.select(S.id).where(S.id.in_(ids), validity_clause(state, day))))
                    for state in VALIDITY_STATES}
        for key, i in made.items():
            if key[2] != position:
                continue
            expected = _expected(key[0], key[1], day, key[3])
            state, obj = rows[i]
            assert state == expected, (key, state)
            assert validity(obj, day) == expected, key
            assert [s for s, members in by_state.items() if i in members] == [expected], key


def test_unknown_state_is_refused():
    with pytest.raises(ValueError):
        validity_clause("good", date(2025, 1, 1))


def test_good_on_d_is_exactly_what_coverage_counts(session):
    """With the default COVERING_STATUSES, a social public standard is counted on D iff its validity is good."""
    holder = factories.institution(region_code="360100")
    day = date(2025, 6, 30)
    for status, since, position, _ in [c for c in CASES if not c[3]]:
        factories.standard(holder, status=status, status_since=_since(since, POSITIONS[position]),
                           issued_on=ISSUED, valid_until=UNTIL)
    counted = indicator(coverage_report(day), "social_public_standards")["value"]
    good = db.session.scalar(sa.select(sa.func.count()).select_from(S).where(
        S.institution_id == holder.id, validity_clause(GOOD_STATES, day)))
    by_python = sum(validity(s, day) in GOOD_STATES
                    for s in db.session.scalars(sa.select(S).where(S.institution_id == holder.id)))
    assert counted == good == by_python and good > 0


def test_lists_filter_by_validity_on_a_date(session, users):
    today = date.today()
    revoked = factories.standard(users.own, name="撤销长效", status="revoked", status_since=today - 10 * DAY,
                                 issued_on=today - 400 * DAY, valid_until=date(2099, 12, 31))
    expired = factories.standard(users.own, name="已过期", issued_on=date(2019, 1, 1), valid_until=today - DAY)
    fine = factories.standard(users.own, name="有效", issued_on=today - 400 * DAY, valid_until=date(2099, 12, 31))

    def ids(**args):
        return set(db.session.scalars(standards_query({"institution_id": users.own.id, **args},
                                                      actor=users.regulator).with_only_columns(S.id)))

    assert ids(validity="revoked") == {revoked.id}
    assert ids(validity="expired") == {expired.id}
    assert ids(validity="valid") == {fine.id}
    # A year ago the revocation had not happened and the expired one still ran.
    assert ids(validity="valid", validity_on=today - 365 * DAY) == {revoked.id, fine.id, expired.id}


def test_expiring_list_items_carry_their_validity(session):
    holder = factories.institution(region_code="360100")
    day = date(2025, 6, 30)
    sealed = factories.standard(holder, status="sealed", status_since=date(2025, 1, 1), issued_on=date(2021, 9, 1),
                                valid_until=date(2025, 8, 31))
    running = factories.standard(holder, issued_on=date(2021, 9, 1), valid_until=date(2025, 9, 30))
    items = {item.id: item for item in expiring_certificates(day, 6, "360100").items}
    assert items[sealed.id].validity == "sealed" and items[running.id].validity == "expiring"
    assert items[sealed.id].status_since == date(2025, 1, 1)
