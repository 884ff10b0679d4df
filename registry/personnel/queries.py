"""Staff roster lists."""
from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import current_app

from registry.records.dates import add_months
from registry.institutions.models import Institution
from registry.personnel.models import Person as P
from registry.records.queries import in_region, listing, sort, text_search, where_equal


def persons_query(args: dict[str, Any], *, actor: Any) -> sa.Select:
    stmt = listing(P, actor=actor, include_withdrawn=args.get("include_withdrawn", False))
    stmt = where_equal(stmt, args, {"institution_id": P.institution_id, "registration_level": P.registration_level})
    if args.get("region"):
        employers = sa.select(Institution.id).where(in_region(Institution.region_code, args["region"]))
        stmt = stmt.where(P.institution_id.in_(employers))
    on = args.get("employed_on") or date.today()
    if args.get("employed_on"):
        stmt = stmt.where(employed_clause(on))
    if args.get("institution_kind"):
        stmt = stmt.where(P.institution_id.in_(
            sa.select(Institution.id).where(Institution.kind == args["institution_kind"])))
    if args.get("registered") is not None:
        if args["registered"]:
            stmt = stmt.where(P.registration_no.is_not(None))
        else:  # unregistered staff: not those who had left by the date
            stmt = stmt.where(P.registration_no.is_(None), not_left_clause(on))
    if args.get("registration"):
        stmt = stmt.where(registration_clause(args["registration"], on, args.get("lapsing_months")))
    if args.get("registration_status"):
        stmt = stmt.where(registration_status_clause(args["registration_status"], date.today()))
    stmt = text_search(stmt, args.get("q"), P.name, P.registration_no)
    return sort(stmt, args.get("sort"), {"name": P.name, "registration_valid_until": P.registration_valid_until,
                                         "id": P.id}, P.id)


REGISTRATION_STATUSES = ("valid", "expiring", "expired")
# The roster filter on a date: registered then, employed and not registered then, or registered and lapsing soon.
REGISTRATION_FILTERS = ("registered", "unregistered", "lapsing")


def employed_clause(on: date):
    """Employed on ``on`` (as the registered-metrologist share counts staff)."""
    return sa.and_(sa.or_(P.employed_from.is_(None), P.employed_from <= on),
                   sa.or_(P.employed_until.is_(None), P.employed_until >= on))


def not_left_clause(on: date):
    return sa.or_(P.employed_until.is_(None), P.employed_until >= on)


def registered_on_clause(on: date):
    return sa.and_(P.registration_no.is_not(None), P.registered_on.is_not(None), P.registered_on <= on,
                   sa.or_(P.registration_valid_until.is_(None), P.registration_valid_until >= on))


def registration_clause(kind: str, on: date, months: int | None = None):
    """``registered``: a registration valid on ``on``; ``unregistered``: employed on ``on`` without one (people
    who had left are not staff); ``lapsing``: valid on ``on`` and ending within ``months`` (default
    ``REGISTRATION_RENEWAL_LEAD_MONTHS``)."""
    if kind == "registered":
        return registered_on_clause(on)
    if kind == "unregistered":
        return sa.and_(employed_clause(on), sa.not_(registered_on_clause(on)))
    if months is None:
        months = current_app.config["REGISTRATION_RENEWAL_LEAD_MONTHS"]
    return sa.and_(registered_on_clause(on), P.registration_valid_until.is_not(None),
                   P.registration_valid_until < add_months(on, months))


def renewal_horizon(today: date) -> date:
    """A registration ending before this date is due for renewal."""
    return add_months(today, current_app.config["REGISTRATION_RENEWAL_LEAD_MONTHS"])


def registration_status_clause(status: str, today: date):
    """``valid``: registered and in date today (as :meth:`Person.is_registered`); ``expiring``: valid
    but ending within the renewal lead time; ``expired``: a registration whose validity has ended."""
    valid = sa.and_(P.registration_no.is_not(None), P.registered_on.is_not(None), P.registered_on <= today,
                    sa.or_(P.registration_valid_until.is_(None), P.registration_valid_until >= today))
    if status == "valid":
        return valid
    if status == "expiring":
        return sa.and_(valid, P.registration_valid_until < renewal_horizon(today))
    return sa.and_(P.registration_no.is_not(None), P.registration_valid_until < today)


def registration_status(person: P, today: date) -> str | None:
    """The same statuses for one person (None when not registered or not yet in force)."""
    if person.registration_no is None:
        return None
    if person.registration_valid_until is not None and person.registration_valid_until < today:
        return "expired"
    if not person.is_registered(today):
        return None
    until = person.registration_valid_until
    return "expiring" if until is not None and until < renewal_horizon(today) else "valid"
