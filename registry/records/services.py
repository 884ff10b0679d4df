"""Steps every record service shares: apply changes, guard versions, withdraw.

Services change the session and flush; the boundary (request, CLI command,
import run) commits once, or rolls back on any error.
"""
from __future__ import annotations

from typing import Any, Iterable

import sqlalchemy as sa

from registry.audit.services import record, snapshot
from registry.auth.policy import ensure_can_read, ensure_can_withdraw, ensure_can_write
from registry.database.base import utcnow
from registry.errors import Conflict, NotFound, StaleEdit, ValidationError
from registry.extensions import db


def get_or_404(model: type, key: Any, *, actor: Any, include_withdrawn: bool = True):
    """Load one record the actor may read, or raise NotFound."""
    obj = db.session.get(model, key)
    if obj is None or (not include_withdrawn and getattr(obj, "withdrawn_at", None) is not None):
        raise NotFound("记录不存在 / not found")
    ensure_can_read(actor, obj)
    return obj


def check_version(obj: Any, expected_version: int | None) -> None:
    """Refuse an edit made against an older version of the record."""
    if expected_version is not None and expected_version != obj.version:
        raise StaleEdit(
            f"记录已被他人修改（当前版本 {obj.version}，提交的版本 {expected_version}），请刷新后重试 / "
            f"the record changed since you read it (now version {obj.version}, yours {expected_version})"
        )


def ensure_not_withdrawn(obj: Any) -> None:
    if getattr(obj, "withdrawn_at", None) is not None:
        raise Conflict("记录已撤回，不能修改 / the record has been withdrawn and cannot be changed")


def apply_changes(obj: Any, data: dict[str, Any], *, fields: Iterable[str]) -> dict[str, tuple[Any, Any]]:
    """Set the allowed fields that differ; return ``{field: (old, new)}``."""
    allowed = set(fields)
    unknown = set(data) - allowed
    if unknown:
        raise ValidationError(
            f"不可修改的字段 / fields that cannot be set: {', '.join(sorted(unknown))}",
            errors={name: ["不可修改 / cannot be set"] for name in sorted(unknown)},
        )
    changes = {}
    for name, value in data.items():
        old = getattr(obj, name)
        if old != value:
            changes[name] = (old, value)
            setattr(obj, name, value)
    return changes


def audited_update(obj: Any, change: callable, *, actor: Any, expected_version: int | None,
                   extra_snapshot: callable | None = None) -> Any:
    """Run ``change(obj)`` under the version guard and audit the difference.

    Returns the object; an edit that changes nothing writes no audit row and
    keeps the version.
    """
    ensure_can_write(actor, obj)
    ensure_not_withdrawn(obj)
    check_version(obj, expected_version)
    before = _full_snapshot(obj, extra_snapshot)
    change(obj)
    after = _full_snapshot(obj, extra_snapshot)
    if before != after:
        db.session.flush()
        after = _full_snapshot(obj, extra_snapshot)
        record("update", obj, actor=actor, before=_diff(before, after), after=_diff(after, before))
    return obj


def audited_create(obj: Any, *, actor: Any, extra_snapshot: callable | None = None) -> Any:
    db.session.add(obj)
    db.session.flush()
    record("create", obj, actor=actor, after=_full_snapshot(obj, extra_snapshot))
    return obj


def withdraw(obj: Any, reason: str, *, actor: Any, expected_version: int | None = None) -> Any:
    """Take a record out of the lists and counts; its history stays."""
    ensure_can_withdraw(actor, obj)
    ensure_not_withdrawn(obj)
    check_version(obj, expected_version)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("撤回须说明理由 / a reason is required", field="reason")
    obj.withdrawn_at = utcnow()
    obj.withdrawn_reason = reason[:500]
    db.session.flush()
    record("withdraw", obj, actor=actor, before={"withdrawn_at": None},
           after={"withdrawn_at": obj.withdrawn_at.isoformat(), "withdrawn_reason": obj.withdrawn_reason})
    return obj


def ensure_unique(model: type, column: Any, value: Any, *, field: str, exclude_id: Any = None, label: str) -> None:
    stmt = sa.select(sa.inspect(model).primary_key[0]).where(column == value)
    if exclude_id is not None:
        stmt = stmt.where(sa.inspect(model).primary_key[0] != exclude_id)
    if db.session.scalar(stmt.limit(1)) is not None:
        raise Conflict(f"{label}已存在：{value} / {field} {value} already exists", field=field)


def _full_snapshot(obj: Any, extra: callable | None) -> dict:
    data = snapshot(obj)
    data.pop("version", None)
    if extra:
        data.update(extra(obj))
    return data


def _diff(a: dict, b: dict) -> dict:
    return {k: v for k, v in a.items() if b.get(k) != v}
