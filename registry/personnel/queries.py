"""Staff roster lists."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from registry.institutions.models import Institution
from registry.personnel.models import Person as P
from registry.queries import in_region, listing, sort, text_search, where_equal


def persons_query(args: dict[str, Any], *, actor: Any) -> sa.Select:
    stmt = listing(P, actor=actor, include_withdrawn=args.get("include_withdrawn", False))
    stmt = where_equal(stmt, args, {"institution_id": P.institution_id})
    if args.get("region"):
        employers = sa.select(Institution.id).where(in_region(Institution.region_code, args["region"]))
        stmt = stmt.where(P.institution_id.in_(employers))
    if args.get("registered") is not None:
        stmt = stmt.where(P.registration_no.is_not(None) if args["registered"] else P.registration_no.is_(None))
    stmt = text_search(stmt, args.get("q"), P.name, P.registration_no)
    return sort(stmt, args.get("sort"), {"name": P.name, "registration_valid_until": P.registration_valid_until,
                                         "id": P.id}, P.id)
