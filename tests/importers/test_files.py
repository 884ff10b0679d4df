"""Hostile and broken files: each refused with one clear line, exit code 2, nothing written."""
from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib

import pytest

from importers import run_import
from tests import factories
from tests.importers.books import INSTITUTION_HEADER, xlsx
from tests.importers.test_import import counts


def valid_book(rows: int = 1) -> bytes:
    return xlsx({"机构": [INSTITUTION_HEADER] + [[factories.credit_code(), f"机构{n}", "南昌", "企业", None, None]
                                                for n in range(rows)]})


def rezip(data: bytes, replace: dict[str, bytes] | None = None, add: dict[str, bytes] | None = None) -> bytes:
    """The workbook with some parts replaced or added."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, (replace or {}).get(info.filename, source.read(info)))
        for name, content in (add or {}).items():
            target.writestr(name, content)
    return out.getvalue()


def sheet_xml(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read("xl/worksheets/sheet1.xml")


def lie_about_size(data: bytes, name: str, declared: int) -> bytes:
    """Claim a smaller expanded size (with a matching CRC) than the part's data really inflates to."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        content = archive.read(name)
    crc = zlib.crc32(content[:declared])
    encoded = name.encode()
    patched = bytearray(data)
    local = patched.find(b"PK\x03\x04")
    while local != -1:
        name_length = struct.unpack("<H", patched[local + 26:local + 28])[0]
        if patched[local + 30:local + 30 + name_length] == encoded:
            struct.pack_into("<I", patched, local + 14, crc)
            struct.pack_into("<I", patched, local + 22, declared)
            break
        local = patched.find(b"PK\x03\x04", local + 4)
    central = patched.find(b"PK\x01\x02")
    while central != -1:
        name_length = struct.unpack("<H", patched[central + 28:central + 30])[0]
        if patched[central + 46:central + 46 + name_length] == encoded:
            struct.pack_into("<I", patched, central + 16, crc)
            struct.pack_into("<I", patched, central + 24, declared)
            break
        central = patched.find(b"PK\x01\x02", central + 4)
    return bytes(patched)


def zip_bomb() -> bytes:
    """A workbook whose sheet expands 8 MB of spaces from a few kilobytes."""
    data = valid_book()
    xml = sheet_xml(data)
    padded = xml.replace(b"<sheetData>", b"<sheetData>" + b" " * 8_000_000, 1)
    return rezip(data, replace={"xl/worksheets/sheet1.xml": padded})


def without_declaration(xml: bytes) -> bytes:
    return xml.split(b"?>", 1)[1] if xml.startswith(b"<?xml") else xml


def entity_trick(data: bytes) -> bytes:
    laughs = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>\n')
    xml = sheet_xml(data)
    return rezip(data, replace={"xl/worksheets/sheet1.xml": laughs + without_declaration(xml)})


