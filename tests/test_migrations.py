"""Migrations: one head, up and down from empty, and agreement with the models."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade

import config

from registry import _migrations_dir, create_app
from registry.extensions import db


def add_a_holder(conn: sa.Connection, stamp: dict) -> None:
    """The province, 南昌 and a legal metrology institution there (id 7): what the data migrations' tests start from."""
    conn.execute(sa.text("INSERT INTO regions (code, name, level, parent_code, table_version) VALUES "
                         "('360000', '江西省', 'province', NULL, 't'), ('360100', '南昌市', 'city', '360000', 't')"))
    conn.execute(sa.text(
        "INSERT INTO institutions (id, credit_code, name, region_code, kind, is_demo, created_at, updated_at, "
        "version) VALUES (7, '12360100MB0000000X', '南昌所', '360100', 'legal_metrology', false, :t, :t, 1)"),
        stamp)


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


def test_plans_migration_carries_targets_over_and_back(scratch_app):
    """Targets on ``indicators`` become the province's targets in the 2021–2025 plan, and come back down."""
    with scratch_app.app_context():
        upgrade(revision="d4a7c9e2f613")
        with db.engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO regions (code, name, level, parent_code, table_version) VALUES "
                                 "('360000', '江西省', 'province', NULL, 't'), ('360100', '南昌市', 'city', '360000', 't')"))
            conn.execute(sa.text(
                "INSERT INTO indicators (key, name, name_en, kind, source, comparator, target, target_max, deadline, "
                "position, created_at, updated_at, version) VALUES "
                "('social_public_standards', '数量', 'Count', 'count', 'registry', '>=', 1800, NULL, :d, 0, :t, :t, 1), "
                "('carbon_pilots', '试点', 'Pilots', 'count', 'recorded', 'between', 3, 5, :d, 1, :t, :t, 1)"),
                {"d": date(2025, 12, 31), "t": datetime(2026, 1, 1, tzinfo=timezone.utc)})
            # A row referring to an indicator: rebuilding the table on SQLite must keep it.
            conn.execute(sa.text(
                "INSERT INTO recorded_values (indicator_key, region_code, as_of, value, source, is_demo, recorded_at, "
                "version) VALUES ('carbon_pilots', '360000', :d, 4, 'x', false, :t, 1)"),
                {"d": date(2025, 6, 30), "t": datetime(2026, 1, 1, tzinfo=timezone.utc)})
        upgrade()
        with db.engine.connect() as conn:
            plans = conn.execute(sa.text("SELECT id, name, starts_on, deadline FROM plans")).all()
            assert [(p.name, str(p.starts_on), str(p.deadline)) for p in plans] == \
                [("2021–2025", "2021-01-01", "2025-12-31")]
            targets = conn.execute(sa.text(
                "SELECT plan_id, indicator_key, region_code, comparator, target, target_max FROM plan_targets "
                "ORDER BY indicator_key")).all()
            assert [(t.plan_id, t.indicator_key, t.region_code, t.comparator, float(t.target),
                     None if t.target_max is None else float(t.target_max)) for t in targets] == [
                (plans[0].id, "carbon_pilots", "360000", "between", 3.0, 5.0),
                (plans[0].id, "social_public_standards", "360000", ">=", 1800.0, None)]
            assert "target" not in {c["name"] for c in sa.inspect(conn).get_columns("indicators")}
            assert conn.execute(sa.text("SELECT indicator_key FROM recorded_values")).scalar() == "carbon_pilots"
        downgrade(revision="d4a7c9e2f613")
        with db.engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT key, comparator, target, target_max, deadline FROM indicators "
                                        "ORDER BY key")).all()
            assert [(r.key, r.comparator, float(r.target), None if r.target_max is None else float(r.target_max),
                     str(r.deadline)) for r in rows] == [
                ("carbon_pilots", "between", 3.0, 5.0, "2025-12-31"),
                ("social_public_standards", ">=", 1800.0, None, "2025-12-31")]
            assert "plans" not in sa.inspect(conn).get_table_names()
        downgrade(revision="base")


