"""A big sheet parsed in two halves (importers.split) reads exactly as the whole sheet does, or is read whole."""
from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest
from openpyxl import Workbook as OpenpyxlWorkbook

import importers.split
from importers.reading import Workbook
from importers.safety import Limits
from importers.split import parse_halves
from tests.importers.books import STANDARD_HEADER, xlsx

LIMITS = Limits(max_rows=10_000, header_allowance=10, max_columns=200, max_cells=1_000_000)


@pytest.fixture
def split_small(monkeypatch):
    """Cut every sheet, however small."""
    monkeypatch.setattr(importers.split, "SPLIT_MIN_BYTES", 1)


def read_rows(data: bytes, name: str) -> tuple[list, int, int, int]:
    book = Workbook(io.BytesIO(data), LIMITS)
    try:
        return list(book.rows(name)), book.width(name), book.data_rows(name, 1), len(book._sheet(name))
    finally:
        book.close()


def whole_and_halves(data: bytes, name: str, monkeypatch) -> tuple[tuple, tuple]:
    monkeypatch.setattr(importers.split, "SPLIT_MIN_BYTES", 1 << 40)
    whole = read_rows(data, name)
    monkeypatch.setattr(importers.split, "SPLIT_MIN_BYTES", 1)
    return whole, read_rows(data, name)


def uneven_book() -> bytes:
    """Shared strings, dates, numbers, blank rows at the cut and columns that differ between the halves."""
    wb = OpenpyxlWorkbook()
    ws = wb.active
    ws.title = "计量标准"
    ws.append(STANDARD_HEADER)
    for n in range(1, 121):
        row = [f"[2024]赣量标证字第{n}号", "装置", n * 1.5, "社会公用", None, "力学", None, None, None,
               date(2024, 1, 1 + n % 28)]
        if n < 40:
            row += [None, None, None, None, "是"]  # the last column only in the first rows
        ws.append(row)
    for _ in range(6):
        ws.append([])  # blank rows in the middle
    for n in range(121, 200):
        ws.append([None, None, f"只在后半 {n}"])  # rows starting at column C
    ws["Q300"] = "far right and down"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def test_the_halves_read_exactly_as_the_whole_sheet(monkeypatch):
    data = uneven_book()
    whole, halves = whole_and_halves(data, "计量标准", monkeypatch)
    assert whole[3] == 1 and halves[3] == 2, "the sheet was cut in two"
    assert halves[:3] == whole[:3]
    rows = dict(whole[0])
    assert rows[2][9] == date(2024, 1, 2) and rows[300][16] == "far right and down"


def test_a_workbook_of_two_sheets_cuts_only_the_one_asked_for(monkeypatch):
    data = xlsx({"机构": [["a", "b"], ["c", "d"]],
                 "计量标准": [STANDARD_HEADER, *[[f"[2024]赣量标证字第{n}号", n] for n in range(50)]]})
    for name in ("机构", "计量标准"):
        whole, halves = whole_and_halves(data, name, monkeypatch)
        assert halves[:3] == whole[:3] and halves[3] == 2


