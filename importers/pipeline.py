"""Write a big sheet's new records while its later rows are still being checked.

A 100,000-row import spends about as long in the database (inserting rows,
their links and audit rows) as in Python (checking the rows), one after the
other.  The database's work can overlap the checking on a second core,
provided it comes as a few large statements rather than one per row: SQLite
releases the interpreter lock while it runs a statement, and psycopg while
it waits for the PostgreSQL server.  So:

- the checking thread copies each checked batch of new records (5,000 rows)
  into a temporary staging table with no index or constraint (SQLite: a
  plain ``executemany`` of the columns that vary within the batch;
  PostgreSQL: ``COPY``);
- a writer thread moves the batch into the registry's table with one
  ``INSERT ... SELECT``, where the table's constraints, foreign keys and
  column types apply exactly as to any insert, then writes the links and the
  audit rows (built by the database, see :mod:`importers.apply`) the same
  way, while the checking thread goes on with the next batch.

Both threads use the import's one connection, inside its savepoint; the
driver runs one statement at a time on it (SQLite built thread-safe,
"serialized"; psycopg 3 connections lock).  On SQLite the new records get
the ids that follow the table's highest, in order: the checking thread hands
them out as it copies a batch, and the writer checks the table's highest id
after each move, so a record can never be linked or audited under another's
id; the table's secondary indexes are dropped while the sheet streams and
created again at its end (see :func:`importers.bulk.deferred_indexes`).  On
PostgreSQL a sequence hands the ids out, so the writer reads them back by
key (``RETURNING``); the indexes stay.

This runs only while the workbook is still valid: at the first row error
the stream stops, checking goes on to report every error, and the caller
rolls the savepoint back, so nothing is written.  Rows that already existed
(updates) and anything the stream cannot take are written by
:class:`~importers.apply.Applier` when the sheet has been checked.
"""
from __future__ import annotations

import queue
import sqlite3
import threading
from abc import ABC, abstractmethod
from contextlib import ExitStack
from dataclasses import dataclass, field
from itertools import chain
from typing import Any, Callable

import sqlalchemy as sa

from importers.apply import LINKS, Applier, bound_ids
from importers.bulk import BulkInsert, RawStatement, deferred_indexes
from importers.references import Pending
from importers.validation import LINK_FIELDS, SheetPlan

# Staging tables per sheet: one being filled while the writer empties the other.
STAGES = 2


@dataclass
class _Batch:
    """One batch handed to the writer: which staging tables hold it and what the writer needs to know."""

    stage: int                        # index of the staging tables
    count: int
    linked: dict[str, bool]           # link name -> whether the batch has links of that kind
    move: tuple[str, Any] = ("", ())  # SQLite: the INSERT ... SELECT and its constant parameters
    first: int = 0                    # SQLite: the ids the batch gets, first to last
    last: int = 0
    keys: list = field(default_factory=list)   # PostgreSQL: the records' keys and references, in order,
    refs: list = field(default_factory=list)   # to learn their ids from RETURNING


class WriterFailed(RuntimeError):
    """The writer thread could not move a batch; the import is rolled back."""


def pipeline_available(connection: sa.Connection) -> bool:
    """SQLite built to let two threads share a connection (the serialized mode), on a connection that may be.

    pysqlite refuses a connection made in another thread unless it was
    opened with ``check_same_thread=False`` (SQLAlchemy does so for database
    files); a short-lived thread asks.
    """
    if connection.dialect.name == "postgresql":
        return connection.dialect.driver == "psycopg"  # psycopg 3 connections are thread-safe
    if connection.dialect.name != "sqlite" or sqlite3.threadsafety != 3:
        return False
    raw = connection.connection.dbapi_connection
    answer: list[bool] = []

    def probe() -> None:
        try:
            raw.execute("SELECT 1").close()
            answer.append(True)
        except sqlite3.ProgrammingError:
            answer.append(False)

    thread = threading.Thread(target=probe, name="import-writer-probe")
    thread.start()
    thread.join()
    return answer == [True]


