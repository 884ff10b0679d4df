"""Measurement standard actions: register, update (incl. status), withdraw."""
from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any, Callable

import sqlalchemy as sa
from flask import current_app

from registry.auth.policy import ensure_can_write, ensure_own_institution
from registry.catalog.models import CatalogLine
from registry.records.codes import certificate_search_key, normalize_certificate_no, normalize_standard_code
from registry.records.dates import add_months
from registry.errors import ValidationError
from registry.extensions import db
from registry.records.fields import Cleaner, References, a_date, boolean, choice, date_order, optional_text, required_text
from registry.institutions.services import institution_id
from registry.reference.models import Discipline
from registry.regulations.models import Regulation
from registry.records.services import apply_changes, audited_create, audited_update, ensure_unique
from registry.standards.models import (
    BUILD_KINDS,
    STANDARD_CATEGORIES,
    STANDARD_STATUSES,
    MeasurementStandard,
    StandardStatusPeriod,
    new_public_id,
)
from registry.standards.parsing import parse_range, parse_uncertainty
from registry.standards.validity import forget_status_periods

FIELDS = (
    "certificate_no", "name", "code", "category", "discipline_code", "institution_id", "range_text",
    "uncertainty_text", "issuer", "issued_on", "valid_until", "responsible_person", "status", "status_since",
    "is_carbon", "build_kind", "built_on", "is_demo",
)
DERIVED = ("range_lower", "range_upper", "range_unit", "uncertainty_kind", "uncertainty_value",
           "uncertainty_unit", "coverage_factor", "certificate_key", "public_id", "certified_since")
# A new standard starts in use; any other status is dated by what the caller gives, else not at all.
NEW_STATUS = "in_use"
REQUIRED = ("certificate_no", "name", "category", "institution_id", "issued_on")


def default_valid_until(issued_on: date) -> date:
    """Certificates run ``CERTIFICATE_VALIDITY_YEARS`` (4 by default) less a day."""
    return add_months(issued_on, 12 * current_app.config["CERTIFICATE_VALIDITY_YEARS"]) - timedelta(days=1)


# Field cleaners, built once: imports run clean_standard on every row.
_NAME = required_text(300)
_TEXT_300, _TEXT_200, _TEXT_100 = optional_text(300), optional_text(200), optional_text(100)
_CATEGORY, _STATUS = choice(STANDARD_CATEGORIES), choice(STANDARD_STATUSES)
_BUILD_KIND = choice(BUILD_KINDS, optional=True)
_DATE, _OPTIONAL_DATE = a_date(), a_date(optional=True)


def _code(value: Any) -> str | None:
    return None if value in (None, "") else normalize_standard_code(value)


_REQUIRED = frozenset(REQUIRED)


def standard_cleaners(refs: References) -> tuple[tuple[str, Callable[[Any], Any]], ...]:
    """The ``(field, cleaner)`` pairs :func:`clean_standard` runs with ``refs``, in order.

    An import builds them once per sheet and passes them for every row.
    """
    return (
        ("certificate_no", normalize_certificate_no),
        ("name", _NAME),
        ("code", _code),
        ("category", _CATEGORY),
        ("discipline_code", refs.discipline_code),
        ("institution_id", refs.institution_id),
        ("range_text", _TEXT_300),
        ("uncertainty_text", _TEXT_300),
        ("issuer", _TEXT_200),
        ("issued_on", _DATE),
        ("valid_until", _OPTIONAL_DATE),
        ("responsible_person", _TEXT_100),
        ("status", _STATUS),
        ("status_since", _OPTIONAL_DATE),
        ("is_carbon", boolean),
        ("build_kind", _BUILD_KIND),
        ("built_on", _OPTIONAL_DATE),
        ("is_demo", boolean),
        ("catalog_line_ids", refs.catalog_lines),
        ("regulation_ids", refs.regulations),
    )


