"""Who may read and change what.  Every door (API, pages, importers) asks here.

- ``admin``: everything, including accounts.
- ``regulator``: reads everything in the province; manages every registry.
- ``institution``: reads and edits only its own institution, standards and
  staff; reads public reference data (catalog, regulations, indicators,
  regions, disciplines).  Another institution's record is answered as if it
  did not exist (404, never 403), so its existence does not leak.
- ``None`` actor: the system itself (CLI, seeding), recorded so in the audit.
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from registry.errors import Forbidden, NotFound
from registry.institutions.models import Institution
from registry.personnel.models import Person
from registry.standards.models import MeasurementStandard

STAFF_ROLES = frozenset({"admin", "regulator"})

# Models owned by an institution, with the column naming the owner.
OWNER_COLUMNS: dict[type, Any] = {
    Institution: Institution.id,
    MeasurementStandard: MeasurementStandard.institution_id,
    Person: Person.institution_id,
}


def is_staff(actor: Any) -> bool:
    """True for the system, admins and regulators."""
    return actor is None or actor.role in STAFF_ROLES


def owner_id(obj: Any) -> int | None:
    if isinstance(obj, Institution):
        return obj.id
    return getattr(obj, "institution_id", None)


def scope(stmt: sa.Select, model: type, actor: Any) -> sa.Select:
    """Restrict a query on ``model`` to what ``actor`` may read."""
    if is_staff(actor) or model not in OWNER_COLUMNS:
        return stmt
    return stmt.where(OWNER_COLUMNS[model] == actor.institution_id)


def ensure_can_read(actor: Any, obj: Any) -> None:
    if is_staff(actor) or type(obj) not in OWNER_COLUMNS:
        return
    if owner_id(obj) != actor.institution_id:
        raise NotFound("记录不存在 / not found")


def ensure_can_write(actor: Any, obj_or_model: Any) -> None:
    """Raise unless ``actor`` may create or change this record (or kind of record)."""
    if is_staff(actor):
        return
    creating = isinstance(obj_or_model, type)
    model = obj_or_model if creating else type(obj_or_model)
    # Institution users file standards and staff, never new institutions.
    if model not in OWNER_COLUMNS or (creating and model is Institution):
        raise Forbidden("机构用户不能修改此类记录 / institution users cannot change these records")
    if not creating:
        ensure_can_read(actor, obj_or_model)


def ensure_own_institution(actor: Any, institution_id: int | None, *, field: str = "institution_id") -> None:
    """An institution user may only file records under their own institution."""
    from registry.errors import ValidationError

    if not is_staff(actor) and institution_id != actor.institution_id:
        raise ValidationError("机构不存在 / no such institution", field=field)


def ensure_admin(actor: Any) -> None:
    if actor is not None and actor.role != "admin":
        raise Forbidden("仅管理员可操作 / admins only")


def ensure_can_read_audit(actor: Any) -> None:
    """The whole audit trail is for regulators and admins."""
    if not is_staff(actor):
        raise Forbidden("仅监管人员和管理员可查看审计记录 / the audit trail is for regulators and admins")


def ensure_can_withdraw(actor: Any, obj: Any) -> None:
    """Withdrawing is an edit, and an institution's own record is withdrawn only by staff."""
    ensure_can_write(actor, obj)
    if not is_staff(actor) and isinstance(obj, Institution):
        raise Forbidden("机构用户不能撤回机构 / institution users cannot withdraw an institution")


def ensure_can_read_coverage(actor: Any) -> None:
    """Province-wide coverage is for regulators and admins; institutions see their own expiring list."""
    if not is_staff(actor):
        raise Forbidden("覆盖率报告仅供监管人员和管理员 / coverage reports are for regulators and admins")
