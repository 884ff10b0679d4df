"""importers.compound on a compound file built here: a small Workbook stream kept in the mini stream."""
from __future__ import annotations

import struct

import pytest

from importers.compound import MAGIC, CompoundError, biff_sheets, workbook_stream

END, FREE, FAT_SECTOR = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD


def record(typ: int, data: bytes) -> bytes:
    return struct.pack("<HH", typ, len(data)) + data


def biff(row: int, column: int) -> bytes:
    """Globals (BOF, one BOUNDSHEET, EOF), then the sheet: BOF, one NUMBER cell, EOF."""
    name = "机构".encode("utf-16-le")
    globals_ = record(0x0809, bytes(16))
    sheet_record = lambda position: record(0x0085, struct.pack("<IBB", position, 0, 0) + bytes([2, 1]) + name)  # noqa
    start = len(globals_) + len(sheet_record(0)) + 4
    stream = globals_ + sheet_record(start) + record(0x000A, b"")
    return stream + record(0x0809, bytes(16)) + record(0x0203, struct.pack("<HHHd", row, column, 0, 1.0)) \
        + record(0x000A, b"")


def compound(stream: bytes, *, minifat_loop: bool = False) -> bytes:
    """Sectors: 0 FAT, 1 directory, 2 mini FAT, 3.. the mini stream (the root's)."""
    mini_sectors = (len(stream) + 63) // 64
    ministream = stream.ljust(mini_sectors * 64, b"\0")
    ministream_sectors = (len(ministream) + 511) // 512
    fat = [FAT_SECTOR, END, END] + [3 + i + 1 for i in range(ministream_sectors - 1)] + [END]
    fat += [FREE] * (128 - len(fat))
    minifat = [i + 1 for i in range(mini_sectors - 1)] + [END]
    if minifat_loop:
        minifat[-1] = 0
    minifat += [FREE] * (128 - len(minifat))

    def entry(name: str, kind: int, start: int, size: int) -> bytes:
        encoded = (name + "\0").encode("utf-16-le")
        return (encoded.ljust(64, b"\0") + struct.pack("<HBB", len(encoded), kind, 1) + bytes(48)
                + struct.pack("<III", start, size, 0))

    directory = (entry("Root Entry", 5, 3, len(ministream)) + entry("Workbook", 2, 0, len(stream))).ljust(512, b"\0")
    header = bytearray(512)
    header[:8] = MAGIC
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIIII", header, 40, 0, 1, 1, 0, 4096, 2, 1, END, 0)
    difat = [0] + [FREE] * 108
    struct.pack_into("<109I", header, 76, *difat)
    return (bytes(header) + struct.pack("<128I", *fat) + directory + struct.pack("<128I", *minifat)
            + ministream.ljust(ministream_sectors * 512, b"\0"))


def test_a_small_workbook_stream_is_read_from_the_mini_stream_and_measured():
    stream = biff(41, 6)
    assert workbook_stream(compound(stream), 100) == stream
    [sheet] = biff_sheets(stream)
    assert (sheet.name, sheet.rows, sheet.columns) == ("机构", 42, 7)
    # calamine reads the same file the same way: one cell at row 42, column G
    import io

    import python_calamine

    book = python_calamine.CalamineWorkbook.from_object(io.BytesIO(compound(stream)))
    assert book.sheet_names == ["机构"] and book.get_sheet_by_name("机构").end == (41, 6)


def test_a_looping_mini_fat_chain_is_refused():
    with pytest.raises(CompoundError, match="compound-file|复合文档"):
        workbook_stream(compound(biff(1, 1), minifat_loop=True), 100)


def test_a_sheet_position_outside_the_stream_is_refused():
    stream = bytearray(biff(1, 1))
    struct.pack_into("<I", stream, 4 + 16 + 4, len(stream) + 10)
    with pytest.raises(CompoundError):
        biff_sheets(bytes(stream))
