"""Is this certificate good on a date?  One answer, in Python and in SQL.

:func:`validity` decides what every page, export, API field and the public
query show for a standard on a day *D*, from its status, status date,
certificate dates and whether the record is withdrawn:

1. ``withdrawn``: the record was withdrawn (a registration error, whatever the date);
2. ``sealed``, ``revoked``, ``changing``: its status other than in use has
   taken effect by *D* (``status_since`` on or before *D*, or not known: a
   status without a date holds on every date, as in the coverage counts),
   or *D* falls in one of its ended status periods (``standard_status_periods``:
   sealed from March to September, in use again since; that period's status);
3. ``not_yet_valid``: *D* is before the issue date (of the first certificate of an
   unbroken run: :func:`certified_from`);
4. ``expired``: *D* is after the valid-until date;
5. ``expiring``: valid on *D*, and the valid-until date is within
   ``REEXAMINATION_LEAD_MONTHS`` of *D* (on or before *D* plus that many
   months: the window of :func:`registry.coverage.services.expiring_certificates`);
6. ``valid`` otherwise.

:func:`validity_case` is the same rule as one SQL ``CASE`` expression and
:func:`validity_clause` as a filter per state (the lists' ``validity``
filter); the tests check all three agree on every status and date position.
"""
from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import current_app, g, has_app_context

from registry.records.dates import add_months
from registry.extensions import db
from registry.standards.models import MeasurementStandard, StandardStatusPeriod

S = MeasurementStandard
SP = StandardStatusPeriod
STATUS_STATES = ("sealed", "revoked", "changing")
VALIDITY_STATES = ("valid", "expiring", "expired", "not_yet_valid", *STATUS_STATES, "withdrawn")
# The states in which the certificate is good on the day.
GOOD_STATES = ("valid", "expiring")
VALIDITY_LABELS = {
    "valid": ("有效", "Valid"),
    "expiring": ("即将到期", "Expiring"),
    "expired": ("已过期", "Expired"),
    "not_yet_valid": ("尚未生效", "Not yet valid"),
    "sealed": ("封存", "Sealed"),
    "revoked": ("撤销", "Revoked"),
    "changing": ("变更中", "Under change"),
    "withdrawn": ("已撤回", "Withdrawn"),
}
VALIDITY_TAGS = {"valid": "tag-ok", "expiring": "tag-warn", "expired": "tag-bad", "not_yet_valid": "tag-warn",
                 "sealed": "tag-warn", "revoked": "tag-bad", "changing": "tag-warn", "withdrawn": "tag-bad"}


def lead_months(months: int | None = None) -> int:
    return current_app.config["REEXAMINATION_LEAD_MONTHS"] if months is None else months


def status_periods(standard_ids: list[int] | set[int]) -> dict[int, list[tuple[str, date | None, date]]]:
    """The ended status periods of ``standard_ids``: ``{id: [(status, started_on, ended_on), ...]}``, oldest first."""
    out: dict[int, list[tuple[str, date | None, date]]] = {}
    if not standard_ids:
        return out
    rows = db.session.execute(sa.select(SP.standard_id, SP.status, SP.started_on, SP.ended_on)
                              .where(SP.standard_id.in_(sorted(standard_ids)))
                              .order_by(SP.standard_id, SP.ended_on, SP.id))
    for standard_id, status, started_on, ended_on in rows:
        out.setdefault(standard_id, []).append((status, started_on, ended_on))
    return out


_CACHE = "_status_periods"


def prefetch_status_periods(rows: Any) -> None:
    """Read the ended periods of every flagged standard among ``rows`` in one statement, for :func:`validity`.

    A list (a page, an API page, a coverage list) calls it once, so showing each
    row's validity costs no statement per row; a lone record needs no call.  The
    periods are kept for the application context and dropped when one is written
    (:func:`forget_status_periods`).
    """
    if not has_app_context():
        return
    cache = g.setdefault(_CACHE, {})
    ids = {row.id for row in rows if getattr(row, "has_status_periods", False) and row.id not in cache}
    if ids:
        found = status_periods(ids)
        cache.update({standard_id: found.get(standard_id, []) for standard_id in ids})


def forget_status_periods() -> None:
    """Drop the periods kept by :func:`prefetch_status_periods` (a period was written)."""
    if has_app_context():
        g.pop(_CACHE, None)


def _periods_of(standard_id: int) -> list[tuple[str, date | None, date]]:
    """The ended periods of one flagged standard: kept ones, or, with no app context or none kept, read now.

    Model instances of the session that are flagged and not kept yet are read in the
    same statement, so a list of models (API, pages) costs one statement, not one a row.
    """
    if not has_app_context():
        return status_periods([standard_id]).get(standard_id, [])
    cache = g.setdefault(_CACHE, {})
    if standard_id not in cache:
        pending = [obj for obj in list(db.session.identity_map.values())
                   if isinstance(obj, S) and obj.__dict__.get("has_status_periods") and obj.id not in cache]
        ids = {standard_id, *(obj.id for obj in pending)}
        found = status_periods(ids)
        cache.update({i: found.get(i, []) for i in ids})
    return cache[standard_id]


