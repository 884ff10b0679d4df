"""The real extent of a worksheet, read from its XML as a stream.

A reader such as calamine allocates the whole rectangle from the first to
the last cell of a sheet: a 2 KB sheet holding A1 and XFD1048576 asks for
gigabytes.  The ``<dimension>`` element can say anything, so the extent is
taken from what the reader itself follows: every ``r`` attribute of a
``<row>`` or ``<c>`` element, and the position of rows and cells that have
none (a row without ``r`` is the one after the previous row ends, a cell
without ``r`` the one after the previous cell), as calamine counts them.

The part is fed chunk by chunk (UTF-8, see :mod:`importers.safety`);
memory stays within a chunk and one tag.  Most sheets are written the
same way by Excel, openpyxl and this registry (``<row r="N" ...>`` and
``<c r="A1" s=".." t="..">`` in order), so each chunk is first checked
with two regular expressions, in C: the last ``<row r>`` of the chunk is
taken as its highest row, and any row or cell tag that is not in that
plain form, or whose reference lies beyond the highest row or column seen
so far, sends the chunk to the exact reader, which walks its tags one by
one (prefixed names, attributes in any order or quoting, repeated ``r``
attributes, missing ``r``, character references).  Where calamine's rule
is not clear-cut the exact reader takes the larger reading.
"""
from __future__ import annotations

import re
from functools import lru_cache

# A row's start or end tag or a cell's start tag, with or without a namespace prefix
# (group 1: '/' for a row's end; group 2: the start tag's name).
_TAG = re.compile(rb'<(?:(/)(?:[^\s<>/!?:"\'=]+:)?row|(?:[^\s<>/!?:"\'=]+:)?(c|row))(?=[\s/>])')
# The rest of a tag: up to the first '>' outside quotes (as quick-xml reads it).
_REST = re.compile(rb'(?:[^>"\']++|"[^"]*+"|\'[^\']*+\')*+>')
# An r attribute inside a tag (unprefixed: calamine reads only ``r``).
_R_ATTR = re.compile(rb'(?:^|[\s"\'])r\s*=\s*(?:"([^"]*)"|\'([^\']*)\')')
_REF = re.compile(rb'([A-Za-z]*)([0-9]+)')
_CHAR_REF = re.compile(rb'&#(x[0-9A-Fa-f]+|[0-9]+);')
# What may still turn into a row or cell tag in the next chunk: keep it.
_PARTIAL_HEAD = re.compile(rb'</?(?:[^\s<>/!?:"\'=]*:)?[^\s<>/!?:"\'=]*\Z')
_PREFIXED = re.compile(rb':(?:c|row)[\s/>]')
_PLAIN_LAST_ROW = re.compile(rb'<row r="([0-9]{1,9})"')
_PLAIN_COLUMNS = re.compile(rb'<c r="([A-Z]{1,3})[0-9]')
# A tag longer than this is refused rather than buffered.
MAX_TAG = 1 << 20
# Chunks are read in regions of about this size (each region checks against new bounds: fewer, larger).
REGION = 4 << 20
_HUGE = 1 << 40


class ExtentError(Exception):
    """A tag too long to buffer (a hostile sheet)."""


