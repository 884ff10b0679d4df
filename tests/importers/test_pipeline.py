"""A sheet written while it is checked (importers.pipeline) is all-or-nothing too, on SQLite and PostgreSQL."""
from __future__ import annotations

import faulthandler
import threading

import pytest
import sqlalchemy as sa

import importers.bulk
import importers.validation
from importers import run_import
from importers.pipeline import WriterFailed, _PostgresStream, _SheetStream, _SqliteStream
from registry.audit.models import AuditEvent
from registry.extensions import db
from registry.standards.models import MeasurementStandard, standard_catalog_lines
from registry.standards.services import clean_standard
from tests import factories
from tests.importers.books import INSTITUTION_HEADER, STANDARD_HEADER, xlsx
from tests.importers.test_import import by_certificate, counts, standard_row

SQLITE = __import__("config").TestingConfig.SQLALCHEMY_DATABASE_URI.startswith("sqlite")
STREAMS = (_SqliteStream, _PostgresStream)


@pytest.fixture(autouse=True)
def write_mode(app, monkeypatch):
    """Stream every sheet, two rows a batch, and never hang: a stuck thread ends the run with its traceback."""
    monkeypatch.setitem(app.config, "IMPORT_PIPELINE_MIN_ROWS", 1)
    monkeypatch.setattr(importers.validation, "CHUNK", 2)
    faulthandler.dump_traceback_later(120, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


@pytest.fixture
def moves(monkeypatch):
    """The batches of standards the writer thread moved into their table: ``[(first id, last id)]`` on SQLite,
    ``[(None, count)]`` on PostgreSQL (where the ids come from a sequence)."""
    moved = []
    for stream in STREAMS:
        original = stream.__dict__["_move"]

        def move(self, cursor, batch, original=original):
            original(self, cursor, batch)
            if self.handler.table is MeasurementStandard.__table__:
                moved.append((batch.first, batch.last) if SQLITE else (None, batch.count))

        monkeypatch.setattr(stream, "_move", move)
    return moved


@pytest.fixture
def sent(monkeypatch):
    """The batches of standards handed to the writer thread: their sizes."""
    sizes = []
    original = _SheetStream.send

    def send(self):
        before = self.sent
        accepted = original(self)
        if self.handler.table is MeasurementStandard.__table__:
            sizes.append(sum(op.action == "created" for op in self.plan.operations[before:]))
        return accepted

    monkeypatch.setattr(_SheetStream, "send", send)
    return sizes


def book(first: int, count: int, *, holder: str | None = None, **overrides) -> bytes:
    code = holder or factories.credit_code()
    sheets = {"计量标准": [STANDARD_HEADER, *[standard_row(f"[2024]赣量标证字第{n}号", code, **overrides)
                                          for n in range(first, first + count)]]}
    if holder is None:
        sheets["机构"] = [INSTITUTION_HEADER, [code, "流水导入所", "南昌", "法定计量检定机构", None, None]]
    return xlsx(sheets)


def temp_tables() -> list[str]:
    if SQLITE:
        sql = "SELECT name FROM sqlite_temp_master WHERE type = 'table'"
    else:
        sql = "SELECT relname FROM pg_class WHERE relnamespace = pg_my_temp_schema() AND relkind = 'r'"
    return db.session.connection().exec_driver_sql(sql).scalars().all()


def writers() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("import-writer")]


def test_new_records_are_moved_batch_by_batch_with_their_ids_links_and_audit_rows(moves):
    report = run_import(book(7001, 5), actor=None)
    assert report.applied and report.sheets["计量标准"]["created"] == 5
    standards = [by_certificate(f"[2024]赣量标证字第{n}号") for n in range(7001, 7006)]
    if SQLITE:
        assert [last - first + 1 for first, last in moves] == [2, 2, 1]
        assert [s.id for s in standards] == list(range(moves[0][0], moves[-1][1] + 1))
    else:
        assert [count for _, count in moves] == [2, 2, 1]
    line = db.session.scalar(sa.select(standard_catalog_lines.c.catalog_line_id)
                             .where(standard_catalog_lines.c.standard_id == standards[0].id))
    for standard in standards:
        assert [linked.id for linked in standard.catalog_lines] == [line]
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.entity_type == "measurement_standards",
                                                              AuditEvent.entity_id == str(standard.id)))
        assert event.after["certificate_no"] == standard.certificate_no
        assert event.after["catalog_line_ids"] == [line] and event.after["id"] == standard.id
    assert temp_tables() == [] and writers() == []


