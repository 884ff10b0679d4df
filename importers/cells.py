"""Turn spreadsheet cells into the Python values the services' clean functions take.

Only the spreadsheet's own habits are handled here (Excel serial dates,
codes typed as numbers, 是/否, labels for codes, several values in one
cell); every field rule stays in the services.  A value that cannot be
converted is passed on unchanged so the service reports it in its own words,
except for labels, where the message lists the labels one may type.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta
from typing import Any

from registry.errors import ValidationError

from importers.spec import ENUMS, Column, normalize_label

# Excel's day 0 (serial numbers count from here; 1900-02-29 never existed, so
# this epoch is right for every date after 1900-03-01).
EXCEL_EPOCH = date(1899, 12, 30)
_MAX_SERIAL = 2_958_465  # 9999-12-31

_DATE_RE = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[ T]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
_COMPACT_DATE_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_SPLIT_RE = re.compile(r"[；;、,，\r\n]+")

TRUE_WORDS = frozenset({"是", "y", "yes", "true", "1", "√", "✓", "对", "有"})
FALSE_WORDS = frozenset({"否", "n", "no", "false", "0", "×", "✗", "不", "无"})


def is_blank(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, str) and not value.strip())


def to_text(value: Any) -> Any:
    """Text as typed; a whole number typed into a text column loses its ``.0``."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def to_date(value: Any) -> Any:
    """A date from an Excel date, a serial number or the common written forms."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 1 <= value <= _MAX_SERIAL:
            return EXCEL_EPOCH + timedelta(days=int(value))
        return value
    if isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip()
        match = _DATE_RE.match(text) or _COMPACT_DATE_RE.match(text)
        if match:
            try:
                return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
            except ValueError:
                return value
    return value


def to_bool(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = normalize_label(value)
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    return value


def to_list(value: Any) -> list[str]:
    """Several values in one cell, separated by ；;、,， or new lines."""
    return [part.strip() for part in _SPLIT_RE.split(to_text(value)) if part.strip()]


def to_code(value: Any, lookup: dict[str, str], enum: str) -> str:
    """The code for a label (社会公用 → social_public); raise listing the labels."""
    code = lookup.get(normalize_label(to_text(value)))
    if code is None:
        labels = "、".join(label for label, _ in ENUMS[enum].values())
        raise ValidationError(f"无法识别：{to_text(value)}（可填：{labels}）/ unknown value {to_text(value)!r} "
                              f"(one of: {', '.join(label for label, _ in ENUMS[enum].values())})")
    return code


class CellConverter:
    """Convert the cells of one column; built once per column for speed."""

    def __init__(self, column: Column):
        self.column = column
        self.lookup = column.enum_lookup() if column.kind == "enum" else None
        kind = column.kind
        if kind == "date":
            self.convert = to_date
        elif kind == "bool":
            self.convert = _remembered(to_bool)
        elif kind == "multi":
            listed = _remembered(lambda value: tuple(to_list(value)))
            self.convert = lambda value: list(listed(value))
        elif kind == "enum":
            self.convert = _remembered(lambda value: to_code(value, self.lookup, column.enum))
        else:
            self.convert = to_text


def _remembered(convert):
    """``convert`` answering each distinct cell value once (a column repeats a few values)."""
    known: dict[Any, Any] = {}

    def remembered(value: Any) -> Any:
        try:
            return known[value]
        except KeyError:
            known[value] = result = convert(value)
            return result

    return remembered