def period_status(periods: Any, on: date) -> str | None:
    """The status of the ended period in ``periods`` (``(status, started_on, ended_on)``) holding ``on``, if any."""
    for status, started_on, ended_on in periods or ():
        if (started_on is None or started_on <= on) and on < ended_on:
            return status
    return None


def validity(standard: Any, on: date, *, months: int | None = None, periods: Any = None) -> str:
    """The state of ``standard`` (a model or any row with its columns) on ``on``.

    ``periods``: its ended status periods (:func:`status_periods`), read here when the
    standard has some (``has_status_periods``) and the caller did not give them.
    """
    if periods is None and getattr(standard, "has_status_periods", False):
        periods = _periods_of(standard.id)
    return certificate_validity(
        status=standard.status, status_since=standard.status_since,
        issued_on=getattr(standard, "certified_since", None) or standard.issued_on,
        valid_until=standard.valid_until, withdrawn=getattr(standard, "withdrawn_at", None) is not None,
        on=on, months=months, periods=periods)


def certificate_validity(*, status: str, status_since: date | None, issued_on: date, valid_until: date,
                         withdrawn: bool, on: date, months: int | None = None, periods: Any = None) -> str:
    """The state on ``on`` from the fields themselves (see the module's rules)."""
    if withdrawn:
        return "withdrawn"
    if status != "in_use" and (status_since is None or status_since <= on):
        return status
    past = period_status(periods, on)
    if past is not None:
        return past
    if on < issued_on:
        return "not_yet_valid"
    if valid_until < on:
        return "expired"
    if valid_until <= add_months(on, lead_months(months)):
        return "expiring"
    return "valid"


def social_public(standard: Any = S) -> sa.ColumnElement[bool]:
    """``category = 'social_public'``, the category written as a literal, as every coverage count states it.

    ``ix_measurement_standards_in_force`` holds only the social public standards not withdrawn (a partial
    index, a third the size of one keyed by category); a database uses a partial index only for a query
    whose WHERE states the index's own condition, which SQLite checks on the SQL text (a bound parameter
    never matches).  ``standard`` may be an alias of :class:`MeasurementStandard`.
    """
    return standard.category == sa.literal_column("'social_public'")


def certified_from(standard: Any = S) -> sa.ColumnElement:
    """The first day a standard counts as certified: the start of its unbroken run of certificates.

    ``certified_since`` is set when an approved re-examination renewed the
    certificate before it expired (registry.applications); otherwise the
    issue date.  Every "certificate valid on D" condition (here, coverage,
    renewals) uses this, so a renewal never takes past days away.
    ``standard`` may be an alias of :class:`MeasurementStandard`.
    """
    return sa.func.coalesce(standard.certified_since, standard.issued_on)


def _period_holding(on: Any, standard: Any = S) -> sa.ColumnElement[bool]:
    return sa.and_(SP.standard_id == standard.id, SP.ended_on > on,
                   sa.or_(SP.started_on.is_(None), SP.started_on <= on))


def _standards_in_a_period(on: Any, statuses: tuple[str, ...] | None, window_end: Any) -> sa.Select:
    """The ids of the standards an ended status period of which holds ``on`` (every day to ``window_end``),
    with a status outside ``statuses`` when given.  Not correlated with the standard: one hashed list per
    query on PostgreSQL (correlated only with an enclosing query's date, as the forecast's)."""
    where = [SP.ended_on > (on if window_end is None else window_end),
             sa.or_(SP.started_on.is_(None), SP.started_on <= on)]
    if statuses is not None:
        where.append(SP.status.not_in(statuses))
    return sa.select(SP.standard_id).where(*where).correlate_except(SP)


