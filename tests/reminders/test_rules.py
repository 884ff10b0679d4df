"""What is due on a day: known answers at every threshold of one certificate and one registration."""
from __future__ import annotations

from datetime import date

import pytest

from registry.coverage.services import reexamination_apply_by
from registry.reminders import rules
from tests import factories

# Expiry 2028-06-30, REEXAMINATION_LEAD_MONTHS 6: apply by 2027-12-30; reminders 12, 9, 6, 3 months before.
EXPIRY = date(2028, 6, 30)


@pytest.fixture
def holder(session):
    return factories.institution()


def _due(today):
    return [(d.kind, d.threshold, d.item_key) for d in rules.due_on(today)]


def test_apply_by_is_the_expiry_less_the_lead_months(app):
    assert reexamination_apply_by(EXPIRY) == date(2027, 12, 30)
    assert reexamination_apply_by(date(2028, 8, 31), 6) == date(2028, 2, 29)


@pytest.mark.parametrize("today, expected", [
    (date(2026, 12, 29), None),
    (date(2026, 12, 30), "12m"),
    (date(2027, 3, 29), "12m"),
    (date(2027, 3, 30), "9m"),
    (date(2027, 6, 30), "6m"),
    (date(2027, 9, 29), "6m"),
    (date(2027, 9, 30), "3m"),
    (date(2027, 12, 30), "3m"),      # the apply-by day itself: not yet passed
    (date(2027, 12, 31), "passed"),
    (date(2028, 6, 30), "passed"),   # the certificate's last day
    (date(2028, 7, 1), None),        # expired: no longer a reminder to apply, it is a lapse
])
def test_a_certificate_is_due_at_the_nearest_threshold_reached(app, holder, today, expected):
    standard = factories.standard(holder, issued_on=date(2024, 7, 1), valid_until=EXPIRY)
    due = _due(today)
    if expected is None:
        assert due == []
    else:
        assert due == [("certificate_apply_by", expected, f"standard:{standard.id}:2028-06-30")]


def test_thresholds_come_from_configuration(app, holder, monkeypatch):
    monkeypatch.setitem(app.config, "REMINDER_APPLY_BY_MONTHS", ("1",))
    factories.standard(holder, issued_on=date(2024, 7, 1), valid_until=EXPIRY)
    assert _due(date(2027, 11, 29)) == []
    assert [d[1] for d in _due(date(2027, 11, 30))] == ["1m"]


@pytest.mark.parametrize("fields", [
    {"status": "sealed", "status_since": date(2026, 1, 1)},
    {"status": "revoked", "status_since": None},
    {"issued_on": date(2027, 1, 1)},                     # not yet valid on the day
    {"withdrawn_at": factories.withdrawn_at(), "withdrawn_reason": "entered twice"},
])
def test_no_reminder_for_a_certificate_not_good_on_the_day(app, holder, fields):
    factories.standard(holder, **{"issued_on": date(2024, 7, 1), "valid_until": EXPIRY, **fields})
    assert _due(date(2026, 12, 30)) == []


def test_a_standard_sealed_later_is_still_reminded_before(app, holder):
    factories.standard(holder, issued_on=date(2024, 7, 1), valid_until=EXPIRY, status="sealed",
                       status_since=date(2027, 1, 1))
    assert [d[1] for d in _due(date(2026, 12, 30))] == ["12m"]
    assert _due(date(2027, 1, 1)) == []


@pytest.mark.parametrize("today, employed_until, expected", [
    (date(2026, 12, 29), None, None),            # 2026-12-29 + 6 months = 2027-06-29: not yet
    (date(2026, 12, 30), None, "6m"),            # 2026-12-30 + 6 months = 2027-06-30: within
    (date(2027, 6, 30), None, "6m"),             # its last day
    (date(2027, 7, 1), None, None),              # lapsed: no longer "lapsing"
    (date(2027, 3, 1), date(2027, 2, 28), None),  # left the institution before the day
])
def test_a_registration_lapsing_within_six_months(app, holder, today, employed_until, expected):
    person = factories.person(holder, registration_no="RG-1", registration_level="1",
                              registered_on=date(2022, 7, 1), registration_valid_until=date(2027, 6, 30),
                              employed_until=employed_until)
    due = _due(today)
    if expected is None:
        assert due == []
    else:
        assert due == [("registration_lapsing", expected, f"person:{person.id}:2027-06-30")]