class Pipeline:
    """Stream the new records of sheets with at least ``min_rows`` rows; see the module docstring.

    Use as a context manager: leaving it stops the writer thread, so the
    caller may roll back (or commit) afterwards.
    """

    def __init__(self, applier: Applier, report: Any, min_rows: int):
        self.applier = applier
        self.report = report
        self.min_rows = min_rows
        self.stream: _SheetStream | None = None
        self.rows = 0
        self.refused: set[int] = set()  # plans whose stream stopped (their rest is written at their end)

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if self.stream is not None:
            self.stream.stop()
            self.stream = None

    def begin_sheet(self, rows: int) -> None:
        """A sheet of ``rows`` data rows is about to be checked."""
        self.rows = rows

    def batch(self, plan: SheetPlan) -> None:
        """A batch of ``plan``'s rows has been checked: send its new records to the writer."""
        if not self.report.ok:
            return
        stream = self.stream
        if stream is None:
            if self.rows < self.min_rows or id(plan) in self.refused:
                return
            if not any(op.action == "created" and not op.written for op in plan.operations):
                return  # started at the first batch with new records (a re-import has none)
            kind = _PostgresStream if self.applier.connection.dialect.name == "postgresql" else _SqliteStream
            stream = kind.start(self.applier, plan, self.rows)
            if stream is None:
                self.refused.add(id(plan))
                return
            self.stream = stream
        if not stream.send():
            self.refused.add(id(plan))
            self._finish_stream()

    def end_sheet(self, plan: SheetPlan) -> None:
        """``plan``'s sheet has been checked: finish its stream and write the rest of it."""
        self._finish_stream()
        if self.report.ok:
            self.applier.apply([plan])

    def _finish_stream(self) -> None:
        stream, self.stream = self.stream, None
        if stream is None:
            return
        try:
            if self.report.ok:  # else everything is rolled back: no need to wait or index
                stream.finish()
        finally:
            stream.stop()