def test_levels_and_service_areas_migration_keeps_lines_and_institutions_as_they_were(scratch_app):
    """e7b3d1a9c425: existing lines are expected at every level (NULL), existing institutions serve their own region."""
    with scratch_app.app_context():
        upgrade(revision="c4d8e2a7f910")
        stamp = {"t": datetime(2026, 1, 1, tzinfo=timezone.utc)}
        with db.engine.begin() as conn:
            add_a_holder(conn, stamp)
            conn.execute(sa.text(
                "INSERT INTO catalog_versions (id, name, source_document, effective_from, declared_line_count, "
                "is_partial, created_at, updated_at, version) VALUES (3, '目录', 'doc', :d, 1, false, :t, :t, 1)"),
                {**stamp, "d": date(2020, 1, 1)})
            conn.execute(sa.text(
                "INSERT INTO catalog_lines (id, catalog_version_id, code, name, mode, created_at, updated_at, version) "
                "VALUES (5, 3, '1', '衡器', 'V', :t, :t, 1)"), stamp)
        upgrade()
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT id, name, levels FROM catalog_lines")).one() == (5, "衡器", None)
            assert conn.execute(sa.text("SELECT id, region_code, serves_region_code FROM institutions")).one() == (
                7, "360100", None)
            conn.execute(sa.text("UPDATE institutions SET serves_region_code = '360000' WHERE id = 7"))
            conn.execute(sa.text("UPDATE catalog_lines SET levels = 'city' WHERE id = 5"))
            conn.commit()
        downgrade(revision="c4d8e2a7f910")
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT id, name FROM catalog_lines")).one() == (5, "衡器")
            assert conn.execute(sa.text("SELECT id, region_code FROM institutions")).one() == (7, "360100")
            assert "levels" not in {c["name"] for c in sa.inspect(conn).get_columns("catalog_lines")}
        downgrade(revision="base")


def test_status_periods_migration_rebuilds_the_periods_from_the_audit_trail(scratch_app):
    """5d2f8a1c7e34: a sealed standard later in use again gets its sealed period from the audited before/after."""
    audit = sa.table("audit_events", sa.column("occurred_at", sa.DateTime(timezone=True)),
                     sa.column("actor_label", sa.String), sa.column("action", sa.String),
                     sa.column("entity_type", sa.String), sa.column("entity_id", sa.String),
                     sa.column("before", sa.JSON), sa.column("after", sa.JSON), sa.column("note", sa.Text))
    with scratch_app.app_context():
        upgrade(revision="9e0ed96cdd52")
        stamp = {"t": datetime(2026, 1, 1, tzinfo=timezone.utc)}
        with db.engine.begin() as conn:
            add_a_holder(conn, stamp)
            for standard_id in (1, 2, 3):
                conn.execute(sa.text(
                    "INSERT INTO measurement_standards (id, certificate_no, name, category, institution_id, issued_on, "
                    "valid_until, status, status_since, is_carbon, is_demo, created_at, updated_at, version) VALUES "
                    "(:id, :no, '标准', 'social_public', 7, :i, :u, 'in_use', :s, false, false, :t, :t, 3)"),
                    {**stamp, "id": standard_id, "no": f"N{standard_id}", "i": date(2022, 1, 1),
                     "u": date(2026, 12, 31), "s": date(2024, 9, 1)})
            t = stamp["t"]
            event = {"occurred_at": t, "actor_label": "system", "entity_type": "measurement_standards", "note": None}
            conn.execute(audit.insert(), [
                # 1: created in use, sealed on 2024-03-01, resumed on 2024-09-01 by an application.
                {**event, "action": "create", "entity_id": "1", "before": None,
                 "after": {"status": "in_use", "status_since": None, "name": "标准"}},
                {**event, "action": "update", "entity_id": "1", "before": {"status": "in_use", "status_since": None},
                 "after": {"status": "sealed", "status_since": "2024-03-01"}},
                {**event, "action": "update", "entity_id": "1", "note": "application:99",
                 "before": {"status": "sealed", "status_since": "2024-03-01"},
                 "after": {"status": "in_use", "status_since": "2024-09-01"}},
                # 2: sealed with no date (no creation event known), resumed: the start is not known.
                {**event, "action": "update", "entity_id": "2", "before": {"status": "sealed"},
                 "after": {"status": "in_use", "status_since": "2024-09-01"}},
                # 3: only a name changed.
                {**event, "action": "update", "entity_id": "3", "before": {"name": "旧"}, "after": {"name": "标准"}},
            ])
        upgrade()
        with db.engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT standard_id, status, started_on, ended_on, application_id "
                                        "FROM standard_status_periods ORDER BY standard_id")).all()
            assert [(r[0], r[1], _day(r[2]), _day(r[3]), r[4]) for r in rows] == [
                (1, "sealed", date(2024, 3, 1), date(2024, 9, 1), None),
                (2, "sealed", None, date(2024, 9, 1), None)]
            flags = conn.execute(sa.text("SELECT id, has_status_periods FROM measurement_standards ORDER BY id")).all()
            assert [(i, bool(f)) for i, f in flags] == [(1, True), (2, True), (3, False)]
        downgrade(revision="9e0ed96cdd52")
        with db.engine.connect() as conn:
            assert "standard_status_periods" not in _tables(db.engine)
            assert conn.execute(sa.text("SELECT count(*) FROM measurement_standards")).scalar() == 3
            for table in ("measurement_standards", "institutions", "regions"):
                conn.execute(sa.text(f"DELETE FROM {table}"))
            conn.commit()
        downgrade(revision="base")


