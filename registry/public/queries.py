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

from registry.records.codes import certificate_search_key, is_whole_certificate_key, regulation_search_code, to_halfwidth
from registry.institutions.models import Institution
from registry.reference.models import Region
from registry.regulations.models import Regulation
from registry.standards.models import MeasurementStandard
from registry.standards.validity import GOOD_STATES, validity_case, validity_clause

S = MeasurementStandard
R = Regulation

# A part of a regulation code is matched with brackets and spaces left out on both sides.
_REGULATION_FOLD = str.maketrans({**{c: None for c in "〔〕【】()"}, **{c: "-" for c in "—–―‐‑‒－"}})


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
        sa.select(S.public_id, S.certificate_no, S.name, S.range_text, S.issued_on, S.valid_until, S.status, S.is_demo,
                  Institution.name.label("holder"), city_name.label("city"), city_name_en.label("city_en"),
                  validity_case(today).label("validity"))
        .join(Institution, Institution.id == S.institution_id)
        .join(holder_region, holder_region.code == Institution.region_code)
        .outerjoin(parent_region, parent_region.code == holder_region.parent_code)
        .where(S.category == "social_public", S.withdrawn_at.is_(None), Institution.withdrawn_at.is_(None))
    )
    q = (args.get("q") or "").strip()
    if q:
        key = certificate_search_key(q)
        if is_whole_certificate_key(key):
            # A whole number in any printed spelling: one look-up of the indexed search key.
            stmt = stmt.where(S.certificate_key == key)
        else:
            # The key is upper case already: LIKE, which is cheaper than ILIKE on Chinese text.
            stmt = stmt.where(sa.or_(_contains(S.name, q), _contains(Institution.name, q),
                                     _contains(S.certificate_key, key, fold_case=False)))
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

    A whole code matches in any spelling (``JJG（赣）123—2024``, ``JJG赣123-2024``,
    ``JJG 赣 123 2024``: :func:`registry.records.codes.regulation_search_code`); a part
    of one matches whatever the brackets, dashes and spaces typed.
    """
    stmt = (sa.select(R.code, R.title, R.kind, R.status, R.published_on, R.implemented_on, R.is_demo)
            .where(R.level == "local", R.withdrawn_at.is_(None), R.status.in_(PUBLIC_REGULATION_STATUSES)))
    q = (args.get("q") or "").strip()
    if q:
        code = regulation_search_code(q)
        if code is not None:
            stmt = stmt.where(R.code == code)
        else:
            folded = "".join(to_halfwidth(q).upper().translate(_REGULATION_FOLD).split())
            bare_code = sa.func.replace(sa.func.replace(sa.func.replace(R.code, " ", ""), "(", ""), ")", "")
            stmt = stmt.where(sa.or_(_contains(R.title, q), _contains(bare_code, folded)))
    return stmt.order_by(R.year.desc(), R.code)


def _contains(column, text: str, *, fold_case: bool = True):
    """``column`` contains ``text`` (case-insensitive where case exists), LIKE's wildcards taken literally.

    Text without letters that have a case (Chinese, digits) is matched with LIKE: ILIKE lower-cases
    every row first, which costs several times as much on PostgreSQL for the same answer.
    """
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    if fold_case and text.lower() != text.upper():
        return column.ilike(pattern, escape="\\")
    return column.like(pattern, escape="\\")


def public_standard_query(public_id: str) -> sa.Select:
    """One social public standard by its public page's id, with the columns its page shows.

    The status date and the withdrawal are read only to decide its validity
    today (:func:`registry.standards.validity.validity`); they are not shown.
    """
    holder_region = aliased(Region)
    parent_region = aliased(Region)
    in_county = holder_region.level == "county"
    return (
        sa.select(S.id, S.public_id, S.certificate_no, S.name, S.range_text, S.uncertainty_text, S.issuer,
                  S.issued_on, S.valid_until, S.status, S.status_since, S.has_status_periods, S.withdrawn_at,
                  S.is_demo,
                  Institution.name.label("holder"),
                  sa.case((in_county, parent_region.name), else_=holder_region.name).label("city"),
                  sa.case((in_county, parent_region.name_en), else_=holder_region.name_en).label("city_en"))
        .join(Institution, Institution.id == S.institution_id)
        .join(holder_region, holder_region.code == Institution.region_code)
        .outerjoin(parent_region, parent_region.code == holder_region.parent_code)
        .where(S.public_id == public_id, S.category == "social_public", S.withdrawn_at.is_(None),
               Institution.withdrawn_at.is_(None))
    )


def public_standard_items(standard_id: int) -> tuple[sa.Select, sa.Select]:
    """The items a standard covers: its mandatory-catalog lines and the regulations it applies."""
    from registry.catalog.models import CatalogLine
    from registry.standards.models import standard_catalog_lines, standard_regulations

    lines = (sa.select(CatalogLine.code, CatalogLine.name, CatalogLine.sub_name)
             .join(standard_catalog_lines, standard_catalog_lines.c.catalog_line_id == CatalogLine.id)
             .where(standard_catalog_lines.c.standard_id == standard_id, CatalogLine.withdrawn_at.is_(None))
             .order_by(CatalogLine.code))
    regulations = (sa.select(R.code, R.title)
                   .join(standard_regulations, standard_regulations.c.regulation_id == R.id)
                   .where(standard_regulations.c.standard_id == standard_id, R.withdrawn_at.is_(None))
                   .order_by(R.code))
    return lines, regulations
