"""What anyone may look up without signing in, and nothing more.

Each query selects the public columns by name: never a model, so a column
added to a model later (a contact, a phone, a person in charge, a version)
cannot reach the public pages by accident.  Withdrawn records and
institution-internal categories are left out here, in SQL.
"""
from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from registry.codes import normalize_regulation_code, parse_regulation_code, to_halfwidth
from registry.errors import ValidationError
from registry.institutions.models import Institution
from registry.reference.models import Region
from registry.regulations.models import Regulation
from registry.standards.models import MeasurementStandard
from registry.standards.validity import GOOD_STATES, validity_case, validity_clause

S = MeasurementStandard
R = Regulation

# Certificate numbers are stored with ASCII square brackets (codes.normalize_certificate_no).
_CERTIFICATE_BRACKETS = str.maketrans({"〔": "[", "〕": "]", "【": "[", "】": "]", "(": "[", ")": "]"})
_REGULATION_BRACKETS = str.maketrans({"〔": "(", "〕": ")", "【": "(", "】": ")"})
_DASHES = str.maketrans({c: "-" for c in "—–―‐‑‒－"})


def cities(province_code: str) -> sa.Select:
    """The prefecture-level cities of the province, for the city selector."""
    return (sa.select(Region.code, Region.name, Region.name_en)
            .where(Region.parent_code == province_code, Region.level == "city")
            .order_by(Region.code))


def public_standards_query(args: dict[str, Any], *, today: date) -> sa.Select:
    """Social public standards (社会公用计量标准) by name, certificate number, holder or city.

    Filters: ``q`` (name, certificate number or holder), ``city`` (a city's
    GB/T 2260 code: its own and its counties' institutions), ``valid``
    (only those whose certificate is good today: valid or expiring, as
    :func:`registry.standards.validity.validity` decides).  Each row carries
    its ``validity`` today.
    """
    holder_region = aliased(Region)
    parent_region = aliased(Region)
    # An institution sits in a city or in one of its counties; the public sees the city.
    in_county = holder_region.level == "county"
    city_name = sa.case((in_county, parent_region.name), else_=holder_region.name)
    city_name_en = sa.case((in_county, parent_region.name_en), else_=holder_region.name_en)
    stmt = (
        sa.select(S.certificate_no, S.name, S.range_text, S.issued_on, S.valid_until, S.status, S.is_demo,
                  Institution.name.label("holder"), city_name.label("city"), city_name_en.label("city_en"),
                  validity_case(today).label("validity"))
        .join(Institution, Institution.id == S.institution_id)
        .join(holder_region, holder_region.code == Institution.region_code)
        .outerjoin(parent_region, parent_region.code == holder_region.parent_code)
        .where(S.category == "social_public", S.withdrawn_at.is_(None), Institution.withdrawn_at.is_(None))
    )
    q = (args.get("q") or "").strip()
    if q:
        certificate = "".join(to_halfwidth(q).split()).translate(_CERTIFICATE_BRACKETS)
        stmt = stmt.where(sa.or_(_contains(S.name, q), _contains(Institution.name, q),
                                 _contains(S.certificate_no, certificate)))
    if args.get("city"):
        counties = sa.select(Region.code).where(Region.parent_code == args["city"])
        stmt = stmt.where(sa.or_(Institution.region_code == args["city"], Institution.region_code.in_(counties)))
    if args.get("valid"):
        stmt = stmt.where(validity_clause(GOOD_STATES, today))
    return stmt.order_by(Institution.region_code, Institution.name, S.name, S.id)


# Drafts and planned regulations are internal work; the public sees what has been published (and abolished).
PUBLIC_REGULATION_STATUSES = ("published", "implemented", "abolished")


def public_regulations_query(args: dict[str, Any]) -> sa.Select:
    """Local verification regulations and specifications (地方检定规程/规范) by code or title.

    A whole code matches in any spelling (``JJG（赣）123—2024``); a part of
    one matches whatever the brackets, dashes and spaces typed.
    """
    stmt = (sa.select(R.code, R.title, R.kind, R.status, R.published_on, R.implemented_on, R.is_demo)
            .where(R.level == "local", R.withdrawn_at.is_(None), R.status.in_(PUBLIC_REGULATION_STATUSES)))
    q = (args.get("q") or "").strip()
    if q:
        try:
            parse_regulation_code(q)
        except ValidationError:
            folded = "".join(to_halfwidth(q).upper().translate(_REGULATION_BRACKETS).translate(_DASHES).split())
            stmt = stmt.where(sa.or_(_contains(R.title, q), _contains(sa.func.replace(R.code, " ", ""), folded)))
        else:
            stmt = stmt.where(R.code == normalize_regulation_code(q))
    return stmt.order_by(R.year.desc(), R.code)


def _contains(column, text: str):
    """``column`` contains ``text``, case-insensitive, with LIKE's wildcards taken literally."""
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return column.ilike(pattern, escape="\\")
