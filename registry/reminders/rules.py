"""What is due on a day: one rule per kind of reminder, each returning the items and their threshold.

- **certificate_apply_by**: a certificate good on the day (in use, issued,
  not expired, not withdrawn) whose apply-by date — its expiry less
  ``REEXAMINATION_LEAD_MONTHS`` — is within one of ``REMINDER_APPLY_BY_MONTHS``
  (12, 9, 6 and 3 by default) months of the day, or has passed.  Only the
  nearest threshold reached is due: a run that catches up after months sends
  "3 months", not 12, 9, 6 and 3 at once.
- **registration_lapsing**: a registered metrologist employed on the day whose
  registration ends within ``REGISTRATION_RENEWAL_LEAD_MONTHS`` months.

An item is keyed with the date it is about (``standard:12:2028-06-30``), so a
renewed certificate or registration starts its reminders afresh.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Iterator

import sqlalchemy as sa
from flask import current_app

from registry.coverage.services import reexamination_apply_by
from registry.records.dates import add_months
from registry.extensions import db
from registry.institutions.models import Institution
from registry.personnel.models import Person
from registry.standards.models import MeasurementStandard as S
from registry.standards.validity import validity_clause

PASSED = "passed"


@dataclass(frozen=True)
class Due:
    """One item due for a reminder on a day, for the users of ``institution_id``."""

    kind: str
    item_key: str
    threshold: str
    institution_id: int
    due_on: date
    params: dict[str, Any] = field(default_factory=dict)


def apply_by_thresholds() -> tuple[int, ...]:
    """Months before the apply-by date at which a reminder goes out, largest first."""
    return tuple(sorted({int(m) for m in current_app.config["REMINDER_APPLY_BY_MONTHS"]}, reverse=True))


def apply_by_threshold(deadline: date, today: date, thresholds: tuple[int, ...] | None = None) -> str | None:
    """The nearest threshold reached on ``today`` for an apply-by ``deadline`` ("3m", "passed"), or None."""
    if today > deadline:
        return PASSED
    reached = [m for m in (thresholds or apply_by_thresholds()) if today >= add_months(deadline, -m)]
    return f"{min(reached)}m" if reached else None


def certificates_due(today: date) -> Iterator[Due]:
    thresholds = apply_by_thresholds()
    lead = current_app.config["REEXAMINATION_LEAD_MONTHS"]
    horizon = add_months(today, lead + (max(thresholds) if thresholds else 0))
    stmt = (sa.select(S.id, S.certificate_no, S.name, S.valid_until, S.institution_id, Institution.name)
            .join(Institution, Institution.id == S.institution_id)
            .where(validity_clause(("valid", "expiring"), today), S.valid_until <= horizon)
            .order_by(S.valid_until, S.id))
    for sid, number, name, valid_until, holder, holder_name in db.session.execute(stmt):
        deadline = reexamination_apply_by(valid_until, lead)
        threshold = apply_by_threshold(deadline, today, thresholds)
        if threshold is None:
            continue
        yield Due("certificate_apply_by", f"standard:{sid}:{valid_until.isoformat()}", threshold, holder, deadline,
                  {"standard_id": sid, "certificate_no": number, "name": name, "institution": holder_name,
                   "valid_until": valid_until.isoformat(), "apply_by": deadline.isoformat()})


def registrations_due(today: date) -> Iterator[Due]:
    months = current_app.config["REGISTRATION_RENEWAL_LEAD_MONTHS"]
    horizon = add_months(today, months)
    P = Person
    stmt = (sa.select(P.id, P.name, P.registration_no, P.registration_valid_until, P.institution_id, Institution.name)
            .join(Institution, Institution.id == P.institution_id)
            .where(P.withdrawn_at.is_(None), P.registration_no.is_not(None),
                   P.registration_valid_until >= today, P.registration_valid_until <= horizon,
                   sa.or_(P.employed_from.is_(None), P.employed_from <= today),
                   sa.or_(P.employed_until.is_(None), P.employed_until >= today))
            .order_by(P.registration_valid_until, P.id))
    for pid, name, number, valid_until, holder, holder_name in db.session.execute(stmt):
        yield Due("registration_lapsing", f"person:{pid}:{valid_until.isoformat()}", f"{months}m", holder,
                  valid_until, {"person_id": pid, "name": name, "registration_no": number, "institution": holder_name,
                                "valid_until": valid_until.isoformat()})


RULES = (certificates_due, registrations_due)


def due_on(today: date) -> Iterator[Due]:
    """Everything due on ``today``, every kind."""
    for rule in RULES:
        yield from rule(today)
