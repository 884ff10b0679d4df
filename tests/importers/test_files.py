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
    "not an xlsx": (lambda: b"name,code\nA,1\n", "not an Excel"),
    "an old .xls": (lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "old .xls"),
    "a truncated zip": (lambda: valid_book()[:1500], "damaged"),
    "a zip without a workbook": (lambda: rezip(valid_book(), replace={}, add={}).replace(b"xl/workbook.xml",
                                                                                       b"xl/workbook.xmx"),
                                 "not an Excel"),
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


@pytest.mark.parametrize("name", ["not an xlsx", "a zip bomb", "entity expansion"])
def test_the_cli_exits_2_with_one_line(runner, tmp_path, name):
    path = tmp_path / "upload.xlsx"
    path.write_bytes(HOSTILE[name][0]())
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1 and "file refused" in result.output
    result = runner.invoke(args=["import", str(path), "--json"])
    assert result.exit_code == 2 and json.loads(result.stdout)["ok"] is False
