"""Catalog actions: versions and their lines (regulators and admins)."""
from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from registry.auth.policy import ensure_can_write
from registry.catalog.models import LINE_LEVELS, SUPERVISION_MODES, VERIFICATION_FORMS, CatalogLine, CatalogVersion
from registry.records.codes import to_halfwidth
from registry.errors import Conflict, ValidationError
from registry.extensions import db
from registry.records.fields import Cleaner, a_date, boolean, choice, number, optional_text, required_text
from registry.records.services import apply_changes, audited_create, audited_update, ensure_unique

VERSION_FIELDS = ("name", "source_document", "effective_from", "declared_line_count", "is_partial", "description")
LINE_FIELDS = ("code", "name", "sub_name", "mode", "verification_form", "scope_note", "effective_from", "levels")
# How a level may be written: the code, the workbook's 省级/市级/县级, or the short name.
LEVEL_SPELLINGS = {
    "province": "province", "省级": "province", "省": "province",
    "city": "city", "市级": "city", "市": "city", "设区市": "city",
    "county": "county", "县级": "county", "县": "county",
}
_LEVEL_SEPARATORS = re.compile(r"[\s,，;；、/]+")


def _count(value: Any) -> int:
    result = number(optional=False, minimum=0)(value)
    if not float(result).is_integer():
        raise ValidationError("应为整数 / must be a whole number")
    return int(result)


def clean_version(data: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
    c = Cleaner(data, required=("name", "source_document", "effective_from", "declared_line_count"), partial=partial)
    c.field("name", required_text(200))
    c.field("source_document", required_text(300))
    c.field("effective_from", a_date())
    c.field("declared_line_count", _count)
    c.field("is_partial", boolean)
    c.field("description", optional_text(5000))
    return c.result("目录版本 catalog version")


def create_version(data: dict[str, Any], *, actor: Any) -> CatalogVersion:
    ensure_can_write(actor, CatalogVersion)
    values = clean_version(data)
    ensure_unique(CatalogVersion, CatalogVersion.name, values["name"], field="name", label="目录名称")
    return audited_create(CatalogVersion(**{"is_partial": False, **values}), actor=actor)


def update_version(version: CatalogVersion, data: dict[str, Any], *, actor: Any,
                   expected_version: int | None) -> CatalogVersion:
    values = clean_version(data, partial=True)
    if "name" in values:
        ensure_unique(CatalogVersion, CatalogVersion.name, values["name"], field="name", exclude_id=version.id,
                      label="目录名称")
    return audited_update(version, lambda obj: apply_changes(obj, values, fields=VERSION_FIELDS),
                          actor=actor, expected_version=expected_version)


def normalize_mode(value: Any) -> str:
    """``P``, ``V`` or ``P+V`` however typed (``p + v``, ``Ｐ＋Ｖ``)."""
    text = "".join(to_halfwidth(str(value or "")).split()).upper()
    return choice(SUPERVISION_MODES)(text)


def normalize_levels(value: Any) -> str | None:
    """The levels at which a standard is expected for a line, stored as ``province,city,county`` (in that order).

    Takes a list or a string separated like other multi-value cells; empty
    (None, "", []) means every level and is stored as NULL.  An unknown
    level is an error naming it.
    """
    if value is None:
        return None
    if isinstance(value, str):
        items = [item for item in _LEVEL_SEPARATORS.split(to_halfwidth(value).strip()) if item]
    elif isinstance(value, (list, tuple)):
        items = [to_halfwidth(str(item)).strip() for item in value if item is not None and str(item).strip()]
    else:
        raise ValidationError("应为层级列表 / must be a list of levels")
    unknown = [item for item in items if LEVEL_SPELLINGS.get(item.lower()) is None]
    if unknown:
        raise ValidationError(f"未知的建标层级：{'、'.join(unknown)}，应为 省级/市级/县级 / unknown level "
                              f"{', '.join(repr(u) for u in unknown)}: must be province, city or county")
    chosen = {LEVEL_SPELLINGS[item.lower()] for item in items}
    return ",".join(level for level in LINE_LEVELS if level in chosen) or None


def clean_line(data: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
    c = Cleaner(data, required=("code", "name", "mode"), partial=partial)
    c.field("code", required_text(20))
    c.field("name", required_text(200))
    c.field("sub_name", optional_text(200))
    c.field("mode", normalize_mode)
    c.field("verification_form", choice(VERIFICATION_FORMS, optional=True))
    c.field("scope_note", optional_text(5000))
    c.field("effective_from", a_date(optional=True))
    c.field("levels", normalize_levels)
    return c.result("目录条目 catalog line")


def add_line(version: CatalogVersion, data: dict[str, Any], *, actor: Any) -> CatalogLine:
    ensure_can_write(actor, CatalogLine)
    values = clean_line(data)
    _ensure_line_code_free(version.id, values["code"])
    return audited_create(CatalogLine(catalog_version_id=version.id, **values), actor=actor)


def update_line(line: CatalogLine, data: dict[str, Any], *, actor: Any, expected_version: int | None) -> CatalogLine:
    values = clean_line(data, partial=True)
    if "code" in values and values["code"] != line.code:
        _ensure_line_code_free(line.catalog_version_id, values["code"])
    return audited_update(line, lambda obj: apply_changes(obj, values, fields=LINE_FIELDS),
                          actor=actor, expected_version=expected_version)


def _ensure_line_code_free(version_id: int, code: str) -> None:
    taken = db.session.scalar(sa.select(CatalogLine.id).where(
        CatalogLine.catalog_version_id == version_id, CatalogLine.code == code))
    if taken is not None:
        raise Conflict(f"该目录已有序号 {code} / line code {code} already exists in this catalog", field="code")
