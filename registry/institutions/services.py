"""Institution actions: register, update, withdraw."""
from __future__ import annotations

from typing import Any, Iterable

import sqlalchemy as sa

from registry.auth.policy import ensure_can_write, is_staff
from registry.records.codes import normalize_credit_code
from registry.errors import Forbidden, ValidationError
from registry.extensions import db
from registry.records.fields import Cleaner, References, boolean, choice, optional_text, required_text
from registry.institutions.models import INSTITUTION_KINDS, Institution
from registry.reference.models import Region
from registry.records.services import apply_changes, audited_create, audited_update, ensure_unique

FIELDS = ("credit_code", "name", "region_code", "serves_region_code", "kind", "contact", "phone", "is_demo")
REQUIRED = ("credit_code", "name", "region_code", "kind")
# What an institution user may change about their own institution.
SELF_SERVICE_FIELDS = ("contact", "phone")


def clean_institution(data: dict[str, Any], *, partial: bool = False,
                      refs: References | None = None, current: Institution | None = None) -> dict[str, Any]:
    """Validate and normalise institution fields; raise with every field error.

    ``refs`` resolves the region (see :class:`registry.records.fields.References`).
    The service area (``serves_region_code``) is the institution's own region
    or one above it; its own region, or empty, is stored as NULL.
    """
    resolve = refs.region_code if refs else region_code
    c = Cleaner(data, required=REQUIRED, partial=partial)
    c.field("credit_code", normalize_credit_code)
    c.field("name", required_text(200))
    c.field("region_code", resolve)
    c.field("serves_region_code", lambda value: None if value in (None, "") else resolve(value))
    own = c.out.get("region_code", current.region_code if current is not None else None)
    if c.out.get("serves_region_code") is not None and own is not None:
        served = c.out["serves_region_code"]
        if served == own:
            c.out["serves_region_code"] = None
        elif served not in region_ancestors(own):
            c.errors["serves_region_code"] = [
                f"服务区域应为本机构所属地区或其上级地区：{served} / the service area must be the institution's own "
                f"region or one above it: {served}"]
    c.field("kind", choice(INSTITUTION_KINDS))
    c.field("contact", optional_text(100))
    c.field("phone", optional_text(50))
    c.field("is_demo", boolean)
    return c.result("机构信息 institution")


def create_institution(data: dict[str, Any], *, actor: Any) -> Institution:
    ensure_can_write(actor, Institution)
    values = clean_institution(data)
    ensure_unique(Institution, Institution.credit_code, values["credit_code"], field="credit_code",
                  label="统一社会信用代码")
    return audited_create(Institution(**values), actor=actor)


def ensure_self_service(actor: Any, names: Iterable[str]) -> None:
    """An institution user may change only the contact and phone of their institution: the fields named decide."""
    if not is_staff(actor) and (set(names) & set(FIELDS)) - set(SELF_SERVICE_FIELDS):
        raise Forbidden("机构用户只能修改联系人和电话 / institution users may change only contact and phone")


def update_institution(institution: Institution, data: dict[str, Any], *, actor: Any,
                       expected_version: int | None) -> Institution:
    ensure_self_service(actor, data)
    values = clean_institution(data, partial=True, current=institution)
    if "credit_code" in values:
        ensure_unique(Institution, Institution.credit_code, values["credit_code"], field="credit_code",
                      exclude_id=institution.id, label="统一社会信用代码")
    return audited_update(institution, lambda obj: apply_changes(obj, values, fields=FIELDS),
                          actor=actor, expected_version=expected_version)


def find_region(value: Any) -> Region | None:
    """A region by GB/T 2260 code or by name (南昌市 or 南昌)."""
    text = str(value or "").strip()
    if not text:
        return None
    region = db.session.get(Region, text)
    if region is None:
        region = db.session.scalar(
            sa.select(Region).where(sa.or_(Region.name == text, Region.name == text + "市")).limit(1)
        )
    return region


def region_ancestors(code: str) -> list[str]:
    """The regions above ``code``, nearest first (a county's city, then the province)."""
    found: list[str] = []
    region = db.session.get(Region, code)
    while region is not None and region.parent_code and region.parent_code not in found:
        found.append(region.parent_code)
        region = db.session.get(Region, region.parent_code)
    return found


def region_code(value: Any) -> str:
    region = find_region(value)
    if region is None:
        raise ValidationError(f"未知地区：{value} / unknown region {value!r}")
    return region.code


def find_institution(credit_code: Any) -> Institution | None:
    return db.session.scalar(sa.select(Institution).where(Institution.credit_code == normalize_credit_code(credit_code)))


def institution_id(value: Any) -> int:
    """Clean a reference to an existing, current institution."""
    institution = db.session.get(Institution, value) if isinstance(value, int) and not isinstance(value, bool) else None
    if institution is None or institution.withdrawn_at is not None:
        raise ValidationError(f"机构不存在：{value} / no such institution {value!r}")
    return institution.id