def external_entity(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        workbook = archive.read("xl/workbook.xml")
    evil = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>' + \
        without_declaration(workbook)
    return rezip(data, replace={"xl/workbook.xml": evil})


HOSTILE = {
    "not a workbook": (lambda: b"\x7fELF\x02\x01\x01\x00" + bytes(600), "not a file the registry imports"),
    "a broken compound file (.xls)": (lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "compound-file"),
    "a truncated zip": (lambda: valid_book()[:1500], "damaged"),
    "a zip without a workbook": (lambda: rezip(valid_book(), replace={}, add={}).replace(b"xl/workbook.xml",
                                                                                       b"xl/workbook.xmx"),
                                 "not a workbook the registry imports"),
    "a zip bomb": (zip_bomb, "zip bomb"),
    "a part bigger than it says": (lambda: lie_about_size(valid_book(), "xl/worksheets/sheet1.xml", 100),
                                   "declared size"),
    "entity expansion": (lambda: entity_trick(valid_book()), "DOCTYPE"),
    "an external entity": (lambda: external_entity(valid_book()), "DOCTYPE"),
    "too many parts": (lambda: rezip(valid_book(), add={f"xl/media/x{n}.bin": b"x" for n in range(2_001)}),
                       "too many parts"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_files_are_refused_and_nothing_is_written(name):
    build, expected = HOSTILE[name]
    before = counts()
    report = run_import(build(), actor=None)
    assert report.rejected is not None and expected in report.rejected, report.rejected
    assert "\n" not in report.rejected
    assert report.exit_code == 2 and report.status == 400
    assert report.to_dict()["errors"] == [{"sheet": None, "row": None, "column": None, "message": report.rejected}]
    assert counts() == before


def test_a_file_over_the_size_limit_is_refused_with_413(app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2_000)
    data = valid_book(20)
    report = run_import(io.BytesIO(data), actor=None)
    assert report.status == 413 and "too large" in report.rejected


def test_more_rows_than_the_cap_are_refused_before_parsing(app, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_MAX_ROWS", 30)
    assert run_import(valid_book(25), actor=None).ok
    report = run_import(valid_book(60), actor=None)
    assert report.exit_code == 2 and "more than 30 rows" in report.rejected


def test_the_expanded_size_limit_is_configurable(app, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_MAX_EXPANDED_BYTES", 4_000)
    assert "expands to" in run_import(valid_book(20), actor=None).rejected


def test_a_missing_file_is_refused(tmp_path):
    assert "no such file" in run_import(tmp_path / "nope.xlsx", actor=None).rejected


def test_openpyxl_parses_xml_through_defusedxml():
    import openpyxl.xml

    assert openpyxl.xml.DEFUSEDXML is True


@pytest.mark.parametrize("name", ["not a workbook", "a zip bomb", "entity expansion"])
def test_the_cli_exits_2_with_one_line(runner, tmp_path, name):
    path = tmp_path / "upload.xlsx"
    path.write_bytes(HOSTILE[name][0]())
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1 and "file refused" in result.output
    result = runner.invoke(args=["import", str(path), "--json"])
    assert result.exit_code == 2 and json.loads(result.stdout)["ok"] is False


# --- A sheet's real extent: a 2 KB file must not make a reader allocate gigabytes --------

SHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def worksheet(sheet_data: str, dimension: str = "A1") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{SHEET_NS}">'
            f'<dimension ref="{dimension}"/><sheetData>{sheet_data}</sheetData></worksheet>').encode()


def a1_and(ref: str, *, dimension: str = "A1") -> bytes:
    """The institutions workbook whose sheet holds A1 and one cell at ``ref``."""
    row = int("".join(ch for ch in ref if ch.isdigit()))
    data = (f'<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row>'
            f'<row r="{row}"><c r="{ref}"><v>1</v></c></row>')
    return rezip(valid_book(), replace={"xl/worksheets/sheet1.xml": worksheet(data, dimension)})


def far_row_only(row: int) -> bytes:
    data = f'<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row><row r="{row}"/>'
    return rezip(valid_book(), replace={"xl/worksheets/sheet1.xml": worksheet(data)})


# Scaled down (IMPORT_MAX_ROWS 1,000, 20 columns, 10,000 cells) so that a regression costs
# megabytes, not the machine; the real files run in a subprocess with a memory limit below.
EXTENTS = {
    "A1 and a far row": (lambda: a1_and("B5000"), "reaches row 5,000 (cell B5000)"),
    "A1 and a far column": (lambda: a1_and("AZ5"), "reaches column 52 (cell AZ5)"),
    "a lying dimension": (lambda: a1_and("C3000", dimension="A1:B2"), "reaches row 3,000"),
    "a far row number only on <row>": (lambda: far_row_only(4000), "reaches row 4,000"),
    "a rectangle of too many cells": (lambda: a1_and("T600"), "spans A1:T600, 12,000 cells"),
}


@pytest.fixture
def small_limits(app, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_MAX_ROWS", 1_000)
    monkeypatch.setitem(app.config, "IMPORT_MAX_COLUMNS", 20)
    monkeypatch.setitem(app.config, "IMPORT_MAX_CELLS", 10_000)


@pytest.fixture
def no_parser(monkeypatch):
    """Fail the test if calamine is asked to open the workbook: the refusal must come first."""
    import python_calamine

    def refuse(*args, **kwargs):
        raise AssertionError("the workbook reached the parser")

    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_object", refuse)


@pytest.mark.parametrize("name", list(EXTENTS))
def test_a_sheet_beyond_its_limits_is_refused_before_any_parser_runs(name, small_limits, no_parser):
    build, expected = EXTENTS[name]
    before = counts()
    report = run_import(build(), actor=None)
    assert report.rejected is not None and expected in report.rejected, report.rejected
    assert "机构" in report.rejected          # the tab's name, not the zip part's
    assert report.exit_code == 2 and report.status == 400
    assert counts() == before


def test_a_sheet_within_its_limits_still_imports(small_limits):
    assert run_import(valid_book(5), actor=None).ok
    assert run_import(rezip(valid_book(3), replace={}), actor=None).ok


def test_the_column_and_cell_limits_are_configurable(app, monkeypatch):
    data = a1_and("AZ5")
    assert "more than 200 columns" not in (run_import(data, actor=None).rejected or "")
    monkeypatch.setitem(app.config, "IMPORT_MAX_COLUMNS", 40)
    assert "more than 40 columns" in run_import(data, actor=None).rejected
    monkeypatch.setitem(app.config, "IMPORT_MAX_COLUMNS", 200)
    monkeypatch.setitem(app.config, "IMPORT_MAX_CELLS", 200)
    assert "more than 200: delete" in run_import(data, actor=None).rejected


def test_a_worksheet_part_in_capitals_is_still_checked(small_limits, no_parser):
    data = a1_and("B5000")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr("XL/WORKSHEETS/SHEET1.XML" if name == "xl/worksheets/sheet1.xml" else name, content)
    assert "reaches row 5,000" in run_import(out.getvalue(), actor=None).rejected


# --- The DOCTYPE check reads the XML's own encoding ---------------------------------------


def utf16_part(data: bytes, name: str, encoding: str, *, bom: bool = False, doctype: bool = True) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = archive.read(name).decode("utf-8")
    body = xml.split("?>", 1)[1] if xml.startswith("<?xml") else xml
    label = "UTF-16" if encoding.startswith("utf-16") else "UTF-32"
    text = f'<?xml version="1.0" encoding="{label}"?>' + \
        ('<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>' if doctype else "") + body
    encoded = text.encode(encoding)
    if bom:
        encoded = ("\ufeff").encode(encoding) + encoded
    return rezip(data, replace={name: encoded})


@pytest.mark.parametrize("encoding, bom", [("utf-16-le", False), ("utf-16-be", False), ("utf-16-le", True),
                                           ("utf-16-be", True), ("utf-32-le", True)])
@pytest.mark.parametrize("part", ["xl/workbook.xml", "xl/worksheets/sheet1.xml"])
def test_a_doctype_in_utf16_is_refused(encoding, bom, part):
    data = utf16_part(valid_book(), part, encoding, bom=bom)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert b"<!DOCTYPE" not in archive.read(part)   # invisible to a byte search
    report = run_import(data, actor=None)
    assert report.exit_code == 2 and "DOCTYPE" in report.rejected, report.rejected


def test_a_utf16_sheet_is_measured_too(small_limits):
    data = utf16_part(a1_and("B5000"), "xl/worksheets/sheet1.xml", "utf-16-le", doctype=False)
    assert "reaches row 5,000" in run_import(data, actor=None).rejected


@pytest.mark.parametrize("declared, expected", [("UTF-7", "unsupported XML encoding UTF-7"),
                                                ("cp037", "unsupported XML encoding cp037"),
                                                ("no-such-encoding", "unsupported XML encoding"),
                                                ("UTF-16", "declares UTF-16 but is not")])
def test_an_encoding_the_check_cannot_read_is_refused(declared, expected):
    data = valid_book()
    xml = sheet_xml(data)
    declaration = f'<?xml version="1.0" encoding="{declared}"?>'.encode()
    report = run_import(rezip(data, replace={"xl/worksheets/sheet1.xml": declaration + without_declaration(xml)}),
                        actor=None)
    assert report.exit_code == 2 and expected in report.rejected, report.rejected


def test_an_ascii_compatible_declared_encoding_is_searched_as_bytes():
    data = valid_book()
    xml = without_declaration(sheet_xml(data))
    latin = rezip(data, replace={"xl/worksheets/sheet1.xml": b'<?xml version="1.0" encoding="ISO-8859-1"?>' +
                                 xml.replace("机构".encode(), b"x")})
    assert run_import(latin, actor=None).rejected is None
    trap = rezip(data, replace={"xl/worksheets/sheet1.xml": b'<?xml version="1.0" encoding="GBK"?>'
                                b'<!DOCTYPE x [<!ENTITY y "z">]>' + xml})
    assert "DOCTYPE" in run_import(trap, actor=None).rejected


# --- The real files, in a child process whose memory is capped ----------------------------

CHILD_LIMIT_MB = 1536   # what the CLI's own start-up needs, with room; calamine's rectangle would not fit


def _cap_memory(megabytes: int):
    def cap():
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (megabytes << 20, megabytes << 20))
    return cap


@pytest.mark.parametrize("ref", ["XFD1048576", "ALL200000"])
def test_the_cli_refuses_a1_and_a_far_corner_in_bounded_memory(ref, tmp_path, write_mode):
    """The issue's files, end to end: ``registry import`` exits 2 with one line, within a memory cap."""
    import os
    import subprocess
    import sys

    if write_mode != "checked-then-written":
        pytest.skip("no rows are written: one run is enough")
    path = tmp_path / "corner.xlsx"
    path.write_bytes(a1_and(ref))
    assert path.stat().st_size < 8192
    env = {**os.environ, "REGISTRY_ENV": "testing", "TEST_DATABASE_URL": "sqlite://",
           "REGISTRY_INSTANCE_DIR": str(tmp_path), "REGISTRY_LANG": "en"}
    result = subprocess.run([sys.executable, "-m", "registry", "import", str(path)], env=env, capture_output=True,
                            text=True, timeout=120, preexec_fn=_cap_memory(CHILD_LIMIT_MB))
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "file refused" in lines[0] and ref in lines[0], lines


MEMORY_CHILD = """
import json, resource, sys
from importers.safety import Limits, RejectedFile, inspect_workbook
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
vm = int(open('/proc/self/status').read().split('VmSize:')[1].split()[0]) * 1024
resource.setrlimit(resource.RLIMIT_AS, (vm + (int(sys.argv[2]) << 20), resource.RLIM_INFINITY))
out = {}
try:
    out['rows'] = inspect_workbook(sys.argv[1], Limits(max_ratio=1e9))
except RejectedFile as exc:
    out['refused'] = exc.message
out['peak_mb'] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024
print(json.dumps(out))
"""


def test_the_extent_check_runs_in_bounded_memory(tmp_path, write_mode):
    """A 250 MB sheet part (a 20 MB text cell among many big ones, a lying dimension) scanned within 150 MB.

    The child may use only 200 MB more address space than it started with: reading the part whole
    (or a parser building the sheet) would fail; the streamed check must not.
    """
    import json
    import subprocess
    import sys

    if write_mode != "checked-then-written":
        pytest.skip("no rows are written: one run is enough")
    path = tmp_path / "big.xlsx"
    with zipfile.ZipFile(io.BytesIO(valid_book())) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                out.writestr(info.filename, source.read(info))
        with out.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            part.write(f'<?xml version="1.0"?><worksheet xmlns="{SHEET_NS}"><dimension ref="A1:B2"/><sheetData>'
                       .encode())
            text = b"x" * 100_000
            for n in range(1, 2_301):
                part.write(b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>%s</t></is></c>' % (n, n, text))
                if n == 1_100:
                    part.write(b'<c r="B%d" t="inlineStr"><is><t>' % n + b"y" * 20_000_000 + b"</t></is></c>")
                part.write(b"</row>")
            part.write(b'<row r="2301"><c r="C2301"><v>1</v></c></row></sheetData></worksheet>')
    result = subprocess.run([sys.executable, "-c", MEMORY_CHILD, str(path), "200"], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    out = json.loads(result.stdout)
    assert out.get("rows") == {"xl/worksheets/sheet1.xml": 2301}, out
    assert out["peak_mb"] < 150, out


def test_a_sheet_repeating_one_cell_in_an_unusual_form_is_refused_after_at_most_the_cell_limit(app, monkeypatch):
    """Tags read one by one cost time: no more of them than the rectangle may hold cells."""
    monkeypatch.setitem(app.config, "IMPORT_MAX_CELLS", 500)
    data = rezip(valid_book(), replace={"xl/worksheets/sheet1.xml": worksheet(
        "<row r='1'>" + "<c r='A1'><v>1</v></c>" * 600 + "</row>")})
    assert "holds more than 500 cells" in run_import(data, actor=None).rejected


def test_the_cell_limit_holds_for_the_sheets_together(app, monkeypatch, no_parser):
    """A reader keeps every sheet it opened: two sheets each within the limit, over it together."""
    from openpyxl import Workbook

    monkeypatch.setitem(app.config, "IMPORT_MAX_CELLS", 10_000)
    book = Workbook()
    book.remove(book.active)
    for title in ("机构", "人员"):
        sheet = book.create_sheet(title)
        sheet["A1"], sheet["T400"] = "x", 1      # 8,000 cells from A1
    out = io.BytesIO()
    book.save(out)
    report = run_import(out.getvalue(), actor=None)
    assert report.exit_code == 2 and "with the sheets before it more than 10,000" in report.rejected, report.rejected
