"""Other formats: .xls, .ods and CSV with an .xlsx's rows make the same records; hostile ones are refused.

The .xls and .ods files are LibreOffice's conversions of the rows in
``tests/importers/formats_rows.py`` (``fixtures/make_formats.py`` says how they
were made); the .xlsx and the CSV files are written from the same rows here.
"""
from __future__ import annotations

import io
import json
import struct
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from importers import run_import
from registry.extensions import db
from registry.institutions.models import Institution
from registry.personnel.models import Person
from registry.standards.models import MeasurementStandard
from tests.importers.books import xlsx
from tests.importers.formats_rows import HOLDER, OTHER, SHEETS, csv_text
from tests.importers.test_import import counts

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SKIP = {"id", "created_at", "updated_at", "institution_id", "version"}


def records() -> dict[str, list]:
    """What the rows made, without ids or times, institutions by credit code."""
    institutions = {i.id: i.credit_code for i in db.session.scalars(
        sa.select(Institution).where(Institution.credit_code.in_([HOLDER, OTHER])))}

    def plain(obj) -> dict:
        values = {c.key: getattr(obj, c.key) for c in sa.inspect(type(obj)).column_attrs if c.key not in SKIP}
        if hasattr(obj, "institution_id"):
            values["institution"] = institutions.get(obj.institution_id)
        return values

    out = {
        "institutions": sorted((plain(i) for i in db.session.scalars(
            sa.select(Institution).where(Institution.id.in_(institutions)))), key=lambda r: r["credit_code"]),
        "standards": sorted(({**plain(s), "lines": sorted(line.code for line in s.catalog_lines)}
                             for s in db.session.scalars(sa.select(MeasurementStandard).where(
                                 MeasurementStandard.institution_id.in_(institutions)))),
                            key=lambda r: r["certificate_no"]),
        "personnel": sorted((plain(p) for p in db.session.scalars(
            sa.select(Person).where(Person.institution_id.in_(institutions)))), key=lambda r: r["name"]),
    }
    return json.loads(json.dumps(out, default=str))


def imported(*uploads: tuple[bytes, str]) -> dict[str, list]:
    """Import each (content, filename) in turn inside a savepoint; the records they made, then roll back."""
    savepoint = db.session.begin_nested()
    try:
        for content, filename in uploads:
            report = run_import(io.BytesIO(content), actor=None, filename=filename)
            assert report.ok and report.applied, (filename, report.rejected, report.errors)
        made = records()
        for standard in made["standards"]:
            standard.pop("public_id", None)  # random for every import (a public page's address)
        return made
    finally:
        savepoint.rollback()


def csv_files(encoding: str, bom: bool) -> list[tuple[bytes, str]]:
    prefix = b"\xef\xbb\xbf" if bom and encoding == "utf-8" else b""
    if bom and encoding == "gb18030":
        prefix = b"\x84\x31\x95\x33"  # GB18030's own byte order mark (U+FEFF): dropped like UTF-8's
    return [(prefix + csv_text(rows).encode(encoding), f"{title}.csv") for title, rows in SHEETS.items()]


FORMATS = {
    "xls": lambda: [((FIXTURES / "same-rows.xls").read_bytes(), "same-rows.xls")],
    "ods": lambda: [((FIXTURES / "same-rows.ods").read_bytes(), "same-rows.ods")],
    "csv utf-8": lambda: csv_files("utf-8", False),
    "csv utf-8 with BOM": lambda: csv_files("utf-8", True),
    "csv gb18030": lambda: csv_files("gb18030", False),
    "csv gb18030 with BOM": lambda: csv_files("gb18030", True),
}


@pytest.mark.parametrize("kind", list(FORMATS))
def test_the_same_rows_make_the_same_records_in_every_format(kind):
    expected = imported((xlsx(SHEETS), "same-rows.xlsx"))
    assert len(expected["institutions"]) == 2 and len(expected["standards"]) == 2 and len(expected["personnel"]) == 2
    assert expected["standards"][0]["issued_on"] == "2024-03-01" and expected["standards"][0]["lines"] == ["S14"]
    assert expected["standards"][1]["valid_until"] == "2027-05-19" and expected["standards"][0]["is_carbon"] is True
    assert imported(*FORMATS[kind]()) == expected


