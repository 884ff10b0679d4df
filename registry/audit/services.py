"""Write audit rows beside the change they record."""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Iterator

import sqlalchemy as sa
from flask import g, has_request_context

from registry.audit.models import AuditEvent
from registry.extensions import db

SYSTEM_ACTOR = "system"
# A note every audit row written meanwhile carries (``with audit_note("application:12")``): the
# changes a decision writes to a standard name the application that made them.
_NOTE: ContextVar[str | None] = ContextVar("audit_note", default=None)


@contextmanager
def audit_note(note: str) -> Iterator[None]:
    token = _NOTE.set(note)
    try:
        yield
    finally:
        _NOTE.reset(token)


def snapshot(obj: Any, *, exclude: tuple[str, ...] = ("created_at", "updated_at")) -> dict[str, Any]:
    """Return the column values of a mapped object as JSON-safe data."""
    data: dict[str, Any] = {}
    for column in sa.inspect(obj).mapper.column_attrs:
        if column.key in exclude:
            continue
        data[column.key] = jsonable(getattr(obj, column.key))
    return data


def jsonable(value: Any) -> Any:
    """A column value as JSON-safe data (dates as ISO text)."""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def record(
    action: str,
    obj: Any,
    *,
    actor: Any = None,
    before: dict | None = None,
    after: dict | None = None,
    note: str | None = None,
) -> AuditEvent:
    """Add an audit row for ``obj`` to the current transaction.

    ``actor`` is a :class:`User` or ``None`` for the system (CLI, seeding).
    The caller commits; a rollback takes the audit row with it.
    """
    db.session.flush()
    identity = sa.inspect(obj).identity
    event = AuditEvent(**event_values(
        action, obj.__tablename__, ":".join(str(part) for part in identity) if identity else "",
        actor=actor, before=before,
        after=after if after is not None else (snapshot(obj) if action != "delete" else None),
        note=note,
    ))
    db.session.add(event)
    return event


def event_values(action: str, entity_type: str, entity_id: Any, *, actor: Any = None, before: dict | None = None,
                 after: dict | None = None, note: str | None = None) -> dict[str, Any]:
    """The column values of one audit row, for :func:`record` and for bulk inserts (imports)."""
    return {
        "actor_id": getattr(actor, "id", None),
        "actor_label": getattr(actor, "email", None) or SYSTEM_ACTOR,
        "action": action,
        "entity_type": entity_type,
        "entity_id": str(entity_id),
        "before": before,
        "after": after,
        "note": note if note is not None else _NOTE.get(),
        "request_id": g.get("request_id") if has_request_context() else None,
    }