class SheetExtent:
    """Feed a sheet's XML in chunks; ``rows`` and ``columns`` are its extent (1-based, from A1)."""

    def __init__(self) -> None:
        self.rows = 0
        self.columns = 0
        self.cells_walked = 0   # cell tags read one by one (the slow way): bounded by the caller
        self.unfinished = False  # the part ended inside a row or cell tag (set by close)
        self._row = 0      # calamine's 0-based row of the next row or cell without r
        self._col = 0      # ... and column of the next cell without r
        self._carry = b""
        self._pending: list[bytes] = []
        self._pending_size = 0

    def feed(self, chunk: bytes) -> None:
        self._pending.append(chunk)
        self._pending_size += len(chunk)
        if self._pending_size >= REGION:
            self._flush()

    def _flush(self) -> None:
        chunk = b"".join(self._pending)
        self._pending, self._pending_size = [], 0
        buf = self._carry + chunk if self._carry else chunk
        cut = buf.rfind(b"<")
        if cut < 0:
            self._carry = b""
            return
        region, tail = buf[:cut], buf[cut:]
        if region:
            left = self._region(region)
            if left is not None:    # a tag still open at the end of the region
                tail = region[left:] + tail
        self._carry = self._keep(tail)

    def close(self) -> None:
        """The end of the part: read what is left."""
        self._flush()
        tail, self._carry = self._carry, b""
        if tail:
            self.unfinished = self._exact(tail + b" ") is not None

    def _keep(self, tail: bytes) -> bytes:
        """The part of ``tail`` (which starts with '<') the next chunk may complete."""
        if _TAG.match(tail) or (len(tail) < 64 and _PARTIAL_HEAD.match(tail)):
            if len(tail) > MAX_TAG:
                raise ExtentError("tag too long")
            return tail
        return b""

    # --- one region: complete tags, except perhaps the last ----------------------

    def _region(self, region: bytes) -> int | None:
        if not self._plain(region):
            return self._exact(region)
        return None

    def _plain(self, region: bytes) -> bool:
        """Check the region in C; update the extent and return True when every tag is plain."""
        if _PREFIXED.search(region):
            return False
        last_row = region.rfind(b"<row ")
        rows = self.rows
        if last_row >= 0:
            m = _PLAIN_LAST_ROW.match(region, last_row)
            if m is None:
                return False
            rows = max(rows, int(m.group(1)))
        if _odd_rows(rows).search(region):
            return False
        columns = self.columns
        if _odd_cells(rows, columns).search(region):
            # Perhaps only new columns (the header row): find the widest, check again.
            found = _PLAIN_COLUMNS.findall(region)
            if not found:
                return False
            columns = max(columns, max(_column(letters) for letters in set(found)))
            if columns == self.columns or _odd_cells(rows, columns).search(region):
                return False
        self.rows, self.columns = rows, columns
        # Where calamine would put a row or cell without r that follows (an exact chunk may come next):
        # a row's r sets the row, each row end moves to the next; a cell sets the column, a row end resets it.
        end = region.rfind(b"</row")
        last_cell = region.rfind(b'<c r="')
        if last_row >= 0:
            ends = region.count(b"</row", last_row)
            close = region.find(b">", last_row)
            if close > 0 and region[close - 1:close] == b"/":
                ends += 1
                end = max(end, close)
            self._row = int(_PLAIN_LAST_ROW.match(region, last_row).group(1)) - 1 + ends
        elif end >= 0:
            self._row += region.count(b"</row")
        if last_cell > end:
            self._col = self._column_at(region, last_cell)
        elif end >= 0:
            self._col = 0
        return True

    @staticmethod
    def _column_at(region: bytes, position: int) -> int:
        """The column after the plain cell tag at ``position`` (its column number, 1-based)."""
        return _column(_PLAIN_COLUMNS.match(region, position).group(1))

    def _exact(self, region: bytes) -> int | None:
        """Walk every row and cell tag; return where an unfinished tag starts, if any."""
        pos = 0
        while True:
            m = _TAG.search(region, pos)
            if m is None:
                return None
            rest = _REST.match(region, m.end())
            if rest is None:
                return m.start()
            pos = rest.end()
            name = m.group(2)
            if name is None:       # </row>
                self._row += 1
                self._col = 0
                continue
            attributes = region[m.end():pos]
            refs = [ref for ref in (_parse(a or b) for a, b in _R_ATTR.findall(attributes)) if ref is not None] \
                if b"r" in attributes else []
            if name == b"row":
                if refs:
                    self._row = max(row for row, _ in refs) - 1
                self.rows = max(self.rows, self._row + 1)
                if attributes.endswith(b"/>"):
                    self._row += 1
                    self._col = 0
                continue
            self.cells_walked += 1
            cells = [(row, col) for row, col in refs if col]
            if cells:
                row, col = max(r for r, _ in cells), max(c for _, c in cells)
                self._col = col - 1
            else:
                row, col = self._row + 1, self._col + 1
            self.rows = max(self.rows, row)
            self.columns = max(self.columns, col)
            self._col += 1


