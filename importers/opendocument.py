"""The real extent of each table of an OpenDocument spreadsheet (.ods), read from content.xml as a stream.

An .ods is a zip whose ``content.xml`` holds every sheet as
``<table:table>`` rows and cells, and a row or a cell may stand for many:
``table:number-rows-repeated`` and ``table:number-columns-repeated``.
calamine parses every table when it opens the file and copies a repeated
cell or row as often as it says, so a 1 KB file asking for a cell repeated
a billion times would take the machine.  It keeps empty cells only when a
cell with a value follows in the same row, and empty rows only between rows
with values (spreadsheet programs end each sheet with a row repeated to the
last row, and each row with an empty cell repeated to the last column: those
cost nothing).  This module counts the same way, without copying anything:
for each table, the rows from the top to its last row with a value (repeats
included) and the columns from A to the last cell with a value, and the
cells calamine copies while it reads (repeats of cells up to the last cell
with a value in each row).  A cell counts as having a value when it carries
any ``office:*value*`` or ``office:value-type`` attribute or a formula, as
calamine reads them (text without a value type is not read).

The XML is read with expat (no DTD: :mod:`importers.safety` refuses any
DOCTYPE first), names compared by their local part whatever the prefix.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from xml.parsers import expat

_CHAR_REF = re.compile(r"&#(x[0-9A-Fa-f]+|[0-9]+);")
_HUGE = 1 << 40
# A token expat is still buffering may not grow past this (a hostile tag a gigabyte long).
MAX_PENDING = 8 << 20
_CELL, _ROW, _TABLE = 1, 2, 3
_ELEMENTS = {"table-cell": _CELL, "covered-table-cell": _CELL, "table-row": _ROW, "table": _TABLE}
_VALUE_ATTRIBUTES = frozenset({"value", "string-value", "date-value", "time-value", "boolean-value", "value-type",
                               "formula"})


class OdsError(Exception):
    """The XML is broken or a tag is too long."""


@dataclass
class Table:
    name: str
    rows: int = 0          # from row 1 to the last row with a value, repeats included
    columns: int = 0       # from column A to the last cell with a value
    copied: int = 0        # cells calamine copies while reading (before it trims the rectangle)
    _rows_seen: int = 0    # rows so far, repeats included


class ContentExtent:
    """Feed content.xml in chunks; ``tables`` are its sheets with their extents."""

    def __init__(self) -> None:
        self.tables: list[Table] = []
        self._stack: list[Table] = []
        self._row_repeats = 0
        self._row_cells = 0        # cells of this row so far, repeats included
        self._row_last = 0         # ... up to and including the last cell with a value
        self._in_row = False
        self._last_repeats = 0
        self._last_empty = False
        self._fed = 0
        self._progress = 0
        self._kinds: dict[str, int] = {}
        self._valued_names: set[str] = set()
        self._other_names: set[str] = set()
        parser = expat.ParserCreate(encoding="utf-8")
        parser.buffer_text = False
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.StartDoctypeDeclHandler = self._refuse
        parser.EntityDeclHandler = self._refuse
        self._parser = parser

    def _refuse(self, *args) -> None:
        raise OdsError("DOCTYPE")

    def feed(self, chunk: bytes) -> None:
        self._fed += len(chunk)
        try:
            self._parser.Parse(chunk, False)
        except expat.ExpatError as exc:
            raise OdsError(str(exc)) from None
        if self._fed - self._progress > MAX_PENDING:
            raise OdsError("a tag longer than 8 MB")

    def close(self) -> None:
        try:
            self._parser.Parse(b"", True)
        except expat.ExpatError as exc:
            raise OdsError(str(exc)) from None

    def _kind(self, name: str) -> int:
        """What an element is, by its local name whatever its prefix (remembered per name)."""
        kind = _ELEMENTS.get(name.rpartition(":")[2], 0)
        self._kinds[name] = kind
        return kind

    def _valued(self, attributes: dict[str, str]) -> bool:
        """Whether a cell carries a value or a formula (attribute names classified once each)."""
        if self._valued_names.isdisjoint(attributes):
            unknown = attributes.keys() - self._other_names
            if not unknown:
                return False
            for key in unknown:
                local = key.rpartition(":")[2]
                (self._valued_names if local in _VALUE_ATTRIBUTES else self._other_names).add(key)
            return not self._valued_names.isdisjoint(attributes)
        return True

    def _start(self, name: str, attributes: dict[str, str]) -> None:
        kind = self._kinds.get(name)
        if kind is None:
            kind = self._kind(name)
        if not kind:
            return
        self._progress = self._parser.CurrentByteIndex
        if kind == _CELL:
            if not self._in_row:
                return
            repeats = _count(attributes, "number-columns-repeated") if attributes else 1
            self._row_cells += repeats
            self._last_repeats = repeats
            self._last_empty = not (attributes and self._valued(attributes))
            if not self._last_empty:
                self._row_last = self._row_cells
        elif kind == _ROW:
            if not self._stack:
                return
            self._in_row = True
            self._row_repeats = _count(attributes, "number-rows-repeated") if attributes else 1
            self._row_cells = self._row_last = self._last_repeats = 0
            self._last_empty = False
        elif kind == _TABLE:
            name_attribute = next((v for k, v in attributes.items() if k.rpartition(":")[2] == "name"), "")
            table = Table(name_attribute)
            self.tables.append(table)
            self._stack.append(table)

    def _end(self, name: str) -> None:
        kind = self._kinds.get(name)
        if kind is None:
            kind = self._kind(name)
        if kind != _ROW and kind != _TABLE:
            return
        self._progress = self._parser.CurrentByteIndex
        if kind == _ROW and self._in_row and self._stack:
            table = self._stack[-1]
            self._in_row = False
            table._rows_seen += self._row_repeats
            if self._row_last:
                table.rows = table._rows_seen
                table.columns = max(table.columns, self._row_last)
            # calamine keeps every cell read, empty ones too, except an empty last one.
            table.copied += self._row_cells - (self._last_repeats if self._last_empty else 0)
        elif kind == _TABLE and self._stack:
            self._stack.pop()
            self._in_row = False


def _count(attributes: dict[str, str], local: str) -> int:
    for key, value in attributes.items():
        if key.endswith(local) and key.rpartition(":")[2] == local:
            value = _CHAR_REF.sub(lambda m: _char(m.group(1)), value).strip()
            if not value.isdigit():
                return 1
            return int(value) if len(value) < 13 else _HUGE
    return 1


def _char(ref: str) -> str:
    try:
        return chr(int(ref[1:], 16) if ref[:1] in "xX" else int(ref))
    except (ValueError, OverflowError):
        return "?"
