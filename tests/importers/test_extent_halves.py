"""A big sheet's extent read in two halves (importers.extent_halves) is the whole sheet's, or read whole."""
from __future__ import annotations

import io
import os
import random
import zipfile

import pytest

import importers.extent_halves as halves
from importers.extent import MAX_TAG, ExtentError, SheetExtent, column_letters
from importers.safety import Limits, RejectedFile, inspect_workbook
from tests.importers.test_extent import worksheet

V = "<v>1</v>"


def plain_rows(first: int, last: int, columns: int = 3) -> str:
    return "".join(f'<row r="{n}">' + "".join(f'<c r="{column_letters(c)}{n}" t="n">{V}</c>'
                                              for c in range(1, columns + 1)) + "</row>"
                   for n in range(first, last + 1))


def whole(xml: bytes, size: int = 1 << 20) -> tuple[int, int, int]:
    scanner = SheetExtent()
    for chunk in chunks(xml, size):
        scanner.feed(chunk)
    scanner.close()
    return scanner.rows, scanner.columns, scanner.cells_walked


def chunks(xml: bytes, size: int):
    return [xml[start:start + size] for start in range(0, len(xml), size)]


def halved(xml: bytes, size: int = 4096) -> halves.HalvedExtent:
    scanner = halves.HalvedExtent(len(xml), lambda: iter(chunks(xml, size)))
    try:
        for chunk in chunks(xml, size):
            scanner.feed(chunk)
        scanner.close()
    finally:
        scanner.discard()
    return scanner


@pytest.fixture
def helper_only(monkeypatch):
    """The first half must be read by the helper process: reading it here fails the test."""
    def here(path, start=0):
        raise AssertionError("the first half was read in this process")
    monkeypatch.setattr(halves, "scan_file", here)


def test_a_plain_sheet_reads_the_same_in_halves_and_the_helper_reads_the_first(helper_only):
    xml = worksheet(plain_rows(1, 3000))
    scanner = halved(xml)
    assert scanner.first is not None and scanner.first["rows"] < 3000  # cut: the helper's half
    assert (scanner.rows, scanner.columns) == whole(xml)[:2] == (3000, 3)


def test_kept_halves_leave_room_for_the_zip_header_and_the_second_starts_as_the_sheet_does(helper_only):
    xml = worksheet(plain_rows(1, 3000))
    part = "xl/worksheets/sheet1.xml"
    kept = halves.PreparedHalves()
    scanner = halves.HalvedExtent(len(xml), lambda: iter(chunks(xml, 4096)), keep=kept, part=part)
    try:
        for chunk in chunks(xml, 4096):
            scanner.feed(chunk)
        scanner.close()
        first, second, offset = kept.files(part)
        assert offset == halves.local_header_size(part) == 30 + len(part)
        one, two = open(first, "rb").read(), open(second, "rb").read()
        assert one[:offset] == two[:offset] == bytes(offset)
        cut = len(one) - offset
        assert xml[:cut] == one[offset:] and one.endswith(b"</row>")
        beginning = xml[:xml.index(b"<sheetData>") + len(b"<sheetData>")]
        assert two[offset:] == beginning + xml[cut:] and xml[cut:].startswith(b'<row r="')
    finally:
        scanner.discard()
        kept.close()
    assert not os.path.exists(first), "closing the halves removes their files"


def test_what_only_the_first_half_holds_is_not_missed(helper_only):
    body = plain_rows(1, 500) + f'<row r="501"><c r="A501">{V}</c><c r="GZ9000">{V}</c></row>' + plain_rows(502, 3000)
    xml = worksheet(body)
    scanner = halved(xml)
    assert scanner.first is not None
    assert (scanner.rows, scanner.columns) == whole(xml)[:2] == (9000, 208)


@pytest.mark.parametrize("seed", range(12))
def test_random_sheets_read_the_same_in_halves(seed):
    """Rows and cells with and without numbers, prefixes, quotes and second r attributes, around the cut."""
    rng = random.Random(seed)
    parts = []
    for n in range(1, 1200):
        cells = []
        for col in range(1, rng.randint(2, 6)):
            ref = f"{column_letters(col + rng.choice([0] * 30 + [40]))}{n + rng.choice([0] * 30 + [7000])}"
            cells.append(rng.choice([f'<c r="{ref}" t="n">{V}</c>'] * 8 + [
                f"<c>{V}</c>", f"<c r='{ref}'>{V}</c>", f'<x:c r="{ref}">{V}</x:c>', f'<c r="A1" r="{ref}">{V}</c>']))
        row = rng.choice([f'<row r="{n}">'] * 6 + ["<row>", f"<row r='{n}'>"])
        parts.append(f"{row}{''.join(cells)}</row>")
    xml = worksheet("".join(parts))
    expected = whole(xml)[:2]
    for size in (997, 4096, 65536):
        scanner = halved(xml, size)
        assert (scanner.rows, scanner.columns) == expected, size


def test_cells_without_numbers_right_after_the_cut_count_from_the_first_column(helper_only):
    body = plain_rows(1, 1500) + "".join(f'<row r="{n}"><c>{V}</c><c>{V}</c></row>' for n in range(1501, 3001))
    xml = worksheet(body)
    middle = len(xml) // 2
    assert xml.find(b'<row r="', middle) > 0
    scanner = halved(xml)
    assert (scanner.rows, scanner.columns) == whole(xml)[:2] == (3000, 3)


