"""Who could close a coverage gap: the institutions that could cover a line in a region, ranked, with the reason.

A *gap* is a mandatory catalog line with no covering standard in a region at
its level (:func:`registry.coverage.services.coverage_gaps`: the province,
and each city).  For each gap, :func:`gap_candidates` names the institutions
that could close it, best first, each with every reason that applies and the
evidence (how many standards, the latest valid-until date, one certificate):

1. ``lapsed`` — an institution serving the region (in it, or serving it or a
   region above it: the coverage rule) holds a social public standard for the
   line whose certificate has expired, or which is sealed or under change on
   the date: a re-examination or a resumption closes the gap;
2. ``enterprise_highest`` — it holds an enterprise or institution highest
   standard (企事业单位最高计量标准) for the line, valid on the date: examined
   as a social public standard, it would cover;
3. ``neighbour`` — an institution in a neighbouring region
   (``region_adjacency``) covers the line there today: extending its service
   area to the region closes the gap (the province has no neighbour here);
4. ``discipline`` — an institution serving the region holds social public
   standards, valid on the date, of the line's discipline (the JJF 1022
   level-1 code most of the standards serving the line carry, anywhere in
   the province): it has the field's staff and traceability, not the standard.

Ranked by the best reason, then by how many standards prove it, the latest
valid-until date, the institution's name and id.  Each gap lists at most
``MAX_CANDIDATES`` and says how many there are.  The work is a fixed number
of queries whatever the number of gaps (grouped per line and institution in
SQL), then sorted here.
"""
from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any, Iterable

import sqlalchemy as sa
from flask import current_app

from registry.coverage.services import (
    GapList,
    _covering_clauses,
    _Serialisable,
    coverage_gaps,
    covering_statuses,
)
from registry.extensions import db
from registry.institutions.models import Institution
from registry.reference.models import Region, RegionAdjacency
from registry.standards.models import MeasurementStandard, standard_catalog_lines
from registry.standards.validity import GOOD_STATES, social_public, validity_case, validity_clause

S = MeasurementStandard
I = Institution  # noqa: E741
SCL = standard_catalog_lines

REASONS = ("lapsed", "enterprise_highest", "neighbour", "discipline")
# A social public standard for the line in one of these states on the date could cover again.
LAPSED_STATES = ("expired", "sealed", "changing")
MAX_CANDIDATES = 10
# The CLI's bilingual words for each reason (the pages translate their own).
REASON_LABELS = {
    "lapsed": ("持有该条目过期、封存或变更中的社会公用计量标准", "holds a lapsed social public standard for the line"),
    "enterprise_highest": ("持有该条目的企事业单位最高计量标准", "holds an enterprise-highest standard for the line"),
    "neighbour": ("相邻地区已覆盖该条目", "covers the line in a neighbouring region"),
    "discipline": ("本地区持有同专业的社会公用计量标准", "holds social public standards of the line's discipline here"),
}


@dataclass
class Evidence(_Serialisable):
    reason: str
    standard_count: int
    latest_valid_until: date | None
    example_certificate_no: str | None
    # neighbour: the neighbouring region; discipline: the JJF 1022 level-1 code
    detail: str | None = None


@dataclass
class Candidate(_Serialisable):
    rank: int
    institution_id: int
    institution_name: str
    credit_code: str
    region_code: str
    reason: str
    evidence: list[Evidence]


@dataclass
class GapCandidates(_Serialisable):
    region: str
    line_id: int
    line_code: str
    # The line's discipline(s) (JJF 1022 level-1), from the standards serving it; empty: none known.
    disciplines: list[str]
    candidate_count: int
    candidates: list[Candidate]


@dataclass
class GapListWithCandidates(GapList):
    """The gaps, and for each (region, line) the institutions that could close it."""

    candidates: list[GapCandidates]
    # Whether every neighbouring pair used is confirmed (the seed's Jiangxi pairs are not).
    neighbours_confirmed: bool


def gaps_with_candidates(as_of: date, region: str | None = None, *,
                         statuses: Iterable[str] | None = None) -> GapListWithCandidates:
    """The gaps of ``region`` (:func:`coverage_gaps`) with their candidates (:func:`gap_candidates`)."""
    gaps = coverage_gaps(as_of, region, statuses=statuses)
    found, confirmed = gap_candidates(gaps, statuses=statuses)
    return GapListWithCandidates(**{name: getattr(gaps, name) for name in GapList.__dataclass_fields__},
                                 candidates=found, neighbours_confirmed=confirmed)


