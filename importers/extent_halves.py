"""Read a big sheet's extent on two cores: the XML before a cut at a row by a helper process, the rest here.

The safety check (:mod:`importers.safety`) reads every cell and row
reference of a sheet before any parser sees it.  That is Python's regular
expressions, holding the interpreter lock: 0.3 s of the 0.65 s the check
takes for the 86 MB of XML of a 100,000-row sheet, on one core, while the
import waits.  For a sheet part of at least :data:`HALVES_MIN_BYTES` on a
machine with more than one core, :class:`HalvedExtent` takes the part's
XML as it is inflated and:

- writes it to a file in a temporary folder of its own (mode 0700) up to
  the first ``</row><row r="`` after its middle, and cuts there: the first
  half ends with a row's end, the second starts with a numbered row;
- hands the first half to a helper process (the same interpreter, reading
  only :func:`importers.extent.scan_file`), and reads the second half here,
  as it streams, with the limits checked as it goes;
- takes the larger of the two halves' rows and columns, and the sum of their
  slowly walked cells.

Why the halves read exactly what the whole reads: after a row's end a cell
without ``r`` is in the first column, and a numbered row sets the row, so
the second half's reading does not depend on the first's.  That holds only
if the cut is not inside a row or cell tag (a quoted attribute value may
hold ``</row><row r="``); then the first half ends inside that tag, its
reading says so (``unfinished``), and the whole part is inflated and read
again here, in one piece.  The same happens when the helper cannot be run
or fails: its half is read here.  A cut that fell inside a tag may make the
second half's reading larger than the whole's, never smaller, so a sheet
refused early is refused on a reading at least as large as its own.

No cut within :data:`SEARCH_BYTES` after the middle (a sheet not written
one row after another), no temporary folder, or a part that is not that
large: the part is read here from the start, as before.

Given a :class:`PreparedHalves`, the check also keeps the second half's XML
and hands both files over once the halves are read: :mod:`importers.split`
makes its two half-workbooks of them instead of inflating the sheet a
second time.  Each file is such a workbook in the making: it starts with
room for the sheet part's zip header (:func:`local_header_size`), and the
second file holds the sheet's beginning (up to ``<sheetData>``) before its
rows, so the split writes the header and appends the other parts without
copying the sheet's XML again.
"""
from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable, Iterable

from importers.extent import ExtentError, SheetExtent, feed_file, scan_file

# Sheet parts smaller than this are read in one piece (about 20,000 rows of 15 columns).
HALVES_MIN_BYTES = 16 << 20
# How far past the middle to look for the cut before reading the part in one piece.
SEARCH_BYTES = 4 << 20
# How long the helper may take for its half (it reads about 150 MB a second).
HELPER_TIMEOUT = 120
_CUT = b'</row><row r="'
_ROW_END = len(b"</row>")
_HELPER = "import sys; sys.path.insert(0, sys.argv[1]); from importers.extent import scan_file; " \
          "import json; print(json.dumps(scan_file(sys.argv[2], int(sys.argv[3]))))"
# Where the sheet's beginning (up to and with ``<sheetData>``) is looked for, for the kept second half
# (by the check as it writes the halves, and by importers.split as it takes them).
HEAD_BYTES = 1 << 20
SHEET_DATA = b"<sheetData>"
# A zip local file header before its name (APPNOTE 4.3.7): what a kept half's file leaves room for.
LOCAL_HEADER = struct.Struct("<IHHHHHIIIHH")


def local_header_size(part: str) -> int:
    """The bytes a stored zip entry's local header takes for part name ``part`` (no extra field)."""
    return LOCAL_HEADER.size + len(part.encode("utf-8"))
_ROOT = str(Path(__file__).resolve().parent.parent)


def halved_extent(size: int, again: Callable[[], Iterable[bytes]], *, keep: PreparedHalves | None = None,
                  part: str = "") -> HalvedExtent | None:
    """A :class:`HalvedExtent` for a sheet part of ``size`` bytes, or ``None`` when it is read in one piece.

    ``again``: the part's XML (UTF-8) from the start, for the rare case it must be read in one piece after all.
    ``keep``: where to leave the two halves' XML, as read, under the name ``part`` (for :mod:`importers.split`).
    """
    if size < HALVES_MIN_BYTES or (os.cpu_count() or 1) < 2 or not sys.executable:
        return None
    try:
        return HalvedExtent(size, again, keep=keep, part=part)
    except OSError:  # no temporary folder to be had
        return None


class PreparedHalves:
    """Big sheets' XML in two halves, cut at a row and kept in files as the check read them.

    :mod:`importers.split` parses a big sheet in two halves; given these, it
    builds them from the files instead of inflating the sheet again.  The
    owner calls :meth:`close` (the files go; also when they were never used).
    """

    def __init__(self) -> None:
        self._parts: dict[str, tuple[tempfile.TemporaryDirectory, str, str, int]] = {}

    def add(self, part: str, folder: tempfile.TemporaryDirectory, first: str, second: str, offset: int) -> None:
        self.drop(part)
        self._parts[part] = (folder, first, second, offset)

    def files(self, part: str) -> tuple[str, str, int] | None:
        """``part``'s two halves: the paths and where their XML starts (after room for a zip header).

        The first holds the sheet's XML up to a row's end; the second the sheet's beginning (up to and with
        ``<sheetData>``), then the rest of the XML from the next row.
        """
        found = self._parts.get(part)
        return found[1:] if found is not None else None

    def drop(self, part: str) -> None:
        found = self._parts.pop(part, None)
        if found is not None:
            found[0].cleanup()

    def close(self) -> None:
        for part in list(self._parts):
            self.drop(part)