def _listed(standard_id: Any, listed: sa.Select) -> sa.ColumnElement[bool]:
    """``standard_id`` is among the ids ``listed`` selects (its negation: not among them).

    On PostgreSQL written ``= ANY(ARRAY(SELECT ...))``: the list is an InitPlan, read and priced
    once.  As ``IN`` (a hashed SubPlan) PostgreSQL charges the list's cost to every look-up of a
    standard by its id, and the coverage probes (one per city and line) turn from look-ups into
    hash joins of every link of the line: 20x slower at 1,000,000 standards.  Same rows.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        return standard_id == sa.any_(sa.func.array(listed.scalar_subquery()))
    return standard_id.in_(listed)


def in_status_period(on: Any, statuses: tuple[str, ...] | None = None, *, standard: Any = S,
                     window_end: Any = None) -> sa.ColumnElement[bool]:
    """One of the standard's ended status periods holds ``on`` (with a status outside ``statuses``, when given).

    ``window_end``: the period holds every day from ``on`` to ``window_end``.  The flag
    ``has_status_periods`` is read first: a standard without periods (nearly all) is
    decided from the coverage index alone.
    """
    return sa.and_(standard.has_status_periods.is_(True),
                   _listed(standard.id, _standards_in_a_period(on, statuses, window_end)))


def outside_status_periods(on: Any, statuses: tuple[str, ...] | None = None, *, standard: Any = S,
                           window_end: Any = None) -> sa.ColumnElement[bool]:
    """The negation of :func:`in_status_period`: what "in use on ``on``" adds to the current status's rule.

    On a given date, ``id NOT IN`` the periods' list (read once per query); on an enclosing query's
    date (the forecast's months), ``NOT EXISTS`` a period of this standard (an index look-up, for the
    few flagged standards only).
    """
    if isinstance(on, date):
        return sa.or_(standard.has_status_periods.is_(False),
                      ~_listed(standard.id, _standards_in_a_period(on, statuses, window_end)))
    holding = sa.and_(SP.standard_id == standard.id, SP.ended_on > (on if window_end is None else window_end),
                      sa.or_(SP.started_on.is_(None), SP.started_on <= on))
    if statuses is not None:
        holding = sa.and_(holding, SP.status.not_in(statuses))
    return sa.or_(standard.has_status_periods.is_(False), ~sa.exists().where(holding).correlate_except(SP))


def _status_in_effect(on: Any) -> sa.ColumnElement[bool]:
    return sa.and_(S.status != "in_use", sa.or_(S.status_since.is_(None), S.status_since <= on))


def _in_use(on: Any) -> sa.ColumnElement[bool]:
    """Not withdrawn and in use on ``on``: the negation of steps 1 and 2."""
    return sa.and_(S.withdrawn_at.is_(None), sa.or_(S.status == "in_use", S.status_since > on),
                   outside_status_periods(on))


def validity_case(on: date, *, months: int | None = None) -> sa.Case:
    """:func:`validity` as a SQL expression over ``measurement_standards`` (one of ``VALIDITY_STATES``)."""
    horizon = add_months(on, lead_months(months))
    return sa.case(
        (S.withdrawn_at.is_not(None), "withdrawn"),
        (_status_in_effect(on), S.status),
        (in_status_period(on), sa.select(SP.status).where(_period_holding(on)).order_by(SP.ended_on)
         .limit(1).correlate_except(SP).scalar_subquery()),
        (certified_from() > on, "not_yet_valid"),
        (S.valid_until < on, "expired"),
        (S.valid_until <= horizon, "expiring"),
        else_="valid",
    )


def validity_clause(states: str | tuple[str, ...] | list[str], on: date, *,
                    months: int | None = None) -> sa.ColumnElement[bool]:
    """Standards whose :func:`validity` on ``on`` is one of ``states``, as a filter the indexes can serve."""
    if isinstance(states, str):
        states = (states,)
    unknown = set(states) - set(VALIDITY_STATES)
    if unknown:
        raise ValueError(f"unknown validity states: {sorted(unknown)}")
    horizon = add_months(on, lead_months(months))
    clauses = []
    for state in states:
        if state == "withdrawn":
            clauses.append(S.withdrawn_at.is_not(None))
        elif state in STATUS_STATES:
            clauses.append(sa.and_(S.withdrawn_at.is_(None), sa.or_(
                sa.and_(S.status == state, sa.or_(S.status_since.is_(None), S.status_since <= on)),
                sa.and_(sa.not_(_status_in_effect(on)), S.has_status_periods.is_(True),
                        sa.exists().where(_period_holding(on), SP.status == state).correlate_except(SP)))))
        elif state == "not_yet_valid":
            clauses.append(sa.and_(_in_use(on), certified_from() > on))
        elif state == "expired":
            clauses.append(sa.and_(_in_use(on), certified_from() <= on, S.valid_until < on))
        elif state == "expiring":
            clauses.append(sa.and_(_in_use(on), certified_from() <= on, S.valid_until >= on,
                                   S.valid_until <= horizon))
        else:  # valid
            clauses.append(sa.and_(_in_use(on), certified_from() <= on, S.valid_until > horizon))
    return sa.or_(*clauses) if len(clauses) > 1 else clauses[0]


def status_undated_clause(covering: tuple[str, ...] | None = None) -> sa.ColumnElement[bool]:
    """A status that does not count as in use (``COVERING_STATUSES``), recorded without its date.

    Such a standard counts as in use on no date (coverage, :func:`validity`):
    the registry does not know since when the status holds.
    """
    if covering is None:
        covering = tuple(current_app.config["COVERING_STATUSES"])
    # ``status <> 'in_use'`` written as a literal: the partial index
    # ix_measurement_standards_undated_status serves the query on both databases.
    return sa.and_(S.status_since.is_(None), S.status != sa.literal_column("'in_use'"), S.status.not_in(covering))