def test_a_csv_file_is_named_by_its_header_or_by_sheet():
    institutions = csv_text(SHEETS["机构"]).encode()
    savepoint = db.session.begin_nested()
    try:
        report = run_import(io.BytesIO(institutions), actor=None, filename="upload.csv")
        assert report.ok and report.sheets == {"机构": {"created": 2, "updated": 0, "unchanged": 0}}
        named = run_import(io.BytesIO(institutions), actor=None, filename="upload.csv", sheet="institutions")
        assert named.ok and named.sheets == {"机构": {"created": 0, "updated": 0, "unchanged": 2}}
    finally:
        savepoint.rollback()
    wrong = run_import(io.BytesIO(institutions), actor=None, filename="upload.csv", sheet="计量标准")
    assert not wrong.ok and wrong.rejected is None  # read as standards: its required columns are missing
    assert {e.column for e in wrong.errors} >= {"证书编号", "计量标准名称"}
    unknown = run_import(io.BytesIO(institutions), actor=None, filename="upload.csv", sheet="飞船")
    assert unknown.exit_code == 2 and "no sheet named '飞船'" in unknown.rejected


def test_a_csv_error_points_at_its_row_and_column():
    rows = [list(row) for row in SHEETS["机构"]]
    rows[2][2] = "火星市"
    report = run_import(io.BytesIO(csv_text(rows).encode("gb18030")), actor=None, filename="机构.csv")
    assert [(e.sheet, e.row, e.column) for e in report.errors] == [("机构", 3, "所属地区")]


# --- hostile files: refused with exit code 2, nothing written -----------------------------------------------


def _xls() -> bytearray:
    return bytearray((FIXTURES / "same-rows.xls").read_bytes())


def _patch_record(data: bytearray, typ: int, length: int, patch) -> bytearray:
    """Change the first BIFF record of this type and length (the Workbook stream is stored in order)."""
    at = bytes(data).find(struct.pack("<HH", typ, length))
    assert at > 0, hex(typ)
    patch(data, at + 4)
    return data


def xls_far_cell() -> bytes:  # a shared-string cell moved to row 60,000, column 250
    return bytes(_patch_record(_xls(), 0x00FD, 10, lambda d, at: struct.pack_into("<HH", d, at, 59_999, 249)))


def xls_lying_dimensions() -> bytes:  # a DIMENSIONS record asking for 4 billion rows
    return bytes(_patch_record(_xls(), 0x0200, 14, lambda d, at: struct.pack_into("<II", d, at, 0, 0xFFFFFFF0)))


def xls_inverted_dimensions() -> bytes:
    return bytes(_patch_record(_xls(), 0x0200, 14, lambda d, at: struct.pack_into("<II", d, at, 9, 2)))


def xls_huge_shared_strings() -> bytes:  # 2 billion shared strings announced
    return bytes(_patch_record(_xls(), 0x00FC, None or _sst_length(), lambda d, at: struct.pack_into(
        "<i", d, at + 4, 0x7FFFFFFF)))


def _sst_length() -> int:
    data = bytes(_xls())
    at = data.find(b"\xfc\x00")
    while at > 0 and struct.unpack_from("<H", data, at + 2)[0] < 8:
        at = data.find(b"\xfc\x00", at + 1)
    return struct.unpack_from("<H", data, at + 2)[0]


def xls_encrypted() -> bytes:  # the INTERFACEHDR record turned into FILEPASS
    def encrypt(d, at):
        struct.pack_into("<HH", d, at - 4, 0x002F, 2)
        struct.pack_into("<H", d, at, 1)
    return bytes(_patch_record(_xls(), 0x00E1, 2, encrypt))


def xls_sheet_beyond_the_stream() -> bytes:
    return bytes(_patch_record(_xls(), 0x0085, _boundsheet_length(), lambda d, at: struct.pack_into(
        "<I", d, at, 0x7FFFFFF0)))


