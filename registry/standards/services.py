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
    new_public_id,
)
from registry.standards.parsing import parse_range, parse_uncertainty

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
    if (current is not None and "issued_on" in values and current.certified_since is not None
            and values["issued_on"] <= current.certified_since):
        # An issue date typed before the run of certificates began: the run starts at the issue date again.
        out["certified_since"] = None
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


def _links(standard: MeasurementStandard) -> dict[str, list[int]]:
    return {
        "catalog_line_ids": sorted(line.id for line in standard.catalog_lines),
        "regulation_ids": sorted(reg.id for reg in standard.regulations),
    }


def _apply(standard: MeasurementStandard, values: dict[str, Any], *, new: bool) -> None:
    values = dict(values)
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
    return audited_create(standard, actor=actor, extra_snapshot=_links)


def update_standard(standard: MeasurementStandard, data: dict[str, Any], *, actor: Any,
                    expected_version: int | None) -> MeasurementStandard:
    values = clean_standard(data, partial=True, current=standard)
    if "institution_id" in values:
        ensure_own_institution(actor, values["institution_id"])
    if "certificate_no" in values:
        ensure_unique(MeasurementStandard, MeasurementStandard.certificate_no, values["certificate_no"],
                      field="certificate_no", exclude_id=standard.id, label="证书编号")
    return audited_update(standard, lambda obj: _apply(obj, values, new=False), actor=actor,
                          expected_version=expected_version, extra_snapshot=_links)


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