def sheet_book(rows_xml: str) -> bytes:
    """A minimal .xlsx whose one sheet's <sheetData> is ``rows_xml`` (inline strings)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as book:
        book.writestr("[Content_Types].xml",
                      '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/'
                      '2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
                      'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override '
                      'PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
                      'spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType='
                      '"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
        book.writestr("_rels/.rels",
                      '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                      'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
                      'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        book.writestr("xl/workbook.xml",
                      '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
                      'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
                      'relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>')
        book.writestr("xl/_rels/workbook.xml.rels",
                      '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                      'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
                      'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
        book.writestr("xl/worksheets/sheet1.xml",
                      '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
                      f'spreadsheetml/2006/main"><sheetData>{rows_xml}</sheetData></worksheet>')
    return out.getvalue()


def row(number: int, text: str) -> str:
    return f'<row r="{number}"><c r="A{number}" t="inlineStr"><is><t>{text}</t></is></c></row>'


def test_rows_listed_out_of_order_are_read_whole(split_small):
    """calamine places each row by its number: a second half starting before the first ends is not taken."""
    data = sheet_book("".join(row(n, f"r{n}") for n in range(10, 20)) + "".join(row(n, f"r{n}") for n in range(1, 10)))
    assert parse_halves(data, "S") is None
    rows, _, _, parts = read_rows(data, "S")
    assert parts == 1 and [cells[0] for _, cells in rows] == [f"r{n}" for n in range(1, 20)]


def test_a_cut_inside_a_comment_is_not_taken(split_small):
    """A plain row tag inside a comment is not a row: cutting there leaves the first half unfinished."""
    rows_xml = "".join(row(n, f"r{n}") for n in range(1, 4)) + "<!-- " + "x" * 300 + row(50, "no") + " -->" + \
        "".join(row(n, f"r{n}") for n in range(4, 6))
    data = sheet_book(rows_xml)
    assert parse_halves(data, "S") is None
    rows, _, _, parts = read_rows(data, "S")
    assert parts == 1 and [cells[0] for _, cells in rows] == [f"r{n}" for n in range(1, 6)]


def test_rows_without_numbers_after_the_cut_follow_the_numbered_row_before_them(monkeypatch):
    """The second half starts at a numbered row; the unnumbered rows after it are placed from there, as whole."""
    rows_xml = "".join(row(n, f"r{n}") for n in range(1, 30)) + \
        "".join(f'<row><c t="inlineStr"><is><t>u{n}</t></is></c></row>' for n in range(30, 40))
    data = sheet_book(rows_xml)
    whole, halves = whole_and_halves(data, "S", monkeypatch)
    assert halves[3] == 2 and halves[:3] == whole[:3]
    assert [cells[0] for _, cells in whole[0]][-1] == "u39"


def test_a_small_sheet_or_a_single_core_reads_whole(monkeypatch):
    data = xlsx({"计量标准": [STANDARD_HEADER, *[[f"[2024]赣量标证字第{n}号"] for n in range(50)]]})
    assert parse_halves(data, "计量标准") is None  # below SPLIT_MIN_BYTES
    monkeypatch.setattr(importers.split, "SPLIT_MIN_BYTES", 1)
    assert parse_halves(data, "计量标准") is not None
    monkeypatch.setattr(importers.split.os, "cpu_count", lambda: 1)
    assert parse_halves(data, "计量标准") is None
    assert parse_halves(data, "no such sheet") is None and parse_halves(b"not a zip", "计量标准") is None


def test_the_halves_files_are_gone_after_parsing(monkeypatch, tmp_path, split_small):
    """The halves are written to a temporary folder of their own (the upload's data) and removed at once."""
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    data = xlsx({"计量标准": [STANDARD_HEADER, *[[f"[2024]赣量标证字第{n}号"] for n in range(50)]]})
    assert parse_halves(data, "计量标准") is not None
    assert list(tmp_path.iterdir()) == []


def test_no_temporary_folder_reads_whole(monkeypatch, tmp_path, split_small):
    import tempfile

    data = xlsx({"计量标准": [STANDARD_HEADER, *[[f"[2024]赣量标证字第{n}号"] for n in range(50)]]})
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "missing"))
    assert parse_halves(data, "计量标准") is None
    rows, _, _, parts = read_rows(data, "计量标准")
    assert parts == 1 and len(rows) == 51


def test_a_tab_named_with_an_ampersand_is_found_and_cut(monkeypatch):
    """The tab's name as calamine gives it (entities read) finds its part (importers.safety.sheet_parts)."""
    from importers.safety import sheet_parts

    data = xlsx({"规程&标准": [STANDARD_HEADER, *[[f"[2024]赣量标证字第{n}号"] for n in range(50)]]})
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert list(sheet_parts(archive)) == ["规程&标准"]
    whole, halves = whole_and_halves(data, "规程&标准", monkeypatch)
    assert halves[3] == 2 and halves[:3] == whole[:3]


# --- the halves the check kept (importers.extent_halves) ------------------------------


@pytest.fixture
def kept(monkeypatch):
    """Cut every sheet and keep the check's halves, however small; record what the split made of them."""
    import importers.extent_halves

    monkeypatch.setattr(importers.split, "SPLIT_MIN_BYTES", 1)
    monkeypatch.setattr(importers.extent_halves, "HALVES_MIN_BYTES", 1)
    taken = []
    original = importers.split._kept_halves

    def kept_halves(first, second, offset):
        pieces = original(first, second, offset)
        taken.append(pieces is not None)
        return pieces

    monkeypatch.setattr(importers.split, "_kept_halves", kept_halves)
    return taken


def checked_rows(data: bytes, name: str) -> tuple[tuple, list]:
    """Check the upload keeping its halves, then read the sheet: (rows, width, data rows, parts), folders."""
    from importers.csvfile import open_book
    from importers.extent_halves import PreparedHalves
    from importers.safety import inspect_upload

    halves = PreparedHalves()
    opened = io.BytesIO(data)
    book = open_book(opened, inspect_upload(opened, LIMITS, "x.xlsx", halves=halves), LIMITS, halves=halves)
    folders = [folder.name for folder, *_ in halves._parts.values()]
    try:
        return (list(book.rows(name)), book.width(name), book.data_rows(name, 1), len(book._sheet(name))), folders
    finally:
        book.close()


