"""What is due on a day: one rule per kind of reminder, each returning the items and their threshold.

- **certificate_apply_by**: a certificate good on the day (in use, issued,
  not expired, not withdrawn) whose apply-by date — its expiry less
  ``REEXAMINATION_LEAD_MONTHS`` — is within one of ``REMINDER_APPLY_BY_MONTHS``
  (12, 9, 6 and 3 by default) months of the day, or has passed.  Only the
  nearest threshold reached is due: a run that catches up after months sends
  "3 months", not 12, 9, 6 and 3 at once.
- **registration_lapsing**: a registered metrologist employed on the day whose
  registration ends within ``REGISTRATION_RENEWAL_LEAD_MONTHS`` months.

- **application_returned** (to the applicant's users): an application now
  returned for completion (补正); keyed by the return, so a second return is told again.
- **application_decided** (to the applicant's users): a decision taken within
  ``REMINDER_DECISION_DAYS`` (30) days before the day.
- **rectification_due** (to the applicant's users): a rectification (整改)
  deadline within ``REMINDER_RECTIFICATION_DAYS`` (7) days.
- **application_overdue** (to the regulators): an application waiting past the
  deadline of its step (:func:`registry.applications.services.deadline`).

An item is keyed with the date it is about (``standard:12:2028-06-30``), so a
renewed certificate or registration starts its reminders afresh.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Iterator

import sqlalchemy as sa
from flask import current_app

from registry.coverage.services import reexamination_apply_by
from registry.dates import add_months
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
    # Who is told: the institution's users, or the regulators.
    audience: str = "institution"


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


def _application_params(application, institution_name: str) -> dict[str, Any]:
    return {"application_id": application.id, "kind": application.kind, "state": application.state,
            "institution": institution_name, "standard_id": application.standard_id}


def applications_returned(today: date) -> Iterator[Due]:
    from registry.applications.models import Application as A, ApplicationEvent as E

    latest = (sa.select(E.application_id, sa.func.max(E.id).label("event_id"))
              .where(E.action == "return_for_completion").group_by(E.application_id).subquery())
    stmt = (sa.select(A, E, Institution.name).join(latest, latest.c.application_id == A.id)
            .join(E, E.id == latest.c.event_id).join(Institution, Institution.id == A.institution_id)
            .where(A.state == "returned").order_by(A.id))
    for application, event, holder_name in db.session.execute(stmt):
        if event.at.date() > today:
            continue
        yield Due("application_returned", f"application:{application.id}:return:{event.id}", "returned",
                  application.institution_id, event.at.date(),
                  {**_application_params(application, holder_name), "reason": application.returned_reason})


def applications_decided(today: date) -> Iterator[Due]:
    from registry.applications.models import Application as A

    since = today - timedelta(days=current_app.config["REMINDER_DECISION_DAYS"])
    stmt = (sa.select(A, Institution.name).join(Institution, Institution.id == A.institution_id)
            .where(A.state.in_(("decided", "closed")), A.decided_at.is_not(None),
                   A.decided_at >= datetime.combine(since, time(), timezone.utc),
                   A.decided_at < datetime.combine(today + timedelta(days=1), time(), timezone.utc))
            .order_by(A.id))
    for application, holder_name in db.session.execute(stmt):
        yield Due("application_decided", f"application:{application.id}:decided", "decided",
                  application.institution_id, application.decided_at.date(),
                  {**_application_params(application, holder_name), "decision": application.decision,
                   "reasons": application.decision_reasons})


def rectifications_due(today: date) -> Iterator[Due]:
    from registry.applications.models import Application as A

    days = current_app.config["REMINDER_RECTIFICATION_DAYS"]
    stmt = (sa.select(A, Institution.name).join(Institution, Institution.id == A.institution_id)
            .where(A.state == "rectification", A.rectification_deadline >= today,
                   A.rectification_deadline <= today + timedelta(days=days)).order_by(A.id))
    for application, holder_name in db.session.execute(stmt):
        deadline = application.rectification_deadline
        yield Due("rectification_due", f"application:{application.id}:rectification:{deadline.isoformat()}",
                  f"{days}d", application.institution_id, deadline,
                  {**_application_params(application, holder_name), "deadline": deadline.isoformat()})


def applications_overdue(today: date) -> Iterator[Due]:
    from registry.applications import services
    from registry.applications.models import Application as A

    stmt = (sa.select(A, Institution.name).join(Institution, Institution.id == A.institution_id)
            .where(A.state.in_(services.WAITING_STATES)).order_by(A.submitted_at, A.id))
    for application, holder_name in db.session.execute(stmt):
        deadline = services.deadline(application)
        if deadline is None or today <= deadline:
            continue
        yield Due("application_overdue", f"application:{application.id}:{application.state}:{deadline.isoformat()}",
                  "overdue", application.institution_id, deadline,
                  {**_application_params(application, holder_name), "deadline": deadline.isoformat()},
                  audience="regulators")


RULES = (certificates_due, registrations_due, applications_returned, applications_decided, rectifications_due,
         applications_overdue)


def due_on(today: date) -> Iterator[Due]:
    """Everything due on ``today``, every kind."""
    for rule in RULES:
        yield from rule(today)