class _SheetStream(ABC):
    """The staging tables and writer thread of one sheet; the subclasses stage and move for their database."""

    temp = ""  # how the SQL names the temporary schema

    def __init__(self, applier: Applier, plan: SheetPlan, audit: sa.Insert, unsupported: list[int],
                 links: list[str]):
        self.applier = applier
        self.plan = plan
        self.handler = handler = plan.handler
        self.connection = connection = applier.connection
        self.raw = connection.connection.dbapi_connection
        self.quote = connection.dialect.identifier_preparer.quote
        self.unsupported = unsupported
        self.links = links
        self.sent = 0  # plan.operations before this index have been seen
        self.indexes = ExitStack()
        self.failure: BaseException | None = None
        self.stopping = False
        self.jobs: queue.Queue = queue.Queue()
        self.free: queue.Queue = queue.Queue()
        self.stages = []
        for n in range(STAGES):
            self.stages.append((f"import_stage_{handler.table.name}_{n}",
                                {name: f"import_stage_{name}_{n}" for name in links}))
            self.free.put(n)
        self.columns = ", ".join(self.quote(name) for name in handler.insert_columns)
        self.audit = RawStatement(audit, connection.dialect)
        # A new standard's current certificate starts its certificate history, as the Applier, the form
        # and the API record it: for the batch's ids, as the audit statement picks them.
        self.certificates = None
        if handler.table.name == "measurement_standards":
            from registry.standards.services import record_current_certificates

            chosen = self.audit_ids() or bound_ids(connection.dialect.name)
            self.certificates = RawStatement(record_current_certificates(chosen, created=True), connection.dialect)
        self.thread = threading.Thread(target=self._write, name=f"import-writer-{handler.table.name}", daemon=True)

    @classmethod
    def start(cls, applier: Applier, plan: SheetPlan, rows: int) -> _SheetStream | None:
        """Create the staging tables and start the writer; ``None`` when the sheet cannot stream."""
        table = plan.handler.table
        if "id" not in table.c or not plan.handler.key_columns:
            return None
        # The link tables whose owner is a record of this table (the standards').
        links = [name for name in LINK_FIELDS
                 if any(key.column.table is table for key in LINKS[name][0].c.standard_id.foreign_keys)]
        audit, unsupported = applier.audit_select(plan.handler, links, cls.audit_ids())
        if audit is None:
            return None
        stream = cls(applier, plan, audit, unsupported, links)
        stream.prepare(rows)
        stream.thread.start()
        return stream

    @staticmethod
    def audit_ids() -> Callable[[sa.Column], sa.ColumnElement] | None:
        """How the audit statement picks a batch's records (``None``: by the ids bound as ``ids``)."""
        return None

    def prepare(self, rows: int) -> None:
        """Create the staging tables (and whatever else the database needs before the first batch)."""

    # --- the checking thread --------------------------------------------------------

    def send(self) -> bool:
        """Stage the plan's new records checked since the last call; ``False`` when they cannot stream."""
        self._raise_failure()
        operations = self.plan.operations
        part = [op for op in operations[self.sent:] if op.action == "created"]
        self.sent = len(operations)
        if not part:
            return True
        staged = self.convert(part)
        if staged is None:
            return False  # values the database cannot put into an audit snapshot: written by the Applier
        pairs = {name: self.applier.link_pairs(part, name, lambda index, _: index) for name in self.links}
        n = self.free.get()  # the writer hands every staging table back, whatever happens to it
        self._raise_failure()
        cursor = self.raw.cursor()
        try:
            self.stage(cursor, n, staged, pairs)
        except BaseException:
            self.free.put(n)
            raise
        finally:
            cursor.close()
        batch = _Batch(n, len(part), {name: bool(rows_) for name, rows_ in pairs.items()})
        self.describe(batch, part, staged)
        for op in part:
            # Written: its links are not read again (the Applier skips it).  Freed now: about 300
            # bytes a row off the peak, for two objects a row (freeing the values too would take
            # another 1 KB a row off, but costs 0.2 to 0.4 s of CPU per 100,000 rows to free them).
            op.written = True
            op.links = None
        self.jobs.put(batch)
        return True

    @abstractmethod
    def convert(self, part: list) -> Any:
        """The new records ``part`` as the staging table takes them (``None``: they cannot stream)."""

    @abstractmethod
    def stage(self, cursor: Any, n: int, staged: Any, pairs: dict[str, list]) -> None:
        """Fill staging tables ``n`` with a batch and its links (``[position in the batch, target]``)."""

    def describe(self, batch: _Batch, part: list, staged: Any) -> None:
        """Tell the writer what it needs to move ``part`` (and hand out the ids, where known now)."""

    def finish(self) -> None:
        """Wait for the writer, check it, drop the staging tables and create the indexes again."""
        self.jobs.join()
        self._raise_failure()
        for stage, linked in self.stages:
            for name in (stage, *linked.values()):
                self.connection.exec_driver_sql(f"DROP TABLE {self.temp}{name}")
        self.indexes.close()

    def stop(self) -> None:
        """End the writer thread (after its current batch); safe to call more than once."""
        self.stopping = True  # batches still queued are not moved
        if self.thread.is_alive():
            self.jobs.put(None)
            self.thread.join()

    def _raise_failure(self) -> None:
        if self.failure is not None:
            raise WriterFailed(f"导入写入失败 / the import could not be written: {self.failure}") from self.failure

    # --- the writer thread ----------------------------------------------------------

    def _write(self) -> None:
        cursor = self.raw.cursor()
        try:
            while True:
                job = self.jobs.get()
                try:
                    if job is None:
                        return
                    if self.failure is None and not self.stopping:
                        self._move(cursor, job)
                except BaseException as exc:  # reported to the checking thread, which raises it
                    self.failure = exc
                finally:
                    if job is not None:
                        self.free.put(job.stage)
                    self.jobs.task_done()
        finally:
            cursor.close()

    @abstractmethod
    def _move(self, cursor: Any, batch: _Batch) -> None:
        """Move a batch from its staging tables into the registry's, with its links and audit rows."""


