"""Engine set-up that differs by database, and how SQLite's writers take turns.

SQLite lets one connection write at a time.  A transaction begun with a
plain (deferred) ``BEGIN`` takes the write lock only at its first write, and
that upgrade cannot wait: when another connection wrote meanwhile it fails
at once with "database is locked".  So every transaction that may write
begins with ``BEGIN IMMEDIATE``: it takes the write lock up front, waiting
up to ``SQLITE_BUSY_TIMEOUT_MS`` for the writer before it, and then reads
the latest data, so concurrent writers queue and a stale edit is a 412, not
a crash.  Reads stay deferred and never wait (WAL):

- in a request, ``GET``, ``HEAD`` and ``OPTIONS`` read; every other method may write;
- elsewhere (CLI commands, background work) every transaction may write,
  unless it runs inside :func:`reading`.

A lock still not had after the timeout raises an ``OperationalError`` that
:func:`is_lock_timeout` recognises: the API answers 503 with ``Retry-After``,
pages a 503 page, the CLI a message and exit code 3.
"""
from __future__ import annotations

import math
import os
import sqlite3
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Iterator

from flask import Flask, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

from registry.extensions import db

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# SQLite's result codes for a lock not obtained (extended codes keep them in the low byte).
_SQLITE_BUSY, _SQLITE_LOCKED = 5, 6
# The page size of a new SQLite database (SQLite's default is 4096).  Larger pages mean fewer pages,
# B-tree levels and system calls for the same rows: a 100,000-row import into a new database
# rebuilds its indexes and checkpoints its commit about 0.2 s sooner (docs/imports.md).  PostgreSQL's
# pages are 8 KB too.  An existing database keeps the size it was made with.
SQLITE_PAGE_SIZE = 8192

_reading: ContextVar[bool] = ContextVar("registry_reading", default=False)


def init_app(app: Flask) -> None:
    """Tune SQLite: foreign keys, WAL, busy timeout and real transactions."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":
        _owner_only_database(engine.url.database)
        _configure_sqlite(engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])


def _owner_only_database(database: str | None) -> None:
    """A SQLite file readable by its owner only: created 0600 (SQLite gives its -wal and -shm
    files the database's mode), and an older one, with its -wal and -shm, tightened to 0600."""
    from config import owner_only

    if database in (None, "", ":memory:") or database.startswith("file:"):
        return
    path = Path(database)
    if path.parent.is_dir() and not path.exists():
        # An empty file is a valid empty database for SQLite.
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        owner_only(name)


@contextmanager
def reading() -> Iterator[None]:
    """Transactions begun inside only read: on SQLite they take no write lock (for read-only commands)."""
    token = _reading.set(True)
    try:
        yield
    finally:
        _reading.reset(token)


def begin_statement() -> str:
    """``BEGIN`` for a transaction that only reads, ``BEGIN IMMEDIATE`` for one that may write."""
    if _reading.get():
        return "BEGIN"
    if has_request_context() and request.method in READ_METHODS:
        return "BEGIN"
    return "BEGIN IMMEDIATE"


def is_lock_timeout(error: BaseException) -> bool:
    """Whether ``error`` (SQLAlchemy's or the driver's) is SQLite's "database is locked"."""
    orig = getattr(error, "orig", error)
    if not isinstance(orig, sqlite3.OperationalError):
        return False
    code = getattr(orig, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED)
    return "locked" in str(orig)


def retry_after_seconds(busy_timeout_ms: int) -> int:
    """What to tell a client to wait after a lock timeout: the timeout, in whole seconds (at least 1)."""
    return max(1, math.ceil(int(busy_timeout_ms) / 1000))


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    in_memory = engine.url.database in (None, "", ":memory:")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, connection_record):
        # pysqlite's own transaction handling skips BEGIN before DDL and
        # breaks SAVEPOINT; SQLAlchemy issues BEGIN itself instead.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        if not in_memory:
            # Only a new, empty file takes it (before WAL, which fixes the page size); an existing
            # database keeps its own.  See SQLITE_PAGE_SIZE.
            cursor.execute(f"PRAGMA page_size = {SQLITE_PAGE_SIZE}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql(begin_statement())
