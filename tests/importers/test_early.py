"""``registry import FILE`` checks the file before the app is built and parses it while the app is built
(importers.early): the same import, the same refusals in the same language, the app's limits always win."""
from __future__ import annotations

import json
import threading

import sqlalchemy as sa

import importers.early as early_module
import importers.run as run_module
from importers import run_import
from importers.early import start_reading
from registry.extensions import db
from registry.institutions.models import Institution
from tests import factories
from tests.importers.books import INSTITUTION_HEADER, STANDARD_HEADER, xlsx
from tests.importers.test_import import standard_row


def _book(tmp_path, rows: int = 3):
    holder = factories.institution()
    path = tmp_path / "standards.xlsx"
    institution = [factories.credit_code(), "提前读取所", "南昌", "企业", None, None]
    standards = [standard_row(f"[2024]赣量标证字第{700 + n}号", holder.credit_code) for n in range(rows)]
    path.write_bytes(xlsx({"机构": [INSTITUTION_HEADER, institution], "计量标准": [STANDARD_HEADER, *standards]}))
    db.session.commit()  # the command's commit or rollback must not take the test's records with it
    return path


def _count_checks(monkeypatch):
    """How often each door checked a file: the early one and run_import's own."""
    seen = {"early": 0, "run": 0}

    def counting(door, inspect):
        def check(*args, **kwargs):
            seen[door] += 1
            return inspect(*args, **kwargs)
        return check

    monkeypatch.setattr(early_module, "inspect_upload", counting("early", early_module.inspect_upload))
    monkeypatch.setattr(run_module, "inspect_upload", counting("run", run_module.inspect_upload))
    return seen


def test_the_command_imports_what_it_checked_before_the_app(runner, tmp_path, monkeypatch):
    path = _book(tmp_path)
    seen = _count_checks(monkeypatch)
    result = runner.invoke(args=["import", str(path), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["sheets"]["计量标准"]["created"] == 3
    assert seen == {"early": 1, "run": 0}, "checked once, before the app; the parsed sheets were used"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Institution)
                             .where(Institution.name == "提前读取所")) == 1
    assert not [t for t in threading.enumerate() if t.name == "import-parse"], "the parsing thread ended"


def test_a_file_refused_before_the_app_is_reported_as_any_refusal(runner, tmp_path, monkeypatch):
    path = tmp_path / "not-a-workbook.xlsx"
    path.write_bytes(b"\x00\x01 not a workbook")
    seen = _count_checks(monkeypatch)
    # These tests' app speaks English (IMPORT_LANGUAGE, tests/importers/conftest.py): the early check too.
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 2 and "file refused" in result.output and "文件被拒绝" not in result.output
    result = runner.invoke(args=["import", str(path), "--lang", "zh"])
    assert result.exit_code == 2 and "文件被拒绝" in result.output and "refused" not in result.output
    assert seen == {"early": 2, "run": 0}


def test_the_apps_limits_win_over_the_early_check(app, tmp_path, monkeypatch):
    """Checked early with a larger row limit than the app's: run_import checks again with its own, and refuses."""
    path = _book(tmp_path, rows=20)  # beyond 2 rows and the header allowance (10)
    seen = _count_checks(monkeypatch)
    early = start_reading(str(path), {**app.config, "IMPORT_MAX_ROWS": 1_000_000})
    monkeypatch.setitem(app.config, "IMPORT_MAX_ROWS", 2)
    report = run_import(early, actor=None)
    assert report.rejected is not None and seen == {"early": 1, "run": 1}
    assert early.opening is None, "the early workbook was let go"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Institution)
                             .where(Institution.name == "提前读取所")) == 0


def test_closing_stops_the_parsing_thread(app, tmp_path):
    path = _book(tmp_path, rows=50)
    early = start_reading(str(path), app.config)
    early.close()
    early.close()  # again: nothing left to do
    assert early.opening is None and early._thread is None


def test_a_big_sheet_is_parsed_from_the_halves_the_early_check_kept(runner, tmp_path, monkeypatch):
    """The command's check keeps a big sheet's halves for the parse (importers.extent_halves); all go at the end."""
    import os

    import importers.extent_halves
    import importers.split

    monkeypatch.setattr(importers.split, "SPLIT_MIN_BYTES", 1)
    monkeypatch.setattr(importers.extent_halves, "HALVES_MIN_BYTES", 1)
    path = _book(tmp_path, rows=40)
    taken, folders = [], []
    original_kept, original_add = importers.split._kept_halves, importers.extent_halves.PreparedHalves.add

    def kept_halves(first, second, offset):
        pieces = original_kept(first, second, offset)
        taken.append(pieces is not None)
        return pieces

    def add(self, part, folder, first, second, offset):
        folders.append(folder.name)
        return original_add(self, part, folder, first, second, offset)

    monkeypatch.setattr(importers.split, "_kept_halves", kept_halves)
    monkeypatch.setattr(importers.extent_halves.PreparedHalves, "add", add)
    result = runner.invoke(args=["import", str(path), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["sheets"]["计量标准"]["created"] == 40
    assert True in taken and folders, "the standards sheet was parsed from the check's halves"
    assert not any(os.path.exists(folder) for folder in folders)