def clean_standard(data: dict[str, Any], *, partial: bool = False,
                   current: MeasurementStandard | None = None, refs: References | None = None,
                   cleaners: tuple[tuple[str, Callable[[Any], Any]], ...] | None = None) -> dict[str, Any]:
    """Validate a standard; ``refs`` resolves institution, discipline, lines and regulations.

    With ``refs=None`` they are ids checked in the database
    (:class:`registry.records.fields.References`).  ``cleaners``, when given, are
    :func:`standard_cleaners` of the same ``refs`` (built once for many records).
    """
    refs = refs or _DATABASE_REFERENCES
    c = Cleaner(data, required=_REQUIRED, partial=partial)
    c.fields(cleaners or standard_cleaners(refs))

    if not partial and c.out.get("valid_until") is None and "issued_on" in c.out:
        c.out["valid_until"] = default_valid_until(c.out["issued_on"])
    date_order(c, "issued_on", "valid_until", current)
    if c.out.get("code") and "discipline_code" not in data and (current is None or current.discipline_code is None):
        if refs.discipline_exists(c.out["code"][:2]):
            c.out["discipline_code"] = c.out["code"][:2]
    if "build_kind" in c.out and c.out["build_kind"] and not c.out.get("built_on") and not getattr(current, "built_on", None):
        issued = c.out.get("issued_on") or getattr(current, "issued_on", None)
        c.out["built_on"] = issued
    values = c.result("计量标准 standard")
    for given, stored in (("catalog_line_ids", "catalog_lines"), ("regulation_ids", "regulations")):
        if given in values:
            values[stored] = values.pop(given)
    return values


def follow_on_values(values: dict[str, Any], current: Any | None) -> dict[str, Any]:
    """Fields that follow from setting ``values`` on ``current`` (``None`` when new).

    The certificate number's search key follows the number, a new standard
    gets its public page's id, the structured range and uncertainty are
    parsed from their text, and a
    status change the caller does not date is stored without a date (never
    today's: the registry would then count the standard as in use on every
    earlier date).
    """
    out: dict[str, Any] = {}
    if "certificate_no" in values:
        out["certificate_key"] = certificate_search_key(values["certificate_no"])
    if current is None:
        out["public_id"] = new_public_id()
    if current is None or "range_text" in values:
        parsed_range = parse_range(values.get("range_text"))
        out.update(range_lower=parsed_range.lower, range_upper=parsed_range.upper, range_unit=parsed_range.unit)
    if current is None or "uncertainty_text" in values:
        parsed = parse_uncertainty(values.get("uncertainty_text"))
        out.update(uncertainty_kind=parsed.kind, uncertainty_value=parsed.value, uncertainty_unit=parsed.unit,
                   coverage_factor=parsed.k)
    since = certified_since_after(values, current)
    if since is not _UNCHANGED:
        out["certified_since"] = since
    previous = NEW_STATUS if current is None else current.status
    if "status" in values and values["status"] != previous and "status_since" not in values:
        # A new status given without its date is stored without one: never dated by the clock of
        # the change.  A status other than in use without a date counts as in use on no date.
        out["status_since"] = None
    return out


def status_undated(values: dict[str, Any], current: Any | None) -> bool:
    """Whether saving ``values`` on ``current`` leaves a status other than in use without its date."""
    status = values.get("status", getattr(current, "status", NEW_STATUS))
    if "status_since" in values:
        since = values["status_since"]
    elif current is None or ("status" in values and values["status"] != current.status):
        since = None
    else:
        since = current.status_since
    return status != "in_use" and since is None


def ended_status_period(values: dict[str, Any], current: Any | None, *, today: date | None = None
                        ) -> dict[str, Any] | None:
    """The status period that saving ``values`` on ``current`` ends, as a ``standard_status_periods`` row, or None.

    A standard leaving a status other than in use (封存 to 在用 after a resumption, or to
    any other status) keeps that status on the days it held: from the old
    ``status_since`` (empty: not known, every day before) to the new status's date
    (exclusive).  A new status given without its date ends the period on ``today`` (the
    day of the change): the registry knew the old status until then, and past figures
    must not change.  Every writer of a standard's status calls this (the services and
    the imports: :func:`record_status_period`, ``importers.apply``).
    """
    if current is None or "status" not in values or values["status"] == current.status:
        return None
    if current.status == NEW_STATUS:
        return None
    ended = values.get("status_since") or today or date.today()
    started = current.status_since
    if started is not None and started >= ended:
        return None  # an end dated on or before the start: no day of the old status is known
    return {"standard_id": current.id, "status": current.status, "started_on": started, "ended_on": ended}


