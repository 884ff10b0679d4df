"""Exports narrowed to a list query's rows (``export_workbook(selections=...)``)."""
from __future__ import annotations

import io

import pytest

from importers import run_import
from importers.export import INSTRUCTIONS_TITLE, export_workbook
from registry.personnel.queries import persons_query
from registry.standards.queries import standards_query
from tests import factories
from tests.importers.books import read


def _export(**kwargs) -> bytes:
    out = io.BytesIO()
    export_workbook(out, **kwargs)
    return out.getvalue()


def test_a_selection_keeps_only_its_rows_in_import_order():
    holder = factories.institution()
    chosen = [factories.standard(holder, name=f"选择测试装置{n}") for n in range(3)]
    factories.standard(holder, name="不选的装置")
    selection = standards_query({"q": "选择测试装置", "sort": "-name"}, actor=None)
    data = _export(kinds=["standards"], selections={"standards": selection.limit(1)}, scope_note="筛选 / filter: q")
    wb = read(data)
    assert [row[0].value for row in wb["计量标准"].iter_rows(min_row=2)] == [s.certificate_no for s in chosen]
    assert any("筛选 / filter: q" in str(c.value) for c in wb[INSTRUCTIONS_TITLE]["A"])
    report = run_import(data, actor=None, dry_run=True)
    assert report.ok and report.sheets["计量标准"] == {"created": 0, "updated": 0, "unchanged": 3}


def test_a_selection_of_another_sheet_is_refused():
    holder = factories.institution()
    factories.person(holder)
    with pytest.raises(ValueError):
        _export(kinds=["standards"], selections={"personnel": persons_query({}, actor=None)})


def test_without_a_selection_the_export_is_unchanged():
    holder = factories.institution()
    standard = factories.standard(holder)
    data = _export(kinds=["standards"])
    assert standard.certificate_no in [row[0].value for row in read(data)["计量标准"].iter_rows(min_row=2)]