class _SqliteStream(_SheetStream):
    """SQLite: the new records take the ids after the table's highest, handed out as batches are staged.

    Only the columns that vary within a batch are staged; the move binds the
    others once.  The table's secondary indexes are dropped for the load and
    created again when the sheet is done.
    """

    temp = "temp."

    @staticmethod
    def audit_ids():
        first, last = sa.bindparam("first_id", type_=sa.Integer), sa.bindparam("last_id", type_=sa.Integer)
        return lambda column: column.between(first, last)

    def prepare(self, rows: int) -> None:
        connection, quote, table = self.connection, self.quote, self.handler.table
        handler = self.handler
        self.width = len(handler.insert_columns)
        # One converter for the whole sheet (it remembers each value it converted); the timestamps
        # and the version of new records are the same for every row.
        constants = {"created_at": self.applier.now, "updated_at": self.applier.now, "version": 1}
        self.insert = BulkInsert(connection, table, handler.insert_columns, constants=tuple(constants))
        self.fixed = {handler.positions[name]: self.insert.convert(name, value) for name, value in constants.items()}
        self.references = [handler.positions[name] for name in ("institution_id", "plan_id")
                           if name in handler.positions]
        self.next_id = (connection.execute(sa.select(sa.func.max(table.c.id))).scalar() or 0) + 1
        self.max_sql = f"SELECT max(id) FROM main.{quote(table.name)}"
        self.link_sql = [{name: f"INSERT INTO main.{quote(LINKS[name][0].name)} (standard_id, "
                                f"{quote(LINKS[name][1])}) SELECT ? + pos, target FROM temp.{linked[name]} "
                                f"ORDER BY rowid"
                          for name in self.links} for _, linked in self.stages]
        for stage, linked in self.stages:
            connection.exec_driver_sql(f"CREATE TEMP TABLE {stage} ({', '.join(f'c{i}' for i in range(self.width))})")
            for name in self.links:
                connection.exec_driver_sql(f"CREATE TEMP TABLE {linked[name]} (pos INTEGER, target INTEGER)")
        # The indexes of the table the sheet fills, dropped now and created again at its end.
        self.indexes.enter_context(deferred_indexes(connection, table, rows))

    def convert(self, part):
        # Column by column: each column converted once per distinct value; a column with one
        # value throughout the batch (timestamps, flags, blanks) is not staged: the move binds
        # that value once instead.
        count = len(part)
        columns = list(zip(*[op.values for op in part]))
        for i in self.unsupported:
            if columns[i].count(None) != count:
                return None
        ids = self.applier.ids
        for i in self.references:  # records of an earlier sheet of this workbook
            column = columns[i]
            if any(isinstance(value, Pending) for value in column):
                columns[i] = [ids[value] if isinstance(value, Pending) else value for value in column]
        varying, constants, staged = [], [], []
        fixed, convert = self.fixed, self.insert.convert_column
        for i, column in enumerate(columns):
            if i in fixed:
                constants.append(fixed[i])
                continue
            column = convert(i, column)
            first = column[0]
            if column.count(first) == count:
                constants.append(first)
            else:
                varying.append(i)
                staged.append(column)
        return varying, tuple(constants), list(zip(*staged)) if staged else [()] * count

    def stage(self, cursor, n, staged, pairs):
        varying, _, params = staged
        stage, linked = self.stages[n]
        if varying:
            _insert_values(cursor, f"INSERT INTO temp.{stage} ({', '.join(f'c{i}' for i in varying)}) VALUES ",
                           len(varying), params)
        else:
            cursor.executemany(f"INSERT INTO temp.{stage} (c0) VALUES (NULL)", params)
        for name, rows in pairs.items():
            if rows:
                _insert_values(cursor, f"INSERT INTO temp.{linked[name]} (pos, target) VALUES ", 2, rows)

    def describe(self, batch, part, staged):
        varying, constants, _ = staged
        kept = set(varying)
        select = ", ".join(f"c{i}" if i in kept else "?" for i in range(self.width))
        batch.move = (f"INSERT INTO main.{self.quote(self.handler.table.name)} ({self.columns}) SELECT {select} "
                      f"FROM temp.{self.stages[batch.stage][0]} ORDER BY rowid", constants)
        first = self.next_id
        self.next_id = first + len(part)
        batch.first, batch.last = first, self.next_id - 1
        self.applier.ids.update(zip([op.ref for op in part], range(first, self.next_id)))

    def _move(self, cursor, batch):
        stage, link_stages = self.stages[batch.stage]
        first, last = batch.first, batch.last
        cursor.execute(*batch.move)
        highest = cursor.execute(self.max_sql).fetchone()[0]
        if highest != last:
            raise RuntimeError(f"new ids {first}..{last} expected, the table's highest is {highest}")
        for name, sql in self.link_sql[batch.stage].items():
            if batch.linked[name]:
                cursor.execute(sql, (first,))
                cursor.execute(f"DELETE FROM temp.{link_stages[name]}")
        cursor.execute(*self.audit.bind(first_id=first, last_id=last))
        if self.certificates is not None:
            cursor.execute(*self.certificates.bind(first_id=first, last_id=last))
        cursor.execute(f"DELETE FROM temp.{stage}")


