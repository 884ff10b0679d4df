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
  instead: the sheet is not inflated again, and each file becomes its
  half-workbook where it lies (the zip header written in the room left for
  it, the sheet's end and the workbook's other parts appended), its XML
  not copied;
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
import struct
import tempfile
import threading
import zipfile
import zlib
from dataclasses import dataclass
from typing import Any

from importers.extent_halves import HEAD_BYTES, LOCAL_HEADER, SHEET_DATA, PreparedHalves, local_header_size
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
            half = halves[index]
            if isinstance(half, _Kept):
                path = half.path
                _finish_workbook(half, part, others)
            else:
                path = os.path.join(folder, f"half-{index}.xlsx")
                _write_workbook(path, part, others, half)
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


@dataclass
class _Kept:
    """A half the check kept: its file, where the XML starts in it, and what the XML still lacks at its end."""

    path: str
    offset: int
    tail: bytes = b""


def _kept_halves(first: str, second: str, offset: int) -> list[_Kept] | None:
    """The two files the check kept, as halves to finish into workbooks, or ``None`` when they are not as expected.

    After ``offset`` bytes (room for a zip header), the first file holds the sheet's XML up to a row's
    end, the second the sheet's beginning (up to and with ``<sheetData>``), then a numbered row (the cut)
    and the rest; the first half takes the sheet's end from the second file.  Only XML the check read as
    it is (UTF-8, or a declared encoding that reads ASCII as ASCII) is taken: a part it decoded first
    (UTF-16) is inflated again.
    """
    from importers.safety import RejectedFile, _encoding

    first_size, size = os.path.getsize(first), os.path.getsize(second)
    with open(first, "rb") as handle:
        handle.seek(offset)
        head = handle.read(HEAD_BYTES)  # where the check found the sheet's beginning
        handle.seek(max(offset, first_size - 6))
        if handle.read() != b"</row>":
            return None
    try:
        if _encoding(head, first) is not None:
            return None
    except RejectedFile:
        return None
    start = head.find(SHEET_DATA)
    if start < 0:
        return None
    start += len(SHEET_DATA)
    with open(second, "rb") as handle:
        handle.seek(offset)
        if handle.read(start + 8) != head[:start] + b'<row r="':
            return None
        back = max(offset + start, size - (1 << 20))
        handle.seek(back)
        tail = handle.read()
    end = tail.rfind(b"</sheetData>")
    if end < 0:
        return None
    return [_Kept(first, offset, tail[end:]), _Kept(second, offset)]


# Stored entries of the half-workbooks, as zipfile writes them (APPNOTE 4.3.7, 4.3.12, 4.3.16).
_VERSION = 20
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_END = struct.Struct("<IHHHHIIH")
_DOS_DATE = (1 << 5) | 1  # 1980-01-01
_ZIP32 = 0xFFFFFFFF
_CRC_READ = 8 << 20


def _finish_workbook(half: _Kept, part: str, others: list) -> None:
    """Make the kept ``half`` a stored workbook where it lies: the sheet's end appended, the zip header written
    in the room left for it, the workbook's ``others`` parts and the central directory appended.

    The sheet's XML is read once, for its checksum, and not copied.  ``OSError`` when the file would need
    zip64 (a half of 4 GB): the caller parses the sheet whole.
    """
    if local_header_size(part) != half.offset:
        raise OSError("the room left for the zip header does not fit the part's name")
    entries = []
    with open(half.path, "r+b") as handle:
        handle.seek(0, os.SEEK_END)
        handle.write(half.tail)
        size = handle.tell() - half.offset
        handle.seek(half.offset)
        crc = 0
        # Large reads: each hands the interpreter lock back and waits to have it again (up to 5 ms while
        # the app is built beside the parse), so a half is read in a few of them, not in 40.
        for chunk in iter(lambda: handle.read(_CRC_READ), b""):
            crc = zlib.crc32(chunk, crc)
        entries.append((part, crc, size, 0))
        handle.seek(0)
        handle.write(_local_header(part, crc, size))
        handle.seek(0, os.SEEK_END)
        for name, data in others:
            entries.append((name, zlib.crc32(data), len(data), handle.tell()))
            handle.write(_local_header(name, entries[-1][1], len(data)))
            handle.write(data)
        directory = handle.tell()
        for name, entry_crc, entry_size, at in entries:
            encoded = name.encode("utf-8")
            handle.write(_CENTRAL.pack(0x02014B50, _VERSION, _VERSION, _flags(name), 0, 0, _DOS_DATE, entry_crc,
                                       entry_size, entry_size, len(encoded), 0, 0, 0, 0, 0, at) + encoded)
        end = handle.tell()
        if end >= _ZIP32 or len(entries) >= 0xFFFF:
            raise OSError("a half-workbook this large needs zip64")
        handle.write(_END.pack(0x06054B50, 0, 0, len(entries), len(entries), end - directory, directory, 0))


def _local_header(name: str, crc: int, size: int) -> bytes:
    if size >= _ZIP32:
        raise OSError("a half-workbook this large needs zip64")
    encoded = name.encode("utf-8")
    return LOCAL_HEADER.pack(0x04034B50, _VERSION, _flags(name), 0, 0, _DOS_DATE, crc, size, size, len(encoded), 0) \
        + encoded


def _flags(name: str) -> int:
    return 0 if name.isascii() else 0x800  # bit 11: the name is UTF-8


def _write_workbook(path: str, part: str, others: list, pieces: tuple) -> None:
    """A stored (uncompressed) copy of the workbook at ``path``, whose sheet ``part`` is ``pieces`` joined."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as book:
        for filename, data in others:
            book.writestr(filename, data)
        with book.open(part, "w", force_zip64=True) as sheet:
            for piece in pieces:
                sheet.write(piece)