def test_a_cut_inside_a_quoted_value_reads_the_whole_part_again():
    """`</row><row r="` inside a cell tag's attribute: the first half ends inside the tag, which holds XFD1."""
    head = plain_rows(1, 2000)
    trap = f'<row r="2001"><c r="XFD1" x="</row><row r="2002">">{V}</c></row>'
    xml = worksheet(head + trap + plain_rows(2003, 2200))
    # The middle falls just before the trap, so the cut is the one inside the quoted value.
    start = xml.index(trap.encode())
    scanner = halves.HalvedExtent(2 * start, lambda: iter(chunks(xml, 4096)))
    try:
        for chunk in chunks(xml, 4096):
            scanner.feed(chunk)
        scanner.close()
    finally:
        scanner.discard()
    assert scanner.first is None  # read again, whole
    assert (scanner.rows, scanner.columns) == whole(xml)[:2]
    assert scanner.columns == 16_384


def test_no_cut_near_the_middle_reads_the_part_whole(monkeypatch):
    monkeypatch.setattr(halves, "SEARCH_BYTES", 1024)
    body = "\n".join(f'<row r="{n}"><c r="A{n}">{V}</c></row>' for n in range(1, 3000))  # a new line between rows
    xml = worksheet(body)
    scanner = halved(xml)
    assert scanner.first is None
    assert (scanner.rows, scanner.columns) == whole(xml)[:2] == (2999, 1)


def test_the_first_half_is_read_here_when_the_helper_cannot_run(monkeypatch):
    monkeypatch.setattr(halves.sys, "executable", "/nonexistent/python")
    xml = worksheet(plain_rows(1, 1000) + f'<row r="1001"><c r="K5000">{V}</c></row>' + plain_rows(1002, 3000))
    scanner = halved(xml)
    assert scanner.first is not None
    assert (scanner.rows, scanner.columns) == whole(xml)[:2] == (5000, 11)


def test_a_helper_that_answers_nonsense_is_not_believed(monkeypatch):
    monkeypatch.setattr(halves, "_HELPER", "print('{\"rows\": 1, \"columns\": 1}')")
    xml = worksheet(plain_rows(1, 1000) + f'<row r="1001"><c r="K5000">{V}</c></row>' + plain_rows(1002, 3000))
    scanner = halved(xml)
    assert (scanner.rows, scanner.columns) == (5000, 11)


def test_an_endless_tag_in_the_first_half_is_refused_as_when_read_whole(helper_only):
    from importers.extent import REGION

    endless = '<row r="201"><c r="A201" t="' + "x" * (2 * REGION + MAX_TAG) + '"/></row>'
    xml = worksheet(plain_rows(1, 200) + endless + plain_rows(202, 130_000))
    assert xml.index(b'<row r="202"') < len(xml) // 2  # the tag is in the first half
    with pytest.raises(ExtentError):
        whole(xml)
    scanner = halves.HalvedExtent(len(xml), lambda: iter(chunks(xml, 1 << 20)))
    try:
        with pytest.raises(ExtentError):
            for chunk in chunks(xml, 1 << 20):
                scanner.feed(chunk)
            scanner.close()
        assert scanner.first is None and scanner.local.rows == 130_000  # the second half was read here
    finally:
        scanner.discard()


def test_the_temporary_folder_goes_when_done_and_when_left_midway():
    xml = worksheet(plain_rows(1, 3000))
    scanner = halved(xml)
    assert scanner._folder is None
    left = halves.HalvedExtent(len(xml), lambda: iter(chunks(xml, 4096)))
    folder = left._folder.name
    for chunk in chunks(xml, 4096)[: len(xml) // 4096 - 2]:
        left.feed(chunk)
    assert left._helper is not None and os.path.isdir(folder)
    left.discard()
    left.discard()
    assert not os.path.exists(folder) and left._helper is None


def workbook(sheet_xml: bytes) -> bytes:
    from tests.importers.test_extent import calamine_extent  # noqa: F401 - the same minimal workbook parts

    parts = {
        "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                               'content-types"><Default Extension="xml" ContentType="application/xml"/></Types>',
        "xl/workbook.xml": '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
                           '2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
                           '<sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                                      'package/2006/relationships"><Relationship Id="rId1" Target="worksheets/'
                                      'sheet1.xml"/></Relationships>',
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
        archive.writestr("xl/worksheets/sheet1.xml", sheet_xml)
    return out.getvalue()


def test_the_check_of_an_upload_reads_big_sheets_in_halves_and_refuses_what_the_first_half_holds(monkeypatch,
                                                                                                   helper_only):
    monkeypatch.setattr(halves, "HALVES_MIN_BYTES", 1)
    limits = Limits(max_rows=10_000, max_columns=200)
    fine = workbook(worksheet(plain_rows(1, 3000)))
    assert inspect_workbook(io.BytesIO(fine), limits) == {"xl/worksheets/sheet1.xml": 3000}
    wide = workbook(worksheet(plain_rows(1, 500) + f'<row r="501"><c r="IV501">{V}</c></row>' + plain_rows(502, 3000)))
    with pytest.raises(RejectedFile) as refused:
        inspect_workbook(io.BytesIO(wide), limits)
    assert "256" in refused.value.message and "IV" in refused.value.message
    monkeypatch.setattr(halves, "HALVES_MIN_BYTES", 1 << 40)  # read whole: the same refusal
    with pytest.raises(RejectedFile) as whole_refused:
        inspect_workbook(io.BytesIO(wide), limits)
    assert whole_refused.value.message == refused.value.message


def test_small_parts_and_one_core_are_read_whole(monkeypatch):
    assert halves.halved_extent(halves.HALVES_MIN_BYTES - 1, lambda: iter(())) is None
    monkeypatch.setattr(halves.os, "cpu_count", lambda: 1)
    assert halves.halved_extent(halves.HALVES_MIN_BYTES, lambda: iter(())) is None