def record_status_period(standard: MeasurementStandard, values: dict[str, Any], *,
                         application_id: int | None = None) -> StandardStatusPeriod | None:
    """Add the period ``values`` ends (:func:`ended_status_period`) and flag the standard; call before applying them."""
    period = ended_status_period(values, standard)
    if period is None:
        return None
    row = StandardStatusPeriod(**period, application_id=application_id)
    db.session.add(row)
    forget_status_periods()
    standard.has_status_periods = True
    return row


def _links(standard: MeasurementStandard) -> dict[str, list[int]]:
    return {
        "catalog_line_ids": sorted(line.id for line in standard.catalog_lines),
        "regulation_ids": sorted(reg.id for reg in standard.regulations),
    }


def _apply(standard: MeasurementStandard, values: dict[str, Any], *, new: bool,
           application_id: int | None = None) -> None:
    values = dict(values)
    if not new:
        record_status_period(standard, values, application_id=application_id)
    lines = values.pop("catalog_lines", None)
    regulations = values.pop("regulations", None)
    values.update(follow_on_values(values, None if new else standard))
    apply_changes(standard, values, fields=FIELDS + DERIVED)
    if lines is not None:
        standard.catalog_lines = lines
    if regulations is not None:
        standard.regulations = regulations


def register_standard(data: dict[str, Any], *, actor: Any) -> MeasurementStandard:
    """Register a standard and its certificate (计量标准考核证书)."""
    ensure_can_write(actor, MeasurementStandard)
    values = clean_standard(data)
    ensure_own_institution(actor, values["institution_id"])
    ensure_unique(MeasurementStandard, MeasurementStandard.certificate_no, values["certificate_no"],
                  field="certificate_no", label="证书编号")
    standard = MeasurementStandard(status=NEW_STATUS, is_carbon=False)
    _apply(standard, values, new=True)
    audited_create(standard, actor=actor, extra_snapshot=_links)
    db.session.execute(record_current_certificates(lambda column: column == standard.id))
    return standard


def record_current_certificates(chosen: Any = None, *, created: bool = False) -> sa.Insert:
    """``INSERT ... SELECT``: each chosen standard's current certificate into its certificate history
    (``standard_certificates``), where that certificate (number and issue date) is not there yet.

    ``chosen(measurement_standards.id)`` picks the standards (default: all).  Every door that creates a
    standard runs it (the form and API here, the importer, the demo seed), so no standard's history is
    empty; an approval then notes its application on the row (``record_certificate``).  ``created``:
    the chosen standards were created in this transaction, so none has a history row to look for.
    """
    from registry.applications.models import StandardCertificate
    from registry.database.base import utcnow

    history = StandardCertificate.__table__
    standards = MeasurementStandard.__table__
    recorded = sa.exists().where(history.c.standard_id == standards.c.id,
                                 history.c.issued_on == standards.c.issued_on,
                                 history.c.certificate_no == standards.c.certificate_no)
    select = sa.select(standards.c.id, standards.c.certificate_no, standards.c.issued_on, standards.c.valid_until,
                       sa.literal(utcnow(), history.c.recorded_at.type))
    if not created:
        select = select.where(~recorded)
    if chosen is not None:
        select = select.where(chosen(standards.c.id))
    return sa.insert(history).from_select(
        ["standard_id", "certificate_no", "issued_on", "valid_until", "recorded_at"], select)


def update_standard(standard: MeasurementStandard, data: dict[str, Any], *, actor: Any,
                    expected_version: int | None, application_id: int | None = None) -> MeasurementStandard:
    """Change a standard; a status it leaves is kept as an ended period (:func:`record_status_period`),
    a certificate it renews or corrects in its certificate history (:class:`CertificateChanges`).

    ``application_id``: the approved application (恢复使用 …) the change carries out.
    """
    values = clean_standard(data, partial=True, current=standard)
    if "institution_id" in values:
        ensure_own_institution(actor, values["institution_id"])
    if "certificate_no" in values:
        ensure_unique(MeasurementStandard, MeasurementStandard.certificate_no, values["certificate_no"],
                      field="certificate_no", exclude_id=standard.id, label="证书编号")
    certificates = CertificateChanges()
    certificates.note(standard.id, values, standard)

    def change(obj: MeasurementStandard) -> None:
        # Run once the version is checked: a stale edit writes nothing, not even history.
        certificates.before(db.session.execute)
        _apply(obj, values, new=False, application_id=application_id)

    audited_update(standard, change, actor=actor, expected_version=expected_version, extra_snapshot=_links)
    if certificates:
        db.session.flush()
        certificates.after(db.session.execute)
    return standard


