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

import json
from typing import Any, Sequence

import sqlalchemy as sa

_COMPACT_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


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

    def _convert(self, rows: list[list[Any]]) -> None:
        processors, json_columns, encode = self.processors, self.json_columns, _COMPACT_JSON.encode
        for row in rows:
            for index, processor in processors:
                value = row[index]
                if value is not None:
                    row[index] = processor(value)
            for index in json_columns:
                row[index] = encode(row[index])
