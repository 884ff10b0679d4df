"""Check an old Excel workbook (.xls: a compound file holding a BIFF stream) before calamine reads it.

An .xls is an OLE compound file (MS-CFB): a FAT of sector chains, a
directory of streams, and the ``Workbook`` (or ``Book``) stream of BIFF
records.  A reader trusts what these say: a chain that loops is followed
forever, a stream size or a sheet's ``DIMENSIONS`` record is allocated as
given, a count of shared strings is reserved before the strings are read,
and the cells of a sheet become a rectangle from its first to its last
cell.  So before calamine sees the file, every chain is followed here once
(each sector at most once, every index inside the file), every stream the
reader opens must fit in the file, the shared-string count must fit in the
stream, and each sheet's extent is taken from every cell record (the
records calamine reads) and from its ``DIMENSIONS`` record, whichever is
larger, and held to ``IMPORT_MAX_ROWS``, ``IMPORT_MAX_COLUMNS`` and
``IMPORT_MAX_CELLS`` like an .xlsx sheet.  An encrypted workbook
(``FILEPASS``) is refused.  The file is at most ``MAX_CONTENT_LENGTH``
bytes and is read into memory once.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import IO

from importers.messages import msg

MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENDOFCHAIN, _FREESECT = 0xFFFFFFFE, 0xFFFFFFFF
_HEADER_DIFAT = 109
_MINI_SECTOR = 64
_MINI_CUTOFF = 4096          # calamine reads a stream under 4096 bytes from the mini stream
_BOF, _EOF, _FILEPASS, _BOUNDSHEET, _SST, _DIMENSIONS = 0x0809, 0x000A, 0x002F, 0x0085, 0x00FC, 0x0200
# Cell records calamine reads (row and column in the first four bytes); BLANK and MULBLANK it skips.
_CELLS = frozenset({0x0203, 0x0204, 0x0205, 0x027E, 0x00FD, 0x0006, 0x0207})
_MULRK = 0x00BD


class CompoundError(Exception):
    """The file is refused; ``message`` says why (in the import's language)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class BiffSheet:
    name: str
    rows: int = 0        # from A1 to the last cell, 1-based
    columns: int = 0


def _damaged() -> CompoundError:
    return CompoundError(msg("文件已损坏（复合文档结构异常），无法读取", "the file is damaged (a broken compound-file structure)"))


def workbook_stream(data: bytes, max_entries: int) -> bytes:
    """The BIFF stream of an .xls, every chain and size checked on the way."""
    if len(data) < 512 or not data.startswith(MAGIC):
        raise _damaged()
    shift, mini_shift = struct.unpack_from("<HH", data, 30)
    if shift not in (9, 12) or mini_shift != 6:
        raise _damaged()
    size = 1 << shift
    sectors = (len(data) - size) // size if len(data) > size else 0
    (dir_sectors, fat_sectors, dir_start, _txn, _cutoff, minifat_start, minifat_sectors, difat_start,
     difat_sectors) = struct.unpack_from("<IIIIIIIII", data, 40)
    for count in (dir_sectors, fat_sectors, minifat_sectors, difat_sectors):
        if count > sectors:
            raise _damaged()

    def sector(index: int) -> bytes:
        if index >= sectors:
            raise _damaged()
        start = (index + 1) * size
        return data[start:start + size]

    # DIFAT: 109 ids in the header, then a chain of DIFAT sectors (the last id of each is the next).
    difat = list(struct.unpack_from(f"<{_HEADER_DIFAT}I", data, 76))
    seen: set[int] = set()
    current = difat_start
    while current not in (_ENDOFCHAIN, _FREESECT):
        if current in seen or len(seen) > difat_sectors + 1:
            raise _damaged()
        seen.add(current)
        ids = struct.unpack(f"<{size // 4}I", sector(current))
        difat.extend(ids[:-1])
        current = ids[-1]
    fat: list[int] = []
    used = set()
    for index in difat:
        if index == _FREESECT:
            continue
        if index in used:
            raise _damaged()
        used.add(index)
        fat.extend(struct.unpack(f"<{size // 4}I", sector(index)))

    def chain(start: int, table: list[int], limit: int) -> list[int]:
        out, visited = [], set()
        current = start
        while current != _ENDOFCHAIN:
            if current >= len(table) or current >= limit or current in visited:
                raise _damaged()
            visited.add(current)
            out.append(current)
            current = table[current]
        return out

    directory = b"".join(sector(i) for i in chain(dir_start, fat, sectors))
    entries = len(directory) // 128
    if entries == 0 or entries > max_entries:
        raise CompoundError(msg(f"复合文档中的条目过多（{entries} 个），不是正常的工作簿",
                                f"too many entries in the compound file ({entries}): not a normal workbook"))
    found: dict[str, tuple[int, int]] = {}
    root = None
    for n in range(entries):
        entry = directory[n * 128:(n + 1) * 128]
        kind = entry[66]
        if kind not in (1, 2, 5):
            continue
        name_length = min(struct.unpack_from("<H", entry, 64)[0], 64)
        name = entry[:name_length].decode("utf-16-le", "ignore").split("\0", 1)[0]
        start = struct.unpack_from("<I", entry, 116)[0]
        length = struct.unpack_from("<Q" if size == 4096 else "<I", entry, 120)[0]
        if length > len(data):
            raise CompoundError(msg(f"复合文档中的“{name}”声明的大小超过整个文件，已拒绝",
                                    f"the compound file's {name!r} claims to be larger than the whole file: refused"))
        if kind == 5 and root is None:
            root = (start, length)
        elif kind == 2:
            found.setdefault(name, (start, length))
    if root is None:
        raise _damaged()
    entry = found.get("Workbook") or found.get("Book")
    if entry is None:
        raise CompoundError(msg("不是 Excel 工作簿（复合文档中没有 Workbook 流）",
                                "not an Excel workbook (no Workbook stream in the compound file)"))
    start, length = entry
    if length >= _MINI_CUTOFF:
        stream = b"".join(sector(i) for i in chain(start, fat, sectors))
    else:
        mini_stream = b"".join(sector(i) for i in chain(root[0], fat, sectors))[:root[1]]
        minifat_raw = b"".join(sector(i) for i in chain(minifat_start, fat, sectors))
        minifat = list(struct.unpack(f"<{len(minifat_raw) // 4}I", minifat_raw[:len(minifat_raw) // 4 * 4]))
        ids = chain(start, minifat, len(mini_stream) // _MINI_SECTOR)
        stream = b"".join(mini_stream[i * _MINI_SECTOR:(i + 1) * _MINI_SECTOR] for i in ids)
    if len(stream) < length:
        raise _damaged()
    return stream[:length]


def biff_sheets(stream: bytes) -> list[BiffSheet]:
    """Each sheet of a BIFF stream with its extent (the larger of its cells and its DIMENSIONS)."""
    bounds: list[tuple[int, str]] = []
    for typ, data in _records(stream, 0):
        if typ == _FILEPASS and len(data) >= 2 and data[:2] != b"\0\0":
            raise CompoundError(msg("工作簿已加密", "the workbook is encrypted"))
        if typ == _BOUNDSHEET and len(data) >= 6:
            position = struct.unpack_from("<I", data)[0]
            name = _short_name(data[6:])
            if position >= len(stream):
                raise _damaged()
            bounds.append((position, name))
        elif typ == _SST and len(data) >= 8:
            unique = struct.unpack_from("<i", data, 4)[0]
            if unique < 0 or unique * 3 > len(stream):
                raise CompoundError(msg("共享字符串表的条数与文件大小不符，已拒绝",
                                        "the shared-string table claims more strings than the file can hold: refused"))
        elif typ == _EOF:
            break
    sheets = []
    for position, name in bounds:
        sheet = BiffSheet(name)
        for typ, data in _records(stream, position):
            if typ == _EOF:
                break
            if typ in _CELLS and len(data) >= 4:
                row, column = struct.unpack_from("<HH", data)
                sheet.rows = max(sheet.rows, row + 1)
                sheet.columns = max(sheet.columns, column + 1)
            elif typ == _MULRK and len(data) >= 6:
                row, first = struct.unpack_from("<HH", data)
                last = struct.unpack_from("<H", data, len(data) - 2)[0]
                sheet.rows = max(sheet.rows, row + 1)
                sheet.columns = max(sheet.columns, first + 1, last + 1)
            elif typ == _DIMENSIONS:
                rows, columns = _dimensions(data)
                sheet.rows, sheet.columns = max(sheet.rows, rows), max(sheet.columns, columns)
        sheets.append(sheet)
    return sheets


def _records(stream: bytes, position: int):
    end = len(stream)
    unpack = struct.unpack_from
    while position + 4 <= end:
        typ, length = unpack("<HH", stream, position)
        position += 4
        yield typ, stream[position:position + length]
        position += length


def _dimensions(data: bytes) -> tuple[int, int]:
    """What calamine reserves for a DIMENSIONS record: (rows, columns), from A1, refusing an inverted one."""
    if len(data) == 14:
        first_row, last_row, first_col, last_col = struct.unpack_from("<IIHH", data)
    elif len(data) == 10:
        first_row, last_row, first_col, last_col = struct.unpack_from("<HHHH", data)
    else:
        return 0, 0
    if last_row == 0 or last_col == 0:
        return first_row + 1, first_col + 1
    if last_row - 1 < first_row or last_col - 1 < first_col:
        raise CompoundError(msg("工作表的 DIMENSIONS 记录异常，已拒绝", "a sheet's DIMENSIONS record is inverted: refused"))
    return last_row, last_col


def _short_name(data: bytes) -> str:
    if len(data) < 2:
        return "?"
    length, flags = data[0], data[1]
    if flags & 1:
        return data[2:2 + 2 * length].decode("utf-16-le", "replace")
    return data[2:2 + length].decode("latin-1")


def read_all(opened: IO[bytes] | str) -> bytes:
    if isinstance(opened, str):
        with open(opened, "rb") as handle:
            return handle.read()
    position = opened.tell()
    opened.seek(0)
    data = opened.read()
    opened.seek(position)
    return data
