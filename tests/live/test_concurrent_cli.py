"""Two ``registry import`` runs at once: the second waits its turn, or says the database is busy (exit 3)."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from registry.extensions import db
from registry.institutions.models import Institution
from tests import factories
from tests.importers.books import INSTITUTION_HEADER, xlsx
from tests.live.conftest import drop_schema, fresh_database_url, is_postgres, make_app

SCHEMA = "live_concurrent_cli"


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("live-cli")
    url = fresh_database_url(tmp_path, SCHEMA)
    app = make_app(url, tmp_path)
    yield app, url
    with app.app_context():
        db.engine.dispose()
    drop_schema(SCHEMA)


def _workbook(path: Path, rows: int) -> tuple[Path, list[str]]:
    codes = [factories.credit_code() for _ in range(rows)]
    path.write_bytes(xlsx({"机构": [INSTITUTION_HEADER, *([code, f"并发导入机构{code}", "南昌", "法定计量检定机构"]
                                                        for code in codes)]}))
    return path, codes


def _registry(url: str, tmp_path: Path, *args: str, busy_timeout_ms: int | None = None) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": url, "REGISTRY_ENV": "development", "REGISTRY_INSTANCE_DIR": str(tmp_path),
           "SECRET_KEY": "live-cli-tests"}
    if busy_timeout_ms is not None:
        env["SQLITE_BUSY_TIMEOUT_MS"] = str(busy_timeout_ms)
    return subprocess.Popen([sys.executable, "-m", "registry", *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _stored(app, codes: list[str]) -> int:
    with app.app_context():
        try:
            return db.session.scalar(sa.select(sa.func.count()).select_from(Institution)
                                     .where(Institution.credit_code.in_(codes)))
        finally:
            db.session.remove()


def test_two_imports_at_once_both_apply(database, tmp_path):
    app, url = database
    first, first_codes = _workbook(tmp_path / "first.xlsx", 300)
    second, second_codes = _workbook(tmp_path / "second.xlsx", 300)
    runs = [_registry(url, tmp_path, "import", str(book)) for book in (first, second)]
    outcomes = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outcomes
    assert all("Traceback" not in err for _, err in outcomes)
    assert (_stored(app, first_codes), _stored(app, second_codes)) == (300, 300)


@pytest.mark.skipif(is_postgres(), reason="SQLite's write lock; PostgreSQL lets both write")
def test_an_import_that_cannot_get_the_lock_exits_3_with_a_message(database, tmp_path):
    app, url = database
    book, codes = _workbook(tmp_path / "book.xlsx", 5)
    holder = sqlite3.connect(sa.make_url(url).database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another import in the middle of its writing
    try:
        run = _registry(url, tmp_path, "import", str(book), busy_timeout_ms=300)
        out, err = run.communicate(timeout=300)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert run.returncode == 3, (out, err)
    assert "数据库正忙" in err and "SQLITE_BUSY_TIMEOUT_MS" in err and "Traceback" not in err
    assert _stored(app, codes) == 0

    again = _registry(url, tmp_path, "import", str(book), busy_timeout_ms=300)
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, (out, err)
    assert _stored(app, codes) == 5


@pytest.mark.skipif(is_postgres(), reason="SQLite's write lock")
def test_a_read_only_command_does_not_wait_for_writers(database, tmp_path):
    _, url = database
    holder = sqlite3.connect(sa.make_url(url).database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        run = _registry(url, tmp_path, "export", str(tmp_path / "all.xlsx"), busy_timeout_ms=300)
        out, err = run.communicate(timeout=300)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert run.returncode == 0, (out, err)
    assert (tmp_path / "all.xlsx").stat().st_size > 0