def _day(value):
    return None if value is None else (value if isinstance(value, date) else date.fromisoformat(str(value)[:10]))


def test_upgrading_keeps_the_rows_that_refer_to_a_rebuilt_table(scratch_app):
    """A table rebuilt in batch mode (SQLite) must not take the rows referring to it (ON DELETE CASCADE) along.

    With foreign keys on, dropping the old copy of ``measurement_standards`` deleted
    every link, certificate and period of every standard; the migrations run with
    them off and check them at the end (migrations/env.py).
    """
    stamp = {"t": datetime(2026, 1, 1, tzinfo=timezone.utc)}
    with scratch_app.app_context():
        upgrade(revision="9e0ed96cdd52")
        with db.engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO regions (code, name, level, parent_code, table_version) VALUES "
                                 "('360000', '江西省', 'province', NULL, 't'), "
                                 "('360100', '南昌市', 'city', '360000', 't')"))
            conn.execute(sa.text(
                "INSERT INTO institutions (id, credit_code, name, region_code, kind, is_demo, created_at, updated_at, "
                "version) VALUES (7, '12360100MB0000000X', '南昌所', '360100', 'legal_metrology', false, :t, :t, 1)"),
                stamp)
            conn.execute(sa.text(
                "INSERT INTO measurement_standards (id, certificate_no, public_id, name, category, institution_id, "
                "issued_on, valid_until, status, is_carbon, is_demo, created_at, updated_at, version) VALUES "
                "(3, '[2023]赣量标测证字第003号', 'p3', '标准', 'social_public', 7, '2023-06-01', '2027-05-31', "
                "'in_use', false, false, :t, :t, 1)"), stamp)
            conn.execute(sa.text(
                "INSERT INTO catalog_versions (id, name, source_document, effective_from, declared_line_count, "
                "is_partial, created_at, updated_at, version) VALUES (1, '目录', '文件', '2021-01-01', 1, false, "
                ":t, :t, 1)"), stamp)
            conn.execute(sa.text(
                "INSERT INTO catalog_lines (id, catalog_version_id, code, name, mode, created_at, updated_at, "
                "version) VALUES (1, 1, '1', '器具', 'V', :t, :t, 1)"), stamp)
            conn.execute(sa.text("INSERT INTO standard_catalog_lines (standard_id, catalog_line_id) VALUES (3, 1)"))
            conn.execute(sa.text(
                "INSERT INTO standard_certificates (standard_id, certificate_no, issued_on, valid_until, "
                "application_id, recorded_at) VALUES (3, '[2019]赣量标测证字第003号', '2019-06-01', '2023-05-31', "
                "NULL, :t)"), stamp)
        upgrade()
        with db.engine.connect() as conn:
            links = conn.execute(sa.text("SELECT standard_id, catalog_line_id FROM standard_catalog_lines")).all()
            certificates = conn.execute(sa.text(
                "SELECT certificate_no FROM standard_certificates WHERE standard_id = 3 ORDER BY issued_on")).scalars()
            assert links == [(3, 1)]
            assert list(certificates) == ["[2019]赣量标测证字第003号", "[2023]赣量标测证字第003号"]
            if conn.dialect.name == "sqlite":
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1  # back on for the app
