"""A sheet's real extent, read from its XML as a stream (importers.extent), against calamine's own reading."""
from __future__ import annotations

import io
import random
import zipfile

import pytest
import python_calamine

from importers.extent import SheetExtent, column_letters

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
V = "<v>1</v>"


def extent(xml: bytes, chunk: int | None = None) -> tuple[int, int]:
    scanner = SheetExtent()
    if chunk is None:
        scanner.feed(xml)
    else:
        for start in range(0, len(xml), chunk):
            scanner.feed(xml[start:start + chunk])
    scanner.close()
    return scanner.rows, scanner.columns


def worksheet(sheet_data: str, dimension: str = "A1") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{NS}" xmlns:x="{NS}">'
            f'<dimension ref="{dimension}"/><sheetData>{sheet_data}</sheetData></worksheet>').encode()


def calamine_extent(xml: bytes) -> tuple[int, int] | None:
    """(rows, columns) from A1 to calamine's last cell; None when calamine cannot read the sheet."""
    parts = {
        "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                               'content-types"><Default Extension="xml" ContentType="application/xml"/></Types>',
        "_rels/.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                       'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
                       'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<?xml version="1.0"?><workbook xmlns="{NS}" xmlns:r="http://schemas.openxmlformats.org/'
                           'officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/>'
                           '</sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                                      'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
                                      'openxmlformats.org/officeDocument/2006/relationships/worksheet" '
                                      'Target="worksheets/sheet1.xml"/></Relationships>',
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
        archive.writestr("xl/worksheets/sheet1.xml", xml)
    try:
        sheet = python_calamine.CalamineWorkbook.from_object(io.BytesIO(out.getvalue())).get_sheet_by_name("S")
    except Exception:
        return None
    return (sheet.end[0] + 1, sheet.end[1] + 1) if sheet.end else (0, 0)


# Each as calamine reads it: the extent must be at least calamine's (equal where the form is plain).
CASES = {
    "plain": (f'<row r="1"><c r="A1">{V}</c><c r="C5">{V}</c></row>', (5, 3)),
    "a second r on a cell (calamine takes the last)": (f'<row r="1"><c r="A1">{V}</c><c r="B1" r="Z50">{V}</c></row>',
                                                        (50, 26)),
    "prefixed tags": (f'<x:row r="1"><x:c r="A1">{V}</x:c><x:c r="J9">{V}</x:c></x:row>', (9, 10)),
    "single quotes": (f"<row r='1'><c r='A1'>{V}</c><c r='K9'>{V}</c></row>", (9, 11)),
    "lower case": (f'<row r="1"><c r="A1">{V}</c><c r="k9">{V}</c></row>', (9, 11)),
    "no r anywhere": (f'<row><c>{V}</c><c>{V}</c></row><row><c>{V}</c></row>', (2, 2)),
    "no r after r": (f'<row r="1"><c r="E1">{V}</c><c>{V}</c></row><row><c>{V}</c></row>', (2, 6)),
    "a row number only on the row": (f'<row r="1"><c r="A1">{V}</c></row><row r="40"><c>{V}</c></row>', (40, 1)),
    "empty rows count by position": (f'<row r="1"><c r="A1">{V}</c></row><row/><row/><row><c>{V}</c></row>', (4, 1)),
    "'>' inside a quoted value": (f'<row r="1"><c t="n" s=">" r="A1">{V}</c><c x=">" r="M7">{V}</c></row>', (7, 13)),
    "'<' inside a quoted value": (f'<row r="1"><c r="A1">{V}</c><c x="<" r="M7">{V}</c></row>', (7, 13)),
    "spaces around '='": (f'<row r="1"><c r="A1">{V}</c><c r = "M7">{V}</c></row>', (7, 13)),
    "tabs and new lines": (f'<row\tr="1"><c\tr="A1">{V}</c><c\nr="M7">{V}</c></row>', (7, 13)),
    "leading zeros": (f'<row r="1"><c r="A1">{V}</c><c r="B0009">{V}</c></row>', (9, 2)),
    "cells before any row": (f'<c r="A1">{V}</c><c>{V}</c><row r="3"><c>{V}</c></row>', (3, 3)),
    "a self-closing row with a number": (f'<row r="1"><c r="A1">{V}</c></row><row r="7"/><row><c>{V}</c></row>',
                                         (8, 1)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_the_extent_covers_what_calamine_reads(name):
    sheet_data, expected = CASES[name]
    xml = worksheet(sheet_data)
    assert calamine_extent(xml) == expected   # the case says what calamine does
    rows, columns = extent(xml)
    assert rows >= expected[0] and columns >= expected[1]
    # Cut anywhere, the stream gives the same answer.
    for size in (1, 2, 3, 5, 7, 11, 64):
        assert extent(xml, size) == (rows, columns), size


def test_a_plain_sheet_is_read_exactly_and_the_dimension_is_ignored():
    rows = "".join(f'<row r="{n}" spans="1:3">' + "".join(f'<c r="{col}{n}" t="n"><v>{n}</v></c>'
                                                         for col in "ABC") + "</row>" for n in range(1, 3001))
    xml = worksheet(rows, dimension="A1:B2")
    assert extent(xml) == (3000, 3) == calamine_extent(xml)
    assert extent(xml, 1000) == (3000, 3)


def test_the_second_of_two_r_attributes_is_not_missed_in_a_plain_sheet():
    body = "".join(f'<row r="{n}"><c r="A{n}" t="n"><v>1</v></c></row>' for n in range(1, 2000))
    xml = worksheet(body + f'<row r="2000"><c r="A2000" r="XFD1048576"><v>1</v></c></row>')
    assert extent(xml, 4096) == (1_048_576, 16_384)


@pytest.mark.parametrize("seed", range(25))
def test_random_sheets_in_random_chunks(seed):
    """Random mixtures of the forms above: never below calamine, the same however the stream is cut."""
    rng = random.Random(seed)
    parts = []
    for n in range(1, rng.randint(2, 40)):
        row_attr = rng.choice([f' r="{n}"', f" r='{n}'", "", f' r="{n}" spans="1:2"', f'\tr = "{n}"'])
        cells = []
        for col in range(1, rng.randint(1, 6)):
            ref = f"{column_letters(col + rng.choice([0, 0, 0, 30, 700]))}{n + rng.choice([0, 0, 0, 5, 900])}"
            cells.append(rng.choice([f'<c r="{ref}" t="n">{V}</c>', f"<c r='{ref}'>{V}</c>", f"<c>{V}</c>",
                                     f'<x:c r="{ref}">{V}</x:c>', f'<c s="1" r="{ref}">{V}</c>',
                                     f'<c r="A1" r="{ref}">{V}</c>', f'<c r="{ref}" t="inlineStr"><is><t>a&lt;b'
                                     f'</t></is></c>']))
        parts.append(f"<row{row_attr}>{''.join(cells)}</row>")
    xml = worksheet("".join(parts))
    whole = extent(xml)
    seen = calamine_extent(xml)
    if seen is not None:
        assert whole[0] >= seen[0] and whole[1] >= seen[1], (whole, seen)
    for size in (1, 3, 17, rng.randint(20, 200)):
        assert extent(xml, size) == whole


def test_an_endless_tag_is_refused_not_buffered():
    from importers.extent import MAX_TAG, REGION, ExtentError

    scanner = SheetExtent()
    scanner.feed(b'<sheetData><row r="1"><c r="A1" t="')
    with pytest.raises(ExtentError):
        for _ in range((MAX_TAG + REGION) // 65536 + 2):
            scanner.feed(b"x" * 65536)


@pytest.mark.parametrize("bound", [1, 2, 9, 10, 11, 19, 20, 99, 100, 101, 109, 110, 999, 1000, 57_321, 100_001,
                                   200_010, 1_048_576])
def test_the_row_bound_pattern_takes_exactly_the_numbers_up_to_it(bound):
    import re

    from importers.extent import _number_at_most

    pattern = re.compile(_number_at_most(bound) + r"\Z")
    rng = random.Random(bound)
    for value in [*range(1, min(bound + 50, 3_000)), bound - 1, bound, bound + 1, bound * 10,
                  *(rng.randint(1, 10 * bound) for _ in range(200))]:
        if value > 0:
            assert bool(pattern.match(str(value))) == (value <= bound), value
    assert not pattern.match("0") and not pattern.match("01")


@pytest.mark.parametrize("bound", [1, 2, 25, 26, 27, 52, 200, 701, 702, 703, 16_384])
def test_the_column_bound_pattern_takes_exactly_the_columns_up_to_it(bound):
    import re

    from importers.extent import _letters_at_most

    pattern = re.compile(_letters_at_most(bound) + r"\Z")
    for value in [*range(1, min(bound + 60, 1_500)), bound, bound + 1, 16_384]:
        assert bool(pattern.match(column_letters(value))) == (value <= bound), value