def feed_file(scanner: SheetExtent, path: str, start: int = 0) -> None:
    """Feed ``scanner`` the sheet XML (UTF-8) in file ``path`` from byte ``start`` on, a megabyte at a time."""
    with open(path, "rb") as handle:
        handle.seek(start)
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            scanner.feed(chunk)


def scan_file(path: str, start: int = 0) -> dict:
    """The extent of the sheet XML (UTF-8) in file ``path`` from byte ``start`` on, as
    :class:`importers.extent_halves.HalvedExtent` takes it from its helper process."""
    scanner = SheetExtent()
    try:
        feed_file(scanner, path, start)
        scanner.close()
    except ExtentError:
        return {"error": "tag"}
    return {"rows": scanner.rows, "columns": scanner.columns, "cells_walked": scanner.cells_walked,
            "unfinished": scanner.unfinished}


def _parse(value: bytes) -> tuple[int, int] | None:
    """(row, column), 1-based, of a reference such as ``AB12`` (column 0 when there are no letters)."""
    if b"&" in value:
        value = _CHAR_REF.sub(lambda m: _char(m.group(1)), value)
    m = _REF.fullmatch(value.strip())
    if m is None:
        return None
    letters, digits = m.groups()
    row = int(digits) if len(digits) <= 12 else _HUGE
    return (row, _column(letters)) if row else None


def _char(ref: bytes) -> bytes:
    try:
        code = int(ref[1:], 16) if ref[:1] in (b"x", b"X") else int(ref)
        return chr(code).encode("utf-8")
    except (ValueError, OverflowError):
        return b"?"


def _column(letters: bytes) -> int:
    if len(letters) > 6:
        return _HUGE
    number = 0
    for ch in letters.upper():
        number = number * 26 + ch - 64
    return number


def column_letters(number: int) -> str:
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# --- the plain form, as regular expressions for a bound --------------------------


def _number_at_most(bound: int) -> str:
    """A regex for 1..bound without leading zeros (never matches when bound is 0).

    Numbers as long as the bound come first and shorter ones last, possessively:
    most references in a region have as many digits as its last row.
    """
    if bound <= 0:
        return "(?!)"
    digits = str(bound)
    n = len(digits)
    options = [digits]
    for i, d in enumerate(digits):
        low = 1 if i == 0 else 0
        if int(d) > low:
            rest = f"[0-9]{{{n - i - 1}}}" if n - i - 1 else ""
            options.append(f"{digits[:i]}[{low}-{int(d) - 1}]{rest}")
    if n > 1:
        options.append(f"[1-9][0-9]{{0,{n - 2}}}+" if n > 2 else "[1-9]")
    return "(?:" + "|".join(options) + ")"


def _letters_at_most(bound: int) -> str:
    """A regex for column letters A..column ``bound`` (upper case), the longest first."""
    if bound <= 0:
        return "(?!)"
    letters = column_letters(bound)
    m = len(letters)
    options = [letters]
    for i, ch in enumerate(letters):
        if ch > "A":
            rest = f"[A-Z]{{{m - i - 1}}}" if m - i - 1 else ""
            options.append(f"{letters[:i]}[A-{chr(ord(ch) - 1)}]{rest}")
    if m > 1:
        options.append(f"[A-Z]{{1,{m - 1}}}+" if m > 2 else "[A-Z]")
    return "(?:" + "|".join(options) + ")"


@lru_cache(maxsize=64)
def _odd_rows(rows: int) -> re.Pattern:
    """A row tag not in the plain form ``<row r="N" ...>`` with N <= rows."""
    return re.compile(rf'<row(?=[\s/>])(?! r="{_number_at_most(rows)}"[^<>]*+>)'.encode())


@lru_cache(maxsize=64)
def _odd_cells(rows: int, columns: int) -> re.Pattern:
    """A cell tag not in the plain form ``<c r="A1" s=".." t="..">`` within rows x columns.

    Its other attributes may only be s, t, cm, vm or ph (never a second r: calamine takes the last).
    """
    plain = (rf' r="{_letters_at_most(columns)}{_number_at_most(rows)}"'
             rf'(?: [stcvmph]{{1,2}}="[^"<>&]*+")*+ ?/?>')
    return re.compile(rf'<c(?!{plain})(?=[\s/>])'.encode())