def test_the_split_takes_the_halves_the_check_kept_and_reads_exactly_the_whole(kept, monkeypatch):
    data = uneven_book()
    whole, _ = whole_and_halves(data, "计量标准", monkeypatch)
    monkeypatch.setattr(importers.split, "SPLIT_MIN_BYTES", 1)
    read, folders = checked_rows(data, "计量标准")
    assert kept == [True] and len(folders) == 1, "the check's halves were taken"
    assert read[3] == 2 and read[:3] == whole[:3]
    import os

    assert not os.path.exists(folders[0]), "the kept halves are gone once parsed"


def test_kept_halves_are_not_read_again_from_the_upload(kept, monkeypatch):
    """The sheet's part is not inflated a second time when the check's halves are taken."""
    data = uneven_book()
    read_parts = []
    original = zipfile.ZipFile.read

    def read(self, name, pwd=None):
        read_parts.append(name.filename if isinstance(name, zipfile.ZipInfo) else name)
        return original(self, name, pwd)

    monkeypatch.setattr(zipfile.ZipFile, "read", read)
    checked_rows(data, "计量标准")
    assert kept == [True]
    assert "xl/worksheets/sheet1.xml" not in read_parts


def test_kept_halves_that_are_not_as_expected_are_not_taken(tmp_path):
    from importers.split import _kept_halves

    head = b'<?xml version="1.0" encoding="UTF-8"?><worksheet><sheetData><row r="1"><c r="A1"/></row>'
    rest = b'<row r="2"><c r="A2"/></row></sheetData><mergeCells/></worksheet>'
    room = b"\0" * 34  # where the zip header goes
    first, second = tmp_path / "first.xml", tmp_path / "second.xml"

    def halves(a: bytes, b: bytes, beginning: bytes | None = None):
        if beginning is None:
            beginning = a[:a.index(b"<sheetData>") + len(b"<sheetData>")] if b"<sheetData>" in a else b""
        first.write_bytes(room + a)
        second.write_bytes(room + beginning + b)
        return _kept_halves(str(first), str(second), len(room))

    taken = halves(head, rest)
    assert taken is not None
    one, two = taken
    assert (one.path, one.offset, one.tail) == (str(first), len(room), b"</sheetData><mergeCells/></worksheet>")
    assert (two.path, two.offset, two.tail) == (str(second), len(room), b"")
    # Decoded by the check (a UTF-16 part): its XML is not the upload's, so it is inflated again.
    utf16 = b'<?xml version="1.0" encoding="UTF-16"?>' + head[head.index(b"<worksheet"):]
    assert halves(utf16, rest) is None
    assert halves(head.replace(b"<sheetData>", b"<x:sheetData>"), rest) is None
    assert halves(head[:-2], rest) is None           # the first half does not end with a row's end
    assert halves(head, rest[1:]) is None            # the second does not go on with a numbered row
    assert halves(head, rest, beginning=b"<worksheet><sheetData>") is None  # nor start as the sheet does
    assert halves(head, rest.replace(b"</sheetData>", b"")) is None


def test_a_kept_half_becomes_a_workbook_where_it_lies(tmp_path):
    """The zip header goes in the room left for it; the sheet's end and the other parts are appended."""
    from importers.extent_halves import local_header_size
    from importers.split import _finish_workbook, _Kept

    part = "xl/worksheets/sheet1.xml"
    xml = b'<?xml version="1.0" encoding="UTF-8"?><worksheet><sheetData><row r="1"><c r="A1"/></row>'
    path = tmp_path / "half.xlsx"
    path.write_bytes(bytes(local_header_size(part)) + xml)
    others = [("[Content_Types].xml", b"<Types/>"), ("xl/名称.xml", b"<x/>")]
    _finish_workbook(_Kept(str(path), local_header_size(part), b"</sheetData></worksheet>"), part, others)
    with zipfile.ZipFile(path) as book:
        assert book.testzip() is None, "every entry's checksum holds"
        assert book.read(part) == xml + b"</sheetData></worksheet>"
        assert [(info.filename, info.compress_type) for info in book.infolist()] == \
            [(part, zipfile.ZIP_STORED), ("[Content_Types].xml", zipfile.ZIP_STORED), ("xl/名称.xml", zipfile.ZIP_STORED)]
        assert book.read("xl/名称.xml") == b"<x/>"
    with pytest.raises(OSError):  # a room that does not fit the name: never a broken workbook
        _finish_workbook(_Kept(str(path), 3), part, others)
