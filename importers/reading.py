"""Read a checked upload: find the sheets, their header row and columns.

Workbooks (.xlsx, .xls, .ods) are read with python-calamine, which tells
them by their content; a CSV file is one sheet (:mod:`importers.csvfile`).
Both answer the same questions, so the rest of the importer does not know
which it read.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import IO, Any, Iterator

from importers.cells import is_blank, to_text
from importers.messages import msg
from importers.safety import Limits, RejectedFile, too_many_rows
from importers.split import parse_halves
from importers.spec import Column, Sheet, find_sheet, normalize_header

HEADER_SEARCH_ROWS = 10


@dataclass
class SheetLayout:
    """Where the data of one sheet is: its header row and which column holds what."""

    name: str                      # the tab name as in the file
    spec: Sheet
    header_row: int = 0            # as Excel numbers it (1-based); 0 when no header was found
    columns: dict[int, Column] = field(default_factory=dict)   # 0-based column index -> column
    headers: dict[int, str] = field(default_factory=dict)      # 0-based column index -> header as typed
    ignored: list[str] = field(default_factory=list)
    missing: list[Column] = field(default_factory=list)
    duplicates: list[tuple[int, str]] = field(default_factory=list)

    def index_of(self, field_name: str) -> int | None:
        return next((i for i, c in self.columns.items() if c.field == field_name), None)


class Book(ABC):
    """What every readable upload answers: its sheets, their rows, widths and header layouts.

    Each format (:class:`Workbook` for .xlsx/.xls/.ods, :class:`importers.csvfile.CsvBook`) reads its rows.
    """

    sheet_names: list[str]
    limits: Limits

    def close(self) -> None:
        pass

    @abstractmethod
    def rows(self, name: str, *, start: int = 1) -> Iterator[tuple[int, list]]:
        """``(row number, values)`` from ``start``."""

    @abstractmethod
    def width(self, name: str) -> int:
        """The number of columns of a sheet."""

    @abstractmethod
    def data_rows(self, name: str, header_row: int) -> int:
        """How many rows follow the header row."""

    def importable(self) -> list[tuple[str, Sheet | None]]:
        """Each tab with the sheet it stands for (``None``: not an import sheet)."""
        return [(name, find_sheet(name)) for name in self.sheet_names]

    def layout(self, name: str, spec: Sheet) -> SheetLayout:
        """Find the header in the first rows: the row naming the most known columns."""
        layout = SheetLayout(name=name, spec=spec)
        best: tuple[int, int, list] | None = None
        for number, cells in self.rows(name):
            if number > HEADER_SEARCH_ROWS:
                break
            hits = sum(1 for cell in cells if not is_blank(cell) and normalize_header(to_text(cell)) in spec.matchers)
            if hits and (best is None or hits > best[0]):
                best = (hits, number, cells)
        if best is None:
            layout.missing = [c for c in spec.columns if c.required]
            return layout
        _, layout.header_row, cells = best
        seen: set[str] = set()
        for index, cell in enumerate(cells):
            if is_blank(cell):
                continue
            typed = to_text(cell).strip()
            column = spec.matchers.get(normalize_header(typed))
            if column is not None and column.kind == "derived":
                continue  # written by exports for people to read; never imported
            if column is None:
                layout.ignored.append(typed)
            elif column.field in seen:
                layout.duplicates.append((index, typed))
            else:
                seen.add(column.field)
                layout.columns[index] = column
                layout.headers[index] = typed
        layout.missing = [c for c in spec.columns if c.required and c.field not in seen]
        return layout


def _unreadable(exc: BaseException) -> RejectedFile:
    """The refusal of a workbook calamine cannot open: its own error types for every broken part, or its panic."""
    if isinstance(exc, Exception):
        return RejectedFile(msg(f"无法读取工作簿（{type(exc).__name__}）",
                                f"the workbook cannot be read ({type(exc).__name__})"))
    return RejectedFile(msg("无法读取工作簿（文件结构异常）", "the workbook cannot be read (a broken structure)"))


class Workbook(Book):
    """A workbook opened with calamine; rows come as (Excel row number, cells)."""

    def __init__(self, opened: IO[bytes] | str, limits: Limits, *, early: Any = None, halves: Any = None):
        """Open ``opened`` (checked by :func:`importers.safety.inspect_upload` with ``limits``); or take the
        workbook an :class:`importers.early.EarlyUpload` opened and is parsing in the background.  ``halves``:
        the big sheets' halves the check kept (:class:`importers.extent_halves.PreparedHalves`), closed with
        the workbook."""
        import python_calamine

        self._early = early
        self._halves = halves
        self._parsing: dict[str, Any] = {}  # sheet name -> Future of the sheet parsed in the background
        self._handle = None
        self._opened = opened
        self._bytes: bytes | None = None
        try:
            if early is not None:
                self._book, _, parsing = early.opening.result()
                self._parsing = dict(parsing)
            else:
                # A file object, never a path: calamine would choose its reader by the name's extension.
                self._handle = open(opened, "rb") if isinstance(opened, str) else None
                self._book = python_calamine.CalamineWorkbook.from_object(self._handle or opened)
        except BaseException as exc:
            if early is not None:
                early.close()
            if halves is not None:
                halves.close()
            self._close_handle()
            if not isinstance(exc, Exception) and type(exc).__name__ != "PanicException":
                raise
            raise _unreadable(exc) from None
        self.limits = limits
        # Early: the names the background thread is parsing, in the workbook's order (the workbook itself
        # takes no call while it parses).
        self.sheet_names: list[str] = list(self._parsing) if early is not None else list(self._book.sheet_names)
        self._sheets: dict[str, Any] = {}

    def close(self) -> None:
        self._sheets.clear()
        self._bytes = None
        if self._halves is not None:
            self._halves.close()
            self._halves = None
        if self._early is not None:  # waits for the background parse, then closes the workbook and its file
            self._early.close()
            self._early = None
            return
        self._book.close()
        self._close_handle()

    def _close_handle(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def _sheet(self, name: str) -> list:
        """The sheet as calamine parsed it: one sheet, or a big one's two halves (:mod:`importers.split`)."""
        if name not in self._sheets:
            try:
                parsing = self._parsing.pop(name, None)
                parts = parsing.result() if parsing is not None else self._parse(name)
            except BaseException as exc:
                if not isinstance(exc, Exception) and type(exc).__name__ != "PanicException":
                    raise
                raise RejectedFile(msg(f"无法读取工作表 {name}（{type(exc).__name__}）",
                                       f"sheet {name} cannot be read ({type(exc).__name__})")) from None
            height = parts[0].height if len(parts) == 1 else parts[-1].end[0] + 1 - parts[0].start[0]
            if height > self.limits.max_rows + self.limits.header_allowance:
                raise too_many_rows(self.limits)
            self._sheets[name] = parts
        return self._sheets[name]

    def _parse(self, name: str) -> list:
        if self._bytes is None:  # the upload's bytes, read once for every sheet that may be cut in two
            source = self._handle or self._opened
            source.seek(0)
            self._bytes = source.read()
        return parse_halves(self._bytes, name, self._halves) or [self._book.get_sheet_by_name(name)]

    def rows(self, name: str, *, start: int = 1) -> Iterator[tuple[int, list]]:
        """Yield ``(row number, cells)`` from Excel row ``start`` on; cells start at column A."""
        parts = self._sheet(name)
        if len(parts) > 1:
            yield from self._joined_rows(parts, start, self.width(name))
            return
        sheet = parts[0]
        # iter_rows counts rows from row 1 but columns from the first used one.
        pad = [""] * (sheet.start[1] if sheet.start else 0)
        for number, cells in enumerate(sheet.iter_rows(), start=1):
            if number >= start:
                yield number, (pad + cells) if pad else cells

    @staticmethod
    def _joined_rows(parts: list, start: int, width: int) -> Iterator[tuple[int, list]]:
        """The halves' rows as the whole sheet's: each half's from row 1 (the second's first rows are the first's,
        empty, and skipped), every row as wide as the whole sheet's."""
        last = 0
        for sheet in parts:
            pad = [""] * sheet.start[1]
            fill = width - (sheet.end[1] + 1)
            tail = [""] * fill
            for number, cells in enumerate(sheet.iter_rows(), start=1):
                if number <= last:
                    continue
                last = number
                if number >= start:
                    yield number, (pad + cells + tail) if pad or fill else cells

    def width(self, name: str) -> int:
        """Columns from A to the last one used."""
        return max((sheet.end[1] + 1 for sheet in self._sheet(name) if sheet.end), default=0)

    def data_rows(self, name: str, header_row: int) -> int:
        """Rows below the header (blank ones included): the denominator of progress."""
        sheet = self._sheet(name)[-1]
        return max(0, (sheet.end[0] + 1 if sheet.end else 0) - header_row)
