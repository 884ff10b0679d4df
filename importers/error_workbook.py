"""The error workbook: the upload's cells again, bad ones filled red with the reason as a comment.

Every tab of the upload is copied (values, streamed in write-only mode),
each sheet with errors gets an 错误 column naming every problem of the row,
and a summary sheet comes first.  Formatting of the upload is not kept:
the copy is rebuilt from the values so a 200,000-row file stays within
bounded memory.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterable

from flask import current_app
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from importers.csvfile import open_book
from importers.messages import msg, speaking
from importers.report import RowError
from importers.safety import Limits, Source, inspect_upload, read_source
from importers.spec import normalize_header
from importers.writing import ERROR_FILL, error_cell, header_cell, safe_row

SUMMARY_TITLE = "错误汇总"
ERROR_HEADER = "错误"


def write_error_workbook(source: Source, errors: Iterable[RowError | dict[str, Any]], out: Any, *,
                         filename: str | None = None, sheet: str | None = None, lang: str | None = None) -> int:
    """Write the marked copy of ``source`` to ``out``; return the number of errors listed.

    ``errors`` are a report's :class:`RowError` objects or their dicts (as
    stored on an :class:`~registry.imports.models.ImportRun`).  ``source`` may be
    any format the importer reads (``filename`` and ``sheet`` as for the import);
    the copy is always an .xlsx, its own headings in ``lang``.
    """
    with speaking(lang):
        return _write(source, errors, out, filename=filename, sheet=sheet)


def _write(source: Source, errors: Iterable[RowError | dict[str, Any]], out: Any, *, filename: str | None,
           sheet: str | None) -> int:
    errors = [e if isinstance(e, RowError) else RowError(e.get("sheet"), e.get("row"), e.get("column"),
                                                           e.get("message", "")) for e in errors]
    limits = Limits.from_config(current_app.config)
    opened, _ = read_source(source, limits)
    book = open_book(opened, inspect_upload(opened, limits, filename), limits, sheet=sheet)
    by_row: dict[tuple[str, int], list[RowError]] = defaultdict(list)
    for error in errors:
        if error.sheet is not None and error.row is not None:
            by_row[(error.sheet, error.row)].append(error)

    wb = Workbook(write_only=True)
    summary = wb.create_sheet(msg(SUMMARY_TITLE, "Errors"))
    summary.append([header_cell(summary, text) for text in (msg("工作表", "sheet"), msg("行", "row"),
                                                            msg("列", "column"), msg("错误", "error"))])
    for error in errors:
        summary.append(safe_row(summary, [error.sheet, error.row, error.column, error.message]))

    try:
        for name, spec in book.importable():
            ws = wb.create_sheet(name)
            sheet_errors = {row: found for (sheet, row), found in by_row.items() if sheet == name}
            columns: dict[str, int] = {}
            header_row = 0
            if spec is not None and sheet_errors:
                layout = book.layout(name, spec)
                header_row = layout.header_row
                for index, column in layout.columns.items():
                    columns[normalize_header(column.header)] = index
                for index, typed in layout.headers.items():
                    columns.setdefault(normalize_header(typed), index)
            width = book.width(name)
            for number, cells in book.rows(name):
                values = safe_row(ws, list(cells) + [None] * (width - len(cells)))
                if sheet_errors and number == header_row:
                    values.append(header_cell(ws, msg(ERROR_HEADER, "errors")))
                found = sheet_errors.get(number) if number != header_row else None
                if found:
                    marked: dict[int, list[str]] = defaultdict(list)
                    for error in found:
                        index = columns.get(normalize_header(error.column)) if error.column else None
                        if index is not None:
                            marked[index].append(error.message)
                    for index, messages in marked.items():
                        values[index] = error_cell(ws, cells[index] if index < len(cells) else None,
                                                   "\n".join(messages))
                    note = WriteOnlyCell(ws, "；".join(f"{e.column}: {e.message}" if e.column else e.message
                                                      for e in found))
                    note.fill = ERROR_FILL
                    values.append(note)
                ws.append(values)
    finally:
        book.close()
    wb.save(out)
    return len(errors)
