"""``registry backup`` and ``registry restore``: a backup restored into a fresh database holds the same records."""
from __future__ import annotations

import stat

import pytest
import sqlalchemy as sa

import config
from registry.database.base import Base
from registry.extensions import db
from tests import factories
from tests.live.conftest import drop_schema, fresh_database_url, is_postgres, make_app

SCHEMA = "live_backup"


def _records(app) -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order, and the migration the database is at."""
    with app.app_context():
        with db.engine.connect() as conn:
            rows = {table.name: [tuple(row) for row in conn.execute(
                        sa.select(table).order_by(*table.primary_key.columns))]
                    for table in Base.metadata.sorted_tables}
            rows["alembic_version"] = conn.execute(sa.text("SELECT version_num FROM alembic_version")).all()
    return rows


@pytest.fixture
def source(tmp_path):
    """A registry with records of every kind, committed."""
    app = make_app(fresh_database_url(tmp_path, SCHEMA), tmp_path)
    with app.app_context():
        holder = factories.institution(name="备份测试机构")
        version = factories.catalog_version()
        line = factories.catalog_line(version)
        factories.standard(holder, name="备份测试标准", lines=[line])
        factories.person(holder)
        factories.regulation()
        db.session.commit()
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()
    drop_schema(SCHEMA)


@pytest.fixture
def restore_target(tmp_path):
    """A fresh, empty database to restore into: a new SQLite file, or a new PostgreSQL database (dropped after)."""
    url = sa.make_url(config.TestingConfig().SQLALCHEMY_DATABASE_URI)
    if url.get_backend_name() != "postgresql":
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    name = f"{url.database}_restore"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(sa.text("SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user")):
            pytest.skip(f"the role {url.username} may not create databases: ALTER ROLE {url.username} CREATEDB "
                        "(.ci/run grants it)")
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).update_query_dict(
            {"options": f"-csearch_path={SCHEMA}"}).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _restored_app(url, tmp_path):
    testing = config.TestingConfig()
    testing.SQLALCHEMY_DATABASE_URI = url
    testing.IMPORT_STORAGE_DIR = str(tmp_path / "imports")
    from registry import create_app

    return create_app(testing)


def test_a_backup_restored_into_a_fresh_database_holds_the_same_records(source, restore_target, tmp_path):
    path = tmp_path / "registry.backup"
    made = source.test_cli_runner().invoke(args=["backup", str(path)])
    assert made.exit_code == 0, made.output
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    before = _records(source)
    assert before["measurement_standards"] and before["institutions"] and before["alembic_version"]

    restored = _restored_app(restore_target, tmp_path)
    done = restored.test_cli_runner().invoke(args=["restore", str(path)])
    assert done.exit_code == 0, done.output
    assert _records(restored) == before
    with restored.app_context():
        db.engine.dispose()


def test_backup_never_overwrites_and_restore_needs_an_empty_database(source, tmp_path):
    runner = source.test_cli_runner()
    existing = tmp_path / "taken.backup"
    existing.write_bytes(b"keep me")
    refused = runner.invoke(args=["backup", str(existing)])
    assert refused.exit_code == 1 and "已存在" in refused.output
    assert existing.read_bytes() == b"keep me"

    path = tmp_path / "registry.backup"
    assert runner.invoke(args=["backup", str(path)]).exit_code == 0
    before = _records(source)
    refused = runner.invoke(args=["restore", str(path)])  # the source is not empty
    assert refused.exit_code == 1 and "--replace" in refused.output
    assert _records(source) == before


@pytest.mark.skipif(is_postgres(), reason="a SQLite file check")
def test_restore_refuses_a_file_that_is_not_a_registry_backup(tmp_path):
    target = make_app(f"sqlite:///{tmp_path / 'empty.db'}", tmp_path)
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"not a database" * 100)
    with target.app_context():
        db.engine.dispose()
    fresh = _restored_app(f"sqlite:///{tmp_path / 'fresh.db'}", tmp_path)
    refused = fresh.test_cli_runner().invoke(args=["restore", str(junk)])
    assert refused.exit_code == 1 and "不是登记簿的备份" in refused.output


@pytest.mark.skipif(not is_postgres(), reason="pg_dump is PostgreSQL's")
def test_backup_without_pg_dump_says_what_to_install(source, tmp_path):
    path = tmp_path / "registry.backup"
    refused = source.test_cli_runner().invoke(args=["backup", str(path)], env={"PATH": str(tmp_path)})
    assert refused.exit_code == 1 and "找不到 pg_dump" in refused.output and "postgresql-client" in refused.output
    assert not path.exists()
