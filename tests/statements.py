"""Count the SQL statements a block of code sends: how the suite checks a page or report runs a fixed number."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from registry.extensions import db


@contextmanager
def counted() -> Iterator[list[str]]:
    """Yield the list of statements sent on ``db.engine`` inside the block (filled as they run)."""
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
