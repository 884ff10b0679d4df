"""The import entry point shared by the CLI and the API."""
from __future__ import annotations

import os
from contextlib import nullcontext
from datetime import date
from pathlib import Path
from typing import Any, Callable

import sqlalchemy as sa
from flask import current_app

from registry.audit.services import record
from registry.catalog.models import CatalogVersion
from registry.database.base import utcnow
from registry.errors import DomainError
from registry.extensions import db
from registry.imports.models import ImportRun

from importers.apply import Applier
from importers.bulk import paused_gc
from importers.pipeline import Pipeline, pipeline_available
from importers.csvfile import open_book
from importers.early import EarlyUpload
from importers.extent_halves import PreparedHalves
from importers.messages import language, msg, speaking
from importers.reading import Book, SheetLayout
from importers.references import WorkbookReferences, catalog_in_force
from importers.report import ACTIONS, ImportReport
from importers.safety import Limits, RejectedFile, Source, inspect_upload, read_source
from importers.spec import SHEETS
from importers.validation import HANDLERS, Context, SheetPlan, diff_entry, validate_sheet

Progress = Callable[[int, int], None]


def run_import(source: Source | EarlyUpload, *, actor: Any, dry_run: bool = False, filename: str | None = None,
               catalog_version: str | None = None, run: ImportRun | None = None,
               progress: Progress | None = None, today: date | None = None, sheet: str | None = None,
               lang: str | None = None) -> ImportReport:
    """Validate a workbook and, when every row is valid and this is not a dry run, apply it.

    ``source`` is a path, bytes or a binary file object: an .xlsx, .xls or .ods workbook
    or a CSV file (told by its content; ``filename`` and its extension help tell text from
    something else), or an :class:`~importers.early.EarlyUpload` of a path (``registry import``).
    A CSV file is one sheet, told by its header or named by ``sheet``.
    Every message is in ``lang`` (``zh`` or ``en``; default: the request's language, else
    ``IMPORT_LANGUAGE``, see :mod:`importers.messages`).  ``actor`` is a
    :class:`~registry.auth.models.User` or ``None`` for the system.  Writes
    go to the current session in one savepoint and are flushed, not
    committed: the caller commits (or rolls back).  A dry run applies the
    same writes and rolls the savepoint back, so its report, including the
    per-field ``changes``, is what a real run would do.  ``run`` (an
    :class:`ImportRun`) is filled in with status, counts and errors; when
    none is given an applied import records one.  ``progress(done, total)``
    is called as rows are processed.
    """
    with paused_gc(), speaking(lang):
        return _run_import(source, actor=actor, dry_run=dry_run, filename=filename, catalog_version=catalog_version,
                           run=run, progress=progress, today=today, sheet=sheet)