def _discipline(value: Any) -> str | None:
    if value in (None, ""):
        return None
    code = str(value).strip()
    if db.session.get(Discipline, code) is None:
        raise ValidationError(f"未知专业代码：{code} / unknown discipline {code!r}")
    return code


def _by_ids(model: type, value: Any, label: str) -> list:
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, int) for v in value):
        raise ValidationError(f"应为{label}编号列表 / must be a list of ids")
    ids = sorted(set(value))
    found = list(db.session.scalars(sa.select(model).where(model.id.in_(ids)))) if ids else []
    missing = sorted(set(ids) - {obj.id for obj in found})
    if missing:
        raise ValidationError(f"{label}不存在：{missing} / unknown ids {missing}")
    return found


def _catalog_lines(value: Any) -> list[CatalogLine]:
    return _by_ids(CatalogLine, value, "强检目录条目")


def _regulations(value: Any) -> list[Regulation]:
    return _by_ids(Regulation, value, "规程")


def _discipline_exists(code: str) -> bool:
    return db.session.get(Discipline, code) is not None


# References given as ids, the API's way: one query each.
_DATABASE_REFERENCES = SimpleNamespace(
    institution_id=institution_id, discipline_code=_discipline, discipline_exists=_discipline_exists,
    catalog_lines=_catalog_lines, regulations=_regulations,
)


def fill_search_keys(*, batch: int = 5000) -> int:
    """Give every standard missing them its certificate search key and public page id; return how many.

    The services keep both current (:func:`follow_on_values`) and the migration
    filled the rows before it; rows written around the services (bulk SQL, a
    benchmark's COPY) get them here.  Flushes; the caller commits.
    """
    table = MeasurementStandard.__table__
    filled = 0
    while True:
        rows = db.session.execute(
            sa.select(table.c.id, table.c.certificate_no, table.c.public_id)
            .where(sa.or_(table.c.certificate_key.is_(None), table.c.public_id.is_(None)))
            .order_by(table.c.id).limit(batch)).all()
        if not rows:
            return filled
        db.session.execute(
            table.update().where(table.c.id == sa.bindparam("row_id"))
            .values(certificate_key=sa.bindparam("key"), public_id=sa.bindparam("token")),
            [{"row_id": row.id, "key": certificate_search_key(row.certificate_no),
              "token": row.public_id or new_public_id()} for row in rows])
        filled += len(rows)


# --- The certificate history (``standard_certificates``) when certificate fields change -----------------

CERTIFICATE_FIELDS = ("certificate_no", "issued_on", "valid_until")
_PAGE = 2_000


def certificate_change(values: dict[str, Any], current: Any) -> str | None:
    """What saving ``values`` (cleaned) on ``current`` does to its certificate: ``"renewal"``, ``"correction"`` or None.

    An issue date moved later is a renewal (a new certificate, typed by hand); any other change of the
    number, the issue date or the validity is a correction of the certificate in force.  ``current`` is
    the stored standard (an object or a row); ``None`` (a new standard) changes no certificate.
    """
    if current is None:
        return None
    changed = [name for name in CERTIFICATE_FIELDS if name in values and values[name] != getattr(current, name)]
    if not changed:
        return None
    if "issued_on" in changed and values["issued_on"] > current.issued_on:
        return "renewal"
    return "correction"


_UNCHANGED: Any = object()


def certified_since_after(values: dict[str, Any], current: Any) -> Any:
    """The start of the unbroken run of certificates (``certified_since``) once ``values`` are saved on
    ``current``, or ``_UNCHANGED`` when the stored one stays.

    The rule of an approved re-examination, for a renewal typed by hand (:func:`certificate_change`):
    a new certificate starting no later than the day after the old one's ``valid_until`` continues the
    run, which keeps its start (the old ``certified_since``, else the old ``issued_on``); one starting
    after a gap starts the run again (empty: the new issue date).  A correction keeps the start unless
    the new issue date is on or before it (empty again).  Coverage and validity count the standard from
    ``coalesce(certified_since, issued_on)`` (:func:`registry.standards.validity.certified_from`).
    """
    if current is None or "issued_on" not in values or values["issued_on"] == current.issued_on:
        return _UNCHANGED
    issued, stored = values["issued_on"], current.certified_since
    if issued > current.issued_on:  # a renewal
        since = (stored or current.issued_on) if issued <= current.valid_until + timedelta(days=1) else None
    else:  # a correction
        since = None if stored is not None and issued <= stored else stored
    return _UNCHANGED if since == stored else since