class HalvedExtent:
    """:class:`~importers.extent.SheetExtent`'s interface (``feed``, ``close``, the extent) over two halves.

    Until :meth:`close`, ``rows``, ``columns`` and ``cells_walked`` are those
    read so far (the first half's once the helper has answered), so the
    caller can refuse a sheet as soon as the second half shows it is beyond
    the limits.  Call :meth:`discard` when the part is not read to its end.
    """

    def __init__(self, size: int, again: Callable[[], Iterable[bytes]], *, keep: PreparedHalves | None = None,
                 part: str = "") -> None:
        self.middle = size // 2
        self.again = again
        self.keep, self.part = keep, part
        self._second = None  # the second half's file, when the halves are kept
        self.local = SheetExtent()   # the second half (or the whole part, once read in one piece)
        self.first: dict | None = None
        self._folder = tempfile.TemporaryDirectory(prefix="registry-scan-")
        self._path = os.path.join(self._folder.name, "first.xml")
        self._file = open(self._path, "wb")
        # Kept halves start with room for the zip header importers.split writes there.
        self.offset = local_header_size(part) if keep is not None else 0
        self._file.write(bytes(self.offset))
        self._head = b""  # the XML's first bytes, for the sheet's beginning (kept halves only)
        self._written = 0
        self._helper: subprocess.Popen | None = None
        self._whole = False  # read in one piece here

    @property
    def rows(self) -> int:
        return max(self.local.rows, self.first["rows"] if self.first else 0)

    @property
    def columns(self) -> int:
        return max(self.local.columns, self.first["columns"] if self.first else 0)

    @property
    def cells_walked(self) -> int:
        return self.local.cells_walked + (self.first["cells_walked"] if self.first else 0)

    def feed(self, chunk: bytes) -> None:
        if self._file is None:
            if self._second is not None:
                self._second.write(chunk)
            self.local.feed(chunk)
            return
        if self.keep is not None and len(self._head) < HEAD_BYTES:
            self._head += chunk[:HEAD_BYTES - len(self._head)]
        start = self.middle - self._written
        if start < len(chunk):
            # A cut spanning two chunks is missed: the next row's is taken.
            found = chunk.find(_CUT, max(0, start))
            if found >= 0:
                cut = found + _ROW_END
                self._file.write(chunk[:cut])
                self._close_file()
                self._start_helper()
                self._keep_second(chunk[cut:])
                self.local.feed(chunk[cut:])
                return
        self._file.write(chunk)
        self._written += len(chunk)
        if self._written - self.middle > SEARCH_BYTES:
            self._read_here()

    def close(self) -> None:
        """The end of the part: read what is left and the first half's answer."""
        try:
            if self._file is not None:  # never cut: everything is in the file
                self._read_here()
            self.local.close()
            if self._whole:
                return
            first = self._answer()
            if first is None or first.get("unfinished"):
                # The helper failed, or the cut fell inside a tag: read the part in one piece.
                whole = SheetExtent()
                for chunk in self.again():
                    whole.feed(chunk)
                whole.close()
                self.local, self.first = whole, None
                return
            if first.get("error") == "tag":
                raise ExtentError("tag too long")
            self.first = first
            if self._second is not None:  # the halves, as read, for importers.split
                self._second.close()
                self._second = None
                self.keep.add(self.part, self._folder, self._path, os.path.join(self._folder.name, "second.xml"),
                              self.offset)
                self._folder = None
        finally:
            self.discard()

    def discard(self) -> None:
        """Stop the helper and remove the temporary folder; safe to call more than once."""
        for handle in (self._file, self._second):
            if handle is not None:
                handle.close()
        self._file = self._second = None
        if self._helper is not None:
            if self._helper.poll() is None:
                self._helper.kill()
            self._helper.wait()
            if self._helper.stdout is not None:
                self._helper.stdout.close()
            self._helper = None
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None

    # --- internals ---------------------------------------------------------------

    def _close_file(self) -> None:
        self._file.close()
        self._file = None

    def _keep_second(self, rest: bytes) -> None:
        """Start the kept second half: room for the zip header, the sheet's beginning, then ``rest``."""
        head, self._head = self._head, b""
        begins = head.find(SHEET_DATA)
        if self.keep is None or begins < 0:  # no plain <sheetData> near the start: the split inflates again
            return
        self._second = open(os.path.join(self._folder.name, "second.xml"), "wb")
        self._second.write(bytes(self.offset))
        self._second.write(head[:begins + len(SHEET_DATA)])
        self._second.write(rest)

    def _start_helper(self) -> None:
        try:
            self._helper = subprocess.Popen([sys.executable, "-I", "-S", "-c", _HELPER, _ROOT, self._path,
                                             str(self.offset)],
                                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                            stderr=subprocess.DEVNULL)
        except OSError:
            self._helper = None  # read here at the end

    def _answer(self) -> dict | None:
        """The first half's reading: the helper's, else read here; ``None`` when it cannot be had."""
        if self._helper is not None:
            try:
                out, _ = self._helper.communicate(timeout=HELPER_TIMEOUT)
                if self._helper.returncode == 0:
                    answer = json.loads(out)
                    if _valid(answer):
                        return answer
            except (subprocess.TimeoutExpired, ValueError):
                pass
        try:
            answer = scan_file(self._path, self.offset)
        except OSError:
            return None
        return answer

    def _read_here(self) -> None:
        """Give up the halves (no cut was made): read what the file holds here, then go on here."""
        self._close_file()
        self._whole = True
        feed_file(self.local, self._path, self.offset)
        os.remove(self._path)


def _valid(answer: object) -> bool:
    if not isinstance(answer, dict):
        return False
    if answer.get("error") == "tag":
        return True
    return all(type(answer.get(key)) is int and answer[key] >= 0 for key in ("rows", "columns", "cells_walked")) \
        and type(answer.get("unfinished")) is bool
