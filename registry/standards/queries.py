"""Standard lists: the filters regulators and institutions search by."""
from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa

from registry.institutions.models import Institution
from registry.records.queries import in_region, listing, sort, text_search, where_equal
from registry.standards.models import MeasurementStandard, standard_catalog_lines
from registry.standards.validity import status_undated_clause, validity_clause

S = MeasurementStandard
SORTS = {"name": S.name, "certificate_no": S.certificate_no, "valid_until": S.valid_until,
         "issued_on": S.issued_on, "id": S.id}


def standards_query(args: dict[str, Any], *, actor: Any) -> sa.Select:
    stmt = listing(S, actor=actor, include_withdrawn=args.get("include_withdrawn", False))
    stmt = where_equal(stmt, args, {"institution_id": S.institution_id, "category": S.category,
                                    "discipline": S.discipline_code, "status": S.status, "is_carbon": S.is_carbon})
    if args.get("region"):
        holders = sa.select(Institution.id).where(in_region(Institution.region_code, args["region"]))
        stmt = stmt.where(S.institution_id.in_(holders))
    if args.get("expiring_before"):
        stmt = stmt.where(S.valid_until < args["expiring_before"])
    if args.get("validity"):
        stmt = stmt.where(validity_clause(args["validity"], args.get("validity_on") or date.today()))
    if args.get("status_undated") is not None:
        undated = status_undated_clause()
        stmt = stmt.where(undated if args["status_undated"] else sa.not_(undated))
    if args.get("covers_line"):
        stmt = stmt.where(S.id.in_(sa.select(standard_catalog_lines.c.standard_id)
                                   .where(standard_catalog_lines.c.catalog_line_id == args["covers_line"])))
    stmt = text_search(stmt, args.get("q"), S.name, S.certificate_no, S.code)
    return sort(stmt, args.get("sort"), SORTS, S.id)