def test_the_last_rows_go_in_small_batches_and_are_written_as_the_others(moves, sent, monkeypatch):
    """The writer's last batch is small, so the import does not wait long for it at the end."""
    monkeypatch.setattr(importers.validation, "CHUNK", 4)
    monkeypatch.setattr(importers.validation, "LAST_CHUNK", 1)
    report = run_import(book(7101, 13), actor=None)
    assert report.applied and report.sheets["计量标准"]["created"] == 13
    # 13 rows below the header: 4 at a time while 8 or more are left (13, 9), then the last 5 one by one.
    assert sent == [4, 4, 1, 1, 1, 1, 1]
    assert [last - first + 1 if SQLITE else last for first, last in moves] == [4, 4, 1, 1, 1, 1, 1]
    standards = [by_certificate(f"[2024]赣量标证字第{n}号") for n in range(7101, 7114)]
    assert all(s is not None and [line.id for line in s.catalog_lines] for s in standards)
    if SQLITE:
        assert [s.id for s in standards] == list(range(moves[0][0], moves[-1][1] + 1))
    assert temp_tables() == [] and writers() == []


def test_a_row_error_after_batches_were_written_leaves_the_database_as_it_was(sent):
    holder = factories.institution()
    before = counts()
    rows = [standard_row(f"[2024]赣量标证字第{n}号", holder.credit_code) for n in range(7101, 7107)]
    rows.append(standard_row("[2024]赣量标证字第7107号", holder.credit_code, **{"发证日期*": "不是日期"}))
    report = run_import(xlsx({"计量标准": [STANDARD_HEADER, *rows]}), actor=None)
    assert not report.ok and [(e.row, e.column) for e in report.errors] == [(8, "发证日期")]
    assert sent == [2, 2, 2], "batches were handed to the writer before the bad row was reached"
    assert counts() == before
    assert by_certificate("[2024]赣量标证字第7101号") is None
    assert temp_tables() == [] and writers() == []


def test_a_writer_failure_is_raised_and_nothing_is_written(monkeypatch):
    before = counts()
    calls = []
    for stream in STREAMS:
        original = stream.__dict__["_move"]

        def fail_second(self, cursor, batch, original=original):
            calls.append(batch)
            if len(calls) == 2:
                raise RuntimeError("disk full")
            original(self, cursor, batch)

        monkeypatch.setattr(stream, "_move", fail_second)
    with pytest.raises(WriterFailed, match="disk full"):
        run_import(book(7201, 7), actor=None)
    assert len(calls) >= 2
    assert counts() == before
    assert temp_tables() == [] and writers() == []


def test_a_failure_while_checking_stops_the_writer_and_writes_nothing(monkeypatch, sent):
    holder = factories.institution()
    before = counts()

    def clean(data, **kwargs):
        if data.get("certificate_no", "").endswith("7305号"):
            raise MemoryError("checking thread fails")
        return clean_standard(data, **kwargs)

    monkeypatch.setattr(importers.validation, "clean_standard", clean)
    with pytest.raises(MemoryError):
        run_import(book(7301, 6, holder=holder.credit_code), actor=None)
    assert sent == [2, 2], "two batches were handed to the writer before the failure"
    assert counts() == before
    assert temp_tables() == [] and writers() == []