def gap_candidates(gaps: GapList, *, statuses: Iterable[str] | None = None) -> tuple[list[GapCandidates], bool]:
    """The candidates for every gap in ``gaps``, in the gaps' order; and whether the neighbours used are confirmed."""
    as_of = gaps.as_of
    pairs = [(gaps.region, line) for line in gaps.uncovered]
    pairs += [(entry.region, line) for entry in gaps.by_region for line in entry.lines]
    if not pairs:
        return [], True
    covering = covering_statuses(statuses)
    line_ids = sorted({line.id for _, line in pairs})
    gap_regions = sorted({code for code, _ in pairs})

    regions = _RegionBook(gap_regions)
    acting = regions.acting_clause(gap_regions)
    holders = _line_holders(line_ids, as_of, acting)
    neighbour_rows = _neighbour_holders(line_ids, as_of, covering, regions)
    line_disciplines = _line_disciplines(line_ids)
    wanted = sorted({d for ds in line_disciplines.values() for d in ds})
    field_rows = _discipline_holders(wanted, as_of, acting) if wanted else []
    institutions = {row.institution_id: row for row in (*holders, *neighbour_rows, *field_rows)}

    # Rows indexed by where they can act, so each gap reads only its own: by line (or discipline) and by
    # every region an institution sits in, and separately by the area it serves when that is set.
    holders_in, holders_serving = regions.index(holders, lambda row: row.line_id)
    fields_in, fields_serving = regions.index(field_rows, lambda row: row.discipline)
    near_by_city: dict[tuple[int, str], list[Any]] = defaultdict(list)
    for row in neighbour_rows:
        for region in regions.above(row.region_code):
            near_by_city[row.line_id, region].append(row)

    results = []
    for region_code, line in pairs:
        found: dict[int, list[tuple]] = defaultdict(list)
        for row in regions.acting_in(holders_in, holders_serving, line.id, region_code):
            reason = "enterprise_highest" if row.kind == "enterprise_highest" else "lapsed"
            found[row.institution_id].append(_evidence(reason, row))
        for near in sorted(regions.neighbours(region_code)):
            for row in near_by_city.get((line.id, near), ()):
                found[row.institution_id].append(_evidence("neighbour", row, detail=near))
        for discipline in line_disciplines.get(line.id, []):
            for row in regions.acting_in(fields_in, fields_serving, discipline, region_code):
                found[row.institution_id].append(_evidence("discipline", row, detail=discipline))
        ranked = heapq.nsmallest(MAX_CANDIDATES, ((_rank_key(institutions[iid], evidence), iid, evidence)
                                                  for iid, evidence in found.items()))
        candidates = [_candidate(institutions[iid], evidence, rank) for rank, (_, iid, evidence)
                      in enumerate(ranked, start=1)]
        results.append(GapCandidates(region=region_code, line_id=line.id, line_code=line.code,
                                     disciplines=line_disciplines.get(line.id, []), candidate_count=len(found),
                                     candidates=candidates))
    return results, regions.confirmed


# --------------------------------------------------------------------------- ranking
# Evidence is gathered as plain tuples (reason, count, latest valid-until, example certificate, detail):
# a province gap may have thousands of candidates, and only the first MAX_CANDIDATES become objects.

def _evidence(reason: str, row: Any, *, detail: str | None = None) -> tuple:
    return (reason, row.standard_count, row.latest_valid_until, row.example_certificate_no, detail)


def _merged(evidence: list[tuple]) -> list[tuple]:
    """One entry per reason and detail (lapsed standards may be expired and sealed: counts add up), best first."""
    if len(evidence) == 1:
        return evidence
    merged: dict[tuple[str, str | None], tuple] = {}
    for item in evidence:
        key = (item[0], item[4])
        kept = merged.get(key)
        if kept is None:
            merged[key] = item
            continue
        merged[key] = (item[0], kept[1] + item[1],
                       max(filter(None, (kept[2], item[2])), default=None),
                       min(filter(None, (kept[3], item[3])), default=None), item[4])
    return sorted(merged.values(), key=_evidence_key)


def _evidence_key(item: tuple) -> tuple:
    return (REASONS.index(item[0]), -item[1], -(item[2] or date.min).toordinal(), item[4] or "")


def _rank_key(institution: Any, evidence: list[tuple]) -> tuple:
    """Best reason, then more standards proving it, the latest valid-until date, the name, the id."""
    best = _merged(evidence)[0]
    return (*_evidence_key(best)[:3], institution.institution_name, institution.institution_id)


