"""A CSV upload: one sheet, in UTF-8 or GB18030, with or without a byte order mark.

Which sheet a CSV file is (机构, 计量标准 …) is told by its header (the sheet
whose columns its first rows name most), or given (``--sheet``, the upload
form's and the API's ``sheet`` field).  The text is decoded as UTF-8 (a BOM
is dropped) and else as GB18030 (what Excel and WPS save as "CSV" on a
Chinese Windows); anything else is refused.  The limits are those of a
workbook: size before reading, then rows, columns and cells as the rows are
read (a cell longer than the csv module's field limit, 128 KB, is refused),
so nothing is held beyond them.  Every cell is text, as typed; dates and
numbers are read from text the way they are in a workbook.
"""
from __future__ import annotations

import csv
import io
from typing import IO, Any, Iterator

from importers.cells import is_blank, to_text
from importers.messages import msg
from importers.reading import HEADER_SEARCH_ROWS, Book
from importers.safety import ACCEPTED, Limits, RejectedFile, too_many_rows
from importers.spec import SHEETS, Sheet, find_sheet, normalize_header

ENCODINGS = ("utf-8", "gb18030")


def decode(data: bytes) -> str:
    """The file's text: UTF-8 (with or without a BOM), else GB18030; refused otherwise."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for encoding in ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\0" in text:
            break
        return text[1:] if text.startswith("\ufeff") else text  # GB18030's byte order mark (84 31 95 33)
    raise RejectedFile(msg(f"无法读取此 CSV 文件：编码应为 UTF-8 或 GB18030（可导入 {ACCEPTED}）",
                           f"this CSV file cannot be read: it must be UTF-8 or GB18030 text (the registry takes "
                           f"{ACCEPTED})"))


class CsvBook(Book):
    """One CSV file as a workbook of one sheet, named after the sheet it is."""

    def __init__(self, opened: IO[bytes] | str, limits: Limits, *, sheet: str | None = None):
        self.limits = limits
        if isinstance(opened, str):
            with open(opened, "rb") as handle:
                data = handle.read(limits.max_bytes + 1)
        else:
            opened.seek(0)
            data = opened.read(limits.max_bytes + 1)
        self._rows = self._read(decode(data))
        del data
        spec = self._which(sheet)
        self.sheet_names = [spec.title] if spec is not None else ["CSV"]

    def _read(self, text: str) -> list[list[str]]:
        limits = self.limits
        most_rows = limits.max_rows + limits.header_allowance
        rows: list[list[str]] = []
        cells = width = 0
        try:
            for row in csv.reader(io.StringIO(text, newline=""), dialect=_dialect(text)):
                rows.append(row)
                if len(rows) > most_rows:
                    raise too_many_rows(limits)
                if len(row) > width:
                    width = len(row)
                    if width > limits.max_columns:
                        raise RejectedFile(msg(
                            f"CSV 文件第 {len(rows):,} 行有 {width:,} 列，超过 {limits.max_columns:,} 列的上限",
                            f"row {len(rows):,} of the CSV file has {width:,} columns, more than "
                            f"{limits.max_columns:,}"))
                cells += len(row)
                if len(rows) * width > limits.max_cells:
                    raise RejectedFile(msg(f"CSV 文件的单元格超过 {limits.max_cells:,} 个，请分批导入",
                                           f"the CSV file holds more than {limits.max_cells:,} cells: split it"))
        except csv.Error as exc:
            raise RejectedFile(msg(f"无法读取此 CSV 文件（第 {len(rows) + 1:,} 行：{exc}）",
                                   f"this CSV file cannot be read (row {len(rows) + 1:,}: {exc})")) from None
        return rows

    def _which(self, named: str | None) -> Sheet | None:
        if named:
            spec = find_sheet(named)
            if spec is None:
                titles = "、".join(s.title for s in SHEETS)
                raise RejectedFile(msg(f"没有名为“{named}”的工作表（应为 {titles} 之一）",
                                       f"no sheet named {named!r} (one of {', '.join(s.title_en for s in SHEETS)})"))
            return spec
        scores = []
        for spec in SHEETS:
            best = 0
            for cells in self._rows[:HEADER_SEARCH_ROWS]:
                best = max(best, sum(1 for cell in cells if not is_blank(cell)
                                     and normalize_header(to_text(cell)) in spec.matchers))
            scores.append((best, spec))
        scores.sort(key=lambda pair: -pair[0])
        if not scores or scores[0][0] == 0:
            return None
        if len(scores) > 1 and scores[1][0] == scores[0][0]:
            raise RejectedFile(msg(f"无法从表头判断这个 CSV 文件是哪张表（{scores[0][1].title} 或 {scores[1][1].title}），"
                                   "请指定工作表",
                                   f"the CSV file's header fits both {scores[0][1].title_en} and "
                                   f"{scores[1][1].title_en}: name the sheet"))
        return scores[0][1]

    def rows(self, name: str, *, start: int = 1) -> Iterator[tuple[int, list]]:
        for number, cells in enumerate(self._rows[start - 1:], start=start):
            yield number, cells

    def width(self, name: str) -> int:
        return max((len(row) for row in self._rows), default=0)

    def data_rows(self, name: str, header_row: int) -> int:
        return max(0, len(self._rows) - header_row)

    def close(self) -> None:
        self._rows = []


def _dialect(text: str) -> type[csv.Dialect]:
    """Comma-separated, unless the first line has tabs (or semicolons) and no commas."""
    first = text.split("\n", 1)[0]
    if "," not in first and "\t" in first:
        return csv.excel_tab
    if "," not in first and ";" in first:
        class Semicolon(csv.excel):
            delimiter = ";"
        return Semicolon
    return csv.excel


def open_book(opened: IO[bytes] | str, kind: str, limits: Limits, *, sheet: str | None = None,
              early: Any = None, halves: Any = None) -> Book:
    """The checked upload as a :class:`~importers.reading.Book` (``kind`` from ``inspect_upload``); ``early``: an
    :class:`importers.early.EarlyUpload` of it, whose workbook is being parsed in the background; ``halves``:
    the :class:`importers.extent_halves.PreparedHalves` the check kept (the book closes them)."""
    if kind == "csv":
        if early is not None:
            early.close()
        if halves is not None:
            halves.close()
        return CsvBook(opened, limits, sheet=sheet)
    from importers.reading import Workbook

    if early is not None and early.opening is None:
        halves, early = early.halves, None
    return Workbook(opened, limits, early=early, halves=halves)
