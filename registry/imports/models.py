"""The record of each workbook import (the API polls it; the audit trail points at it)."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from registry.database.base import UTCDateTime, enum_column, utcnow
from registry.extensions import db

# queued → running → applied | previewed (dry run) | invalid (row errors) | rejected (unreadable file) | failed
# (a retry puts a failed run back to queued).
IMPORT_STATUSES = ("queued", "running", "applied", "previewed", "invalid", "rejected", "failed")
# Why a run failed (``failure_reason``); pages choose the text they show by it.
FAILURE_REASONS = (
    "lease_expired",     # its worker stopped updating the heartbeat (killed, machine lost)
    "error",             # an unexpected error in the worker (the worker's log has it)
    "interrupted",       # queued or running when the registry was upgraded to durable jobs
    "upload_missing",    # the stored upload was gone when the worker came to it
    "account_inactive",  # the account that started it was deactivated before it ran
)


class ImportRun(db.Model):
    """One import of one workbook: who, which file, how far, and the report.

    ``counts`` is ``{sheet: {created, updated, unchanged}}``; ``errors`` the row
    errors as ``{sheet, row, column, message}``; ``warnings`` the same for rows
    imported as given that deserve a look; ``changes`` the per-field
    differences of a dry run.  ``source_run_id`` is the clean dry run a
    confirmed import applies (one confirmation per preview).

    A background run is claimed by one worker (``worker_id``; ``attempts``
    counts the claims), which updates ``rows_done``/``rows_total`` and
    ``heartbeat_at`` from a second connection while the import's own
    transaction works; a run whose heartbeat is older than
    ``IMPORT_LEASE_SECONDS`` is failed, with ``failure_reason`` and ``message``.
    """

    __tablename__ = "import_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    actor_label: Mapped[str] = mapped_column(sa.String(254))
    filename: Mapped[str | None] = mapped_column(sa.String(255))
    status: Mapped[str] = mapped_column(enum_column(IMPORT_STATUSES, "import_status"), default="queued", index=True)
    dry_run: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    rows_total: Mapped[int] = mapped_column(sa.Integer, default=0)
    rows_done: Mapped[int] = mapped_column(sa.Integer, default=0)
    message: Mapped[str | None] = mapped_column(sa.Text)
    counts: Mapped[dict | None] = mapped_column(sa.JSON)
    errors: Mapped[list | None] = mapped_column(sa.JSON)
    warnings: Mapped[list | None] = mapped_column(sa.JSON)
    ignored_columns: Mapped[list | None] = mapped_column(sa.JSON)
    changes: Mapped[list | None] = mapped_column(sa.JSON)
    source_run_id: Mapped[int | None] = mapped_column(sa.ForeignKey("import_runs.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The lease of a background run (registry.imports.tasks).
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    worker_id: Mapped[str | None] = mapped_column(sa.String(255))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failure_reason: Mapped[str | None] = mapped_column(sa.String(40))
    # What the upload is, as its starter said: the sheet a CSV file is (None: told by its header),
    # and the language (zh or en) its messages are written in.
    sheet: Mapped[str | None] = mapped_column(sa.String(40))
    language: Mapped[str | None] = mapped_column(sa.String(8))

    @property
    def progress(self) -> float:
        """Share of rows processed, 0 to 1."""
        return self.rows_done / self.rows_total if self.rows_total else (1.0 if self.finished_at else 0.0)

    def __repr__(self) -> str:
        return f"<ImportRun {self.id} {self.status}>"