def _candidate(institution: Any, evidence: list[tuple], rank: int) -> Candidate:
    ordered = [Evidence(reason=reason, standard_count=count, latest_valid_until=latest,
                        example_certificate_no=example, detail=detail)
               for reason, count, latest, example, detail in _merged(evidence)]
    return Candidate(rank=rank, institution_id=institution.institution_id,
                     institution_name=institution.institution_name, credit_code=institution.credit_code,
                     region_code=institution.region_code, reason=ordered[0].reason, evidence=ordered)


# --------------------------------------------------------------------------- regions and neighbours

class _RegionBook:
    """Which city a region is in, what lies above it, and its neighbours: read once."""

    def __init__(self, gap_regions: list[str]):
        rows = db.session.execute(sa.select(Region.code, Region.parent_code, Region.level)).all()
        self.parent = {code: parent for code, parent, _ in rows}
        self.level = {code: level for code, _, level in rows}
        self.province = current_app.config["PROVINCE_CODE"]
        adjacency = db.session.execute(
            sa.select(RegionAdjacency.region_code, RegionAdjacency.neighbour_code, RegionAdjacency.confirmed)
            .where(sa.or_(RegionAdjacency.region_code.in_(gap_regions),
                          RegionAdjacency.neighbour_code.in_(gap_regions)))).all()
        self._above: dict[str | None, tuple[str, ...]] = {}
        self._neighbours: dict[str, set[str]] = defaultdict(set)
        self.confirmed = True
        for a, b, confirmed in adjacency:
            self._neighbours[a].add(b)
            self._neighbours[b].add(a)
            self.confirmed = self.confirmed and bool(confirmed)

    def neighbours(self, code: str) -> set[str]:
        return self._neighbours.get(code, set())

    def acting_clause(self, gap_regions: list[str]) -> sa.ColumnElement[bool]:
        """Institutions that may serve one of the gap regions: in one of them, or with a service area set.

        A filter for the queries only (the exact rule is :meth:`acting_in`); the province's gap admits all.
        """
        if self.province in gap_regions:
            return sa.true()
        wanted = set(gap_regions)
        inside = sorted(code for code in self.parent if wanted & set(self.above(code)))
        return sa.or_(I.region_code.in_(inside), I.serves_region_code.is_not(None))

    def all_neighbours(self) -> set[str]:
        return {n for ns in self._neighbours.values() for n in ns}

    def above(self, code: str | None) -> tuple[str, ...]:
        """``code`` and the regions above it."""
        if code in self._above:
            return self._above[code]
        chain: list[str] = []
        current = code
        while current is not None and current not in chain:
            chain.append(current)
            current = self.parent.get(current)
        self._above[code] = tuple(chain)
        return self._above[code]

    def index(self, rows: list[Any], key) -> tuple[dict, dict]:
        """Rows by (key, each region their institution sits in), and by (key, the area it serves when set)."""
        sitting: dict[tuple[Any, str], list[Any]] = defaultdict(list)
        serving: dict[tuple[Any, str], list[Any]] = defaultdict(list)
        for row in rows:
            k = key(row)
            for region in self.above(row.region_code):
                sitting[k, region].append(row)
            if row.serves_region_code is not None:
                serving[k, row.serves_region_code].append(row)
        return sitting, serving

    def acting_in(self, sitting: dict, serving: dict, key: Any, gap_region: str) -> list[Any]:
        """The indexed rows whose institution serves ``gap_region`` (the coverage rule), each once."""
        rows = {id(row): row for row in sitting.get((key, gap_region), ())}
        for region in self.above(gap_region):
            for row in serving.get((key, region), ()):
                rows.setdefault(id(row), row)
        return list(rows.values())


# --------------------------------------------------------------------------- queries (a fixed number)

# Each grouped row names its institution: no second look-up by id.
_INSTITUTION_COLUMNS = (I.id.label("institution_id"), I.name.label("institution_name"), I.credit_code,
                        I.region_code, I.serves_region_code)


def _evidence_columns(table: Any) -> tuple:
    return (sa.func.count().label("standard_count"), sa.func.max(table.c.valid_until).label("latest_valid_until"),
            sa.func.min(table.c.certificate_no).label("example_certificate_no"))


# Each grouping runs over a subquery's plain columns: PostgreSQL binds the parameters of an expression
# in SELECT and in GROUP BY separately and would not see them as the same expression.

