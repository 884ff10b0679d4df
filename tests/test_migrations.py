"""Migrations: one head, up and down from empty, and agreement with the models."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade

import config

from registry import _migrations_dir, create_app
from registry.extensions import db


def test_one_head():
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig(str(_migrations_dir() / "alembic.ini"))
    cfg.set_main_option("script_location", str(_migrations_dir()))
    assert len(ScriptDirectory.from_config(cfg).get_heads()) == 1


def test_models_and_migrations_agree(app):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


@pytest.fixture
def scratch_app(app, tmp_path):
    """An app on a separate empty database (a schema of its own on PostgreSQL)."""
    url = sa.engine.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "postgresql":
        with db.engine.connect() as conn:
            conn.exec_driver_sql("DROP SCHEMA IF EXISTS migration_check CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA migration_check")
            conn.commit()
        url = url.update_query_dict({"options": "-csearch_path=migration_check"})
    else:
        url = sa.engine.make_url(f"sqlite:///{tmp_path / 'scratch.db'}")
    cfg = config.TestingConfig()
    cfg.SQLALCHEMY_DATABASE_URI = url.render_as_string(hide_password=False)
    scratch = create_app(cfg)
    yield scratch
    with scratch.app_context():
        db.engine.dispose()
    if url.get_backend_name() == "postgresql":
        with db.engine.connect() as conn:
            conn.exec_driver_sql("DROP SCHEMA IF EXISTS migration_check CASCADE")
            conn.commit()


def _tables(engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}


def test_upgrade_from_empty_and_downgrade_to_empty(scratch_app):
    with scratch_app.app_context():
        assert _tables(db.engine) == set()
        upgrade()
        assert _tables(db.engine) == set(db.metadata.tables)
        downgrade(revision="base")
        assert _tables(db.engine) == set()
        upgrade()  # and up again: the downgrade left nothing behind
        assert _tables(db.engine) == set(db.metadata.tables)


def test_runs_left_queued_or_running_by_the_old_background_threads_become_failed(scratch_app):
    """d4a7c9e2f613: such runs can never finish; finished runs are carried over as they were, having run once."""
    from datetime import datetime, timezone

    with scratch_app.app_context():
        upgrade(revision="b3f1c2d4e5a6")
        runs = sa.table("import_runs", *(sa.column(c) for c in (
            "id", "actor_label", "filename", "status", "dry_run", "rows_total", "rows_done", "message", "created_at")))
        created = datetime(2026, 11, 30, 8, 0, tzinfo=timezone.utc)
        with db.engine.begin() as conn:
            conn.execute(runs.insert(), [
                {"id": n, "actor_label": "system", "filename": f"{status}.xlsx", "status": status, "dry_run": False,
                 "rows_total": 10, "rows_done": done, "message": message, "created_at": created}
                for n, status, done, message in ((1, "queued", 0, None), (2, "running", 4, None),
                                                 (3, "applied", 10, None), (4, "rejected", 0, "not a workbook"))])
        upgrade()
        with db.engine.connect() as conn:
            rows = {row.id: row for row in conn.execute(sa.text(
                "SELECT id, status, attempts, failure_reason, message, finished_at, rows_done FROM import_runs"))}
        assert [(rows[n].status, rows[n].failure_reason, rows[n].attempts) for n in (1, 2, 3, 4)] == [
            ("failed", "interrupted", 0), ("failed", "interrupted", 1), ("applied", None, 1), ("rejected", None, 1)]
        assert "interrupted before this version" in rows[1].message and rows[1].finished_at is not None
        assert rows[2].rows_done == 4 and rows[4].message == "not a workbook"
        downgrade(revision="b3f1c2d4e5a6")  # and back: the runs stay, without the new columns
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM import_runs")).scalar() == 4