def _run_import(source: Source | EarlyUpload, *, actor: Any, dry_run: bool, filename: str | None,
                catalog_version: str | None,
                run: ImportRun | None, progress: Progress | None, today: date | None,
                sheet: str | None) -> ImportReport:
    report = ImportReport(dry_run=dry_run)
    if filename is None and isinstance(source, (str, os.PathLike, EarlyUpload)):
        filename = Path(source.path if isinstance(source, EarlyUpload) else source).name
    if run is not None:
        run.status, run.dry_run = "running", dry_run
    limits = Limits.from_config(current_app.config)
    today = today or date.today()
    note = f"导入 import: {filename or 'workbook'}"  # the audit trail's note, as before
    book = None
    # A big sheet is written while it is checked (importers.pipeline), inside a savepoint
    # begun now and rolled back if any row turns out invalid.
    savepoint = None
    plans: list[SheetPlan] = []
    try:
        early = _adopt(source, limits)
        if early is not None:  # checked before the app was built, its sheets parsed meanwhile
            if early.refused is not None:
                raise early.refused
            book = open_book(early.opened, early.kind, limits, sheet=sheet, early=early)
        else:
            opened, _ = read_source(source.path if isinstance(source, EarlyUpload) else source, limits)
            halves = PreparedHalves()  # a big sheet's halves as the check read them, for the parse
            try:
                kind = inspect_upload(opened, limits, filename, halves=halves)
            except BaseException:
                halves.close()
                raise
            book = open_book(opened, kind, limits, sheet=sheet, halves=halves)
        layouts, version = _layouts(book, report, catalog_version=catalog_version, today=today)
        if report.ok:
            pipeline = None
            if _streams(book, layouts):
                savepoint = db.session.begin_nested()
                pipeline = Pipeline(Applier(actor=actor, now=utcnow(), note=note), report,
                                    current_app.config["IMPORT_PIPELINE_MIN_ROWS"])
            with pipeline or nullcontext():
                plans = _validate(book, layouts, report, actor=actor, today=today, catalog_version=version,
                                  progress=progress, pipeline=pipeline)
    except RejectedFile as exc:
        _rollback(savepoint)
        report.rejected, report.status = exc.message, exc.status
        _finish(run, report, "rejected")
        return report
    except DomainError as exc:  # a sheet written while the next was checked (a record changed meanwhile)
        _rollback(savepoint)
        report.error(None, None, None, exc.message)
        _finish(run, report, "invalid")
        return report
    except BaseException:
        _rollback(savepoint)
        raise
    finally:
        if book is not None:
            book.close()
    if not report.ok:
        _rollback(savepoint)
        _finish(run, report, "invalid")
        return report

    if dry_run:
        for plan in plans:
            report.changes.extend(diff_entry(plan.layout.spec.title, op)
                                  for op in plan.operations if op.action == "updated")
    if not any(plan.operations for plan in plans):
        # Nothing to create or update: no writes, no audit rows, not even the run's.
        _rollback(savepoint)
        _finish(run, report, "previewed" if dry_run else "applied")
        report.applied = not dry_run
        return report
    try:
        if savepoint is None:
            savepoint = db.session.begin_nested()
            Applier(actor=actor, now=utcnow(), note=note).apply(plans)
        if dry_run:
            savepoint.rollback()
            _finish(run, report, "previewed")
            return report
        if run is None:
            run = ImportRun(actor_id=getattr(actor, "id", None), actor_label=_actor_label(actor),
                            filename=filename, dry_run=False)
            db.session.add(run)
        _finish(run, report, "applied")
        db.session.flush()
        record("import", run, actor=actor, after={"filename": filename, "sheets": report.sheets}, note=note)
        savepoint.commit()
    except DomainError as exc:
        savepoint.rollback()
        report.error(None, None, None, exc.message)
        _finish(run, report, "invalid")
        return report
    except BaseException:
        savepoint.rollback()
        raise
    report.applied, report.run_id = True, run.id
    return report


def _rollback(savepoint: Any) -> None:
    if savepoint is not None and savepoint.is_active:
        savepoint.rollback()


def _adopt(source: Source | EarlyUpload, limits: Limits) -> EarlyUpload | None:
    """``source`` when it is an :class:`EarlyUpload` checked with these very limits, in this language; any
    other is closed (the file is checked again here)."""
    if not isinstance(source, EarlyUpload):
        return None
    if source.limits == limits and source.language == language():
        return source
    source.close()
    return None


def _streams(book: Book, layouts: list[SheetLayout]) -> bool:
    """Whether a sheet is big enough to be written while it is checked, on a database that can."""
    least = current_app.config["IMPORT_PIPELINE_MIN_ROWS"]
    return (least is not None
            and any(book.data_rows(layout.name, layout.header_row) >= least for layout in layouts)
            and pipeline_available(db.session.connection()))  # asks a thread: only for a big sheet


