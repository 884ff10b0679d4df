"""Import run lists."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from registry.auth.policy import is_staff
from registry.imports.models import ImportRun


def runs_query(*, actor: Any) -> sa.Select:
    """Import runs, newest first: one's own, or every run for staff."""
    stmt = sa.select(ImportRun).order_by(ImportRun.id.desc())
    if not is_staff(actor):
        stmt = stmt.where(ImportRun.actor_id == getattr(actor, "id", None))
    return stmt
