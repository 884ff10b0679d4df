"""Staff roster lists."""
from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import current_app

from registry.dates import add_months
from registry.institutions.models import Institution
from registry.personnel.models import Person as P
from registry.queries import in_region, listing, sort, text_search, where_equal


def persons_query(args: dict[str, Any], *, actor: Any) -> sa.Select:
    stmt = listing(P, actor=actor, include_withdrawn=args.get("include_withdrawn", False))
    stmt = where_equal(stmt, args, {"institution_id": P.institution_id, "registration_level": P.registration_level})
    if args.get("region"):
        employers = sa.select(Institution.id).where(in_region(Institution.region_code, args["region"]))
        stmt = stmt.where(P.institution_id.in_(employers))
    if args.get("registered") is not None:
        stmt = stmt.where(P.registration_no.is_not(None) if args["registered"] else P.registration_no.is_(None))
    if args.get("registration_status"):
        stmt = stmt.where(registration_status_clause(args["registration_status"], date.today()))
    stmt = text_search(stmt, args.get("q"), P.name, P.registration_no)
    return sort(stmt, args.get("sort"), {"name": P.name, "registration_valid_until": P.registration_valid_until,
                                         "id": P.id}, P.id)


REGISTRATION_STATUSES = ("valid", "expiring", "expired")


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
