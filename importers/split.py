"""Parse a big worksheet on two cores: the sheet cut in two at a row, each half parsed in its own thread.

calamine parses a sheet on one core (in Rust, with the interpreter lock
released): 1.3 to 1.4 s for the 86 MB of XML of a 100,000-row, 15-column
sheet on a 2-vCPU machine, while the import waits for it.  Cut in two at a
row and parsed by two threads, the same sheet takes 0.9 to 1.0 s, the cut
and the copies included, and the two halves read back, row after row,
exactly what the whole sheet reads.

The cut is made only where it cannot change what is read:

- an .xlsx sheet part of at least :data:`SPLIT_MIN_BYTES` of XML, on a machine
  with more than one core;
- at the first plain ``<row r="N"`` tag after the middle of ``<sheetData>``
  (a literal ``<`` cannot occur in XML text or attribute values, so it
  starts a tag; the second half's first row states its number, and every
  row or cell after it that does not is placed from there, as in the whole
  sheet);
- where the check kept the sheet's XML in two halves (cut after a row's
  end, :mod:`importers.extent_halves`), that cut and those files are taken
  instead, and the sheet is not inflated again;
- each half is a copy of the workbook whose sheet holds the XML before the
  cut or after it (the sheet's other elements in both), stored without
  compression in a temporary folder of its own (mode 0700), which calamine
  reads as it parses and which is removed at once;
- the halves are taken only if both parse and the second half's first row
  comes after the first half's last (a sheet listing its rows out of order
  is read whole); a cut that fell inside a comment or a CDATA section
  leaves the first half unfinished, which calamine refuses.

Anything else, or any error, and :func:`parse_halves` returns ``None``: the
caller parses the whole sheet as before.  The workbook was checked before
(:mod:`importers.safety`): the halves hold nothing the file did not, each
within the extent the check allowed.
"""
from __future__ import annotations

import io
import os
import tempfile
import threading
import zipfile
from typing import Any

from importers.extent_halves import PreparedHalves
from importers.safety import sheet_parts

# Sheets smaller than this are parsed whole (a sheet of 20,000 rows is about 16 MB of XML).
SPLIT_MIN_BYTES = 16 << 20


def parse_halves(source: bytes, name: str, prepared: PreparedHalves | None = None) -> list[Any] | None:
    """Sheet ``name`` of the .xlsx ``source`` as two calamine sheets (first rows, last rows), or ``None``.

    ``prepared``: the halves the check kept (:mod:`importers.extent_halves`), taken instead of inflating
    the sheet again when they are there; their files go once used.
    """
    if (os.cpu_count() or 1) < 2:
        return None
    try:
        cut = _cut(source, name, prepared)
    except Exception:  # noqa: BLE001 - anything unexpected: the whole sheet is parsed instead
        return None
    if cut is None:
        return None
    part, others, halves = cut
    del cut
    parsed: list[Any] = [None, None]

    def parse(index: int, folder: str) -> None:
        import python_calamine

        try:
            # A file, not bytes in memory: calamine reads it as it parses, and the half's XML is let go at once.
            path = os.path.join(folder, f"half-{index}.xlsx")
            _write_workbook(path, part, others, halves[index])
            halves[index] = None
            parsed[index] = python_calamine.CalamineWorkbook.from_path(path).get_sheet_by_name(name)
        except BaseException:  # noqa: BLE001 - calamine's errors and its panics: parsed whole instead
            parsed[index] = None

    try:
        with tempfile.TemporaryDirectory(prefix="registry-import-") as folder:
            other = threading.Thread(target=parse, args=(1, folder), name="import-parse-half", daemon=True)
            other.start()
            parse(0, folder)
            other.join()
    except OSError:  # no temporary folder to be had (or to remove): parsed whole
        return None
    finally:
        if prepared is not None:
            prepared.drop(part)  # the check's halves, used
    first, second = parsed
    if first is None or second is None or not first.end or not second.start or second.start[0] <= first.end[0]:
        return None
    return [first, second]


def _cut(source: bytes, name: str, prepared: PreparedHalves | None = None) -> tuple[str, list, list[tuple]] | None:
    """The sheet's part name, the workbook's other parts and each half's XML as pieces, or ``None``."""
    with zipfile.ZipFile(io.BytesIO(source)) as archive:
        part = sheet_parts(archive).get(name)
        if part is None or part.file_size < SPLIT_MIN_BYTES:
            return None
        files = prepared.files(part.filename) if prepared is not None else None
        if files is not None:
            halves = None
            try:
                halves = _kept_halves(*files)
            finally:
                if halves is None:
                    prepared.drop(part.filename)
            if halves is not None:
                others = [(info.filename, archive.read(info)) for info in archive.infolist()
                          if info.filename != part.filename and not info.is_dir()]
                return part.filename, others, halves
        xml = archive.read(part)
        start = xml.find(b"<sheetData>")
        end = xml.rfind(b"</sheetData>")
        if start < 0 or end < start:
            return None
        start += len(b"<sheetData>")
        cut = xml.find(b'<row r="', start + (end - start) // 2, end)
        if cut < 0:
            return None
        whole = memoryview(xml)
        halves = [(whole[:cut], whole[end:]), (whole[:start], whole[cut:])]
        others = [(info.filename, archive.read(info)) for info in archive.infolist()
                  if info.filename != part.filename and not info.is_dir()]
    return part.filename, others, halves


def _kept_halves(first: str, second: str) -> list[tuple] | None:
    """Each half's XML as pieces of the two files the check kept (``(path, start, end)``), or ``None``.

    The first file ends with a row's end and the second starts with a numbered row (the cut); the first
    half takes the sheet's end from the second file, the second its beginning from the first.  Only
    XML the check read as it is (UTF-8, or a declared encoding that reads ASCII as ASCII) is taken: a
    part it decoded first (UTF-16) is inflated again.
    """
    from importers.safety import RejectedFile, _encoding

    first_size, size = os.path.getsize(first), os.path.getsize(second)
    with open(first, "rb") as handle:
        head = handle.read(1 << 20)
        handle.seek(max(0, first_size - 6))
        if handle.read() != b"</row>":
            return None
    try:
        if _encoding(head, first) is not None:
            return None
    except RejectedFile:
        return None
    start = head.find(b"<sheetData>")
    if start < 0:
        return None
    start += len(b"<sheetData>")
    with open(second, "rb") as handle:
        if handle.read(8) != b'<row r="':
            return None
        back = max(0, size - (1 << 20))
        handle.seek(back)
        end = handle.read().rfind(b"</sheetData>")
    if end < 0:
        return None
    end += back
    return [((first, 0, first_size), (second, end, size)), ((first, 0, start), (second, 0, size))]


def _write_workbook(path: str, part: str, others: list, pieces: tuple) -> None:
    """A stored (uncompressed) copy of the workbook at ``path``, whose sheet ``part`` is ``pieces`` joined
    (bytes, or ``(file, start, end)``: that range of a file)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as book:
        for filename, data in others:
            book.writestr(filename, data)
        with book.open(part, "w", force_zip64=True) as sheet:
            for piece in pieces:
                if not isinstance(piece, tuple):
                    sheet.write(piece)
                    continue
                file, start, end = piece
                with open(file, "rb") as handle:
                    handle.seek(start)
                    left = end - start
                    while left > 0:
                        chunk = handle.read(min(left, 1 << 20))
                        if not chunk:
                            raise OSError(f"{file} is shorter than expected")
                        sheet.write(chunk)
                        left -= len(chunk)