def _layouts(book: Book, report: ImportReport, *, catalog_version: str | None,
             today: date) -> tuple[list[SheetLayout], CatalogVersion | None]:
    """The sheets to import, their header rows and columns, and the catalog version; errors to the report."""
    tabs: dict[str, str] = {}
    for name, spec in book.importable():
        if spec is None:
            continue
        if spec.kind in tabs:
            report.error(name, None, None, msg(f"工作表重复：{name} 与 {tabs[spec.kind]} 都是{spec.title}",
                                               f"sheets {tabs[spec.kind]!r} and {name!r} are both {spec.title_en}"))
            continue
        tabs[spec.kind] = name
    if not tabs:
        report.error(None, None, None, msg("没有可导入的工作表（应为 机构、计量标准、检定规程、人员、强检目录、规划、目标 之一）",
                                           "no sheet to import (expected 机构, 计量标准, 检定规程, 人员, 强检目录, 规划 "
                                           "or 目标)"))
        return [], None

    version = _catalog_version(catalog_version, today, report)
    layouts = []
    for spec in SHEETS:
        if spec.kind not in tabs:
            continue
        layout = book.layout(tabs[spec.kind], spec)
        report.sheets[spec.title] = {action: 0 for action in ACTIONS}
        report.ignored_columns.extend({"sheet": layout.name, "column": c} for c in layout.ignored)
        for _, typed in layout.duplicates:
            report.error(layout.name, layout.header_row, typed, msg(f"列重复：{typed}", f"duplicate column {typed}"))
        for column in layout.missing:
            report.error(layout.name, layout.header_row or None, column.header,
                         msg(f"缺少必填列：{column.header}（{column.alias}）",
                             f"required column missing: {column.header} ({column.alias})"))
        layouts.append(layout)
    return layouts, version


def _validate(book: Book, layouts: list[SheetLayout], report: ImportReport, *, actor: Any, today: date,
              catalog_version: CatalogVersion | None, progress: Progress | None,
              pipeline: Pipeline | None) -> list[SheetPlan]:
    """Check every row of every sheet; with a ``pipeline``, write each sheet as it is checked."""
    refs = WorkbookReferences(today=today, catalog=catalog_in_force(today))
    sizes = [book.data_rows(layout.name, layout.header_row) for layout in layouts]
    total = report.rows_total = sum(sizes)

    # The run's row is written once, when the import ends: a background worker reports progress
    # from another connection meanwhile (registry.imports.lease), which a row lock would block.
    def advance(n: int) -> None:
        report.rows_done += n
        if progress is not None:
            progress(report.rows_done, total)

    ctx = Context(actor=actor, refs=refs, report=report, today=today, catalog_version=catalog_version,
                  progress=advance)
    handlers = {handler.spec.kind: handler for handler in HANDLERS}
    plans = []
    if pipeline is not None:
        ctx.on_batch = pipeline.batch
    for layout, size in zip(layouts, sizes):
        if pipeline is not None:
            pipeline.begin_sheet(size)
        plan = validate_sheet(ctx, book, layout, handlers[layout.spec.kind](ctx))
        if pipeline is not None:
            pipeline.end_sheet(plan)
        plans.append(plan)
    return plans


def _catalog_version(name: str | None, today: date, report: ImportReport) -> CatalogVersion | None:
    """The version catalog rows go to: the one named, else the catalog in force."""
    if not name:
        return catalog_in_force(today)
    version = db.session.scalar(sa.select(CatalogVersion).where(CatalogVersion.name == name.strip()))
    if version is None or version.withdrawn_at is not None:
        report.error(None, None, "目录版本", msg(f"目录版本不存在：{name}", f"no catalog version named {name!r}"))
        return None
    return version


def _actor_label(actor: Any) -> str:
    return getattr(actor, "email", None) or "system"


def _finish(run: ImportRun | None, report: ImportReport, status: str) -> None:
    if run is None:
        return
    run.status = status
    run.dry_run = report.dry_run
    run.counts = report.sheets
    run.errors = report.to_dict()["errors"]
    run.warnings = [w.to_dict() for w in report.warnings] or None
    run.ignored_columns = report.ignored_columns
    run.changes = report.changes or None
    run.message = report.rejected
    run.finished_at = utcnow()
    run.rows_total = report.rows_total
    run.rows_done = report.rows_total if status in ("applied", "previewed") else report.rows_done
