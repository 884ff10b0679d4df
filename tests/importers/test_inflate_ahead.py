"""A big part is inflated on a second thread while it is scanned: same chunks, same refusals."""
from __future__ import annotations

import io
import threading
import zipfile

import pytest

from importers import run_import, safety
from importers.safety import RejectedFile
from tests.importers.test_files import (  # noqa: F401  (fixtures)
    EXTENTS,
    HOSTILE,
    lie_about_size,
    no_parser,
    small_limits,
    valid_book,
)
from tests.importers.test_import import counts


@pytest.fixture
def every_part_ahead(monkeypatch):
    """Every part, however small, goes through the thread (the real threshold is 1 MB compressed)."""
    monkeypatch.setattr(safety, "_AHEAD_MIN", 0)
    monkeypatch.setattr(safety, "_CHUNK", 1024)  # many chunks, a full queue, a thread waiting to put
    yield
    assert not [t for t in threading.enumerate() if t.name == "import-inflate"]


def _part(data: bytes, name: str) -> tuple[io.BytesIO, zipfile.ZipInfo]:
    handle = io.BytesIO(data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return handle, archive.getinfo(name)


def test_the_thread_yields_what_inflating_in_line_yields(every_part_ahead):
    data = valid_book(400)
    handle, info = _part(data, "xl/worksheets/sheet1.xml")
    inline = list(safety._inflate(handle, info))
    ahead = list(safety._inflate_ahead(handle, info))
    assert len(inline) > safety._AHEAD_CHUNKS + 2
    assert ahead == inline
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert b"".join(ahead) == archive.read(info)


def test_a_damaged_part_is_refused_after_the_chunks_before_the_damage(every_part_ahead):
    data = lie_about_size(valid_book(400), "xl/worksheets/sheet1.xml", 5000)
    handle, info = _part(data, "xl/worksheets/sheet1.xml")
    before_inline, before_ahead = [], []
    with pytest.raises(RejectedFile) as inline:
        for chunk in safety._inflate(handle, info):
            before_inline.append(chunk)
    with pytest.raises(RejectedFile) as ahead:
        for chunk in safety._inflate_ahead(handle, info):
            before_ahead.append(chunk)
    assert ahead.value.message == inline.value.message
    assert info.file_size == 5000 and before_ahead == before_inline and len(b"".join(before_ahead)) == 4 * 1024


def test_closing_early_stops_the_thread_and_frees_the_handle(every_part_ahead):
    data = valid_book(400)
    handle, info = _part(data, "xl/worksheets/sheet1.xml")
    chunks = safety._inflate_ahead(handle, info)
    first = next(chunks)
    chunks.close()
    assert not [t for t in threading.enumerate() if t.name == "import-inflate"]
    assert first == next(safety._inflate(handle, info))  # the handle is free to read again


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_files_are_refused_through_the_thread(name, every_part_ahead):
    build, expected = HOSTILE[name]
    before = counts()
    report = run_import(build(), actor=None)
    assert report.rejected is not None and expected in report.rejected, report.rejected
    assert report.exit_code == 2 and counts() == before


@pytest.mark.parametrize("name", list(EXTENTS))
def test_a_sheet_beyond_its_limits_is_refused_through_the_thread(name, every_part_ahead, small_limits, no_parser):
    build, expected = EXTENTS[name]
    report = run_import(build(), actor=None)
    assert report.rejected is not None and expected in report.rejected, report.rejected
    assert "机构" in report.rejected          # the tab's name, read from the handle once the thread is done


def test_a_workbook_imports_through_the_thread(every_part_ahead):
    report = run_import(valid_book(300), actor=None)
    assert report.ok and report.applied
    assert report.sheets["机构"]["created"] == 300