def _line_holders(line_ids: list[int], as_of: date, acting: sa.ColumnElement[bool]) -> list[Any]:
    """Per line and institution: lapsed social public standards, and enterprise-highest ones good on the date."""
    state = validity_case(as_of)
    rows = (
        sa.select(SCL.c.catalog_line_id.label("line_id"), I.id.label("institution_id"),
                  sa.case((S.category == "enterprise_highest", "enterprise_highest"), else_=state).label("kind"),
                  S.valid_until, S.certificate_no)
        .select_from(SCL).join(S, S.id == SCL.c.standard_id).join(I, I.id == S.institution_id)
        .where(SCL.c.catalog_line_id.in_(line_ids), S.withdrawn_at.is_(None), I.withdrawn_at.is_(None), acting,
               sa.or_(sa.and_(social_public(), state.in_(LAPSED_STATES)),
                      sa.and_(S.category == "enterprise_highest", validity_clause(GOOD_STATES, as_of))))
    ).subquery("held")
    return db.session.execute(
        sa.select(rows.c.line_id, rows.c.kind, *_evidence_columns(rows), *_INSTITUTION_COLUMNS)
        .join(I, I.id == rows.c.institution_id)
        .group_by(rows.c.line_id, rows.c.kind, *_INSTITUTION_COLUMNS)
    ).all()


def _neighbour_holders(line_ids: list[int], as_of: date, covering: tuple[str, ...],
                       regions: _RegionBook) -> list[Any]:
    """Per line and institution: standards covering the line on the date, held in a neighbour of a gap region."""
    near = regions.all_neighbours()
    if not near:
        return []
    near_codes = sa.select(Region.code).where(sa.or_(Region.code.in_(near), Region.parent_code.in_(near)))
    rows = (
        sa.select(SCL.c.catalog_line_id.label("line_id"), I.id.label("institution_id"), S.valid_until,
                  S.certificate_no)
        .select_from(SCL).join(S, S.id == SCL.c.standard_id).join(I, I.id == S.institution_id)
        .where(SCL.c.catalog_line_id.in_(line_ids), I.withdrawn_at.is_(None), I.region_code.in_(near_codes),
               *_covering_clauses(as_of, covering))
    ).subquery("near")
    return db.session.execute(
        sa.select(rows.c.line_id, *_evidence_columns(rows), *_INSTITUTION_COLUMNS)
        .join(I, I.id == rows.c.institution_id)
        .group_by(rows.c.line_id, *_INSTITUTION_COLUMNS)
    ).all()


def _discipline_of():
    return sa.func.coalesce(S.discipline_code, sa.func.substr(S.code, 1, 2))


def _line_disciplines(line_ids: list[int]) -> dict[int, list[str]]:
    """Each line's discipline: the JJF 1022 level-1 code most of its (non-withdrawn) standards carry; ties all."""
    rows = (
        sa.select(SCL.c.catalog_line_id.label("line_id"), _discipline_of().label("discipline"))
        .select_from(SCL).join(S, S.id == SCL.c.standard_id)
        .where(SCL.c.catalog_line_id.in_(line_ids), S.withdrawn_at.is_(None))
    ).subquery("served")
    counts: dict[int, Counter] = defaultdict(Counter)
    for line_id, code, count in db.session.execute(
            sa.select(rows.c.line_id, rows.c.discipline, sa.func.count())
            .where(rows.c.discipline.is_not(None)).group_by(rows.c.line_id, rows.c.discipline)):
        counts[line_id][code] = count
    out = {}
    for line_id, counter in counts.items():
        most = max(counter.values())
        out[line_id] = sorted(code for code, count in counter.items() if count == most)
    return out


def _discipline_holders(disciplines: list[str], as_of: date, acting: sa.ColumnElement[bool]) -> list[Any]:
    """Per institution and discipline: its social public standards good on the date."""
    rows = (
        sa.select(I.id.label("institution_id"), _discipline_of().label("discipline"), S.valid_until,
                  S.certificate_no)
        .select_from(S).join(I, I.id == S.institution_id)
        .where(social_public(), validity_clause(GOOD_STATES, as_of), I.withdrawn_at.is_(None),
               acting, _discipline_of().in_(disciplines))
    ).subquery("field")
    return db.session.execute(
        sa.select(rows.c.discipline, *_evidence_columns(rows), *_INSTITUTION_COLUMNS)
        .join(I, I.id == rows.c.institution_id)
        .group_by(rows.c.discipline, *_INSTITUTION_COLUMNS)
    ).all()
