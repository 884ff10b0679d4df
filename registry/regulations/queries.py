"""Regulation lists."""
from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from registry.records.codes import _DASHES, to_halfwidth
from registry.extensions import db
from registry.records.queries import listing, sort, where_equal
from registry.regulations.models import Regulation as R
from registry.standards.models import MeasurementStandard as S
from registry.standards.models import standard_regulations


def regulations_query(args: dict[str, Any], *, actor: Any) -> sa.Select:
    stmt = listing(R, actor=actor, include_withdrawn=args.get("include_withdrawn", False))
    stmt = where_equal(stmt, args, {"series": R.series, "level": R.level, "kind": R.kind, "status": R.status,
                                    "is_urgent": R.is_urgent, "is_carbon": R.is_carbon})
    q = (args.get("q") or "").strip()
    if q:
        stmt = stmt.where(sa.or_(_contains(R.code, code_search_text(q)), _contains(R.title, q)))
    return sort(stmt, args.get("sort"), {"code": R.code, "title": R.title, "year": R.year,
                                         "published_on": R.published_on, "id": R.id}, R.id)


def code_search_text(text: str) -> str:
    """A typed (part of a) regulation code in the stored spelling, so ``JJG（赣）123—`` finds ``JJG(赣) 123-2024``."""
    text = to_halfwidth(text).strip().replace("〔", "(").replace("〕", ")").replace("【", "(").replace("】", ")")
    text = re.sub(rf"\s*[{_DASHES}]\s*", "-", text)
    match = re.match(r"^(JJ[GF])\s*(?:\(\s*([^)\s]*)\s*\)?)?\s*(.*)$", text, flags=re.IGNORECASE)
    if not match:
        return text
    series, province, rest = match.groups()
    prefix = series.upper() + (f"({province})" if province else "")
    if province is not None and not province and not rest:  # "JJG(" : any local code of this series
        return series.upper() + "("
    return f"{prefix} {rest}" if rest else prefix


def _contains(column, text: str):
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return column.ilike(pattern, escape="\\")


def standards_applying(regulation: R, *, actor: Any, limit: int = 20) -> tuple[list, int]:
    """The first standards (that ``actor`` may read) whose items use this regulation, and how many there are."""
    stmt = listing(S, actor=actor).where(S.id.in_(
        sa.select(standard_regulations.c.standard_id).where(standard_regulations.c.regulation_id == regulation.id)))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0
    return list(db.session.scalars(stmt.order_by(S.name, S.id).limit(limit))), total


SUGGESTIONS = 10


def regulation_suggestions(text: str | None, *, limit: int = SUGGESTIONS) -> list[dict[str, str]]:
    """Regulations not withdrawn whose code (any width, dash or spacing) or title contains ``text``.

    ``value`` is the stored code, which the importer's rule
    (:func:`registry.records.codes.normalize_regulation_code`) reads back in any spelling.
    """
    from registry.records.queries import text_search

    text = (text or "").strip()
    if not text:
        return []
    squeezed = "".join(re.sub(f"[{_DASHES}]", "-", to_halfwidth(text)).split())
    code = sa.func.replace(R.code, " ", "")
    stmt = text_search(sa.select(R.code, R.title).where(R.withdrawn_at.is_(None)), squeezed, code)
    by_title = text_search(sa.select(R.code, R.title).where(R.withdrawn_at.is_(None)), text, R.title)
    rows = db.session.execute(sa.select(sa.union(stmt, by_title).subquery()).order_by("code").limit(limit))
    return [{"value": code, "label": f"{code} {title}"} for code, title in rows]