class CertificateChanges:
    """The certificate history rule, for a set of standards whose certificate fields change.

    One rule for every door (the form and the API through :func:`update_standard`, the import's bulk
    update in ``importers.apply``), in set-based statements (one per kind per page of standards, none
    when no certificate changes):

    - a renewal (``issued_on`` moved later) adds the new certificate as a row; the row of the certificate
      it replaces stays (recorded first if it was missing);
    - a correction (same or earlier ``issued_on``, another number or validity) updates the row of the
      certificate in force, matched by the old number and issue date; when none is recorded the
      corrected certificate is added; when the corrected certificate is already a row of its own, that
      row is kept (with the new validity) and the mistaken one goes, unless an application produced it.

    Call :meth:`before` before the standards' rows change and :meth:`after` once they carry the new
    values (flushed), in the edit's transaction: the service calls both after the version check, the
    import inside its savepoint, so a stale or failing edit leaves the history as it was.
    """

    def __init__(self) -> None:
        self.renewed: list[int] = []
        self.corrected: list[tuple[int, str, date]] = []  # standard id, old number, old issue date

    def note(self, standard_id: int, values: dict[str, Any], current: Any) -> str | None:
        kind = certificate_change(values, current)
        if kind == "renewal":
            self.renewed.append(standard_id)
        elif kind == "correction":
            self.corrected.append((standard_id, current.certificate_no, current.issued_on))
        return kind

    def __bool__(self) -> bool:
        return bool(self.renewed or self.corrected)

    def before(self, execute: Any) -> None:
        """Renewals: the certificate being replaced is in the history (it normally is already)."""
        for part in _pages(self.renewed):
            execute(record_current_certificates(lambda column, part=part: column.in_(part)))

    def after(self, execute: Any) -> None:
        """Corrections update the row of the certificate they correct; every changed standard's
        certificate in force is then in the history, with its validity."""
        from registry.applications.models import StandardCertificate

        history = StandardCertificate.__table__
        standards = MeasurementStandard.__table__
        other = history.alias("other")
        for part in _pages(self.corrected):
            old = sa.tuple_(history.c.standard_id, history.c.certificate_no, history.c.issued_on).in_(part)
            # Another row already holds the corrected certificate (number and issue date).
            held = (sa.exists().where(other.c.standard_id == history.c.standard_id, other.c.id != history.c.id,
                                      other.c.certificate_no == standards.c.certificate_no,
                                      other.c.issued_on == standards.c.issued_on))
            execute(sa.update(history)
                    .values(certificate_no=standards.c.certificate_no, issued_on=standards.c.issued_on,
                            valid_until=standards.c.valid_until)
                    .where(standards.c.id == history.c.standard_id, old, ~held))
            # Left with its old number and date: a mistaken row whose correction is recorded already.
            mistaken = sa.exists().where(
                standards.c.id == history.c.standard_id,
                sa.or_(standards.c.certificate_no != history.c.certificate_no,
                       standards.c.issued_on != history.c.issued_on),
                sa.exists().where(other.c.standard_id == standards.c.id, other.c.id != history.c.id,
                                  other.c.certificate_no == standards.c.certificate_no,
                                  other.c.issued_on == standards.c.issued_on))
            execute(sa.delete(history).where(old, history.c.application_id.is_(None), mistaken))
        for part in _pages(self.renewed + [standard_id for standard_id, _, _ in self.corrected]):
            execute(sa.update(history).values(valid_until=standards.c.valid_until)
                    .where(standards.c.id == history.c.standard_id, history.c.standard_id.in_(part),
                           history.c.certificate_no == standards.c.certificate_no,
                           history.c.issued_on == standards.c.issued_on,
                           history.c.valid_until != standards.c.valid_until))
            execute(record_current_certificates(lambda column, part=part: column.in_(part)))


def _pages(items: list) -> list[list]:
    return [items[start:start + _PAGE] for start in range(0, len(items), _PAGE)]
