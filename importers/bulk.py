"""INSERT many rows at driver speed, stored exactly as SQLAlchemy stores them.

Every value goes through its column type's own bind processor, so a row
written here reads back as if the ORM had written it.  On SQLite the
statement is SQLAlchemy's ``insert()`` compiled for the dialect, run with the
driver's ``executemany``; on PostgreSQL (psycopg) the rows are sent with
``COPY ... FROM STDIN``, several times faster than any INSERT.  What is
skipped is Core's per-row parameter bookkeeping, which cost more than the
database itself on 100,000-row imports (bench/imports.py).
"""
from __future__ import annotations

import gc
import json
import threading
from contextlib import contextmanager
from typing import Any, Iterator, Sequence

import sqlalchemy as sa

_COMPACT_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False)
_c_encoder = getattr(json.encoder, "c_make_encoder", None)
if _c_encoder is not None:
    # The encoder JSONEncoder.encode builds afresh on every call, built once.
    _iterencode = _c_encoder(None, _COMPACT_JSON.default, json.encoder.encode_basestring, None, ":", ",",
                             False, False, True)

    def _compact_json(value: Any) -> str:
        return "".join(_iterencode(value, 0))
else:  # pragma: no cover - CPython always has the C encoder
    _compact_json = _COMPACT_JSON.encode


class BulkInsert:
    """``INSERT INTO table (columns) VALUES (...)`` for lists of values in ``columns`` order."""

    def __init__(self, connection: sa.Connection, table: sa.Table, columns: Sequence[str],
                 constants: Sequence[str] = ()):
        """``constants`` name columns whose values the caller converts once with :meth:`convert`."""
        dialect = connection.dialect
        self.table = table
        self.connection = connection
        self.columns = list(columns)
        compiled = sa.insert(table).inline().compile(dialect=dialect, column_keys=self.columns)
        self.sql = compiled.string
        self.order = None
        if compiled.positional:
            positions = list(compiled.positiontup)
            if positions != self.columns:
                self.order = [self.columns.index(name) for name in positions]
        self.named = not compiled.positional
        self.copy = None
        if dialect.name == "postgresql" and dialect.driver == "psycopg":
            preparer = dialect.identifier_preparer
            self.copy = (f"COPY {preparer.format_table(table)} "
                         f"({', '.join(preparer.quote(name) for name in self.columns)}) FROM STDIN")
        self.processors = []
        self.known: dict[int, dict] = {}    # column index -> {value: converted value}
        self.json_columns = []
        for index, name in enumerate(self.columns):
            if name in constants:
                continue
            if isinstance(table.c[name].type, sa.JSON):
                # The same JSON, written compactly (audit rows are most of what an import
                # writes); None becomes JSON null, as the ORM stores it.
                self.json_columns.append(index)
                continue
            processor = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                self.processors.append((index, processor))
                self.known[index] = {}
        self.processor_of = dict(self.processors)

    def convert(self, name: str, value: Any) -> Any:
        """A value as the driver receives it for column ``name``."""
        dialect = self.connection.dialect
        processor = self.table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        return processor(value) if processor is not None and value is not None else value

    def execute(self, rows: list[list[Any]]) -> None:
        """Insert ``rows`` (lists in column order; converted in place)."""
        if not rows:
            return
        if self.copy is not None:
            self._convert(rows)
            cursor = self.connection.connection.dbapi_connection.cursor()
            with cursor.copy(self.copy) as copy:
                for row in rows:
                    copy.write_row(row)
            return
        self.connection.exec_driver_sql(self.sql, self.prepare(rows))

    def prepare(self, rows: list[list[Any]]) -> list:
        """The driver's ``executemany`` parameters for ``rows``."""
        self._convert(rows)
        if self.named:
            return [dict(zip(self.columns, row)) for row in rows]
        if self.order is not None:
            return [tuple(row[i] for i in self.order) for row in rows]
        return [tuple(row) for row in rows]

    def convert_column(self, index: int, values: Sequence[Any]) -> Sequence[Any]:
        """The values of column ``index`` (in ``columns`` order) as the driver takes them, in a new list.

        Each distinct value is converted once, as :meth:`prepare` does, looked up in C.
        """
        if index in self.json_columns:
            return [_compact_json(value) for value in values]
        known = self.known.get(index)
        if known is None:  # no conversion (text, integers) or a constant
            return values
        processor = self.processor_of[index]
        try:
            for value in set(values).difference(known):
                known[value] = None if value is None else processor(value)
        except TypeError:  # not hashable
            return [None if value is None else processor(value) for value in values]
        return list(map(known.__getitem__, values))

    def convert_rows(self, rows: list[list[Any]]) -> None:
        """Convert ``rows`` in place to what the driver (or ``COPY``) takes."""
        self._convert(rows)

    def _convert(self, rows: list[list[Any]]) -> None:
        # Column by column, each distinct value converted once: a column repeats a
        # few dates, labels and flags over thousands of rows.
        for index, processor in self.processors:
            known = self.known[index]
            for row in rows:
                value = row[index]
                if value is not None:
                    try:
                        row[index] = known[value]
                    except KeyError:
                        row[index] = known[value] = processor(value)
                    except TypeError:  # not hashable
                        row[index] = processor(value)
        encode = _compact_json
        for index in self.json_columns:
            for row in rows:
                row[index] = encode(row[index])


