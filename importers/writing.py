"""Write cells that can never become formulas, and the header styling every workbook shares."""
from __future__ import annotations

from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill

# Text starting with these is read as a formula (or command) by a spreadsheet.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")
_FIRST = "".join(FORMULA_PREFIXES)

HEADER_FONT = Font(bold=True)
REQUIRED_FONT = Font(bold=True, color="C00000")
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
ERROR_FILL = PatternFill("solid", fgColor="FFC7CE")
EXAMPLE_FONT = Font(italic=True, color="808080")
WRAP = Alignment(wrap_text=True, vertical="top")


def literal(ws: Any, value: Any) -> Any:
    """``value`` as a write-only cell value: text that looks like a formula stays text.

    openpyxl would store ``=…`` as a formula; such text (and text starting
    with ``+ - @``, tab, CR or LF) is written as a string cell with Excel's
    quote prefix, so editing it in Excel keeps it text too.
    """
    if value.__class__ is str:
        if ILLEGAL_CHARACTERS_RE.search(value):
            value = ILLEGAL_CHARACTERS_RE.sub("", value)
        if value.startswith(FORMULA_PREFIXES):
            cell = WriteOnlyCell(ws, value)
            cell.data_type = "s"
            cell.quotePrefix = True
            return cell
    return value


def safe_row(ws: Any, values: list) -> list:
    """A row for ``ws.append``: formula-like text kept literal, characters XML cannot hold dropped.

    ``str.isprintable`` is the cheap test: only text with control characters
    goes through the regular expression.
    """
    return [literal(ws, v) if v.__class__ is str and v and (v[0] in _FIRST or not v.isprintable()) else v
            for v in values]


def header_cell(ws: Any, text: str, *, required: bool = False, note: str = "") -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, text)
    cell.font = REQUIRED_FONT if required else HEADER_FONT
    cell.fill = HEADER_FILL
    if note:
        cell.comment = Comment(note, "registry")
    return cell


def error_cell(ws: Any, value: Any, message: str) -> WriteOnlyCell:
    value = literal(ws, value)
    cell = value if isinstance(value, Cell) else WriteOnlyCell(ws, value)
    cell.fill = ERROR_FILL
    cell.comment = Comment(message, "registry", width=320, height=120)
    return cell
