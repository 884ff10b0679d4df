"""The coverage counts read the social public standards from ``ix_measurement_standards_in_force``.

The index is partial (social public, not withdrawn): a database uses it only for a query that states
``category = 'social_public'`` as the index does, which SQLite checks on the SQL text (a bound parameter
never matches).  Without the literal (``registry.standards.validity.social_public``) SQLite cannot use the
index, and PostgreSQL's counts at 1,000,000 standards read one three times the size.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date

import pytest
import sqlalchemy as sa

from registry.coverage import cache, services
from registry.extensions import db
from tests.coverage.test_actions import world  # noqa: F401 (fixture)


@contextmanager
def captured():
    seen: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)


def _standards_counts(seen):
    return [(sql, params) for sql, params in seen
            if "FROM measurement_standards" in sql and "measurement_standards.valid_until >=" in sql]


def test_the_index_holds_only_the_social_public_standards_not_withdrawn(world):  # noqa: F811
    indexes = {ix["name"]: ix for ix in sa.inspect(db.session.connection()).get_indexes("measurement_standards")}
    index = indexes["ix_measurement_standards_in_force"]
    assert index["column_names"][0] == "valid_until" and "category" not in index["column_names"]
    if db.engine.dialect.name == "postgresql":
        where = db.session.scalar(sa.text("SELECT indexdef FROM pg_indexes "
                                          "WHERE indexname = 'ix_measurement_standards_in_force'"))
    else:
        where = db.session.scalar(sa.text("SELECT sql FROM sqlite_master "
                                          "WHERE name = 'ix_measurement_standards_in_force'"))
    assert "social_public" in where and "withdrawn_at IS NULL" in where


@pytest.mark.parametrize("as_of", [date(2026, 3, 31), date(2025, 6, 30)])  # past the deadline, and in the plan
def test_a_report_counts_standards_from_the_index(world, as_of):  # noqa: F811
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's rule; PostgreSQL's plans are in bench/coverage.py --explain")
    cache.clear()
    with captured() as seen:
        services.coverage_report(as_of, "360100")
    counts = _standards_counts(seen)
    assert counts, "the report counted the standards"
    for sql, params in counts:
        assert "measurement_standards.category = 'social_public'" in sql
        # INDEXED BY: SQLite refuses the query ("no query solution") when the partial index cannot answer it.
        forced = sql.replace("FROM measurement_standards", "FROM measurement_standards INDEXED BY "
                             "ix_measurement_standards_in_force", 1)
        plan = " ".join(str(row) for row in db.session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + forced,
                                                                                    params))
        assert "ix_measurement_standards_in_force" in plan, plan


def test_without_the_literal_the_index_cannot_answer(world):  # noqa: F811
    """The check above can fail: the same count with the category as a bound parameter is refused."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's rule")
    with pytest.raises(sa.exc.OperationalError, match="no query solution"):
        db.session.connection().exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT count(*) FROM measurement_standards INDEXED BY "
            "ix_measurement_standards_in_force WHERE category = ? AND withdrawn_at IS NULL AND valid_until >= ?",
            ("social_public", "2026-01-01"))