class _PostgresStream(_SheetStream):
    """PostgreSQL: a sequence hands out the ids, so the writer reads them back by key (``RETURNING``).

    Each batch is copied (``COPY``) into a temporary table; the writer's
    ``INSERT ... SELECT ... RETURNING`` learns the new ids, then writes links
    and audit rows for those ids.  The server does the work of constraints,
    foreign keys and indexes while the checking thread goes on (psycopg
    releases the interpreter lock while it waits for the server).
    """

    def prepare(self, rows: int) -> None:
        connection, quote, table = self.connection, self.quote, self.handler.table
        keys = ", ".join(quote(name) for name in self.handler.key_columns)
        self.move_sql = [f"INSERT INTO {quote(table.name)} ({self.columns}) SELECT {self.columns} FROM {stage} "
                         f"RETURNING id, {keys}" for stage, _ in self.stages]
        self.link_sql = [{name: f"INSERT INTO {quote(LINKS[name][0].name)} (standard_id, {quote(LINKS[name][1])}) "
                                f"SELECT (%(ids)s::integer[])[pos + 1], target FROM {linked[name]}"
                          for name in self.links} for _, linked in self.stages]
        for stage, linked in self.stages:
            connection.exec_driver_sql(f"CREATE TEMP TABLE {stage} AS SELECT {self.columns} "
                                       f"FROM {quote(table.name)} WITH NO DATA")
            for name in self.links:
                connection.exec_driver_sql(f"CREATE TEMP TABLE {linked[name]} (pos integer, target integer)")

    def convert(self, part):
        insert, rows = self.applier.new_rows(self.handler, part)
        unsupported = self.unsupported
        if unsupported and any(row[i] is not None for i in unsupported for row in rows):
            return None
        insert.convert_rows(rows)
        return rows

    def stage(self, cursor, n, staged, pairs):
        stage, linked = self.stages[n]
        with cursor.copy(f"COPY {stage} ({self.columns}) FROM STDIN") as copy:
            for row in staged:
                copy.write_row(row)
        for name, rows in pairs.items():
            if rows:
                with cursor.copy(f"COPY {linked[name]} (pos, target) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)

    def describe(self, batch, part, staged):
        batch.keys = [op.key for op in part]
        batch.refs = [op.ref for op in part]

    def _move(self, cursor, batch):
        stage, link_stages = self.stages[batch.stage]
        cursor.execute(self.move_sql[batch.stage])
        found = {}
        for new_id, *key in cursor.fetchall():
            found[key[0] if len(key) == 1 else tuple(key)] = new_id
        if len(found) != batch.count:
            raise RuntimeError(f"{batch.count} new records expected, {len(found)} written")
        ids = [found[key] for key in batch.keys]
        for name, sql in self.link_sql[batch.stage].items():
            if batch.linked[name]:
                cursor.execute(sql, {"ids": ids})
        cursor.execute(*self.audit.bind(ids=ids))
        if self.certificates is not None:
            cursor.execute(*self.certificates.bind(ids=ids))
        cursor.execute(f"TRUNCATE {', '.join([stage, *link_stages.values()])}")
        known = self.applier.ids
        for ref, new_id in zip(batch.refs, ids):
            known[ref] = new_id


# Parameters in one SQLite statement: 999 in every build (3.32 and later allow 32,766).
_SQLITE_PARAMETERS = 999


def _insert_values(cursor: Any, head: str, width: int, rows: list) -> None:
    """``head`` (``INSERT INTO t (...) VALUES ``) for ``rows`` of ``width`` values, many rows per statement.

    Cheaper than ``executemany`` (one statement per row): fewer calls into SQLite and
    fewer hand-overs of the interpreter lock while the writer thread works.
    """
    per = max(1, _SQLITE_PARAMETERS // width)
    one = f"({', '.join('?' * width)})"
    full = len(rows) - len(rows) % per
    if full:
        sql = head + ", ".join([one] * per)
        flat = list(chain.from_iterable(rows[:full]))
        step = per * width
        for start in range(0, len(flat), step):
            cursor.execute(sql, flat[start:start + step])
    if full < len(rows):
        rest = rows[full:]
        cursor.execute(head + ", ".join([one] * len(rest)), list(chain.from_iterable(rest)))