class RawStatement:
    """A statement compiled once, with its parameters as the DB-API driver takes them.

    For running it on the driver's own connection (the import's writer
    thread): each parameter goes through its type's bind conversion, as
    SQLAlchemy would do.
    """

    def __init__(self, statement: sa.Executable, dialect: sa.Dialect):
        self.compiled = compiled = statement.compile(dialect=dialect)
        self.sql = compiled.string
        self.named = not compiled.positional
        by_name = {name: bind for bind, name in compiled.bind_names.items()}
        escaped = getattr(compiled, "escaped_bind_names", None) or {}
        # Positional (sqlite3): the parameters in order.  Named (psycopg): as construct_params names them.
        names = list(compiled.positiontup) if compiled.positional else list(by_name)
        self.order = names if compiled.positional else [escaped.get(name, name) for name in names]
        self.processors = [by_name[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names]

    def bind(self, **values: Any) -> tuple[str, tuple | dict]:
        """The SQL and its parameters: a tuple for a positional driver, else a dict."""
        params = self.compiled.construct_params(values)
        converted = [value if process is None or value is None else process(value)
                     for value, process in zip((params[name] for name in self.order), self.processors)]
        if self.named:
            return self.sql, dict(zip(self.order, converted))
        return self.sql, tuple(converted)


# --- bulk loads -----------------------------------------------------------------------

_gc_lock = threading.Lock()
_gc_pauses = 0
_gc_was_enabled = False


@contextmanager
def paused_gc() -> Iterator[None]:
    """Hold off Python's cyclic garbage collector while a workbook is processed.

    An import builds hundreds of thousands of small, acyclic objects that stay
    alive until it ends, and the collector would walk all of them again and
    again (a sixth of a 100,000-row import).  Reference counting still frees
    memory as usual.  Imports may run in background threads: the collector is
    switched back on when the last one running in the process ends.
    """
    global _gc_pauses, _gc_was_enabled
    with _gc_lock:
        if _gc_pauses == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_was_enabled:
                gc.enable()


# A load at least this big, and at least as big as the table, rebuilds the
# table's secondary indexes instead of updating them row by row (SQLite).
REBUILD_MIN_ROWS = 5_000


@contextmanager
def deferred_indexes(connection: sa.Connection, table: sa.Table, new_rows: int) -> Iterator[None]:
    """On SQLite, drop ``table``'s secondary indexes for a large load and create them again after it.

    Creating an index over sorted data costs a fraction of updating it row by
    row (on a 100,000-row import, 0.5 s against 2.5 s for the standards'
    eight indexes).  Everything happens in the caller's transaction, so a
    failed import (or a dry run rolled back) leaves the indexes as they were;
    the indexes are created again from their own stored definitions.
    Uniqueness is untouched: ``UNIQUE`` and primary keys are constraints of
    the table (SQLite's automatic indexes) and stay in place throughout.  Only
    a load at least as big as the table (and ``REBUILD_MIN_ROWS``) does this,
    so a small import into a large table never rebuilds its indexes; other
    databases keep their indexes (PostgreSQL loads with ``COPY``).
    """
    if connection.dialect.name != "sqlite" or new_rows < REBUILD_MIN_ROWS:
        yield
        return
    # The highest id bounds the number of rows from above and costs one index probe.
    size = sa.func.max(table.c.id) if "id" in table.c else sa.func.count()
    stored = connection.execute(sa.select(size).select_from(table)).scalar() or 0
    if stored > new_rows:
        yield
        return
    indexes = connection.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
        (table.name,)).all()
    quote = connection.dialect.identifier_preparer.quote
    for name, _ in indexes:
        connection.exec_driver_sql(f"DROP INDEX {quote(name)}")
    yield
    # After an error the caller rolls back, which brings the dropped indexes back.
    for _, sql in indexes:
        connection.exec_driver_sql(sql)