def _boundsheet_length() -> int:
    data = bytes(_xls())
    at = data.find(b"\x85\x00")
    return struct.unpack_from("<H", data, at + 2)[0]


def xls_looping_directory() -> bytes:
    """The directory's sector chained to itself: a reader following it never ends."""
    data = _xls()
    size = 1 << struct.unpack_from("<H", data, 30)[0]
    directory = struct.unpack_from("<I", data, 48)[0]
    fat = struct.unpack_from("<I", data, 76)[0]
    struct.pack_into("<I", data, (fat + 1) * size + 4 * directory, directory)
    return bytes(data)


def xls_stream_larger_than_the_file() -> bytes:
    data = _xls()
    at = bytes(data).find("Workbook".encode("utf-16-le"))
    struct.pack_into("<I", data, at + 120, 0x7FFFFFF0)
    return bytes(data)


def ods(content: str, *, manifest: str | None = None, extra: dict[str, bytes] | None = None,
        doctype: str = "") -> bytes:
    """A minimal OpenDocument spreadsheet with this content.xml body (inside office:spreadsheet)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        book.writestr("META-INF/manifest.xml", manifest or (
            '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
            '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry '
            'manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
            '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
            '</manifest:manifest>'))
        book.writestr("content.xml", (
            f'<?xml version="1.0" encoding="UTF-8"?>{doctype}<office:document-content '
            'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
            'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
            'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
            f'<office:body><office:spreadsheet>{content}</office:spreadsheet></office:body>'
            '</office:document-content>'))
        for name, part in (extra or {}).items():
            book.writestr(name, part)
    return out.getvalue()


def _cell(text: str, repeat: int = 1) -> str:
    repeated = f' table:number-columns-repeated="{repeat}"' if repeat > 1 else ""
    return f'<table:table-cell office:value-type="string"{repeated}><text:p>{text}</text:p></table:table-cell>'


def ods_table(rows: str) -> str:
    return f'<table:table table:name="机构">{rows}</table:table>'


HEADER = "<table:table-row>" + "".join(_cell(h) for h in SHEETS["机构"][0][:4]) + "</table:table-row>"
TRAILING = ('<table:table-row table:number-rows-repeated="1048570"><table:table-cell '
            'table:number-columns-repeated="1024"/></table:table-row>')

HOSTILE = {
    "xls: a cell far beyond the sheet's limits": (xls_far_cell, "reaches row 60,000"),
    "xls: a lying DIMENSIONS record": (xls_lying_dimensions, "reaches row 4,294,967,280"),
    "xls: an inverted DIMENSIONS record": (xls_inverted_dimensions, "DIMENSIONS"),
    "xls: two billion shared strings": (xls_huge_shared_strings, "shared-string"),
    "xls: encrypted": (xls_encrypted, "encrypted"),
    "xls: a sheet beyond the stream": (xls_sheet_beyond_the_stream, "compound-file"),
    "xls: a looping sector chain": (xls_looping_directory, "compound-file"),
    "xls: a stream larger than the file": (xls_stream_larger_than_the_file, "larger than the whole file"),
    "ods: a row repeated a billion times": (
        lambda: ods(ods_table(HEADER + '<table:table-row table:number-rows-repeated="1000000000">'
                              + _cell("x") + "</table:table-row>")), "reaches row 1,000,000,001"),
    "ods: a cell repeated a billion times": (lambda: ods(ods_table(HEADER + "<table:table-row>" + _cell("x", 10 ** 9)
                                                                   + "</table:table-row>")), "reaches column"),
    "ods: empty cells before a value": (lambda: ods(ods_table(
        HEADER + '<table:table-row><table:table-cell table:number-columns-repeated="900000000"/>'
        + _cell("x") + "</table:table-row>")), "reaches column"),
    "ods: empty cells read but never kept": (lambda: ods(ods_table(
        HEADER + '<table:table-row>' + _cell("x") + '<table:table-cell table:number-columns-repeated="900000000"/>'
        '<table:table-cell/></table:table-row>')), "repeated cells counted"),
    "ods: a DOCTYPE": (lambda: ods(ods_table(HEADER), doctype='<!DOCTYPE x [<!ENTITY a "b">]>'), "DOCTYPE"),
    "ods: encrypted": (lambda: ods(ods_table(HEADER), manifest=(
        '<?xml version="1.0"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
        '<manifest:file-entry manifest:full-path="content.xml"><manifest:encryption-data/></manifest:file-entry>'
        '</manifest:manifest>')), "encrypted"),
    "ods: a zip bomb": (lambda: ods(ods_table(HEADER), extra={"Thumbnails/x.png": bytes(300 << 20)}), "zip bomb"),
    "csv: neither UTF-8 nor GB18030": (lambda: "统一社会信用代码,机构名称\n".encode() + b"\x80\xff,\x80\xff\n",
                                       "UTF-8 or GB18030"),
    "csv: too many rows": (lambda: ("a,b\n" * 1_100).encode(), "more than 1,000 rows"),
    "csv: too many columns": (lambda: (",".join(["x"] * 30) + "\n").encode(), "more than 20"),
    "csv: too many cells": (lambda: ("\n".join(",".join(["x"] * 19) for _ in range(600))).encode(),
                            "more than 10,000 cells"),
    "csv: a cell larger than the field limit": (lambda: b'a,"' + b"x" * 200_000 + b'"\n', "cannot be read"),
}


@pytest.fixture
def small_limits(app, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_MAX_ROWS", 1_000)
    monkeypatch.setitem(app.config, "IMPORT_MAX_COLUMNS", 20)
    monkeypatch.setitem(app.config, "IMPORT_MAX_CELLS", 10_000)


def _filename(name: str) -> str:
    return "upload." + name.split(":")[0]


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_files_of_each_format_are_refused_before_any_parser_runs(name, small_limits, monkeypatch):
    import python_calamine

    def refuse(*args, **kwargs):
        raise AssertionError("the file reached the parser")

    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_object", refuse)
    build, expected = HOSTILE[name]
    before = counts()
    report = run_import(io.BytesIO(build()), actor=None, filename=_filename(name))
    assert report.exit_code == 2 and report.rejected is not None and expected in report.rejected, report.rejected
    assert "\n" not in report.rejected
    assert counts() == before


def test_the_good_fixtures_pass_the_same_limits(small_limits):
    """Spreadsheet programs end each sheet with rows and cells repeated to the sheet's end: no cost."""
    ods_content = zipfile.ZipFile(FIXTURES / "same-rows.ods").read("content.xml")
    assert b'table:number-rows-repeated="1048' in ods_content  # LibreOffice's trailing rows
    for kind in ("xls", "ods", "csv utf-8"):
        assert imported(*FORMATS[kind]())["institutions"]


@pytest.mark.parametrize("name", ["xls: a lying DIMENSIONS record", "ods: a row repeated a billion times",
                                  "csv: neither UTF-8 nor GB18030"])
def test_the_cli_exits_2_on_a_hostile_file_of_each_format(runner, tmp_path, small_limits, name):
    path = tmp_path / _filename(name)
    path.write_bytes(HOSTILE[name][0]())
    result = runner.invoke(args=["import", str(path), "--lang", "en"])
    assert result.exit_code == 2, result.output
    assert result.output.strip().startswith("file refused:") and HOSTILE[name][1] in result.output


def test_a_csv_file_beyond_the_size_limit_is_refused_with_413(app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2_000)
    report = run_import(io.BytesIO(("a,b\n" * 1_000).encode()), actor=None, filename="big.csv")
    assert report.exit_code == 2 and report.status == 413


def test_a_text_file_not_named_csv_is_not_taken_for_one():
    report = run_import(io.BytesIO(b"name,code\nA,1\n"), actor=None, filename="book.xlsx")
    assert report.exit_code == 2 and "it takes .xlsx, .xls, .ods, .csv" in report.rejected