@pytest.mark.skipif(not SQLITE, reason="indexes are rebuilt after large loads on SQLite only")
def test_a_large_sheet_rebuilds_the_indexes_it_dropped(monkeypatch, moves):
    monkeypatch.setattr(importers.bulk, "REBUILD_MIN_ROWS", 1)
    definitions = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name"
    before = db.session.connection().exec_driver_sql(definitions).all()
    empty = db.session.scalar(sa.select(sa.func.count()).select_from(MeasurementStandard)) == 0
    report = run_import(book(7401, 5), actor=None)
    assert report.applied and moves
    assert db.session.connection().exec_driver_sql(definitions).all() == before
    if empty:  # the indexes were dropped only when the table was no bigger than the load
        plan = db.session.connection().exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT id FROM measurement_standards WHERE name = 'x' ORDER BY name").all()
        assert "ix_measurement_standards_name" in " ".join(str(row) for row in plan)


def test_a_dry_run_streams_and_rolls_back(moves):
    before = counts()
    report = run_import(book(7501, 5), actor=None, dry_run=True)
    assert report.ok and not report.applied and report.sheets["计量标准"]["created"] == 5
    assert moves
    assert counts() == before


def test_only_a_connection_other_threads_may_use_streams(tmp_path):
    from importers.pipeline import pipeline_available

    assert pipeline_available(db.session.connection())
    if not SQLITE:
        return  # psycopg connections are thread-safe; the rest is about pysqlite
    for shared in (True, False):
        # pysqlite keeps a connection to the thread that made it unless told otherwise.
        engine = sa.create_engine(f"sqlite:///{tmp_path / 'other.db'}", connect_args={"check_same_thread": not shared})
        with engine.connect() as connection:
            assert pipeline_available(connection) is shared
        engine.dispose()


@pytest.mark.skipif(not SQLITE, reason="SQLite's staging statements")
@pytest.mark.parametrize("width, count", [(2, 1200), (3, 334), (7, 1), (40, 100)])  # full statements and a rest
def test_staging_statements_keep_every_row_in_order(app, width, count):
    """Rows staged many to a statement (importers.pipeline._insert_values) arrive whole and in order:
    the move reads them back by rowid and hands out ids by position."""
    from importers.pipeline import _insert_values

    rows = [tuple(f"{n}:{c}" if c else n for c in range(width)) for n in range(count)]
    raw = db.session.connection().connection.dbapi_connection
    cursor = raw.cursor()
    try:
        cursor.execute(f"CREATE TEMP TABLE staged_rows ({', '.join(f'c{i}' for i in range(width))})")
        _insert_values(cursor, f"INSERT INTO temp.staged_rows ({', '.join(f'c{i}' for i in range(width))}) VALUES ",
                       width, rows)
        assert cursor.execute("SELECT * FROM temp.staged_rows ORDER BY rowid").fetchall() == rows
        cursor.execute("DROP TABLE temp.staged_rows")
    finally:
        cursor.close()


def test_a_column_is_converted_as_a_row_would_be(app):
    """BulkInsert.convert_column gives the driver the values the rows would give it, None kept and each
    value converted once."""
    from datetime import date

    from importers.bulk import BulkInsert

    table = MeasurementStandard.__table__
    columns = [c.name for c in table.columns if c.name != "id"]
    connection = db.session.connection()
    issued = columns.index("issued_on")
    days = [date(2024, 1, 2), None, date(2024, 1, 2), date(2023, 12, 31)]
    by_rows = BulkInsert(connection, table, columns)
    rows = [[None] * len(columns) for _ in days]
    for row, day in zip(rows, days):
        row[issued] = day
    by_rows.convert_rows(rows)  # what prepare() and COPY send
    expected = [row[issued] for row in rows]
    by_column = BulkInsert(connection, table, columns)
    assert by_column.convert_column(issued, days) == expected
    assert by_column.convert_column(issued, days[::-1]) == expected[::-1]  # remembered values, same answers
    assert expected[1] is None
    name = columns.index("name")
    assert by_column.convert_column(name, ["a", None]) == ["a", None]  # text: no conversion
